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
// one was suspended and then lifted by its maker's VEX; a product named
// only in words waits for review; a Go module found by package carries
// "fixed in".
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
	var exact, cleared *store.FindingRow
	for i, f := range fs {
		bases[f.Basis]++
		states[f.State]++
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
	for _, b := range []string{"cpe-exact", "model-number", "sku", "name-fuzzy", "purl-exact"} {
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
	l, ev, err = inst.Server.Label(ctx, cleared.LabelID)
	if err != nil || l.Status != assess.Active || len(ev) < 3 || ev[len(ev)-1].Action != "restore" || ev[len(ev)-2].Action != "suspend" {
		t.Fatalf("the VEX-cleared label %s is %s: %+v %v", cleared.LabelID, l.Status, ev, err)
	}
}
