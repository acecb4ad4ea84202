package web_test

// TestBrowserLabelFlow drives a headless Chromium through the whole life of
// a label using nothing but the web console's own forms: a manufacturer
// registers, registers a product and a version with an SBOM, applies, adds
// evidence and submits; the scheme's authority assigns a lab; the lab
// records a verdict for every requirement and completes; the authority
// approves; the public label page shows the label, its QR code and, after
// the authority suspends it, the suspension to everybody.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"rsc.io/qr"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// A tiny but complete CycloneDX 1.5 SBOM: three components.
const flowSBOM = `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "serialNumber": "urn:uuid:5b0c1f4e-7d1a-4f57-9a2e-1c3f0d6b8e21",
  "version": 1,
  "metadata": {
    "timestamp": "2026-01-15T10:00:00Z",
    "component": {"type": "firmware", "name": "flowcam-firmware", "version": "1.4.2"}
  },
  "components": [
    {"type": "library", "name": "zlib", "version": "1.3.1-r0", "purl": "pkg:apk/alpine/zlib@1.3.1-r0?arch=x86_64"},
    {"type": "library", "name": "busybox", "version": "1.36.1-r15", "purl": "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64"},
    {"type": "library", "name": "openssl", "version": "3.1.4", "purl": "pkg:generic/openssl@3.1.4"}
  ]
}
`

const (
	flowScheme     = "etsi-baseline@baseline"
	flowSupportEnd = "2031-06-30"
	flowReason     = "Flow test: a reported remote-code-execution flaw is under investigation"
	flowAuthority  = "Hallmark Reference Authority"
	flowWantedLab  = "Nordic Device Assurance" // not the first option: proves the choice is sent
)

