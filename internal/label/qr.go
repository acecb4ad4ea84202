package label

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"

	"rsc.io/qr"
)

// quietZone is the blank margin, in modules, that ISO/IEC 18004 asks for
// around a QR code; scanners miss codes printed without it.
const quietZone = 4

// MaxQRScale bounds QRPNG's pixels per module (a version 40 code at this
// scale is about 6,000 pixels square).
const MaxQRScale = 32

// encodeQR encodes a label's public URL at error correction level M: it
// survives a scuffed or partly covered sticker and keeps the code small.
func encodeQR(u string) (*qr.Code, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return nil, fmt.Errorf("QR code: %q is not an http(s) URL", u)
	}
	c, err := qr.Encode(u, qr.M)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return c, nil
}

// QRSVG draws the QR code for pageURL as SVG: one rect per horizontal run of
// dark modules, presentation attributes only (no <style>, which strict
// content security policies block), and crisp edges so adjacent runs show
// no seams when scaled.
func QRSVG(pageURL string) ([]byte, error) {
	c, err := encodeQR(pageURL)
	if err != nil {
		return nil, err
	}
	n := c.Size + 2*quietZone
	var label bytes.Buffer
	xml.EscapeText(&label, []byte("QR code: "+pageURL))
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges" role="img" aria-label="%s">`,
		n, n, n*4, n*4, label.String())
	fmt.Fprintf(&b, "<title>%s</title>", label.String())
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/><g fill="#000000">`, n, n)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; {
			if !c.Black(x, y) {
				x++
				continue
			}
			run := 1
			for c.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="1"/>`, x+quietZone, y+quietZone, run)
			x += run
		}
	}
	b.WriteString("</g></svg>\n")
	return b.Bytes(), nil
}

// QRPNG draws the QR code for pageURL as a two-colour PNG with scale pixels per
// module.
func QRPNG(pageURL string, scale int) ([]byte, error) {
	if scale < 1 || scale > MaxQRScale {
		return nil, fmt.Errorf("QR code: scale %d is outside 1-%d", scale, MaxQRScale)
	}
	c, err := encodeQR(pageURL)
	if err != nil {
		return nil, err
	}
	n := (c.Size + 2*quietZone) * scale
	img := image.NewPaletted(image.Rect(0, 0, n, n), color.Palette{color.White, color.Black})
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if !c.Black(x, y) {
				continue
			}
			for py := (y + quietZone) * scale; py < (y+quietZone+1)*scale; py++ {
				row := img.Pix[py*img.Stride:]
				for px := (x + quietZone) * scale; px < (x+quietZone+1)*scale; px++ {
					row[px] = 1
				}
			}
		}
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
