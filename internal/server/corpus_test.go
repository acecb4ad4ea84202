package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// realCVE is a CVE id of the real world (the demo's own are CVE-2099-...).
var realCVE = regexp.MustCompile(`CVE-(199|20[0-2])\d-\d+`)

// corpusDir returns a folder of the shared test corpus beside the
// repository; without it the test skips, except in CI.
func corpusDir(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus", sub)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus folder %s is missing (CI=true): %v", dir, err)
		}
		t.Skipf("corpus folder %s is absent: skipping (it fails instead when CI=true)", dir)
	}
	return dir
}

// Real data, real rules: the Go vulnerability database of the shared corpus
// ingested into the demo market suspends a reference-scheme label whose
// product still ships long-fixed module versions (rule
// known-fixable-unanswered-suspend), the page says why in plain words, and
// the manufacturer's VEX saying the product is not affected restores it.
func TestSharedCorpusChangesLabels(t *testing.T) {
	dir := corpusDir(t, "osv/go")
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			inst := servertest.Start(t, d)
			srv, st := inst.Server, inst.Store

			// The Go records in the corpus that name a module of an active
			// etsi-baseline label (all of them would do; these keep the test quick).
			ts, err := st.WatchTargets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			modules := map[string]bool{}
			for _, tg := range ts {
				if tg.Label.SchemeID == "etsi-baseline" {
					for _, c := range tg.Components {
						if m, _, ok := strings.Cut(strings.TrimPrefix(c.PURL, "pkg:golang/"), "@"); ok && strings.HasPrefix(c.PURL, "pkg:golang/") {
							modules[m] = true
						}
					}
				}
			}
			var docs []*advisory.Document
			err = advisory.ReadDir(os.DirFS(dir), ".", func(_ string, doc *advisory.Document) error {
				for _, a := range doc.Advisories {
					for _, af := range a.Affected {
						if modules[af.Package.Name] {
							docs = append(docs, doc)
							return nil
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) < 10 {
				t.Fatalf("only %d corpus records name a module of an etsi-baseline label", len(docs))
			}
			rep, err := srv.Ingest(ctx, auth.System, docs, server.IngestOptions{Confirm: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Suspended == 0 || rep.Notified == 0 {
				t.Fatalf("ingesting %d real Go records suspended nothing: %+v", len(docs), rep)
			}

			// A suspended label: its reason names the rule, a real flaw (by CVE)
			// and the source document's hash; its page says why.
			var sus registry.Label
			var vid int64
			for _, tg := range ts {
				if l, _ := st.Label(ctx, tg.Label.ID); tg.Label.SchemeID == "etsi-baseline" && l.Status == assess.Suspended {
					sus, vid = l, tg.VersionID
					break
				}
			}
			if sus.ID == "" {
				t.Fatal("no etsi-baseline label was suspended")
			}
			_, ev, err := srv.Label(ctx, sus.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := ev[len(ev)-1]
			if last.Action != "suspend" || last.UserID != 0 || !strings.Contains(last.Reason, "rule known-fixable-unanswered-suspend") ||
				!realCVE.MatchString(last.Reason) || !strings.Contains(last.Reason, "source sha256 ") {
				t.Fatalf("suspension event %+v", last)
			}
			page := get(t, inst.URL+"/labels/"+sus.ID)
			for _, want := range []string{"Suspended", "maintainers have already fixed", "; fixed in "} {
				if !strings.Contains(page, want) {
					t.Errorf("the page of suspended label %s does not say %q", sus.ID, want)
				}
			}

			// The manufacturer states, by OpenVEX, that no listed flaw is
			// reachable in this version: the watch restores the label.
			fs, err := st.WatchFindings(ctx, vid)
			if err != nil {
				t.Fatal(err)
			}
			var stmts []map[string]any
			seen := map[string]bool{}
			for _, f := range fs {
				if f.State == registry.FindingOpen && !seen[f.AdvisoryID] {
					seen[f.AdvisoryID] = true
					stmts = append(stmts, map[string]any{"vulnerability": map[string]string{"name": f.AdvisoryID},
						"products": []map[string]string{{"@id": "pkg:generic/demo"}}, "status": "not_affected",
						"justification": "vulnerable_code_not_in_execute_path"})
				}
			}
			vex, _ := json.Marshal(map[string]any{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex/" + sus.ID,
				"author": "demo manufacturer", "timestamp": time.Now().UTC().Format(time.RFC3339), "version": 1, "statements": stmts})
			doc, err := advisory.Parse(vex)
			if err != nil {
				t.Fatal(err)
			}
			_, mfr, err := srv.Login(ctx, demo.Email(sus.Manufacturer), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.UploadVEX(ctx, mfr, vid, doc); err != nil {
				t.Fatal(err)
			}
			l, ev, err := srv.Label(ctx, sus.ID)
			if err != nil || l.Status != assess.Active {
				t.Fatalf("label %s after the VEX: %s %v (last event %+v)", sus.ID, l.Status, err, ev[len(ev)-1])
			}
			if last := ev[len(ev)-1]; last.Action != "restore" {
				t.Fatalf("restoration event %+v", last)
			}
			t.Logf("corpus: %d records, %d findings, %d labels suspended", len(docs), rep.Findings, rep.Suspended)
		})
	}
}