func TestBrowserLabelFlow(t *testing.T) {
	execPath := chromiumPath(t)
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			start := time.Now()
			srv := servertest.Start(t, d)
			b := newBrowser(t, execPath)
			prefix := string(d) + "-flow-"
			dir := t.TempDir()
			sbomPath := filepath.Join(dir, "flowcam-1.4.2.cdx.json")
			evidencePath := filepath.Join(dir, "test-report.txt")
			if err := os.WriteFile(sbomPath, []byte(flowSBOM), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(evidencePath, []byte("EN 303 645 test report for FlowCam 2, firmware 1.4.2: all provisions met.\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			// 1. A new manufacturer registers, signs in and lands in the
			// console. (Registration does not sign in by itself: its answer
			// must not differ for an e-mail address that has an account.)
			org := "Flowtest Devices " + string(d)
			email := "owner@flowtest-" + string(d) + ".example"
			password := "correct horse battery staple"
			b.navigate(srv.URL + "/register")
			b.do("fill the registration form",
				chromedp.SetValue(chromedp.CSS("#org"), org),
				chromedp.SetValue(chromedp.CSS("#country"), "DE"),
				chromedp.SetValue(chromedp.CSS("#name"), "Flo Tester"),
				chromedp.SetValue(chromedp.CSS("#email"), email),
				chromedp.SendKeys(chromedp.CSS("#password"), password),
				chromedp.SendKeys(chromedp.CSS("#password2"), password),
			)
			flowSubmit(b, `form[action="/register"] button[type="submit"]`)
			flowAt(b, "/login")
			if b.count("#registered") != 1 {
				t.Errorf("the sign-in page after registering does not acknowledge it: %s", flowMainText(b))
			}
			b.do("sign in after registering",
				chromedp.SetValue(chromedp.CSS("#email"), email),
				chromedp.SendKeys(chromedp.CSS("#password"), password),
			)
			flowSubmit(b, `form[action="/login"] button[type="submit"]`)
			flowAt(b, "/console")
			if h := b.text("h1"); h != org {
				t.Errorf("after registering, the console's h1 is %q, want the organisation %q", h, org)
			}
			if s := b.text("header.site .account"); !strings.Contains(s, email) {
				t.Errorf("the header shows %q, want the signed-in e-mail %s", s, email)
			}

			// 2. A product, then a version with a support end date and an SBOM.
			flowSubmit(b, `nav.tiles a[href="/console/products"]`)
			flowAt(b, "/console/products")
			b.do("fill the product form",
				chromedp.SetValue(chromedp.CSS("#p-name"), "FlowCam 2"),
				chromedp.SetValue(chromedp.CSS("#p-brand"), "Flowtest"),
				chromedp.SetValue(chromedp.CSS("#p-category"), "camera"),
				chromedp.SetValue(chromedp.CSS("#p-model"), "FLW-CAM2"),
				chromedp.SetValue(chromedp.CSS("#p-purl"), "pkg:generic/flowtest/flowcam-2"),
			)
			flowSubmit(b, `#new-product button[type="submit"]`)
			productPath := flowAtPrefix(b, "/console/products/")
			if h := b.text("h1"); h != "FlowCam 2" {
				t.Errorf("product page h1 = %q, want FlowCam 2", h)
			}
			if b.count("section.version") != 0 {
				t.Errorf("a new product already lists versions")
			}
			b.do("fill the version form",
				chromedp.SetValue(chromedp.CSS("#v-sw"), "1.4.2"),
				chromedp.SetValue(chromedp.CSS("#v-rel"), "2026-01-15"),
				chromedp.SetValue(chromedp.CSS("#v-end"), flowSupportEnd),
				chromedp.SetValue(chromedp.CSS("#v-upd"), "automatic"),
				chromedp.SetValue(chromedp.CSS("#v-pw"), "unique-per-device"),
				chromedp.SetValue(chromedp.CSS("#v-sec"), "security@flowtest.example"),
				chromedp.SetUploadFiles(chromedp.CSS("#v-sbom"), []string{sbomPath}),
			)
			flowSubmit(b, `#new-version button[type="submit"]`)
			flowAt(b, productPath)
			if n := b.count("section.version"); n != 1 {
				t.Fatalf("after registering a version the product page lists %d versions, want 1", n)
			}
			facts := flowFacts(b, "section.version dl.facts")
			if got := facts["Security updates until"]; got != flowSupportEnd {
				t.Errorf("the version shows support until %q, want %s", got, flowSupportEnd)
			}
			if got := facts["SBOM"]; !strings.Contains(strings.ToLower(got), "cyclonedx") || !regexp.MustCompile(`\b3 components\b`).MatchString(got) {
				t.Errorf("the version's SBOM reads %q, want CycloneDX with 3 components", got)
			}

			// 3. Apply, add evidence, submit.
			b.do("choose the scheme level", chromedp.SetValue(chromedp.CSS("section.version form.apply select"), flowScheme))
			flowSubmit(b, `section.version form.apply button[type="submit"]`)
			appPath := flowAtPrefix(b, "/console/applications/")
			if s := b.text("#state"); s != "draft" {
				t.Errorf("a new application is %q, want draft", s)
			}
			if h := b.text("h1"); !strings.Contains(h, "FlowCam 2 1.4.2") || !strings.Contains(h, "EN 303 645") {
				t.Errorf("application h1 = %q, want the product, version and level", h)
			}
			b.do("choose the evidence file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{evidencePath}))
			flowSubmit(b, `#evidence-form button[type="submit"]`)
			flowAt(b, appPath)
			ev := b.text("#evidence ul")
			if !strings.Contains(ev, "test-report.txt") || !strings.Contains(ev, "text/plain") {
				t.Errorf("the evidence list reads %q, want test-report.txt as text/plain", ev)
			}
			evID := regexp.MustCompile(`#(\d+)`).FindStringSubmatch(ev)
			if evID == nil {
				t.Fatalf("the evidence list %q gives no evidence number", ev)
			}
			flowSubmit(b, `form.step-submit button[type="submit"]`)
			flowAt(b, appPath)
			if s := b.text("#state"); s != "submitted" {
				t.Fatalf("after submitting, the application is %q, want submitted", s)
			}
			flowSignOut(b)

			// 4. The authority assigns a lab.
			flowSignIn(b, srv.URL, demo.Email(flowAuthority), appPath)
			if s := b.text("#state"); s != "submitted" {
				t.Fatalf("the authority sees the application %q, want submitted", s)
			}
			labs := eval[[]struct {
				Value string `json:"value"`
				Text  string `json:"text"`
			}](b, `[...document.querySelectorAll("#assessor option")].map(o => ({value: o.value, text: o.textContent.trim()}))`)
			if len(labs) < 2 {
				t.Fatalf("the assessor list offers %d labs, want the demo's labs", len(labs))
			}
			lab := labs[0]
			for _, l := range labs {
				if strings.HasPrefix(l.Text, flowWantedLab) {
					lab = l
				}
			}
			labName := strings.TrimSpace(regexp.MustCompile(`\s*\([A-Z]{2}\)$`).ReplaceAllString(lab.Text, ""))
			t.Logf("assigning the lab %q (option %s)", lab.Text, lab.Value)
			b.do("choose the lab", chromedp.SetValue(chromedp.CSS("#assessor"), lab.Value))
			flowSubmit(b, `form.step-assign button[type="submit"]`)
			flowAt(b, appPath)
			if s := b.text("#state"); s != "in-assessment" {
				t.Fatalf("after assigning, the application is %q, want in-assessment", s)
			}
			if got := flowFacts(b, "dl.facts")["Assessor lab"]; got != labName {
				t.Errorf("the application names the lab %q, want %q", got, labName)
			}
			flowSignOut(b)

			// 5. The lab records a pass for every requirement and completes.
			flowSignIn(b, srv.URL, demo.Email(labName), appPath)
			if b.count("#findings-form") != 1 {
				t.Fatalf("the assigned lab sees no findings form on %s", appPath)
			}
			nReq := b.count(`#findings-form input[type="hidden"][name="requirement"]`)
			nSel := b.count(`#findings-form select[name^="verdict_"]`)
			heading := b.text("#f-h")
			if nReq == 0 || nSel != nReq || !strings.Contains(heading, fmt.Sprintf("(%d)", nReq)) {
				t.Fatalf("findings form: %d requirements, %d verdict selects, heading %q", nReq, nSel, heading)
			}
			firstReq := eval[string](b, `document.querySelector('#findings-form input[name="requirement"]').value`)
			set := eval[int](b, `(() => {
				const sels = [...document.querySelectorAll('#findings-form select[name^="verdict_"]')];
				for (const s of sels) s.value = "pass";
				return sels.filter(s => s.value === "pass").length;
			})()`)
			if set != nSel {
				t.Fatalf("set %d of %d verdicts to pass", set, nSel)
			}
			b.do("write a rationale and cite the evidence",
				chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`#findings-form input[name="rationale_%s"]`, firstReq)), "Checked on the bench with the test report."),
				chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`#findings-form input[name="evidence_%s"]`, firstReq)), evID[1]),
			)
			flowSubmit(b, `#findings-form button[type="submit"]`)
			flowAt(b, appPath)
			if s := b.text("#state"); s != "in-assessment" {
				t.Errorf("after saving the findings, the application is %q, want in-assessment", s)
			}
			saved := eval[int](b, `[...document.querySelectorAll('#findings-form select[name^="verdict_"]')].filter(s => s.value === "pass").length`)
			if saved != nReq {
				t.Errorf("after saving, %d of %d verdicts show pass", saved, nReq)
			}
			if v := run(b, "read the rationale", chromedp.Value(chromedp.CSS(fmt.Sprintf(`input[name="rationale_%s"]`, firstReq)))); v != "Checked on the bench with the test report." {
				t.Errorf("the saved rationale of %s reads %q", firstReq, v)
			}
			if v := run(b, "read the evidence numbers", chromedp.Value(chromedp.CSS(fmt.Sprintf(`input[name="evidence_%s"]`, firstReq)))); v != evID[1] {
				t.Errorf("the saved evidence of %s reads %q, want %s", firstReq, v, evID[1])
			}
			b.screenshot(prefix + "application-assessor")
			flowSubmit(b, `form.step-complete button[type="submit"]`)
			flowAt(b, appPath)
			if s := b.text("#state"); s != "assessed" {
				t.Fatalf("after completing, the application is %q, want assessed", s)
			}
			if n := b.count("table.findings .verdict-pass"); n != nReq {
				t.Errorf("the completed assessment shows %d pass verdicts, want %d", n, nReq)
			}
			if b.count("#findings-form") != 0 {
				t.Error("the findings form is still offered after the assessment was completed")
			}
			flowSignOut(b)

			// 6. The authority approves; the label is issued.
			flowSignIn(b, srv.URL, demo.Email(flowAuthority), appPath)
			b.do("write the approval note", chromedp.SetValue(chromedp.CSS("#note-approve"), "Every requirement passed in the lab's tests."))
			flowSubmit(b, `form.step-approve button[type="submit"]`)
			flowAt(b, appPath)
			if s := b.text("#state"); s != "approved" {
				t.Fatalf("after approving, the application is %q, want approved", s)
			}
			if h := b.text("ol.history"); !strings.Contains(h, "Every requirement passed in the lab's tests.") {
				t.Errorf("the application history %q does not show the approval note", h)
			}
			labelID := b.text("#label-link")
			flowSubmit(b, "#label-link")
			labelPath := flowAt(b, "/labels/"+labelID)
			labelURL := b.location()

			// 7. The public label page.
			if s := b.text("#status"); !strings.Contains(s, "Valid") {
				t.Errorf("a new label's status reads %q, want Valid", s)
			}
			if s := b.text("#label-id"); s != labelID {
				t.Errorf("#label-id = %q, want %s", s, labelID)
			}
			if s := b.text("#support"); s != "Security updates until 30 June 2031" {
				t.Errorf("the label's status card says %q, want security updates until 30 June 2031 (%s)", s, flowSupportEnd)
			}
			if href := eval[string](b, `document.querySelector("#contact-link").getAttribute("href")`); href != "mailto:security@flowtest.example" {
				t.Errorf("the security contact links to %q, want mailto:security@flowtest.example", href)
			}
			if s := b.text("h1") + " " + b.text("p.model"); !strings.Contains(s, "FlowCam 2") || !strings.Contains(s, "1.4.2") {
				t.Errorf("label title and model line = %q, want the product and its version", s)
			}
			if s := b.text("main"); !strings.Contains(s, "Made by "+org) {
				t.Errorf("the label page does not say who made the product (%q)", org)
			}
			qrWidth := run(b, "wait for the QR code", chromedp.Evaluate[int](`new Promise(res => {
				const i = document.querySelector('figure.qr img');
				if (!i) return res(-1);
				if (i.complete) return res(i.naturalWidth);
				i.addEventListener('load', () => res(i.naturalWidth));
				i.addEventListener('error', () => res(0));
			})`, chromedp.EvalAwaitPromise))
			if qrWidth <= 0 {
				t.Errorf("the QR code image did not load (naturalWidth %d)", qrWidth)
			}
			if src := eval[string](b, `document.querySelector('figure.qr img').getAttribute('src')`); src != "/labels/"+labelID+"/qr.svg" {
				t.Errorf("QR img src = %q", src)
			}

			// The label's JSON and the QR code encode this very page.
			var api struct {
				ID         string    `json:"id"`
				Status     string    `json:"status"`
				PageURL    string    `json:"page_url"`
				ValidUntil time.Time `json:"valid_until"`
			}
			flowGetJSON(t, srv.URL+"/api/v1/labels/"+labelID, &api)
			if api.PageURL != labelURL {
				t.Errorf("/api/v1/labels/%s gives page_url %q, but the browser is at %q", labelID, api.PageURL, labelURL)
			}
			if api.Status != "active" {
				t.Errorf("the API gives status %q, want active", api.Status)
			}
			if want := "valid until " + api.ValidUntil.Format("2 January 2006"); !strings.Contains(b.text("main"), want) {
				t.Errorf("the label page does not say %q", want)
			}
			flowCheckQR(t, srv.URL, labelID, labelURL)
			// etsi-baseline publishes testing_lab: the CTA-2120 record names
			// the lab that assessed the product.
			var cta map[string]any
			flowGetJSON(t, srv.URL+"/api/v1/labels/"+labelID+"/cta2120", &cta)
			if cta["support_end_date"] != flowSupportEnd {
				t.Errorf("CTA-2120 record gives support_end_date %v, want %s", cta["support_end_date"], flowSupportEnd)
			}
			if cta["testing_lab"] != labName {
				t.Errorf("CTA-2120 record gives testing_lab %v, want the assessing lab %q (etsi-baseline lists testing_lab among its public fields)", cta["testing_lab"], labName)
			}
			b.screenshot(prefix + "label")

			// The authority suspends the label with a reason.
			if b.count("#label-action") != 1 {
				t.Fatal("the scheme's authority is offered no #label-action form on the label page")
			}
			b.do("suspend with a reason",
				chromedp.SetValue(chromedp.CSS("#action"), "suspend"),
				chromedp.SetValue(chromedp.CSS("#reason"), flowReason),
			)
			resp := flowSubmit(b, `#label-action button[type="submit"]`)
			flowAt(b, labelPath)
			if resp.FromDiskCache || resp.FromPrefetchCache {
				t.Errorf("after suspending, the browser showed the label page from its cache (Cache-Control %q)", resp.Headers["Cache-Control"])
			}
			if s := b.text("#status"); !strings.Contains(s, "Suspended") {
				t.Errorf("after suspending, the status reads %q, want Suspended", s)
			}
			if h := b.text("#history"); !strings.Contains(h, flowReason) || !strings.Contains(h, "Suspended") {
				t.Errorf("the status history reads %q, want the suspension and its reason", h)
			}
			flowGetJSON(t, srv.URL+"/api/v1/labels/"+labelID, &api)
			if api.Status != "suspended" {
				t.Errorf("after suspending, the API gives status %q, want suspended", api.Status)
			}
			flowSignOut(b)

			// An anonymous visitor, the one who scanned the QR code, sees
			// the suspension too, and no management form.
			resp = flowOpen(b, labelURL)
			cached := ""
			if resp.FromDiskCache || resp.FromPrefetchCache {
				cached = fmt.Sprintf(" (the browser showed its cached copy, Cache-Control %q)", resp.Headers["Cache-Control"])
			}
			if s := b.text("#status"); !strings.Contains(s, "Suspended") {
				t.Errorf("an anonymous visitor sees the status %q, want Suspended", s)
			}
			if h := b.text("#history"); !strings.Contains(h, flowReason) {
				t.Errorf("an anonymous visitor sees the history %q, without the reason", h)
			}
			if b.count("#label-action") != 0 {
				t.Errorf("an anonymous visitor is offered the authority's #label-action form%s", cached)
			}
			if b.count(`header.site form[action="/logout"]`) != 0 || b.count(`header.site a[href="/login"]`) != 1 {
				t.Errorf("after signing out, the label page still shows a signed-in header%s", cached)
			}
			if s := strings.Join(strings.Fields(b.text("header.site .account")), " "); strings.Contains(s, "@") {
				t.Errorf("the anonymous visitor's label page shows an e-mail address in the header: %q%s", s, cached)
			}
			b.screenshot(prefix + "label-suspended-anonymous")

			// An authority that does not run the scheme may not manage the
			// label, so its page offers no form it would refuse.
			other := demo.Email(demo.Owners["sg-cls"])
			provoked := ""
			flowSignInAt(b, srv.URL, other, labelPath)
			if b.count("#label-action") != 0 {
				opts := eval[[]string](b, `[...document.querySelectorAll("#action option")].map(o => o.value)`)
				t.Errorf("%s (which does not run etsi-baseline) is offered #label-action with %v on the label page", other, opts)
				// The server must still refuse it.
				b.do("try to revoke as another authority",
					chromedp.SetValue(chromedp.CSS("#action"), "revoke"),
					chromedp.SetValue(chromedp.CSS("#reason"), "not ours to revoke"))
				ctx, cancel := b.step()
				resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`#label-action button[type="submit"]`)))
				cancel()
				if err != nil {
					t.Fatalf("submit #label-action as %s: %v", other, err)
				}
				provoked = resp.URL
				if resp.Status != http.StatusForbidden {
					t.Errorf("another authority's revoke was answered HTTP %d, want 403: %s", resp.Status, flowMainText(b))
				}
				flowGetJSON(t, srv.URL+"/api/v1/labels/"+labelID, &api)
				if api.Status != "suspended" {
					t.Fatalf("another authority changed the label to %s", api.Status)
				}
			}
			flowSignOut(b)

			for _, p := range b.consoleProblems() {
				if provoked != "" && strings.Contains(p, "status of 403") && strings.Contains(p, provoked) {
					continue // the other authority's refused revoke, above
				}
				t.Errorf("browser reported: %s", p)
			}
			t.Logf("%s: whole flow in %s", d, time.Since(start).Round(time.Millisecond))
		})
	}
}

