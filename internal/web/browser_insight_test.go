package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// A policy reader's walk through the evidence, in Chromium on both
// databases: the dashboard, an indicator cut by scheme whose chart and
// table agree, its downloads, a what-if naming its bottleneck, a replay
// listing what it would have changed, a declared target with its class,
// and a PDF briefing that reads back with its figures and citation.
func TestBrowserEvidence(t *testing.T) {
	execPath := chromiumPath(t)
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			srv := servertest.Start(t, d)
			b := newBrowser(t, execPath)
			prefix := string(d) + "-evidence-"

			b.navigate(srv.URL + "/dashboard")
			if n := b.count("section.tile"); n != len(insight.Definitions()) {
				t.Errorf("the dashboard shows %d indicators, the catalogue has %d", n, len(insight.Definitions()))
			}
			if n := b.count("section.tile svg.chart"); n < len(insight.Definitions()) {
				t.Errorf("%d tiles carry a chart", n)
			}
			if s := b.text("#as-of"); !strings.Contains(s, "log checkpoint") {
				t.Errorf("the dashboard does not cite a checkpoint: %q", s)
			}
			b.screenshot(prefix + "dashboard")

			// An indicator cut by scheme: the bar chart and the table say the same.
			b.navigate(srv.URL + "/indicators/support-5y?by=scheme")
			bars := eval[[]string](b, `[...document.querySelectorAll("svg.chart.bars rect[fill='#0b5cad'] title")].map(e => e.textContent)`)
			rows := eval[[]string](b, `[...document.querySelectorAll("#figure-table tbody tr")].slice(1).map(r => r.querySelector("th").textContent + ": " + r.querySelectorAll("td")[0].textContent)`)
			if len(rows) == 0 {
				t.Fatal("the indicator's table has no groups")
			}
			for _, bar := range bars {
				if !contains(rows, bar) {
					t.Errorf("chart bar %q is not in the table %v", bar, rows)
				}
			}
			if b.count("#series-table tbody tr") != insight.DefaultMonths || b.count("svg.chart.line path") == 0 {
				t.Error("the trend is missing its chart or its 24 months")
			}
			cite := b.text("#citation")
			if !strings.Contains(cite, "definition version 1") || !strings.Contains(cite, "log checkpoint") {
				t.Errorf("citation %q", cite)
			}
			b.screenshot(prefix + "indicator")
			csv := get(t, srv.URL+eval[string](b, `document.querySelector("#dl-csv").getAttribute("href")`), "text/csv; charset=utf-8")
			if !strings.HasPrefix(csv, "indicator,definition_version,as_of,checkpoint_size,checkpoint_root") {
				t.Errorf("CSV: %.200s", csv)
			}
			meta := get(t, srv.URL+eval[string](b, `document.querySelector("#dl-meta").getAttribute("href")`), "application/json")
			if md, err := insight.ReadMetadata([]byte(meta)); err != nil || md.Definition == nil || md.Figure.Checkpoint.Size == 0 {
				t.Errorf("metadata: %v", err)
			}

			// A what-if on a real scheme names its bottleneck.
			b.navigate(srv.URL + "/whatif?level=" + url.QueryEscape("sg-cls@1") + "&add=" + url.QueryEscape("support>=5, HM-UPD-4"))
			if s := b.text("#summary"); !strings.Contains(s, "would not qualify") || !strings.Contains(s, "Current rules:") {
				t.Errorf("what-if summary %q", s)
			}
			if b.count("#bottleneck") != 1 {
				t.Error("the what-if marks no bottleneck")
			}
			b.screenshot(prefix + "whatif")

			// A replay of a rule that suspends on any fixable flaw.
			rule := "id: any-fixable\ndescription: A flaw its maintainers fixed suspends at once.\nwhen: {upstream_fix: true, severity: [low, medium, high, critical]}\nthen: [{action: suspend}]\n"
			b.navigate(srv.URL + "/replay?rule=" + url.QueryEscape(rule))
			if s := b.text("#summary"); !strings.Contains(s, "Under this rule") {
				t.Errorf("replay summary %q", s)
			}
			b.screenshot(prefix + "replay")

			// A declared target shows its class and its place in the log.
			ctx := context.Background()
			_, auth, err := srv.Server.Login(ctx, demo.Email(demo.Owners["sg-cls"]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			tg, err := srv.Server.DeclareTarget(ctx, auth, server.TargetDeclaration{Target: insight.Target{Title: "Two in three SG labelled products with 5+ years of support by next year",
				Indicator: "support-5y", Scope: insight.Query{Jurisdiction: "SG"}, RefMonth: time.Now().AddDate(0, -12, 0).Format("2006-01"), Value: 0.66,
				Due: time.Now().AddDate(1, 0, 0).Format("2006-01")}})
			if err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			srv.Server.WaitLogged(wctx)
			b.navigate(srv.URL + "/targets/" + tg.ID)
			if s := b.text("#class"); !strings.Contains(s, "Method:") {
				t.Errorf("class %q", s)
			}
			if s := b.text("#log-status"); !strings.Contains(s, "has not been changed") {
				t.Errorf("log status %q", s)
			}
			b.screenshot(prefix + "target")

			// The PDF briefing reads back.
			if _, err := exec.LookPath("pdftotext"); err != nil && os.Getenv("CI") != "true" {
				t.Skip("no pdftotext")
			}
			pdf := get(t, srv.URL+"/briefings/indicators/vuln-unfixed.pdf?by=category", "application/pdf")
			p := filepath.Join(t.TempDir(), "briefing.pdf")
			os.WriteFile(p, []byte(pdf), 0o600)
			if dir := os.Getenv("HALLMARK_SCREENSHOT_DIR"); dir != "" {
				os.WriteFile(filepath.Join(dir, prefix+"briefing.pdf"), []byte(pdf), 0o644)
			}
			out, err := exec.Command("pdftotext", p, "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(string(out)), " ")
			for _, want := range []string{"Labelled products with known unfixed vulnerabilities", "In short", "By category", "Cite as:", "log checkpoint"} {
				if !strings.Contains(text, want) {
					t.Errorf("the PDF briefing lacks %q", want)
				}
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func get(t *testing.T, u, ctype string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype {
		t.Fatalf("%s: %d %s: %.200s", u, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return string(b)
}
