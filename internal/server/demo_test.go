package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The demo's own advisories, played through the watch at demo load, leave
// every match basis and rule visible: an exploited, unfixed flaw found by
// model number suspended a label when its 30-day clock ran out; a second
// one was suspended and then lifted by its maker's VEX; a firmware image
// named by its digest, critical and exploited, got its BSI label revoked; a
// product named only in words waits for review; a Go module found by
// package carries "fixed in".
func TestDemoAdvisories(t *testing.T) {
	ctx := context.Background()
	inst := servertest.Start(t, store.SQLite)
	st := inst.Store
	fs, total, err := st.FindingsFor(ctx, store.FindingQuery{Limit: 1000})
	if err != nil || total == 0 {
		t.Fatalf("no findings after the demo loaded: %v", err)
	}
	bases := map[string]int{}
	states := map[string]int{}
	var exact, cleared, hash *store.FindingRow
	for i, f := range fs {
		bases[f.Basis]++
		states[f.State]++
		if f.Basis == "hash" && f.AdvisoryID == "CVE-2099-90008" {
			hash = &fs[i]
		}
		if (f.SchemeID != "sg-cls" && f.SchemeID != "etsi-baseline") || (f.Basis != "cpe-exact" && f.Basis != "model-number") {
			continue // the picks are labelled under these; a version may carry other schemes' labels too
		}
		switch f.AdvisoryID {
		case "CVE-2099-90001":
			exact = &fs[i]
		case "CVE-2099-90002":
			cleared = &fs[i]
		}
	}
	for _, b := range []string{"cpe-exact", "model-number", "sku", "hash", "name-fuzzy", "purl-exact"} {
		if bases[b] == 0 {
			t.Errorf("no %s finding in the demo: %v", b, bases)
		}
	}
	if states[registry.FindingReview] == 0 || states[registry.FindingNotAffected] == 0 || states[registry.FindingOpen] == 0 {
		t.Errorf("finding states in the demo: %v", states)
	}
	if exact == nil || cleared == nil {
		t.Fatalf("the demo advisories found nothing by model number: %v", bases)
	}
	l, ev, err := inst.Server.Label(ctx, exact.LabelID)
	if err != nil || l.Status != assess.Suspended || !strings.Contains(ev[len(ev)-1].Reason, "exploited-unfixed-suspend") {
		t.Fatalf("the exploited, unfixed flaw's label %s is %s: %+v %v", exact.LabelID, l.Status, ev[len(ev)-1], err)
	}
	// A firmware image named by digest only, critical, exploited and
	// unanswered for over 90 days: the BSI label's revocation rule.
	if hash == nil {
		t.Fatalf("the demo's hash advisory found no firmware image: %v", bases)
	}
	// The finding lists only active and suspended labels: find the BSI
	// label of the version among the revoked ones.
	revoked, _, err := st.Labels(ctx, store.LabelQuery{SchemeID: "de-bsi-label", Status: assess.Revoked, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var hashLabel string
	for _, x := range revoked {
		if x.VersionID == hash.VersionID {
			hashLabel = x.ID
		}
	}
	if hashLabel == "" {
		t.Fatalf("no revoked BSI label on version %d, whose image an exploited critical flaw names", hash.VersionID)
	}
	l, ev, err = inst.Server.Label(ctx, hashLabel)
	if err != nil {
		t.Fatalf("label %s: %v", hashLabel, err)
	}
	if l.Status != assess.Revoked || !strings.Contains(ev[len(ev)-1].Reason, "rule exploited-ignored-revoke") {
		t.Fatalf("the label %s of the image named by hash is %s: %+v", hashLabel, l.Status, ev[len(ev)-1])
	}
	// The Go module advisory's fix is past every version the market
	// carries: every labelled version with the module has the finding.
	all, err := st.WatchFindings(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	goFound := map[int64]bool{}
	var module string
	for _, f := range all {
		if f.AdvisoryID == "CVE-2099-90004" {
			goFound[f.VersionID] = true
			module, _, _ = strings.Cut(f.Component, "@")
		}
	}
	ts, err := st.WatchTargets(ctx)
	if err != nil || module == "" {
		t.Fatalf("no finding of the Go module advisory (%v)", err)
	}
	for _, tg := range ts {
		for _, c := range tg.Components {
			if strings.HasPrefix(c.PURL, module+"@") && !goFound[tg.VersionID] {
				t.Errorf("version %d carries %s but has no finding of the demo's Go advisory", tg.VersionID, c.PURL)
			}
		}
	}
	l, ev, err = inst.Server.Label(ctx, cleared.LabelID)
	if err != nil || l.Status != assess.Active || len(ev) < 3 || ev[len(ev)-1].Action != "restore" || ev[len(ev)-2].Action != "suspend" {
		t.Fatalf("the VEX-cleared label %s is %s: %+v %v", cleared.LabelID, l.Status, ev, err)
	}
}
