package server_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
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
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The post-market watch end to end on a real store: an OSV record names a
// component of a labelled product version, KEV says its CVE is exploited,
// the scheme's rule notifies the manufacturer and opens a 30-day clock;
// when the clock runs out the label is suspended through the gate with the
// finding, rule and source in its reason; the manufacturer's VEX clears it
// and the label is restored. The same documents again change nothing.
func TestWatchSuspendsAndRestores(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: time.Now().UTC()}
			inst := servertest.StartWith(t, d, func(c *server.Config) { c.Clock = clk.now })
			srv, st := inst.Server, inst.Store

			tg := pickTarget(t, ctx, st)
			comp := tg.Components[0]
			name := strings.TrimPrefix(strings.Split(comp.PURL, "@")[0], "pkg:golang/")
			osv := fmt.Sprintf(`{"schema_version": "1.6.0", "id": "HM-TEST-2026-0001", "modified": "2026-11-01T00:00:00Z",
				"published": "2026-11-01T00:00:00Z", "aliases": ["CVE-2099-0001"], "summary": "A test flaw",
				"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
				"affected": [{"package": {"ecosystem": "Go", "name": %q}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`, name)
			kev := `{"title": "test", "catalogVersion": "2026.12.01", "dateReleased": "2026-12-01T00:00:00.000Z", "count": 1,
				"vulnerabilities": [{"cveID": "CVE-2099-0001", "vendorProject": "Test", "product": "Test", "vulnerabilityName": "Test flaw",
				"dateAdded": "2026-11-20", "shortDescription": "A test flaw.", "requiredAction": "Apply updates.", "dueDate": "2026-12-11",
				"knownRansomwareCampaignUse": "Unknown", "notes": ""}]}`
			docs := parseAll(t, osv, kev)
			rep, err := srv.Ingest(ctx, auth.System, docs, server.IngestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Advisories != 1 || rep.Exploited != 1 || rep.Notified < 1 || rep.Deadlines < 1 || rep.Suspended != 0 {
				t.Fatalf("first ingest: %+v", rep)
			}
			fs, err := st.WatchFindings(ctx, tg.VersionID)
			if err != nil {
				t.Fatal(err)
			}
			var f registry.Finding
			for _, x := range fs {
				if x.AdvisoryID == "CVE-2099-0001" {
					f = x
				}
			}
			if f.AdvisoryID != "CVE-2099-0001" || f.Basis != "purl-exact" || f.State != registry.FindingOpen || len(f.Clocks) == 0 || f.DocSHA256 != docs[0].SHA256 {
				t.Fatalf("finding %+v", f)
			}
			if l, _ := st.Label(ctx, tg.Label.ID); l.Status != assess.Active {
				t.Fatalf("label %s is %s before the clock ran out", l.ID, l.Status)
			}
			// The public page says it in plain words.
			due := clk.now().AddDate(0, 0, 30).Format("2 January 2006")
			page := get(t, inst.URL+"/labels/"+tg.Label.ID)
			if want := "CVE-2099-0001, critical, actively exploited; no fix published yet; the manufacturer has until " + due + " to ship the fix."; !strings.Contains(page, want) {
				t.Errorf("the label page does not say %q", want)
			}

			// The same documents again: nothing new.
			again, err := srv.Ingest(ctx, auth.System, parseAll(t, osv, kev), server.IngestOptions{})
			if err != nil || again.Advisories != 0 || again.Unchanged != 1 || again.Notified != 0 || again.Deadlines != 0 || again.Suspended != 0 {
				t.Fatalf("second ingest: %+v %v", again, err)
			}

			// 31 days later the clock has run out.
			clk.advance(31 * 24 * time.Hour)
			run, err := srv.RunWatch(ctx, auth.System, server.IngestOptions{})
			if err != nil || run.Suspended < 1 {
				t.Fatalf("after the deadline: %+v %v", run, err)
			}
			l, ev, err := srv.Label(ctx, tg.Label.ID)
			if err != nil || l.Status != assess.Suspended {
				t.Fatalf("label %s: %s %v", tg.Label.ID, l.Status, err)
			}
			page = get(t, inst.URL+"/labels/"+tg.Label.ID)
			if !strings.Contains(page, "Suspended under the scheme's post-market rules") || !strings.Contains(page, `id="status-why"`) || !strings.Contains(page, "CVE-2099-0001") {
				t.Errorf("the suspended label's page does not say it was suspended under the post-market rules, with the reason and the flaw: %s", page[strings.Index(page, "<main"):min(len(page), strings.Index(page, "<main")+800)])
			}
			if want := "the manufacturer's deadline to ship a fix, " + due + ", has passed."; !strings.Contains(page, want) {
				t.Errorf("the suspended label's page does not say %q", want)
			}
			last := ev[len(ev)-1]
			for _, want := range []string{"Post-market watch:", "CVE-2099-0001", "exploited-unfixed-suspend", docs[0].SHA256[:12]} {
				if !strings.Contains(last.Reason, want) {
					t.Errorf("suspension reason %q lacks %q", last.Reason, want)
				}
			}

			// The manufacturer says, in VEX, the product is not affected.
			vex := fmt.Sprintf(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex/1", "author": "maker",
				"timestamp": %q, "version": 1, "statements": [{"vulnerability": {"name": "CVE-2099-0001"},
				"products": [{"@id": %q}], "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}`,
				clk.now().Format(time.RFC3339), tg.PURL+"@"+tg.SoftwareVersion)
			rep, err = srv.Ingest(ctx, auth.System, parseAll(t, vex), server.IngestOptions{})
			if err != nil || rep.Statements == 0 || rep.Restored < 1 {
				t.Fatalf("VEX ingest: %+v %v", rep, err)
			}
			if l, _ := st.Label(ctx, tg.Label.ID); l.Status != assess.Active {
				t.Fatalf("label %s is %s after the VEX cleared it", l.ID, l.Status)
			}
			if page := get(t, inst.URL+"/labels/"+tg.Label.ID); !strings.Contains(page, "CVE-2099-0001, critical, actively exploited: the manufacturer states this product version is not affected.") {
				t.Error("after the VEX, the label page does not say the version is not affected")
			}
			if err := srv.WaitLogged(ctx); err != nil {
				t.Fatal(err)
			}
			ds, _ := srv.Receipts(ctx, tg.Label.ID)
			if n := len(ds); n < 3 || ds[n-1].Kind != "label.restored" || ds[n-2].Kind != "label.suspended" || !ds[n-1].Logged {
				t.Fatalf("logged decisions for the label: %+v", ds)
			}
		})
	}
}

