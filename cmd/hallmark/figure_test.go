package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func download(t *testing.T, url, path string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	if path != "" {
		os.WriteFile(path, b, 0o600)
	}
	return b
}

// A published figure recomputes from the data directory's log and
// registry; an altered figure, or one citing another log's root, does not.
func TestFigureVerify(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			dir := t.TempDir()
			data := inst.Server.Config().DataDir
			verify := func(file string) (int, string) {
				var out, errb bytes.Buffer
				code := run(context.Background(), []string{"figure", "verify", "--data", data, "--db", inst.DSN, file}, &out, &errb)
				return code, out.String() + errb.String()
			}
			good := filepath.Join(dir, "good.json")
			b := download(t, inst.URL+"/indicators/support-5y/metadata.json?by=category", good)
			if code, out := verify(good); code != 0 || !strings.Contains(out, "OK: the figure recomputes exactly") || !strings.Contains(out, "hash to the cited root") {
				t.Fatalf("verify a fresh figure: exit %d\n%s", code, out)
			}
			var md insight.Metadata
			json.Unmarshal(b, &md)
			// A changed value.
			md.Figure.Total.Num++
			bad := filepath.Join(dir, "bad.json")
			nb, _ := json.Marshal(md)
			os.WriteFile(bad, nb, 0o600)
			if code, out := verify(bad); code != 3 || !strings.Contains(out, "DIFFERS: total: published") {
				t.Errorf("verify an altered figure: exit %d\n%s", code, out)
			}
			// Another root: not computed from this log.
			md.Figure.Total.Num--
			md.Figure.Checkpoint.Root = "dGhpcnR5LXR3by1ieXRlcy1vZi1hLXJvb3QtaGFzaCE="
			nb, _ = json.Marshal(md)
			os.WriteFile(bad, nb, 0o600)
			if code, out := verify(bad); code != 3 || !strings.Contains(out, "not computed from this log") {
				t.Errorf("verify a figure of another log: exit %d\n%s", code, out)
			}
			// The registry changed behind the figure: a support end date
			// rewritten makes it differ, and says where.
			db := behindTheBack(t, inst)
			if _, err := db.Exec(`UPDATE product_versions SET facts = REPLACE(facts, '"support_end_date":"20', '"support_end_date":"21')`); err != nil {
				t.Fatal(err)
			}
			inst.Server.RefreshMarket(context.Background())
			if code, out := verify(good); code != 3 || !strings.Contains(out, "DIFFERS") || !strings.Contains(out, "registry may have changed") {
				t.Errorf("verify after the registry changed: exit %d\n%s", code, out)
			}
		})
	}
}

// hallmark brief writes the same briefing the pages serve, as Markdown,
// HTML and PDF.
func TestBriefCommand(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	data := inst.Server.Config().DataDir
	brief := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"brief", "--data", data, "--db", inst.DSN, "--public-url", inst.URL}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	code, md := brief("indicators", "support-5y", "by=scheme")
	if code != 0 || !strings.Contains(md, "# Labelled products with at least 5 years of support") || !strings.Contains(md, "## Cite as") {
		t.Fatalf("brief: exit %d\n%s", code, md)
	}
	// The page's Markdown is the command's, but for the moment each was made.
	web := string(download(t, inst.URL+"/briefings/indicators/support-5y.md?by=scheme", ""))
	if first(web) != first(md) {
		t.Errorf("the command's briefing differs from the page's:\n%s\n---\n%s", first(md), first(web))
	}
	if code, out := brief("whatif", "sg-cls@1", "add=support>=5"); code != 0 || !strings.Contains(out, "would not qualify") {
		t.Errorf("whatif brief: exit %d\n%s", code, out)
	}
	if code, out := brief("nonsense", "x"); code != 1 || !strings.Contains(out, "no such briefing") {
		t.Errorf("unknown kind: exit %d\n%s", code, out)
	}
	if code, _ := brief("indicators"); code != 2 {
		t.Errorf("no name: exit %d, want 2", code)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("no pdftotext")
	}
	pdf := filepath.Join(t.TempDir(), "b.pdf")
	if code, out := brief("--format", "pdf", "-o", pdf, "compare", "sg-cls@3~fi-traficom@label"); code != 0 {
		t.Fatalf("pdf: exit %d\n%s", code, out)
	}
	text, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(strings.Fields(string(text)), " "); !strings.Contains(s, "Could a label of") || !strings.Contains(s, "Cite as:") {
		t.Errorf("the PDF reads: %s", s)
	}
}

// first is a Markdown briefing without its "As of" line and its citation
// (which carry the moment).
func first(md string) string {
	var keep []string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "As of ") || strings.HasPrefix(l, "Hallmark (") || strings.Contains(l, "as of ") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
