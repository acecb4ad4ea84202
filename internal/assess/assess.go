// Package assess is the assessment workflow as two small, explicit state
// machines: an application moves from draft to a decision; a label moves
// between active, suspended and its ends. Every transition names who may
// take it; anything else is refused. It knows nothing of HTTP or SQL.
package assess

import (
	"errors"
	"fmt"
	"strings"
)

// State of an application.
type State string

const (
	Draft        State = "draft"
	Submitted    State = "submitted"
	InAssessment State = "in-assessment"
	Assessed     State = "assessed"
	Approved     State = "approved"
	Rejected     State = "rejected"
	Withdrawn    State = "withdrawn"
)

// States lists every application state in workflow order.
var States = []State{Draft, Submitted, InAssessment, Assessed, Approved, Rejected, Withdrawn}

// Actor is the role taking a step.
type Actor string

const (
	ManufacturerActor Actor = "manufacturer"
	AuthorityActor    Actor = "authority-admin"
	AssessorActor     Actor = "assessor"
	SystemActor       Actor = "system" // automatic steps such as expiry
)

// Step is an action on an application.
type Step string

const (
	Submit   Step = "submit"
	Withdraw Step = "withdraw"
	Assign   Step = "assign"
	Complete Step = "complete"
	Return   Step = "return"
	Approve  Step = "approve"
	Reject   Step = "reject"
)

type edge struct {
	from State
	step Step
}

type rule struct {
	to    State
	actor Actor
}

var appMachine = map[edge]rule{
	{Draft, Submit}:          {Submitted, ManufacturerActor},
	{Draft, Withdraw}:        {Withdrawn, ManufacturerActor},
	{Submitted, Withdraw}:    {Withdrawn, ManufacturerActor},
	{Submitted, Assign}:      {InAssessment, AuthorityActor},
	{Submitted, Reject}:      {Rejected, AuthorityActor},
	{InAssessment, Complete}: {Assessed, AssessorActor},
	{InAssessment, Assign}:   {InAssessment, AuthorityActor}, // reassign to another lab
	{Assessed, Return}:       {InAssessment, AuthorityActor},
	{Assessed, Approve}:      {Approved, AuthorityActor},
	{Assessed, Reject}:       {Rejected, AuthorityActor},
}

// ErrIllegal is returned for a step the state machine does not allow.
var ErrIllegal = errors.New("not allowed")

// ErrWrongActor is returned when the step exists but belongs to another
// role: a permission problem rather than a state problem.
var ErrWrongActor = errors.New("not permitted")

// Next returns the state an application moves to when actor takes step
// from state, or an error saying why not in words a user can act on.
func Next(from State, step Step, actor Actor) (State, error) {
	r, ok := appMachine[edge{from, step}]
	if !ok {
		return "", fmt.Errorf("%w: an application that is %s cannot be %s", ErrIllegal, from, pastTense(step))
	}
	if r.actor != actor {
		return "", fmt.Errorf("%w: only the %s can %s an application", ErrWrongActor, r.actor, step)
	}
	return r.to, nil
}

// Allowed lists the steps actor may take from state, for showing buttons.
func Allowed(from State, actor Actor) []Step {
	var out []Step
	for _, s := range []Step{Submit, Withdraw, Assign, Complete, Return, Approve, Reject} {
		if r, ok := appMachine[edge{from, s}]; ok && r.actor == actor {
			out = append(out, s)
		}
	}
	return out
}

func pastTense(s Step) string {
	switch s {
	case Submit:
		return "submitted"
	case Withdraw:
		return "withdrawn"
	case Assign:
		return "assigned"
	case Complete:
		return "completed"
	case Return:
		return "returned"
	case Approve:
		return "approved"
	case Reject:
		return "rejected"
	}
	return string(s)
}

// Verdict is an assessor's finding on one requirement.
type Verdict string

const (
	Pass          Verdict = "pass"
	Fail          Verdict = "fail"
	NotApplicable Verdict = "not-applicable"
)

// Finding is the verdict on one required requirement.
type Finding struct {
	Requirement string  `json:"requirement"`
	Verdict     Verdict `json:"verdict"`
	Rationale   string  `json:"rationale"`
	Evidence    []int64 `json:"evidence,omitempty"`
	Assessor    string  `json:"assessor,omitempty"`
	RecordedAt  string  `json:"recorded_at,omitempty"`
}