func flowSubmit(b *browser, sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("click %s: %s answered HTTP %d: %s", sel, resp.URL, resp.Status, flowMainText(b))
	}
	return resp
}

// flowOpen navigates to u, insists on a 200 and returns the response.
func flowOpen(b *browser, u string) *network.Response {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("open %s: %v", u, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("open %s: HTTP %d: %s", u, resp.Status, flowMainText(b))
	}
	return resp
}

func flowMainText(b *browser) string {
	s := eval[string](b, `(document.querySelector("main") || document.body).innerText.trim().slice(0, 500)`)
	return strings.Join(strings.Fields(s), " ")
}

// flowAt insists the browser is at path (query and fragment aside) and
// returns it.
func flowAt(b *browser, path string) string {
	b.t.Helper()
	loc := b.location()
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	if u.Path != path {
		b.t.Fatalf("the browser is at %s, want %s (page says: %s)", loc, path, flowMainText(b))
	}
	return u.Path
}

// flowAtPrefix insists the browser is at prefix followed by a number and
// returns the path.
func flowAtPrefix(b *browser, prefix string) string {
	b.t.Helper()
	loc := b.location()
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(u.Path, prefix)
	if n, err := strconv.Atoi(rest); !ok || err != nil || n <= 0 {
		b.t.Fatalf("the browser is at %s, want %s{id} (page says: %s)", loc, prefix, flowMainText(b))
	}
	return u.Path
}

