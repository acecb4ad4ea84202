package web_test

// Real-browser end-to-end tests: a headless Chromium, driven with chromedp
// (v0.23's generic Action[T] API), walks through the pages the way a policy
// reader does, against a real server on SQLite and on PostgreSQL.
//
// Chromium is looked up at /usr/bin/chromium and then on PATH. Without it the
// test skips, except in CI (CI=true), where it fails. Set
// HALLMARK_SCREENSHOT_DIR to keep the screenshots the test takes.

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stepTimeout bounds every single browser step, so a hung browser fails the
// test instead of hanging it.
const stepTimeout = 60 * time.Second

// chromiumPath finds a Chromium or Chrome binary, or skips the test (fails it
// in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required in CI: install it (apt-get install chromium) or put chromium, chromium-browser or google-chrome on PATH")
	}
	t.Skip("no chromium, chromium-browser or google-chrome found; skipping the browser tests (they are required when CI=true)")
	return ""
}

// browser is one headless Chromium with one tab, plus what the tab reported.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab

	mu       sync.Mutex
	problems []string // uncaught exceptions and console/log errors
}

func newBrowser(t *testing.T, execPath string) *browser {
	t.Helper()
	b := &browser{t: t}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium-profile")),
		chromedp.WindowSize(1280, 900),
	)
	// An upper bound for the whole browser session: the first Run binds the
	// browser's life to the context it is given, so the per-step timeouts
	// below must derive from a context that outlives them.
	root, cancelRoot := context.WithTimeout(context.Background(), 4*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.listen), // sees every event from the tab's start
	)
	t.Cleanup(func() {
		cancelTab() // closes the tab and the browser
		cancelAlloc()
		cancelRoot()
	})
	b.ctx = tab
	// Start the browser and open the tab.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium (%s): %v", execPath, err)
	}
	return b
}

// listen runs in the tab's event loop: it must return fast and send nothing.
func (b *browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "uncaught exception"
		if d != nil {
			msg += fmt.Sprintf(": %s", d.Text)
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			msg += fmt.Sprintf(" at %s:%d:%d", d.URL, d.LineNumber+1, d.ColumnNumber+1)
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if a.Description != "" {
					args = append(args, a.Description)
				} else {
					args = append(args, string(a.Value))
				}
			}
			msg = fmt.Sprintf("console.%s(%s)", ev.Type, strings.Join(args, ", "))
		}
	case *cdplog.EventEntryAdded:
		// Browser log: CSP violations, failed subresources and the like.
		// The favicon is not a page resource; its 404 is not the page's fault.
		if e := ev.Entry; e != nil && e.Level == cdplog.EntryLevelError && !strings.Contains(e.URL, "/favicon.ico") {
			msg = fmt.Sprintf("browser log %s error: %s (%s)", e.Source, e.Text, e.URL)
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.problems = append(b.problems, msg)
		b.mu.Unlock()
	}
}

func (b *browser) consoleProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// step derives a bounded context for one browser step.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// do runs actions that return nothing, failing the test on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// navigate opens a page and insists on a 200 answer.
func (b *browser) navigate(u string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("open %s: %v", u, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("open %s: HTTP %d", u, resp.Status)
	}
}

// clickAndWait clicks the first element that matches sel, waits for the page
// the click loads and insists on a 200 answer.
func (b *browser) clickAndWait(sel string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("click %s: next page %s answered HTTP %d", sel, resp.URL, resp.Status)
	}
}

// run runs one action that returns a value.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page. It is for reading the
// DOM only: the pages themselves have no script.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return run(b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf("document.querySelectorAll(%q).length", sel))
}

// text returns the trimmed text of the first element matching sel, or fails
// at once when there is none (rather than waiting for it to appear).
func (b *browser) text(sel string) string {
	b.t.Helper()
	s := eval[*string](b, fmt.Sprintf("(e => e ? e.textContent.trim() : null)(document.querySelector(%q))", sel))
	if s == nil {
		b.t.Fatalf("no element matches %s on %s", sel, b.location())
	}
	return *s
}

func (b *browser) location() string {
	b.t.Helper()
	return run(b, "read location", chromedp.Location())
}