// pickTarget finds an active CLS or ETSI-baseline label whose version's first component is a
// Go module with a purl registered for its product.
func pickTarget(t *testing.T, ctx context.Context, st *store.Store) registry.WatchTarget {
	ts, err := st.WatchTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		// A scheme whose rules suspend an exploited, unfixed flaw after 30 days.
		if (tg.Label.SchemeID == "sg-cls" || tg.Label.SchemeID == "etsi-baseline") && tg.Label.Status == assess.Active && tg.PURL != "" && len(tg.Components) > 0 && strings.HasPrefix(tg.Components[0].PURL, "pkg:golang/") {
			return tg
		}
	}
	t.Fatal("the demo has no active label on a version with a Go component")
	return registry.WatchTarget{}
}

func parseAll(t *testing.T, docs ...string) []*advisory.Document {
	var out []*advisory.Document
	for _, d := range docs {
		doc, err := advisory.Parse([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, doc)
	}
	return out
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return html.UnescapeString(string(b))
}

// A manufacturer registering a version without the flawed component ships
// the fix: the findings on the labelled version become fixed and the
// scheme's restore rule lifts the watch's suspension.
func TestFixedVersionRestores(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC()}
	inst := servertest.StartWith(t, store.SQLite, func(c *server.Config) { c.Clock = clk.now })
	srv, st := inst.Server, inst.Store
	tg := pickTarget(t, ctx, st)
	comp := tg.Components[0]
	name := strings.TrimPrefix(strings.Split(comp.PURL, "@")[0], "pkg:golang/")
	osv := fmt.Sprintf(`{"schema_version": "1.6.0", "id": "HM-TEST-2026-0002", "modified": "2026-11-01T00:00:00Z", "aliases": ["CVE-2099-0003"],
		"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
		"affected": [{"package": {"ecosystem": "Go", "name": %q}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`, name)
	kev := `{"title": "test", "catalogVersion": "2026.12.02", "dateReleased": "2026-12-01T00:00:00.000Z", "count": 1,
		"vulnerabilities": [{"cveID": "CVE-2099-0003", "vendorProject": "Test", "product": "Test", "vulnerabilityName": "Test flaw",
		"dateAdded": "2026-11-20", "shortDescription": "A test flaw.", "requiredAction": "Apply updates.", "dueDate": "2026-12-11",
		"knownRansomwareCampaignUse": "Unknown", "notes": ""}]}`
	if _, err := srv.Ingest(ctx, auth.System, parseAll(t, osv, kev), server.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.advance(31 * 24 * time.Hour)
	if _, err := srv.RunWatch(ctx, auth.System, server.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if l, _ := st.Label(ctx, tg.Label.ID); l.Status != assess.Suspended {
		t.Fatalf("label %s is %s, want suspended", l.ID, l.Status)
	}
	_, mfr, err := srv.Login(ctx, demo.Email(tg.Manufacturer), demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// The new version keeps every component but the flawed one.
	var comps []registry.Component
	for _, c := range tg.Components {
		if !strings.HasPrefix(c.PURL, strings.Split(comp.PURL, "@")[0]+"@") {
			comps = append(comps, c)
		}
	}
	v := registry.Version{ProductID: tg.ProductID, SoftwareVersion: tg.SoftwareVersion + "-fix1", Facts: registry.Facts{SupportEnd: "2031-01-01"}}
	if _, err := srv.CreateVersion(ctx, mfr, v, &server.ParsedSBOM{Format: "cyclonedx-json 1.6", Digest: "test", Components: comps}); err != nil {
		t.Fatal(err)
	}
	l, ev, err := srv.Label(ctx, tg.Label.ID)
	if err != nil || l.Status != assess.Active {
		t.Fatalf("label %s after the fixed version: %s %v", tg.Label.ID, l.Status, err)
	}
	if last := ev[len(ev)-1]; last.Action != "restore" || !strings.Contains(last.Reason, "fixed-restore") {
		t.Fatalf("restoration event %+v", last)
	}
	fs, _ := st.WatchFindings(ctx, tg.VersionID)
	for _, f := range fs {
		if f.AdvisoryID == "CVE-2099-0003" && (f.State != registry.FindingFixed || f.Response != "fixed") {
			t.Fatalf("finding %+v after the fixed version", f)
		}
	}
}

// One flaw reached through a GO- and a GHSA- record (aliases of one CVE)
// acts once: one finding per version, named by the CVE.
func TestAliasesActOnce(t *testing.T) {
	ctx := context.Background()
	inst := servertest.Start(t, store.SQLite)
	tg := pickTarget(t, ctx, inst.Store)
	name := strings.TrimPrefix(strings.Split(tg.Components[0].PURL, "@")[0], "pkg:golang/")
	rec := func(id, alias string) string {
		return fmt.Sprintf(`{"schema_version": "1.6.0", "id": %q, "modified": "2026-11-01T00:00:00Z", "aliases": [%q, "CVE-2099-0009"],
			"affected": [{"package": {"ecosystem": "Go", "name": %q}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`, id, alias, name)
	}
	docs := parseAll(t, rec("GO-2099-0009", "GHSA-hm99-test-0009"), rec("GHSA-hm99-test-0009", "GO-2099-0009"))
	if _, err := inst.Server.Ingest(ctx, auth.System, docs[:1], server.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Server.Ingest(ctx, auth.System, docs[1:], server.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	fs, err := inst.Store.WatchFindings(ctx, tg.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		if strings.Contains(f.AdvisoryID, "0009") {
			ids = append(ids, f.AdvisoryID)
		}
	}
	comps := 0 // the version may carry the module more than once
	for _, c := range tg.Components {
		if strings.HasPrefix(c.PURL, "pkg:golang/"+name+"@") {
			comps++
		}
	}
	if len(ids) != comps {
		t.Fatalf("findings for the one flaw: %v, want %d (one per component)", ids, comps)
	}
	for _, id := range ids {
		if id != "CVE-2099-0009" {
			t.Fatalf("finding named %s, want the flaw's CVE", id)
		}
	}
}

// A feed is not trusted blindly: a pass that would change more labels at
// once than the hold share allows changes none and says why, until an
// authority confirms it.
func TestIngestHeldPastShare(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC()}
	inst := servertest.StartWith(t, store.SQLite, func(c *server.Config) { c.Clock = clk.now; c.WatchHoldShare = 0.01; c.WatchHoldMin = 2 })
	ts, err := inst.Store.WatchTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The Go module most labelled versions carry.
	uses := map[string]int{}
	for _, tg := range ts {
		seen := map[string]bool{}
		for _, c := range tg.Components {
			if m, _, ok := strings.Cut(strings.TrimPrefix(c.PURL, "pkg:golang/"), "@"); ok && strings.HasPrefix(c.PURL, "pkg:golang/") && !seen[m] {
				seen[m] = true
				uses[m]++
			}
		}
	}
	module, n := "", 0
	for m, k := range uses {
		if k > n || (k == n && m < module) {
			module, n = m, k
		}
	}
	if n < 2 {
		t.Fatalf("the demo has no Go module in two labelled versions")
	}
	osv := fmt.Sprintf(`{"schema_version": "1.6.0", "id": "HM-TEST-2026-0100", "modified": "2026-11-01T00:00:00Z", "aliases": ["CVE-2099-0100"],
		"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
		"affected": [{"package": {"ecosystem": "Go", "name": %q}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`, module)
	kev := `{"title": "test", "catalogVersion": "2026.12.03", "dateReleased": "2026-12-01T00:00:00.000Z", "count": 1,
		"vulnerabilities": [{"cveID": "CVE-2099-0100", "vendorProject": "Test", "product": "Test", "vulnerabilityName": "Test flaw",
		"dateAdded": "2026-11-20", "shortDescription": "A test flaw.", "requiredAction": "Apply updates.", "dueDate": "2026-12-11",
		"knownRansomwareCampaignUse": "Unknown", "notes": ""}]}`
	if _, err := inst.Server.Ingest(ctx, auth.System, parseAll(t, osv, kev), server.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.advance(31 * 24 * time.Hour)
	run, err := inst.Server.RunWatch(ctx, auth.System, server.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Held || run.Suspended != 0 || !strings.Contains(run.Why, "confirm") {
		t.Fatalf("past the hold share: %+v", run)
	}
	run, err = inst.Server.RunWatch(ctx, auth.System, server.IngestOptions{Confirm: true})
	if err != nil || run.Held || run.Suspended == 0 {
		t.Fatalf("confirmed: %+v %v", run, err)
	}
}

// A scheme's "support ended: expire" rule acts on the label itself: once
// the version's declared support end date has passed, before the label's
// own validity ends, the watch's pass ends the label through the gate,
// naming the rule, though the version has no finding.
func TestWatchExpiresAtSupportEnd(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.supportEnd = "2026-09-30" // six months after issue; etsi-baseline labels run 24 months
		l := e.label(t, e.mfr, e.authA, schemeA)
		if _, err := e.srv.RunWatch(ctx, auth.System, server.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := e.status(t, l.ID); got != assess.Active {
			t.Fatalf("label %s is %s while still supported", l.ID, got)
		}
		e.clock.set(time.Date(2026, 9, 30, 23, 0, 0, 0, time.UTC))
		if _, err := e.srv.RunWatch(ctx, auth.System, server.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := e.status(t, l.ID); got != assess.Active {
			t.Fatalf("label %s is %s on its support end date", l.ID, got)
		}
		e.clock.set(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC))
		run, err := e.srv.RunWatch(ctx, auth.System, server.IngestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, ev, err := e.srv.Label(ctx, l.ID)
		if err != nil || got.Status != assess.Expired || run.Expired != 1 {
			t.Fatalf("label %s after its support ended: %s %v (run %+v)", l.ID, got.Status, err, run)
		}
		if last := ev[len(ev)-1]; last.Action != "expire" || last.UserID != 0 || !strings.Contains(last.Reason, "rule support-ended-expire") {
			t.Fatalf("expiry event %+v", last)
		}
	})
}

// One flaw, two sources: a Go record with no publication date (as many in
// the Go database's files) and a GHSA record of the same CVE that has one.
// The flaw acts on the best-known facts of all its sources, so the
// reference scheme's rule on long-fixable flaws suspends; the Go record
// alone says nothing about age and suspends nothing.
func TestFlawFactsMergeAcrossSources(t *testing.T) {
	ctx := context.Background()
	inst := servertest.Start(t, store.SQLite)
	srv, st := inst.Server, inst.Store
	ts, err := st.WatchTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tg registry.WatchTarget
	for _, x := range ts {
		if x.Label.SchemeID == "etsi-baseline" && x.Label.Status == assess.Active && len(x.Components) > 0 && strings.HasPrefix(x.Components[0].PURL, "pkg:golang/") {
			tg = x
			break
		}
	}
	if tg.Label.ID == "" {
		t.Fatal("no active etsi-baseline label on a version with a Go component")
	}
	name, ver, _ := strings.Cut(strings.TrimPrefix(tg.Components[0].PURL, "pkg:golang/"), "@")
	goRec := fmt.Sprintf(`{"schema_version": "1.6.0", "id": "GO-2099-0100", "modified": "0001-01-01T00:00:00Z", "published": "0001-01-01T00:00:00Z",
		"aliases": ["CVE-2099-0100"], "affected": [{"package": {"ecosystem": "Go", "name": %q},
		"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "%s-hallmark.1"}]}]}]}`, name, strings.TrimPrefix(ver, "v"))
	if _, err := srv.Ingest(ctx, auth.System, parseAll(t, goRec), server.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if l, _ := st.Label(ctx, tg.Label.ID); l.Status != assess.Active {
		t.Fatalf("a record of unknown age suspended label %s", l.ID)
	}
	ghsa := `{"schema_version": "1.6.0", "id": "GHSA-hm00-0100-test", "modified": "2024-06-01T00:00:00Z", "published": "2024-06-01T00:00:00Z",
		"aliases": ["CVE-2099-0100"], "affected": []}`
	if _, err := srv.Ingest(ctx, auth.System, parseAll(t, ghsa), server.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	_, ev, err := srv.Label(ctx, tg.Label.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := ev[len(ev)-1]; last.Action != "suspend" || !strings.Contains(last.Reason, "known-fixable-unanswered-suspend") || !strings.Contains(last.Reason, "CVE-2099-0100") {
		t.Fatalf("after the dated source: %+v", last)
	}
}
