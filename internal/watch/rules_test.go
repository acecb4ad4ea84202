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

// A fix from a component's maintainers is not a fix in the product: a rule
// on "upstream fix, none shipped" fires on the common stale-label case and
// stops once the manufacturer ships it.
func TestUpstreamFixIsNotAProductFix(t *testing.T) {
	yes, no, year := true, false, 365
	rules := []scheme.Rule{{ID: "known-fixable-unanswered-suspend", Description: "Long fixable.",
		When: scheme.Condition{DaysSincePublishedMin: &year, UpstreamFix: &yes, FixAvailable: &no, ManufacturerResponse: []string{"none"}},
		Then: []scheme.Action{{Kind: scheme.Notify}, {Kind: scheme.Suspend}}}}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	stale := scheme.Finding{DaysSincePublished: 800, UpstreamFix: true, ManufacturerResponse: "none"}
	if act, p, ok := LabelActions(Evaluate(rules, stale, nil, now)); !ok || act != scheme.Suspend || p.RuleID != "known-fixable-unanswered-suspend" {
		t.Fatalf("a two-year-old flaw fixed upstream and shipped unfixed: %v %+v", act, p)
	}
	for name, f := range map[string]scheme.Finding{
		"shipped":     {DaysSincePublished: 800, UpstreamFix: true, FixAvailable: true, ManufacturerResponse: "fixed"},
		"no upstream": {DaysSincePublished: 800, ManufacturerResponse: "none"},
		"recent":      {DaysSincePublished: 30, UpstreamFix: true, ManufacturerResponse: "none"},
		"answered":    {DaysSincePublished: 800, UpstreamFix: true, ManufacturerResponse: "fix-planned"},
	} {
		if ps := Evaluate(rules, f, nil, now); len(ps) != 0 {
			t.Errorf("%s: %+v", name, ps)
		}
	}
}

// Label-level rules (only the support period) act without a finding, and
// a vulnerability rule never fires on a label's facts alone; revoke beats
// expiry beats suspension.
func TestEvaluateLabel(t *testing.T) {
	yes := true
	rules := []scheme.Rule{
		{ID: "support-ended-expire", Description: "Support ended.", When: scheme.Condition{SupportEnded: &yes}, Then: []scheme.Action{{Kind: scheme.Expire}}},
		{ID: "exploited-notify", Description: "Exploited.", When: scheme.Condition{ActivelyExploited: &yes, SupportEnded: &yes}, Then: []scheme.Action{{Kind: scheme.Revoke}}},
	}
	ps := EvaluateLabel(rules, scheme.Finding{SupportEnded: true})
	if len(ps) != 1 || ps[0].Action != scheme.Expire || ps[0].RuleID != "support-ended-expire" {
		t.Fatalf("support ended: %+v", ps)
	}
	if ps := EvaluateLabel(rules, scheme.Finding{}); len(ps) != 0 {
		t.Fatalf("still supported: %+v", ps)
	}
	for _, c := range []struct {
		in   []scheme.ActionKind
		want scheme.ActionKind
	}{
		{[]scheme.ActionKind{scheme.Suspend, scheme.Expire}, scheme.Expire},
		{[]scheme.ActionKind{scheme.Expire, scheme.Revoke}, scheme.Revoke},
		{[]scheme.ActionKind{scheme.Restore, scheme.Expire}, scheme.Expire},
	} {
		var in []Proposal
		for _, a := range c.in {
			in = append(in, Proposal{Action: a})
		}
		if got, _, _ := LabelActions(in); got != c.want {
			t.Errorf("%v: %v, want %v", c.in, got, c.want)
		}
	}
}