// ValidateFinding checks one finding against the requirements the level needs.
func ValidateFinding(f Finding, required map[string]bool) error {
	if !required[f.Requirement] {
		return fmt.Errorf("%s is not required at this level", f.Requirement)
	}
	switch f.Verdict {
	case Pass, Fail, NotApplicable:
	default:
		return fmt.Errorf("%s: the verdict must be pass, fail or not-applicable", f.Requirement)
	}
	if f.Verdict != Pass && strings.TrimSpace(f.Rationale) == "" {
		return fmt.Errorf("%s: explain a %s verdict in the rationale", f.Requirement, f.Verdict)
	}
	if len(f.Rationale) > 4000 {
		return fmt.Errorf("%s: the rationale is longer than 4000 characters", f.Requirement)
	}
	return nil
}

// CheckComplete says whether findings cover every required requirement, as
// an assessor must before completing.
func CheckComplete(findings []Finding, required []string) error {
	have := map[string]bool{}
	for _, f := range findings {
		have[f.Requirement] = true
	}
	var missing []string
	for _, r := range required {
		if !have[r] {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: record a verdict for %d more requirement(s): %s", ErrIllegal, len(missing), strings.Join(missing, ", "))
	}
	return nil
}

// CheckApprovable says whether an assessed application can be approved: an
// authority cannot label a product that failed a required requirement.
func CheckApprovable(findings []Finding) error {
	var failed []string
	for _, f := range findings {
		if f.Verdict == Fail {
			failed = append(failed, f.Requirement)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: the assessment failed %s; reject the application or return it to the assessor", ErrIllegal, strings.Join(failed, ", "))
	}
	return nil
}

// LabelStatus is where a label stands.
type LabelStatus string

const (
	Active      LabelStatus = "active"
	Suspended   LabelStatus = "suspended"
	Revoked     LabelStatus = "revoked"
	Surrendered LabelStatus = "surrendered"
	Expired     LabelStatus = "expired"
)

// LabelAction is a lifecycle operation on a label.
type LabelAction string

const (
	SuspendLabel   LabelAction = "suspend"
	RestoreLabel   LabelAction = "restore"
	RevokeLabel    LabelAction = "revoke"
	SurrenderLabel LabelAction = "surrender"
	ExpireLabel    LabelAction = "expire"
)

var labelMachine = map[LabelStatus]map[LabelAction]struct {
	to     LabelStatus
	actors []Actor
}{
	Active: {
		SuspendLabel:   {Suspended, []Actor{AuthorityActor, SystemActor}},
		RevokeLabel:    {Revoked, []Actor{AuthorityActor, SystemActor}},
		SurrenderLabel: {Surrendered, []Actor{ManufacturerActor}},
		ExpireLabel:    {Expired, []Actor{SystemActor}},
	},
	Suspended: {
		RestoreLabel:   {Active, []Actor{AuthorityActor, SystemActor}},
		RevokeLabel:    {Revoked, []Actor{AuthorityActor, SystemActor}},
		SurrenderLabel: {Surrendered, []Actor{ManufacturerActor}},
		ExpireLabel:    {Expired, []Actor{SystemActor}},
	},
}

// NextLabel returns the status a label moves to, or why it cannot.
// Revoked, surrendered and expired are final.
func NextLabel(from LabelStatus, action LabelAction, actor Actor) (LabelStatus, error) {
	t, ok := labelMachine[from][action]
	if !ok {
		return "", fmt.Errorf("%w: a %s label cannot be %s", ErrIllegal, from, labelPast(action))
	}
	for _, a := range t.actors {
		if a == actor {
			return t.to, nil
		}
	}
	return "", fmt.Errorf("%w: a %s cannot %s a label", ErrWrongActor, actor, action)
}

func labelPast(a LabelAction) string {
	switch a {
	case SuspendLabel:
		return "suspended"
	case RestoreLabel:
		return "restored"
	case RevokeLabel:
		return "revoked"
	case SurrenderLabel:
		return "surrendered"
	case ExpireLabel:
		return "expired"
	}
	return string(a)
}

// LabelActions lists what actor may do to a label in status from.
func LabelActions(from LabelStatus, actor Actor) []LabelAction {
	var out []LabelAction
	for _, a := range []LabelAction{SuspendLabel, RestoreLabel, RevokeLabel, SurrenderLabel} {
		if _, err := NextLabel(from, a, actor); err == nil {
			out = append(out, a)
		}
	}
	return out
}
