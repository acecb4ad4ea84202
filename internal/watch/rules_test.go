package watch

import (
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/scheme"
)

func TestEvaluateClock(t *testing.T) {
	yes, no := true, false
	rules := []scheme.Rule{
		{ID: "exploited-unfixed-suspend", Description: "Exploited and unfixed.",
			When: scheme.Condition{Severity: []string{"high", "critical"}, ActivelyExploited: &yes, FixAvailable: &no},
			Then: []scheme.Action{{Kind: scheme.Notify}, {Kind: scheme.Deadline, Days: 30}, {Kind: scheme.Suspend}}},
		{ID: "fixed-restore", Description: "Fixed.",
			When: scheme.Condition{FixAvailable: &yes, ManufacturerResponse: []string{"fixed"}},
			Then: []scheme.Action{{Kind: scheme.Restore}}},
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f := scheme.Finding{Severity: "critical", ActivelyExploited: true, ManufacturerResponse: "none"}

	// First sight: notify and open a 30-day clock; no suspension yet.
	ps := Evaluate(rules, f, nil, now)
	if len(ps) != 2 || ps[0].Action != scheme.Notify || ps[1].Action != scheme.Deadline || !ps[1].Deadline.Equal(now.AddDate(0, 0, 30)) {
		t.Fatalf("first evaluation: %+v", ps)
	}
	if _, _, ok := LabelActions(ps); ok {
		t.Fatal("a label action before the clock ran out")
	}
	clocks := map[string]time.Time{"exploited-unfixed-suspend": ps[1].Deadline}
	// Day 29: still waiting.
	if ps := Evaluate(rules, f, clocks, now.AddDate(0, 0, 29)); len(ps) != 1 || ps[0].Action != scheme.Notify {
		t.Fatalf("day 29: %+v", ps)
	}
	// Day 30: suspend.
	act, p, ok := LabelActions(Evaluate(rules, f, clocks, now.AddDate(0, 0, 30)))
	if !ok || act != scheme.Suspend || p.RuleID != "exploited-unfixed-suspend" {
		t.Fatalf("day 30: %v %+v", act, p)
	}
	// A non-matching finding proposes nothing.
	if ps := Evaluate(rules, scheme.Finding{Severity: "low"}, nil, now); len(ps) != 0 {
		t.Fatalf("low severity: %+v", ps)
	}
	// The fix: restore, unless another finding still asks to suspend.
	fixed := scheme.Finding{Severity: "critical", FixAvailable: true, ManufacturerResponse: "fixed"}
	if act, _, _ := LabelActions(Evaluate(rules, fixed, clocks, now)); act != scheme.Restore {
		t.Fatalf("fixed: %v", act)
	}
	both := append(Evaluate(rules, fixed, clocks, now.AddDate(0, 0, 31)), Evaluate(rules, f, clocks, now.AddDate(0, 0, 31))...)
	if act, _, _ := LabelActions(both); act != scheme.Suspend {
		t.Fatalf("one fixed, one exploited and overdue: %v, want suspend", act)
	}
}
