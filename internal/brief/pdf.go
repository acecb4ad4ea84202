package brief

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoChromium is the answer when no Chromium is installed to print with.
var ErrNoChromium = errors.New("PDF briefings need Chromium on the server (apt-get install chromium); the HTML briefing prints the same")

// Limits of one PDF rendering.
const (
	PDFTimeout = 60 * time.Second
	MaxPDF     = 32 << 20
)

// Chromium finds the browser to print with: /usr/bin/chromium, else
// chromium, chromium-browser or google-chrome on PATH.
func Chromium() (string, error) {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// PDF prints a briefing's HTML to A4 PDF in a headless Chromium started
// for it (and stopped after), with no network: the document is set
// directly and carries everything it shows.
func PDF(ctx context.Context, html []byte, execPath string) ([]byte, error) {
	if execPath == "" {
		p, err := Chromium()
		if err != nil {
			return nil, err
		}
		execPath = p
	}
	dir, err := os.MkdirTemp("", "hallmark-pdf-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, PDFTimeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// The briefing is set as the page's content: nothing is fetched.
		chromedp.ProxyServer("http://127.0.0.1:9"), chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.UserDataDir(dir))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		return nil, fmt.Errorf("start Chromium (%s): %w", execPath, err)
	}
	f := func(v float64) *float64 { return &v }
	yes := true
	out, err := chromedp.Run(tab, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		tree, err := cdp.Call(ctx, t, cdppage.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		if _, err := cdp.Call(ctx, t, cdppage.SetDocumentContent, cdppage.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(html)}); err != nil {
			return nil, err
		}
		res, err := cdp.Call(ctx, t, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PrintBackground: &yes, DisplayHeaderFooter: &yes, GenerateTaggedPDF: &yes,
			PaperWidth: 8.27, PaperHeight: 11.69, // A4, in inches
			MarginTop: f(0.6), MarginBottom: f(0.6), MarginLeft: f(0.6), MarginRight: f(0.6),
			HeaderTemplate: `<span></span>`,
			FooterTemplate: `<div style="font-size:8px;width:100%;text-align:center;color:#57606a"><span class="pageNumber"></span> / <span class="totalPages"></span></div>`})
		return res.Data, err
	}))
	if err != nil {
		return nil, fmt.Errorf("print the briefing with Chromium: %w", err)
	}
	if len(out) > MaxPDF {
		return nil, fmt.Errorf("the PDF is larger than %d MiB", MaxPDF>>20)
	}
	return out, nil
}
