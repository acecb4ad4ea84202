package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// TestBrowserPublicPages opens the public's pages as a phone (390 px) and
// as a desktop would: none scrolls sideways; the label page puts its
// status card first and prints on one A4 sheet with its URL, print time
// and status time. It keeps screenshots of the label page in every status,
// in English and German, phone and desktop (HALLMARK_SCREENSHOT_DIR).
func TestBrowserPublicPages(t *testing.T) {
	execPath := chromiumPath(t)
	srv := servertest.Start(t, "sqlite")
	b := newBrowser(t, execPath)
	labels := map[string]string{}
	for _, st := range []string{"active", "suspended", "revoked", "expired"} {
		var l struct{ Items []struct{ ID string } }
		resp, err := http.Get(srv.URL + "/api/v1/labels?limit=1&status=" + st)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if err != nil || len(l.Items) == 0 {
			t.Fatalf("no %s label in the demo: %v", st, err)
		}
		labels[st] = l.Items[0].ID
	}
	pages := []string{"/labels", "/register", "/compare?a=sg-cls@2&b=de-bsi-label@label"}
	for _, st := range []string{"active", "suspended", "revoked", "expired"} {
		pages = append(pages, "/labels/"+labels[st])
	}
	for _, vp := range []struct {
		name          string
		width, height int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		b.do("set the viewport", chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulatePortrait))
		for _, lang := range []string{"en", "de"} {
			for _, p := range pages {
				sep := "?"
				if strings.Contains(p, "?") {
					sep = "&"
				}
				b.navigate(srv.URL + p + sep + "lang=" + lang)
				o := eval[struct {
					Scroll int    `json:"scroll"`
					Client int    `json:"client"`
					Wide   string `json:"wide"`
				}](b, `(() => {
					const w = document.documentElement.clientWidth;
					let wide = "";
					for (const e of document.querySelectorAll("main *, header *")) {
						const r = e.getBoundingClientRect();
						if (r.right > w + 1 && getComputedStyle(e).position !== "absolute") {
							let scroller = false;
							for (let p = e.parentElement; p; p = p.parentElement) {
								const s = getComputedStyle(p).overflowX;
								if (s === "auto" || s === "scroll" || s === "hidden") { scroller = true; break; }
							}
							if (!scroller) { wide = e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + " right " + Math.round(r.right); break; }
						}
					}
					return {scroll: document.documentElement.scrollWidth, client: w, wide: wide};
				})()`)
				if o.Scroll > o.Client+1 || o.Wide != "" {
					t.Errorf("%s at %d px (%s): the page is %d px wide for a %d px window; first wider element: %s", p, vp.width, lang, o.Scroll, o.Client, o.Wide)
				}
				if strings.HasPrefix(p, "/labels/HM-") {
					// The status card comes first, above the product and the QR code.
					order := eval[[]float64](b, `["#status-card", "h1", "figure.qr", "#declared, #facts-hidden"].map(s => document.querySelector(s).getBoundingClientRect().top)`)
					// On a desktop the QR code stands beside the title.
					if !(order[0] < order[1] && order[1] <= order[2]+40 && order[2] < order[3] && (vp.name == "desktop" || order[1] < order[2])) {
						t.Errorf("%s at %d px: status card, title, QR code and facts are not in that order (tops %v)", p, vp.width, order)
					}
					st := ""
					for k, v := range labels {
						if "/labels/"+v == p {
							st = k
						}
					}
					shot(b, fmt.Sprintf("label-%s-%s-%s", st, lang, vp.name))
				}
			}
		}
	}

	// Printed, the label page is one A4 sheet with its URL, the print
	// time and the time its status is known as of.
	for _, st := range []string{"active", "suspended"} {
		b.navigate(srv.URL + "/labels/" + labels[st])
		if s := b.text("#printed"); !strings.Contains(s, "/labels/"+labels[st]) || !regexp.MustCompile(`page loaded \d+ \w+ \d{4}, \d\d:\d\d UTC`).MatchString(s) {
			t.Errorf("the print line of the %s label reads %q", st, s)
		}
		if s := b.text("#status-asof"); !regexp.MustCompile(`^Status as of \d+ \w+ \d{4}, \d\d:\d\d UTC$`).MatchString(s) {
			t.Errorf("the %s label's status time reads %q", st, s)
		}
		pdf := run(b, "print to PDF", chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
			res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69})
			return res.Data, err
		}))
		if n := len(regexp.MustCompile(`/Type\s*/Page\b`).FindAll(pdf, -1)); n != 1 {
			t.Errorf("the %s label prints on %d A4 pages, want 1", st, n)
		}
		if d := os.Getenv("HALLMARK_SCREENSHOT_DIR"); d != "" {
			os.WriteFile(filepath.Join(d, "label-"+st+".pdf"), pdf, 0o644)
		}
	}
	for _, p := range b.consoleProblems() {
		t.Errorf("browser reported: %s", p)
	}
}

// shot keeps a full-page screenshot, at any width.
func shot(b *browser, name string) {
	b.t.Helper()
	buf := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		b.t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if r := img.Bounds(); r.Dx() < 300 || r.Dy() < 400 {
		b.t.Errorf("screenshot %s is %dx%d", name, r.Dx(), r.Dy())
	}
	if d := os.Getenv("HALLMARK_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name+".png"), buf, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}
