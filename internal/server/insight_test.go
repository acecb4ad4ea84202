package server_test

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// allLabels reads every label through the registry search.
func allLabels(t *testing.T, st *store.Store) []registry.Label {
	t.Helper()
	ls, _, err := st.Labels(context.Background(), store.LabelQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// The indicators agree with the registry read another way, cite the log's
// checkpoint, and follow a decision once the log holds it.
func TestIndicatorsOnTheDemo(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			inst := servertest.Start(t, d)
			srv, st := inst.Server, inst.Store
			labels := allLabels(t, st)
			active, live := 0, map[int64]bool{}
			for _, l := range labels {
				if l.Status == assess.Active {
					active++
				}
				if l.Status == assess.Active || l.Status == assess.Suspended {
					live[l.VersionID] = true
				}
			}
			if len(labels) < 10 {
				t.Fatalf("the small demo has only %d labels", len(labels))
			}
			f, _, err := srv.Indicator(ctx, "label-status", 0, insight.Query{By: insight.ByScheme})
			if err != nil {
				t.Fatal(err)
			}
			if f.Total.Num != active || f.Total.Den != len(labels) {
				t.Errorf("label-status = %d of %d, the registry has %d active of %d", f.Total.Num, f.Total.Den, active, len(labels))
			}
			cp, err := srv.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.Checkpoint != cp || cp.Size == 0 || cp.Root == "" {
				t.Errorf("figure cites %+v, the log's checkpoint is %+v", f.Checkpoint, cp)
			}
			// Five years of support, counted from each labelled version's
			// declared facts directly.
			five := 0
			for v := range live {
				ver, err := st.Version(ctx, v)
				if err != nil {
					t.Fatal(err)
				}
				rel, _ := time.Parse(time.DateOnly, ver.ReleaseDate)
				end, _ := time.Parse(time.DateOnly, ver.Facts.SupportEnd)
				if end.Sub(rel).Hours()/24/365.25 >= 5 {
					five++
				}
			}
			s5, _, err := srv.Indicator(ctx, "support-5y", 0, insight.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if s5.Total.Num != five || s5.Total.Den != len(live) {
				t.Errorf("support-5y = %d of %d, the facts say %d of %d", s5.Total.Num, s5.Total.Den, five, len(live))
			}
			if len(s5.Series) != insight.DefaultMonths || s5.Series[len(s5.Series)-1].Den != len(live) {
				t.Errorf("series: %d months, last %+v", len(s5.Series), s5.Series[len(s5.Series)-1])
			}
			// Every indicator computes on the demo.
			for _, def := range srv.Indicators() {
				if _, _, err := srv.Indicator(ctx, def.ID, 0, insight.Query{}); err != nil {
					t.Errorf("%s: %v", def.ID, err)
				}
			}
			// A suspension: in the figure once logged, citing the larger log.
			var target registry.Label
			for _, l := range labels {
				if l.Status == assess.Active {
					target = l
					break
				}
			}
			_, auth, err := srv.Login(ctx, demo.Email(demo.Owners[target.SchemeID]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Decide(ctx, auth, server.Request{Label: target.ID, Action: assess.SuspendLabel, Reason: "Test suspension."}); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := srv.WaitLogged(wctx); err != nil {
				t.Fatal(err)
			}
			f2, _, err := srv.Indicator(ctx, "label-status", 0, insight.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if f2.Total.Num != active-1 || f2.Checkpoint.Size <= cp.Size {
				t.Errorf("after a suspension: %d active at checkpoint %d (was %d at %d)", f2.Total.Num, f2.Checkpoint.Size, active, cp.Size)
			}
			// A question out of bounds is the user's to correct.
			if _, _, err := srv.Indicator(ctx, "support-5y", 0, insight.Query{By: "colour"}); !errors.Is(err, server.ErrInvalid) {
				t.Errorf("a bad cut: %v", err)
			}
			if _, _, err := srv.Indicator(ctx, "nope", 0, insight.Query{}); !errors.Is(err, server.ErrInvalid) {
				t.Errorf("an unknown indicator: %v", err)
			}
		})
	}
}

// The what-if on a real scheme counts exactly the labelled products whose
// declared support falls short, and names the bottleneck.
func TestMarketWhatIfOnTheDemo(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			inst := servertest.Start(t, d)
			srv, st := inst.Server, inst.Store
			// The level with the most live labels.
			n := map[string]int{}
			for _, l := range allLabels(t, st) {
				if l.Status == assess.Active || l.Status == assess.Suspended {
					n[l.SchemeID+"@"+l.LevelID]++
				}
			}
			ref, most := "", 0
			for k, c := range n {
				if c > most || c == most && k < ref {
					ref, most = k, c
				}
			}
			sc, lvl := scheme.ParseRef(ref)
			short := 0
			for _, l := range allLabels(t, st) {
				if l.SchemeID != sc || l.LevelID != lvl || !(l.Status == assess.Active || l.Status == assess.Suspended) {
					continue
				}
				ver, _ := st.Version(ctx, l.VersionID)
				rel, _ := time.Parse(time.DateOnly, ver.ReleaseDate)
				end, _ := time.Parse(time.DateOnly, ver.Facts.SupportEnd)
				if end.Sub(rel).Hours()/24/365.25 < 5 {
					short++
				}
			}
			r, err := srv.MarketWhatIf(ctx, ref, []string{"support>=5", "HM-UPD-4"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Labelled != most || r.Conditions[0].Short != short {
				t.Errorf("%s: %d labelled, %d short of 5 years; want %d and %d", ref, r.Labelled, r.Conditions[0].Short, most, short)
			}
			if r.Bottleneck < 0 || r.Summary == "" || r.WouldFail < max(r.Conditions[0].Short, r.Conditions[1].Short) {
				t.Errorf("what-if: %+v", r)
			}
			// A framework item stands for the requirements that capture it.
			r2, err := srv.MarketWhatIf(ctx, ref, []string{"etsi-en-303-645-v2.1.1#5.3-13"}, 0)
			if err != nil || len(r2.Conditions) == 0 || r2.Conditions[0].Condition.Requirement == "" {
				t.Errorf("item: %+v %v", r2.Conditions, err)
			}
			for _, bad := range [][]string{{"HM-NOPE-1"}, {"support>=50"}, {}} {
				if _, err := srv.MarketWhatIf(ctx, ref, bad, 0); !errors.Is(err, server.ErrInvalid) {
					t.Errorf("%v: %v", bad, err)
				}
			}
			if _, err := srv.MarketWhatIf(ctx, "no-such-scheme@1", []string{"sbom"}, 0); !errors.Is(err, server.ErrInvalid) {
				t.Errorf("unknown scheme: %v", err)
			}
		})
	}
}

// A declared target is a logged decision: it shows progress and a class,
// is revised only by superseding it, and a row changed behind the log is
// caught.
func TestTargetsAreLoggedDecisions(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			inst := servertest.Start(t, d)
			srv := inst.Server
			_, authority, err := srv.Login(ctx, demo.Email(demo.Owners["sg-cls"]), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			ref := time.Now().AddDate(0, -6, 0).Format("2006-01")
			due := time.Now().AddDate(1, 0, 0).Format("2006-01")
			decl := server.TargetDeclaration{Target: insight.Target{Title: "By next year, 80% of SG labelled products have 5+ years of support",
				Indicator: "support-5y", Scope: insight.Query{Jurisdiction: "SG"}, RefMonth: ref, Value: 0.8, Due: due}}
			tg, err := srv.DeclareTarget(ctx, authority, decl)
			if err != nil {
				t.Fatal(err)
			}
			if tg.ID == "" || tg.Organisation != authority.OrgID || tg.Version != 1 || tg.Method != insight.LinearTrend {
				t.Errorf("declared %+v", tg)
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := srv.WaitLogged(wctx); err != nil {
				t.Fatal(err)
			}
			v, err := srv.Target(ctx, tg.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Intact || !v.Logged.Logged || v.Logged.Kind != tlog.KindTargetDeclared || v.Logged.Digest != tg.Digest() {
				t.Errorf("target not logged intact: %+v", v.Logged)
			}
			if v.Progress.Class == "" || len(v.Progress.Series) < 6 || math.IsNaN(float64(v.Progress.Current)) {
				t.Errorf("progress: %+v", v.Progress)
			}
			// Nobody declares for another organisation, nor anonymously.
			if _, err := srv.DeclareTarget(ctx, auth.Anonymous, decl); !errors.Is(err, server.ErrDenied) {
				t.Errorf("anonymous declaration: %v", err)
			}
			bad := decl
			bad.Target.Due = "1999-01"
			if _, err := srv.DeclareTarget(ctx, authority, bad); !errors.Is(err, server.ErrInvalid) {
				t.Errorf("a target date before the reference: %v", err)
			}
			// A revision supersedes; the old one stays, and cannot be revised twice.
			rev := decl
			rev.Target.Value, rev.Target.Supersedes = 0.7, tg.ID
			tg2, err := srv.DeclareTarget(ctx, authority, rev)
			if err != nil {
				t.Fatal(err)
			}
			old, _ := srv.Target(ctx, tg.ID)
			if old.Target.SupersededBy != tg2.ID || old.Target.Value != 0.8 {
				t.Errorf("superseded target: %+v", old.Target)
			}
			if _, err := srv.DeclareTarget(ctx, authority, rev); !errors.Is(err, store.ErrConflict) {
				t.Errorf("a second revision of a superseded target: %v", err)
			}
			_, mfr, err := srv.Login(ctx, demo.Email(firstManufacturer(t, inst)), demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			steal := rev
			steal.Target.Supersedes = tg2.ID
			if _, err := srv.DeclareTarget(ctx, mfr, steal); !server.IsNotFound(err) {
				t.Errorf("a manufacturer superseding an authority's target: %v", err)
			}
			// A row changed behind the log's back no longer matches it.
			driver := map[bool]string{true: "pgx", false: "sqlite"}[d == store.Postgres]
			db, err := sql.Open(driver, inst.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE targets SET body = REPLACE(body, '"target_value":0.7', '"target_value":0.5') WHERE id = $1`, tg2.ID); err != nil {
				t.Fatal(err)
			}
			if v, _ := srv.Target(ctx, tg2.ID); v.Intact || v.Target.Value != 0.5 {
				t.Errorf("a rewritten target still reads intact: %+v", v.Target)
			}
			// The transparency report of last month lists the targets standing then.
			// This month's report lists both: the first stood until it was
			// superseded this month, and says so.
			rep, err := srv.TransparencyReport(ctx, authority.OrgID, time.Now().Format("2006-01"))
			if err != nil || len(rep.Targets) != 2 || rep.Targets[0].Target.ID != tg.ID || rep.Targets[0].Target.SupersededBy != tg2.ID {
				t.Errorf("report: %d targets, %v", len(rep.Targets), err)
			}
			if _, err := srv.PublishReport(ctx, authority, time.Now().Format("2006-01")); !errors.Is(err, server.ErrInvalid) {
				t.Errorf("publishing the running month: %v", err)
			}
		})
	}
}

func firstManufacturer(t *testing.T, inst *servertest.Instance) string {
	t.Helper()
	orgs, err := inst.Store.Organisations(context.Background(), registry.Manufacturer)
	if err != nil || len(orgs) == 0 {
		t.Fatal(err)
	}
	return orgs[0].Name
}

// The replay of a proposed rule considers the scheme's labels and names
// the ones it would have changed.
func TestReplayOnTheDemo(t *testing.T) {
	ctx := context.Background()
	inst := servertest.Start(t, store.SQLite)
	srv := inst.Server
	tr := true
	rule := scheme.Rule{ID: "any-known-suspend", Description: "Any known vulnerability suspends at once.",
		When: scheme.Condition{Severity: []string{"low", "medium", "high", "critical"}, UpstreamFix: &tr},
		Then: []scheme.Action{{Kind: scheme.Suspend}}}
	r, err := srv.Replay(ctx, rule, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Considered != len(allLabels(t, inst.Store)) || r.Summary == "" {
		t.Errorf("replay: considered %d, summary %q", r.Considered, r.Summary)
	}
	for _, l := range r.Labels {
		if l.When.IsZero() || l.Action != "suspend" || len(l.Flaws) == 0 {
			t.Errorf("row %+v", l)
		}
	}
	if _, err := srv.Replay(ctx, scheme.Rule{ID: "x"}, "", 0); !errors.Is(err, server.ErrInvalid) {
		t.Errorf("an invalid rule: %v", err)
	}
}