// screenshot takes a full-page PNG, checks it and writes it to the test's
// temporary directory and, if set, to HALLMARK_SCREENSHOT_DIR.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	buf := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		b.t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	bounds := img.Bounds()
	if bounds.Dx() < 800 || bounds.Dy() < 400 || len(buf) < 10_000 {
		b.t.Errorf("screenshot %s looks trivial: %dx%d, %d bytes", name, bounds.Dx(), bounds.Dy(), len(buf))
	}
	dirs := []string{b.t.TempDir()}
	if d := os.Getenv("HALLMARK_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.t.Fatal(err)
		}
		b.t.Logf("screenshot %s: %dx%d, %d bytes, %s", name, bounds.Dx(), bounds.Dy(), len(buf), p)
	}
}

var resultCount = regexp.MustCompile(`(\d+)\s+of\s+(\d+)\s+requirements`)

// parseCount reads "N of M requirements…" from #result-count.
func (b *browser) parseCount() (n, total int) {
	b.t.Helper()
	s := b.text("#result-count")
	m := resultCount.FindStringSubmatch(s)
	if m == nil {
		b.t.Fatalf("#result-count %q does not read \"N of M requirements\"", s)
	}
	n, _ = strconv.Atoi(m[1])
	total, _ = strconv.Atoi(m[2])
	return n, total
}