// flowFacts reads a <dl> of the page as term → definition.
func flowFacts(b *browser, sel string) map[string]string {
	b.t.Helper()
	return eval[map[string]string](b, fmt.Sprintf(`(() => {
		const out = {};
		const dl = document.querySelector(%q);
		if (!dl) return out;
		for (const dt of dl.querySelectorAll("dt")) {
			const dd = dt.nextElementSibling;
			if (dd && dd.tagName === "DD") out[dt.textContent.trim()] = dd.textContent.trim().replace(/\s+/g, " ");
		}
		return out;
	})()`, sel))
}

func flowSignOut(b *browser) {
	b.t.Helper()
	flowSubmit(b, `header.site form[action="/logout"] button[type="submit"]`)
	flowAt(b, "/catalog")
	if b.count(`header.site a[href="/login"]`) != 1 {
		b.t.Fatal("after signing out, the header offers no Sign in link")
	}
}

// flowSignIn opens a console page while signed out, is sent to the sign-in
// form, signs in and must land back on the page.
func flowSignIn(b *browser, base, email, path string) {
	b.t.Helper()
	b.navigate(base + path)
	loc := must(url.Parse(b.location()))
	if loc.Path != "/login" || loc.Query().Get("next") != path {
		b.t.Fatalf("opening %s signed out went to %s, want /login?next=%s", path, loc, path)
	}
	flowLogin(b, email, path)
}

