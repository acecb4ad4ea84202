package scheme

import (
	"fmt"
	"slices"
	"strings"
)

// Rule is a declarative post-market rule: when every condition holds for a
// finding against a labelled product, the actions follow, in order.
type Rule struct {
	ID          string    `yaml:"id" json:"id"`
	Description string    `yaml:"description" json:"description"`
	When        Condition `yaml:"when" json:"when"`
	Then        []Action  `yaml:"then" json:"then"`
}

// Condition tests a finding and the product's declared facts. Unset fields
// do not constrain.
type Condition struct {
	Severity              []string `yaml:"severity,omitempty" json:"severity,omitempty"`
	CVSSMin               *float64 `yaml:"cvss_min,omitempty" json:"cvss_min,omitempty"`
	ActivelyExploited     *bool    `yaml:"actively_exploited,omitempty" json:"actively_exploited,omitempty"`
	DaysSincePublishedMin *int     `yaml:"days_since_published_min,omitempty" json:"days_since_published_min,omitempty"`
	FixAvailable          *bool    `yaml:"fix_available,omitempty" json:"fix_available,omitempty"`
	UpstreamFix           *bool    `yaml:"upstream_fix,omitempty" json:"upstream_fix,omitempty"`
	ManufacturerResponse  []string `yaml:"manufacturer_response,omitempty" json:"manufacturer_response,omitempty"`
	SupportEnded          *bool    `yaml:"support_ended,omitempty" json:"support_ended,omitempty"`
}

// ActionKind is what a rule does.
type ActionKind string

const (
	Notify   ActionKind = "notify"
	Deadline ActionKind = "deadline"
	Suspend  ActionKind = "suspend"
	Restore  ActionKind = "restore"
	Revoke   ActionKind = "revoke"
	Expire   ActionKind = "expire"
)

var actionKinds = []ActionKind{Notify, Deadline, Suspend, Restore, Revoke, Expire}

// Action is one step a rule takes.
type Action struct {
	Kind ActionKind `yaml:"action" json:"action"`
	Days int        `yaml:"days,omitempty" json:"days,omitempty"`
}

// Severities, from least to most severe, with their CVSS v3/v4 bands.
var Severities = []string{"low", "medium", "high", "critical"}

var severityBand = map[string][2]float64{
	"low": {0.1, 3.9}, "medium": {4.0, 6.9}, "high": {7.0, 8.9}, "critical": {9.0, 10.0},
}

// Responses a manufacturer can give to a finding.
var Responses = []string{"none", "acknowledged", "fix-planned", "fixed", "disputed", "not-affected"}

// Finding is what the post-market watch knows about one vulnerability
// affecting one labelled product version.
//
// FixAvailable and UpstreamFix are kept apart on purpose: a fix published by
// a component's maintainers (UpstreamFix) protects no one until the
// manufacturer ships it in the product (FixAvailable). The common case a
// scheme must catch, a long-fixed library flaw still shipped in a labelled
// product, is "upstream fix, no fix available".
type Finding struct {
	Severity           string
	CVSS               float64
	ActivelyExploited  bool
	DaysSincePublished int
	// FixAvailable: the manufacturer has made a fixed version of this
	// product available (a fixed version registered, a VEX "fixed", or the
	// manufacturer's answer "fixed").
	FixAvailable bool
	// UpstreamFix: the advisory names a fixed version of the component.
	UpstreamFix          bool
	ManufacturerResponse string
	SupportEnded         bool
}

// Matches reports whether every condition of the rule holds for f.
func (c Condition) Matches(f Finding) bool {
	if len(c.Severity) > 0 && !slices.Contains(c.Severity, f.Severity) {
		return false
	}
	if c.CVSSMin != nil && f.CVSS < *c.CVSSMin {
		return false
	}
	if c.ActivelyExploited != nil && *c.ActivelyExploited != f.ActivelyExploited {
		return false
	}
	if c.DaysSincePublishedMin != nil && f.DaysSincePublished < *c.DaysSincePublishedMin {
		return false
	}
	if c.FixAvailable != nil && *c.FixAvailable != f.FixAvailable {
		return false
	}
	if c.UpstreamFix != nil && *c.UpstreamFix != f.UpstreamFix {
		return false
	}
	if len(c.ManufacturerResponse) > 0 && !slices.Contains(c.ManufacturerResponse, f.ManufacturerResponse) {
		return false
	}
	if c.SupportEnded != nil && *c.SupportEnded != f.SupportEnded {
		return false
	}
	return true
}

// LabelLevel reports whether the condition is about the labelled product
// alone (its support period), not about a vulnerability.
func (c Condition) LabelLevel() bool {
	return c.SupportEnded != nil && len(c.Severity) == 0 && c.CVSSMin == nil && c.ActivelyExploited == nil &&
		c.DaysSincePublishedMin == nil && c.FixAvailable == nil && c.UpstreamFix == nil && len(c.ManufacturerResponse) == 0
}

// empty reports whether the condition constrains nothing.
func (c Condition) empty() bool {
	return len(c.Severity) == 0 && c.CVSSMin == nil && c.ActivelyExploited == nil && c.DaysSincePublishedMin == nil &&
		c.FixAvailable == nil && c.UpstreamFix == nil && len(c.ManufacturerResponse) == 0 && c.SupportEnded == nil
}

// Problems returns every reason the rule cannot work as written, as the
// scheme validator reports them (nil when it can): a proposed rule is
// checked the same way before it is replayed.
func (r Rule) Problems() []string { return r.validate() }

