package watch

import (
	"fmt"
	"time"

	"github.com/hallmark-iot/hallmark/internal/scheme"
)

// Proposal is what a scheme's post-market rules ask for, given one finding
// against one labelled product version. The application layer turns label
// actions into decisions through the decision gate; this package only
// proposes.
type Proposal struct {
	Action   scheme.ActionKind
	RuleID   string
	Deadline time.Time // Deadline: when the remediation clock runs out
	Reason   string    // in plain words, for the label page and the log
}

// Evaluate runs a scheme's rules over one finding. clocks holds the
// remediation clocks already opened for this finding, by rule id. A rule's
// actions are taken in order; a deadline action opens a clock (proposed as
// a Deadline) and holds back the actions after it until the clock has run
// out, so "notify, deadline 30 days, suspend" notifies now and suspends 30
// days later if the rule still holds then.
func Evaluate(rules []scheme.Rule, f scheme.Finding, clocks map[string]time.Time, now time.Time) []Proposal {
	var out []Proposal
	for _, r := range rules {
		if !r.When.Matches(f) {
			continue
		}
	actions:
		for _, a := range r.Then {
			switch a.Kind {
			case scheme.Deadline:
				due, open := clocks[r.ID]
				if !open {
					due = now.AddDate(0, 0, a.Days)
					out = append(out, Proposal{Action: scheme.Deadline, RuleID: r.ID, Deadline: due,
						Reason: fmt.Sprintf("%s The manufacturer has until %s to ship a fix.", r.Description, due.Format("2 January 2006"))})
				}
				if now.Before(due) {
					break actions // the clock is running: later actions wait
				}
			default:
				out = append(out, Proposal{Action: a.Kind, RuleID: r.ID, Reason: r.Description})
			}
		}
	}
	return out
}

// EvaluateLabel runs the rules that are about the label rather than a
// vulnerability (those whose only condition is the support period) over
// the label's facts: "support ended: expire" holds whether or not the
// version has findings.
func EvaluateLabel(rules []scheme.Rule, f scheme.Finding) []Proposal {
	var out []Proposal
	for _, r := range rules {
		if !r.When.LabelLevel() || !r.When.Matches(f) {
			continue
		}
		for _, a := range r.Then {
			if a.Kind != scheme.Deadline {
				out = append(out, Proposal{Action: a.Kind, RuleID: r.ID, Reason: r.Description})
			}
		}
	}
	return out
}

// LabelActions reduces the proposals for all findings of one label to what
// should happen to the label now: revoke beats expiry beats suspension beats
// restoration, and a
// restore only stands when nothing asks to suspend or revoke (one unfixed
// flaw keeps a label suspended whatever is fixed beside it). The reason of
// the winning proposal is kept.
func LabelActions(ps []Proposal) (scheme.ActionKind, Proposal, bool) {
	rank := map[scheme.ActionKind]int{scheme.Restore: 1, scheme.Suspend: 2, scheme.Expire: 3, scheme.Revoke: 4}
	var best Proposal
	for _, p := range ps {
		if rank[p.Action] > rank[best.Action] {
			best = p
		}
	}
	if best.Action == "" {
		return "", Proposal{}, false
	}
	return best.Action, best, true
}