// flowSignInAt signs in from /login?next=path.
func flowSignInAt(b *browser, base, email, path string) {
	b.t.Helper()
	b.navigate(base + "/login?next=" + url.QueryEscape(path))
	flowLogin(b, email, path)
}

func flowLogin(b *browser, email, path string) {
	b.t.Helper()
	b.do("fill the sign-in form",
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
	)
	flowSubmit(b, `form[action="/login"] button[type="submit"]`)
	flowAt(b, path)
	if s := b.text("header.site .account"); !strings.Contains(s, email) {
		b.t.Errorf("after signing in as %s the header shows %q", email, s)
	}
}

func flowGetJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: HTTP %d: %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", u, err, body)
	}
}

func flowGet(t *testing.T, u, wantType string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wantType {
		t.Fatalf("GET %s: HTTP %d, %s, want 200 %s", u, resp.StatusCode, resp.Header.Get("Content-Type"), wantType)
	}
	return body
}

// flowCheckQR checks that the label's QR code, as PNG and as SVG, encodes
// pageURL: without a QR decoder, it encodes pageURL itself (rsc.io/qr, level
// M) and compares module by module. The same modules mean the same content.
func flowCheckQR(t *testing.T, base, labelID, pageURL string) {
	t.Helper()
	want, err := qr.Encode(pageURL, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	const quiet = 4
	n := want.Size + 2*quiet

	// The PNG, at the default scale and at ?scale=10.
	for _, c := range []struct {
		query string
		scale int
	}{{"", 4}, {"?scale=10", 10}} {
		u := base + "/labels/" + labelID + "/qr.png" + c.query
		img, err := png.Decode(bytes.NewReader(flowGet(t, u, "image/png")))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", u, err)
		}
		if b := img.Bounds(); b.Dx() != n*c.scale || b.Dy() != n*c.scale {
			t.Errorf("%s is %dx%d, want %dx%d (%d modules and quiet zone at %d px)", u, b.Dx(), b.Dy(), n*c.scale, n*c.scale, n, c.scale)
			continue
		}
		dark := func(x, y int) bool { // module x, y of the whole image
			return flowDark(img.At(x*c.scale+c.scale/2, y*c.scale+c.scale/2))
		}
		if bad := flowCompareModules(want, quiet, n, dark); bad != "" {
			t.Errorf("%s does not encode %s: %s", u, pageURL, bad)
		}
	}

	// The SVG the page shows.
	u := base + "/labels/" + labelID + "/qr.svg"
	svg := string(flowGet(t, u, "image/svg+xml"))
	if !strings.Contains(svg, "<title>QR code: "+pageURL+"</title>") {
		t.Errorf("%s is not titled with the page URL %s", u, pageURL)
	}
	if m := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(svg); m == nil || m[1] != strconv.Itoa(n) || m[2] != strconv.Itoa(n) {
		t.Errorf("%s has viewBox %v, want 0 0 %d %d", u, m, n, n)
	}
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	rects := regexp.MustCompile(`<rect x="(\d+)" y="(\d+)" width="(\d+)" height="1"/>`).FindAllStringSubmatch(svg, -1)
	for _, r := range rects {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		for i := x; i < x+w; i++ {
			if y < n && i < n {
				grid[y][i] = true
			}
		}
	}
	darkN := 0
	for _, row := range grid {
		for _, v := range row {
			if v {
				darkN++
			}
		}
	}
	share := float64(darkN) / float64(want.Size*want.Size)
	if len(rects) < 3*want.Size || share < 0.3 || share > 0.7 {
		t.Errorf("%s's pattern looks trivial: %d runs, %.0f%% dark modules", u, len(rects), 100*share)
	}
	if bad := flowCompareModules(want, quiet, n, func(x, y int) bool { return grid[y][x] }); bad != "" {
		t.Errorf("%s does not encode %s: %s", u, pageURL, bad)
	}
}

// flowCompareModules compares an image's modules (dark(x, y) over the whole
// n×n image including the quiet zone) with the expected code.
func flowCompareModules(want *qr.Code, quiet, n int, dark func(x, y int) bool) string {
	wrong := 0
	first := ""
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			exp := x >= quiet && y >= quiet && x < n-quiet && y < n-quiet && want.Black(x-quiet, y-quiet)
			if dark(x, y) != exp {
				if wrong == 0 {
					first = fmt.Sprintf("module (%d,%d) is dark=%v, want %v", x, y, !exp, exp)
				}
				wrong++
			}
		}
	}
	if wrong > 0 {
		return fmt.Sprintf("%d of %d modules differ, first %s", wrong, n*n, first)
	}
	return ""
}

func flowDark(c color.Color) bool {
	g := color.GrayModel.Convert(c).(color.Gray)
	return g.Y < 128
}