// validate returns every reason the rule cannot work as written.
func (r Rule) validate() []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !validRuleID(r.ID) {
		bad("rule id %q: use lowercase letters, digits and dashes", r.ID)
	}
	if strings.TrimSpace(r.Description) == "" {
		bad("rule %s: describe what it does in a sentence", r.ID)
	}
	c := r.When
	if c.empty() {
		bad("rule %s: give at least one condition; a rule with none would fire on every finding", r.ID)
	}
	lo, hi := 10.0, 0.0
	for _, s := range c.Severity {
		band, ok := severityBand[s]
		if !ok {
			bad("rule %s: severity %q is not one of %s", r.ID, s, strings.Join(Severities, ", "))
			continue
		}
		lo, hi = min(lo, band[0]), max(hi, band[1])
	}
	if c.CVSSMin != nil {
		if *c.CVSSMin < 0 || *c.CVSSMin > 10 {
			bad("rule %s: cvss_min %.1f is outside 0-10", r.ID, *c.CVSSMin)
		} else if len(c.Severity) > 0 && *c.CVSSMin > hi {
			bad("rule %s: cvss_min %.1f can never match severities %s (their scores are at most %.1f)", r.ID, *c.CVSSMin, strings.Join(c.Severity, ", "), hi)
		}
	}
	if c.DaysSincePublishedMin != nil && *c.DaysSincePublishedMin < 0 {
		bad("rule %s: days_since_published_min cannot be negative", r.ID)
	}
	for _, m := range c.ManufacturerResponse {
		if !slices.Contains(Responses, m) {
			bad("rule %s: manufacturer_response %q is not one of %s", r.ID, m, strings.Join(Responses, ", "))
		}
	}
	if len(r.Then) == 0 {
		bad("rule %s: give at least one action", r.ID)
	}
	has := map[ActionKind]bool{}
	for _, a := range r.Then {
		if !slices.Contains(actionKinds, a.Kind) {
			bad("rule %s: action %q is not one of notify, deadline, suspend, restore, revoke, expire", r.ID, a.Kind)
			continue
		}
		if a.Kind == Deadline && a.Days <= 0 {
			bad("rule %s: a deadline needs days greater than 0", r.ID)
		}
		if a.Kind != Deadline && a.Days != 0 {
			bad("rule %s: only a deadline takes days, not %s", r.ID, a.Kind)
		}
		if has[a.Kind] {
			bad("rule %s: action %s is listed twice", r.ID, a.Kind)
		}
		has[a.Kind] = true
	}
	if has[Restore] && (has[Suspend] || has[Revoke] || has[Expire]) {
		bad("rule %s: a rule cannot both restore a label and suspend, revoke or expire it", r.ID)
	}
	if has[Restore] && !remediated(c) {
		bad("rule %s: a restore rule must require a remedy (fix_available: true, or manufacturer_response of only fixed or not-affected)", r.ID)
	}
	if has[Expire] && (c.SupportEnded == nil || !*c.SupportEnded) {
		bad("rule %s: an expire rule must require support_ended: true", r.ID)
	}
	if has[Suspend] && remediated(c) {
		bad("rule %s: suspends a label when the problem is already remedied", r.ID)
	}
	return errs
}

func remediated(c Condition) bool {
	if c.FixAvailable != nil && *c.FixAvailable {
		return true
	}
	if len(c.ManufacturerResponse) == 0 {
		return false
	}
	for _, m := range c.ManufacturerResponse {
		if m != "fixed" && m != "not-affected" {
			return false
		}
	}
	return true
}

func validRuleID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Describe says the condition in plain words.
func (c Condition) Describe() string {
	var parts []string
	if len(c.Severity) > 0 {
		parts = append(parts, "the vulnerability is rated "+strings.Join(c.Severity, " or "))
	}
	if c.CVSSMin != nil {
		parts = append(parts, fmt.Sprintf("its CVSS score is at least %.1f", *c.CVSSMin))
	}
	if c.ActivelyExploited != nil {
		if *c.ActivelyExploited {
			parts = append(parts, "it is being exploited by attackers")
		} else {
			parts = append(parts, "it is not known to be exploited")
		}
	}
	if c.DaysSincePublishedMin != nil {
		parts = append(parts, fmt.Sprintf("it was published at least %d days ago", *c.DaysSincePublishedMin))
	}
	if c.FixAvailable != nil {
		if *c.FixAvailable {
			parts = append(parts, "the manufacturer has shipped a fix")
		} else {
			parts = append(parts, "the manufacturer has not shipped a fix")
		}
	}
	if c.UpstreamFix != nil {
		if *c.UpstreamFix {
			parts = append(parts, "the component's maintainers have published a fix")
		} else {
			parts = append(parts, "the component's maintainers have published no fix")
		}
	}
	if len(c.ManufacturerResponse) > 0 {
		parts = append(parts, "the manufacturer's response is "+strings.Join(c.ManufacturerResponse, " or "))
	}
	if c.SupportEnded != nil {
		if *c.SupportEnded {
			parts = append(parts, "the product's support period has ended")
		} else {
			parts = append(parts, "the product is still supported")
		}
	}
	return strings.Join(parts, ", and ")
}

// Describe says the action in plain words.
func (a Action) Describe() string {
	switch a.Kind {
	case Notify:
		return "notify the manufacturer and the authority"
	case Deadline:
		return fmt.Sprintf("give the manufacturer %d days to fix it", a.Days)
	case Suspend:
		return "suspend the label"
	case Restore:
		return "restore the label"
	case Revoke:
		return "revoke the label"
	case Expire:
		return "end the label's validity"
	}
	return string(a.Kind)
}