func TestBrowser(t *testing.T) {
	execPath := chromiumPath(t)
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			srv := servertest.Start(t, d)
			b := newBrowser(t, execPath)
			prefix := string(d) + "-"

			// 1. The catalogue, and a search with a real form submit.
			b.navigate(srv.URL + "/catalog")
			if title := run(b, "read title", chromedp.Title()); !strings.Contains(title, "Catalogue") || !strings.Contains(title, "Hallmark") {
				t.Errorf("catalogue title = %q, want it to name the Catalogue and Hallmark", title)
			}
			all := b.count("li.req")
			if all < 40 {
				t.Fatalf("catalogue lists %d requirements (li.req), want at least 40", all)
			}
			shown, total := b.parseCount()
			if shown != all || total != all {
				t.Errorf("#result-count says %d of %d, but %d li.req are listed", shown, total, all)
			}

			b.do("type the search", chromedp.SendKeys(chromedp.CSS("#q"), "password"))
			b.clickAndWait(`form.search button[type="submit"]`)
			loc, err := url.Parse(b.location())
			if err != nil {
				t.Fatal(err)
			}
			if loc.Path != "/catalog" || loc.Query().Get("q") != "password" {
				t.Fatalf("after the search the browser is at %s, want /catalog?q=password", loc)
			}
			if v := run(b, "read #q", chromedp.Value(chromedp.CSS("#q"))); v != "password" {
				t.Errorf("the search box shows %q after the search, want it to keep %q", v, "password")
			}
			found := b.count("li.req")
			n, total := b.parseCount()
			if found == 0 || found >= all {
				t.Fatalf("search for password lists %d of %d requirements, want some but fewer", found, all)
			}
			if n != found || total != all {
				t.Errorf("#result-count says %d of %d, but %d of %d li.req are listed", n, total, found, all)
			}
			// Every hit mentions the word, or at least the first hit is an
			// authentication requirement (the search also reads text the
			// list does not show).
			items := eval[[]string](b, `[...document.querySelectorAll("li.req")].map(li => li.textContent)`)
			firstHref := eval[string](b, `document.querySelector("li.req a.req-title").getAttribute("href")`)
			allMention := true
			for _, it := range items {
				if !strings.Contains(strings.ToLower(it), "password") {
					allMention = false
				}
			}
			if !allMention && !strings.HasPrefix(firstHref, "/catalog/requirements/HM-AUTH") {
				t.Errorf("not every hit for password mentions it, and the first hit (%s) is not an HM-AUTH requirement", firstHref)
			}

			// 2. Follow the first hit.
			b.clickAndWait("li.req a.req-title")
			if p := must(url.Parse(b.location())).Path; p != firstHref {
				t.Fatalf("clicking the first hit opened %s, want %s", p, firstHref)
			}
			reqID := strings.TrimPrefix(firstHref, "/catalog/requirements/")
			if h1 := b.text("h1"); !strings.HasPrefix(h1, reqID+" ") {
				t.Errorf("requirement page h1 = %q, want it to start with %s", h1, reqID)
			}
			if h := b.text("section.plain h2"); h != "In plain words" {
				t.Errorf("section.plain heading = %q", h)
			}
			if h := b.text("section.technical h2"); h != "For engineers" {
				t.Errorf("section.technical heading = %q", h)
			}
			// In plain words comes first, in the DOM and on screen.
			order := eval[struct {
				DOMBefore bool    `json:"domBefore"`
				PlainTop  float64 `json:"plainTop"`
				TechTop   float64 `json:"techTop"`
				MapTop    float64 `json:"mapTop"`
			}](b, `(() => {
				const p = document.querySelector("section.plain"),
				      e = document.querySelector("section.technical"),
				      m = document.querySelector("section.mappings");
				return {
					domBefore: !!(p.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING),
					plainTop: p.getBoundingClientRect().top,
					techTop: e.getBoundingClientRect().top,
					mapTop: m.getBoundingClientRect().top,
				};
			})()`)
			if !order.DOMBefore {
				t.Error(`"In plain words" does not come before "For engineers" in the DOM`)
			}
			if !(order.PlainTop < order.TechTop && order.TechTop < order.MapTop) {
				t.Errorf("sections are not stacked plain → technical → mappings on screen: tops %.0f, %.0f, %.0f",
					order.PlainTop, order.TechTop, order.MapTop)
			}
			if n := b.count(`section.mappings table tbody tr a[href^="/frameworks/"]`); n < 1 {
				t.Errorf("the mappings section of %s lists no framework item", reqID)
			}
			if n := b.count(`section.mappings h3 a[href^="/frameworks/"]`); n < 1 {
				t.Errorf("the mappings section of %s names no framework", reqID)
			}

			// 5. and 6. Screenshot and print the requirement page.
			b.screenshot(prefix + "requirement")
			pdf := run(b, "print to PDF", chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
				res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{})
				return res.Data, err
			}))
			if len(pdf) < 1000 || !bytes.HasPrefix(pdf, []byte("%PDF")) {
				head := pdf[:min(len(pdf), 16)]
				t.Errorf("print to PDF gave %d bytes starting %q, want a PDF", len(pdf), head)
			}

			// 3. The crosswalk.
			b.navigate(srv.URL + "/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1")
			if c := b.text("#coverage"); c != "100%" {
				t.Errorf("EN 303 645 → PSTI coverage = %q, want 100%%", c)
			}
			if b.count("#no-gaps") != 1 {
				t.Error("EN 303 645 → PSTI shows no #no-gaps note")
			}
			if b.count("ul.gaps li") != 0 {
				t.Error("EN 303 645 → PSTI lists gaps although coverage is full")
			}
			if b.count("table.crosswalk tbody tr") == 0 {
				t.Error("EN 303 645 → PSTI has an empty item-by-item table")
			}
			if b.count("table.matrix") != 1 {
				t.Error("EN 303 645 → PSTI has no matrix")
			}
			b.do("choose the frameworks",
				chromedp.SetValue(chromedp.CSS("#to"), "eu-cra-annex-i"),
				chromedp.SetValue(chromedp.CSS("#from"), "etsi-en-303-645-v2.1.1"),
			)
			b.clickAndWait(`form.search button[type="submit"]`)
			q := must(url.Parse(b.location())).Query()
			if q.Get("to") != "eu-cra-annex-i" || q.Get("from") != "etsi-en-303-645-v2.1.1" {
				t.Fatalf("the crosswalk form went to ?%s, want to=eu-cra-annex-i&from=etsi-en-303-645-v2.1.1", q.Encode())
			}
			cov := b.text("#coverage")
			pct, err := strconv.Atoi(strings.TrimSuffix(cov, "%"))
			if err != nil || pct >= 100 || pct < 0 {
				t.Errorf("CRA → EN 303 645 coverage = %q, want a percentage below 100%%", cov)
			}
			if n := b.count("ul.gaps li"); n == 0 {
				t.Error("CRA → EN 303 645 lists no gaps (ul.gaps li)")
			}
			if b.count("#no-gaps") != 0 {
				t.Error("CRA → EN 303 645 shows #no-gaps although coverage is below 100%")
			}
			if v := run(b, "read #to", chromedp.Value(chromedp.CSS("#to"))); v != "eu-cra-annex-i" {
				t.Errorf("after the submit #to shows %q, want the chosen eu-cra-annex-i", v)
			}
			b.screenshot(prefix + "crosswalk")

			// 4. The glossary.
			b.navigate(srv.URL + "/glossary")
			if n := b.count("dl.glossary dt"); n < 30 {
				t.Errorf("glossary has %d terms, want at least 30", n)
			}
			if n := b.count(`dl.glossary dt[id^="term-"]`); n != b.count("dl.glossary dt") {
				t.Errorf("only %d glossary terms have a term-… anchor", n)
			}

			// 7. No script errors anywhere on the way.
			for _, p := range b.consoleProblems() {
				t.Errorf("browser reported: %s", p)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
