package label

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"strings"
	"testing"

	"rsc.io/qr"
)

var qrURLs = []string{
	"https://registry.example/labels/LBL-2026-000042",
	"https://r.example/l/1",
	"https://registry.example/labels/" + strings.Repeat("x", 300), // a larger version
}

// svgModules parses the SVG back into a module grid (quiet zone included).
func svgModules(t *testing.T, svg []byte) (grid [][]bool, attrs map[string]string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	attrs = map[string]string{}
	var n int
	background := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		a := map[string]string{}
		for _, at := range el.Attr {
			a[at.Name.Local] = at.Value
		}
		switch el.Name.Local {
		case "svg":
			attrs = a
			if _, err := fmt.Sscanf(a["viewBox"], "0 0 %d %d", &n, &n); err != nil {
				t.Fatalf("viewBox %q", a["viewBox"])
			}
			grid = make([][]bool, n)
			for i := range grid {
				grid[i] = make([]bool, n)
			}
		case "style":
			t.Fatal("the SVG has a <style> element")
		case "rect":
			var x, y, w, h int
			fmt.Sscan(a["x"], &x)
			fmt.Sscan(a["y"], &y)
			fmt.Sscan(a["width"], &w)
			fmt.Sscan(a["height"], &h)
			if !background {
				// The first rect is the white background over the whole code.
				if x != 0 || y != 0 || w != n || h != n || a["fill"] != "#ffffff" {
					t.Fatalf("first rect %v is not the background", a)
				}
				background = true
				continue
			}
			for yy := y; yy < y+h; yy++ {
				for xx := x; xx < x+w; xx++ {
					if grid[yy][xx] {
						t.Fatalf("module %d,%d drawn twice", xx, yy)
					}
					grid[yy][xx] = true
				}
			}
		}
	}
	return grid, attrs
}

func TestQRSVGModuleExact(t *testing.T) {
	for _, u := range qrURLs {
		code, err := qr.Encode(u, qr.M)
		if err != nil {
			t.Fatal(err)
		}
		svg, err := QRSVG(u)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(svg, []byte("style=")) {
			t.Error("the SVG uses inline style attributes")
		}
		grid, attrs := svgModules(t, svg)
		n := code.Size + 2*quietZone
		if len(grid) != n || attrs["shape-rendering"] != "crispEdges" || attrs["role"] != "img" {
			t.Fatalf("%d modules square, attributes %v", len(grid), attrs)
		}
		for y := range n {
			for x := range n {
				if want := code.Black(x-quietZone, y-quietZone); grid[y][x] != want {
					t.Fatalf("%s: module %d,%d is %v, want %v", u, x, y, grid[y][x], want)
				}
			}
		}
	}
}

func TestQRSVGEscapesURL(t *testing.T) {
	svg, err := QRSVG(`https://r.example/l?a=1&b="<x>"`)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(svg, []byte("<x>")) || bytes.Contains(svg, []byte(`"<`)) {
		t.Errorf("URL not escaped: %s", svg[:300])
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Errorf("not well-formed XML: %v", err)
	}
}

func TestQRPNGModuleExact(t *testing.T) {
	for _, u := range qrURLs {
		for _, scale := range []int{1, 3, 8} {
			code, _ := qr.Encode(u, qr.M)
			b, err := QRPNG(u, scale)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			n := code.Size + 2*quietZone
			if img.Bounds().Dx() != n*scale || img.Bounds().Dy() != n*scale {
				t.Fatalf("image %v, want %d px square", img.Bounds(), n*scale)
			}
			for y := range n {
				for x := range n {
					r, _, _, _ := img.At(x*scale+scale/2, y*scale+scale/2).RGBA()
					if black, want := r < 0x8000, code.Black(x-quietZone, y-quietZone); black != want {
						t.Fatalf("%s scale %d: module %d,%d black=%v, want %v", u, scale, x, y, black, want)
					}
				}
			}
		}
	}
}

func TestQRRefuses(t *testing.T) {
	for _, u := range []string{"", "not a url", "javascript:alert(1)", "ftp://x.example/", "https://" + strings.Repeat("x", 3000)} {
		if _, err := QRSVG(u); err == nil {
			t.Errorf("QRSVG(%.30q) accepted", u)
		}
	}
	for _, s := range []int{0, -1, MaxQRScale + 1} {
		if _, err := QRPNG(qrURLs[0], s); err == nil {
			t.Errorf("scale %d accepted", s)
		}
	}
}
