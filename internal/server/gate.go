package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/agreement"
	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// The decision gate: every change of an application's or a label's state —
// an authority's action, a manufacturer's surrender, a lab completing,
// expiry, the post-market rules, the demo loader — goes through Decide.
// It checks the permission, applies the state machine (package assess),
// writes the change and its log outbox row in one transaction, and says
// what happened. The log append follows behind (see tlog.go): a decision is
// acknowledged once it is durable in the database.

// Request asks the gate for one change: an application step (App and Step)
// or a label action (Label and Action).
type Request struct {
	App  int64
	Step assess.Step
	Lab  int64 // Assign: the lab to give the application to

	Label  string
	Action assess.LabelAction

	// Reason is the note of a step or the reason of a label action; label
	// actions, rejections and returns need one. It is shown publicly for
	// label actions and logged as its hash.
	Reason string
	// At back-dates the decision (the demo loader plays a past market);
	// zero means now. Handlers never set it.
	At time.Time

	// Target declares a target on an indicator, Report publishes a
	// transparency report: an organisation's own logged decisions (see
	// targets.go), so neither can be quietly rewritten.
	Target *TargetDeclaration
	Report *ReportRequest
	// Agreement records a mutual-recognition agreement with a peer
	// authority (agreements.go).
	Agreement *AgreementRequest
}

// Outcome is what the gate did with one request.
type Outcome struct {
	State      assess.State       // the application's state after a step
	Status     assess.LabelStatus // the label's status after an action
	Label      registry.Label     // the label an approval issued
	DecisionID int64              // the decision to be logged, 0 when none
	Target     insight.Target     // the target a declaration made
	Report     string             // the report a publication made
	Agreement  agreement.Record   // the agreement a recording made
	Err        error              // why the request was refused; nothing of it was written
}

// labelChunk bounds one transaction of a batch, so no write holds the
// database for long (a login or another authority's decision waits at
// most one chunk).
const labelChunk = 250

// maxReason bounds a reason or note.
const maxReason = 2000

// Decide takes requests on the principal's authority. It returns an error
// only when it could not work at all (the database is down); a refused
// request says why in its Outcome and leaves the others unaffected.
func (s *Server) Decide(ctx context.Context, p Principal, reqs ...Request) ([]Outcome, error) {
	out := make([]Outcome, len(reqs))
	if err := s.DecisionsHeld(); err != nil {
		for i := range out {
			out[i].Err = err // each refused, for callers reading outcomes
		}
		return out, err
	}
	var labelReqs []int
	for i, r := range reqs {
		switch {
		case r.Target != nil || r.Report != nil || r.Agreement != nil:
			if r.Label != "" || r.App != 0 || (r.Target != nil && r.Report != nil) || (r.Agreement != nil && (r.Target != nil || r.Report != nil)) {
				out[i].Err = fmt.Errorf("%w: a declaration is a request of its own", ErrInvalid)
				continue
			}
			decide := s.decideTarget
			switch {
			case r.Report != nil:
				decide = s.decideReport
			case r.Agreement != nil:
				decide = s.decideAgreement
			}
			o, err := decide(ctx, p, r)
			if err != nil && !isRefusal(err) {
				return out, err
			}
			o.Err = err
			out[i] = o
		case r.Label != "" && r.App == 0:
			labelReqs = append(labelReqs, i)
		case r.App != 0 && r.Label == "":
			o, err := s.decideStep(ctx, p, r)
			if err != nil && !isRefusal(err) {
				return out, err
			}
			o.Err = err
			out[i] = o
		default:
			out[i].Err = fmt.Errorf("%w: name either an application or a label", ErrInvalid)
		}
	}
	if len(labelReqs) > 0 {
		if err := s.decideLabels(ctx, p, reqs, labelReqs, out); err != nil {
			return out, err
		}
	}
	s.notifyLog()
	return out, nil
}

// decideOne is Decide for a single request, with its refusal as the error.
func (s *Server) decideOne(ctx context.Context, p Principal, r Request) (Outcome, error) {
	out, err := s.Decide(ctx, p, r)
	if err != nil {
		return Outcome{}, err
	}
	return out[0], out[0].Err
}

// isRefusal tells a refused request (the user's to correct) from a failure.
func isRefusal(err error) bool {
	for _, e := range []error{ErrInvalid, ErrDenied, store.ErrNotFound, store.ErrConflict, assess.ErrIllegal, assess.ErrWrongActor} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// allow is the one permission check of the application layer: the policy
// is auth.Allow's; this only turns its answers into the server's errors.
func allow(p Principal, action string, o auth.Object) error {
	err := auth.Allow(p, action, o)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrHidden):
		return store.ErrNotFound // do not confirm it exists
	default:
		return fmt.Errorf("%w: %v", ErrDenied, strings.TrimPrefix(err.Error(), auth.ErrDenied.Error()+": "))
	}
}

// appObject is an application as the permission check sees it.
func appObject(a registry.Application) auth.Object {
	o := auth.Object{Manufacturer: a.ManufacturerID, Schemes: []string{a.SchemeID}}
	if a.AssessorOrgID != 0 {
		o.Labs = []int64{a.AssessorOrgID}
	}
	return o
}

// labelObject is a label as the permission check sees it.
func labelObject(l registry.Label) auth.Object {
	return auth.Object{Manufacturer: l.ManufacturerID, Schemes: []string{l.SchemeID}, Published: true}
}

// stepActions is the permission each workflow step needs.
var stepActions = map[assess.Step]string{
	assess.Submit:   auth.ActionApplicationSubmit,
	assess.Withdraw: auth.ActionApplicationSubmit,
	assess.Assign:   auth.ActionApplicationAssign,
	assess.Complete: auth.ActionApplicationComplete,
	assess.Return:   auth.ActionApplicationDecide,
	assess.Approve:  auth.ActionApplicationDecide,
	assess.Reject:   auth.ActionApplicationDecide,
}

// labelActions is the permission and the logged decision kind of each
// label action: the one place that links the state machine's actions to
// the log's kinds.
var labelActions = map[assess.LabelAction]struct{ perm, kind string }{
	assess.SuspendLabel:   {auth.ActionLabelSuspend, tlog.KindLabelSuspended},
	assess.RestoreLabel:   {auth.ActionLabelRestore, tlog.KindLabelRestored},
	assess.RevokeLabel:    {auth.ActionLabelRevoke, tlog.KindLabelRevoked},
	assess.SurrenderLabel: {auth.ActionLabelSurrender, tlog.KindLabelSurrendered},
	assess.ExpireLabel:    {auth.ActionLabelExpire, tlog.KindLabelExpired},
}

// Responses to a finding, and who gives them.
var findingResponses = map[string]string{
	"acknowledged": auth.ActionFindingRespond, // the manufacturer is on it
	"fix-planned":  auth.ActionFindingRespond,
	"disputed":     auth.ActionFindingRespond, // "this is not our product"
	"confirmed":    auth.ActionFindingReview,  // the authority: the match is right
	"rejected":     auth.ActionFindingReview,  // the authority: the match is wrong
}

func (s *Server) at(r Request) time.Time {
	if !r.At.IsZero() {
		return r.At
	}
	return s.now()
}

// decideStep takes one workflow step on an application.
func (s *Server) decideStep(ctx context.Context, p Principal, r Request) (Outcome, error) {
	perm, ok := stepActions[r.Step]
	if !ok {
		return Outcome{}, fmt.Errorf("%w: unknown step %q", ErrInvalid, r.Step)
	}
	a, err := s.store.Application(ctx, r.App)
	if err != nil {
		return Outcome{}, err
	}
	// Seeing the application at all comes first: an outsider learns nothing.
	if err := allow(p, auth.ActionApplicationRead, appObject(a)); err != nil {
		return Outcome{}, err
	}
	if err := allow(p, perm, appObject(a)); err != nil {
		return Outcome{}, err
	}
	to, err := assess.Next(a.State, r.Step, actorOf(p))
	if errors.Is(err, assess.ErrWrongActor) {
		return Outcome{}, fmt.Errorf("%w: %v", ErrDenied, err)
	}
	if err != nil {
		return Outcome{}, err
	}
	note := strings.TrimSpace(r.Reason)
	if len(note) > maxReason {
		return Outcome{}, fmt.Errorf("%w: the note is longer than %d characters", ErrInvalid, maxReason)
	}
	if err := checkText("note", note, input.Text); err != nil {
		return Outcome{}, err
	}
	c := store.AppChange{AppID: a.ID, From: a.State, To: to, Step: r.Step, Note: note, UserID: p.UserID, OrgID: p.OrgID, At: s.at(r)}
	switch r.Step {
	case assess.Assign:
		// Only the authority's assignment names a lab.
		lab, err := s.store.Organisation(ctx, r.Lab)
		if err != nil || lab.Kind != registry.AssessorLab {
			return Outcome{}, fmt.Errorf("%w: choose an assessor lab", ErrInvalid)
		}
		c.Lab = lab.ID
	case assess.Reject, assess.Return:
		if note == "" {
			return Outcome{}, fmt.Errorf("%w: give the reasons", ErrInvalid)
		}
	case assess.Complete:
		needs, err := s.Needs(ctx, a)
		if err != nil {
			return Outcome{}, err
		}
		findings, err := s.store.Findings(ctx, a.ID)
		if err != nil {
			return Outcome{}, err
		}
		if err := assess.CheckComplete(findings, needIDs(needs)); err != nil {
			return Outcome{}, err
		}
	case assess.Approve:
		findings, err := s.store.Findings(ctx, a.ID)
		if err != nil {
			return Outcome{}, err
		}
		if err := assess.CheckApprovable(findings); err != nil {
			return Outcome{}, err
		}
		if err := s.checkEvidence(ctx, a); err != nil {
			return Outcome{}, err
		}
		l, id, err := s.issueLabel(ctx, c, a)
		if err != nil {
			return Outcome{}, err
		}
		s.labelsChanged(Changed{Label: l.ID, New: true})
		return Outcome{State: to, Status: l.Status, Label: l, DecisionID: id}, nil
	}
	if err := s.store.WriteAppChange(ctx, c); err != nil {
		return Outcome{}, err
	}
	return Outcome{State: to}, nil
}

// decideLabels applies label actions in chunks: the labels are read in one
// query, each request checked on its own, the accepted ones written a chunk
// per transaction, and everything derived from label statuses (status
// lists, cached pages) recomputed once for the whole batch.
func (s *Server) decideLabels(ctx context.Context, p Principal, reqs []Request, idx []int, out []Outcome) error {
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = reqs[i].Label
	}
	found, err := s.store.LabelsByID(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]registry.Label, len(found))
	for _, l := range found {
		byID[l.ID] = l
	}
	var changes []store.LabelChange
	var at []int // the request index of each change
	seen := make(map[string]bool, len(idx))
	for _, i := range idx {
		r := reqs[i]
		l, ok := byID[r.Label]
		if !ok {
			out[i].Err = store.ErrNotFound
			continue
		}
		if seen[r.Label] {
			out[i].Err = fmt.Errorf("%w: label %s is named twice in one batch", ErrInvalid, r.Label)
			continue
		}
		seen[r.Label] = true
		c, err := labelChange(p, l, r, s.at(r))
		if err != nil {
			out[i].Err = err
			continue
		}
		changes, at = append(changes, c), append(at, i)
	}
	var changed []Changed
	for start := 0; start < len(changes); start += labelChunk {
		end := min(start+labelChunk, len(changes))
		decisionIDs, skipped, err := s.store.WriteLabelChanges(ctx, changes[start:end])
		if err != nil {
			if len(changed) > 0 {
				s.labelsChanged(changed...)
			}
			return err
		}
		for k := range decisionIDs {
			i := at[start+k]
			if skipped[k] != nil {
				out[i].Err = skipped[k]
				continue
			}
			out[i].Status, out[i].DecisionID = changes[start+k].To, decisionIDs[k]
			changed = append(changed, Changed{Label: reqs[i].Label})
		}
	}
	if len(changed) > 0 {
		s.labelsChanged(changed...)
	}
	return nil
}

// labelChange decides one label action: permission, reason, state machine,
// and the decision to log.
func labelChange(p Principal, l registry.Label, r Request, at time.Time) (store.LabelChange, error) {
	act, ok := labelActions[r.Action]
	if !ok {
		return store.LabelChange{}, fmt.Errorf("%w: unknown action %q", ErrInvalid, r.Action)
	}
	if err := allow(p, act.perm, labelObject(l)); err != nil {
		return store.LabelChange{}, err
	}
	reason := strings.TrimSpace(r.Reason)
	if reason == "" || len(reason) > maxReason {
		return store.LabelChange{}, fmt.Errorf("%w: give a reason (at most %d characters); it is shown on the label's public page", ErrInvalid, maxReason)
	}
	if err := checkText("reason", reason, input.Text); err != nil {
		return store.LabelChange{}, err
	}
	to, err := assess.NextLabel(l.Status, r.Action, actorOf(p))
	if errors.Is(err, assess.ErrWrongActor) {
		return store.LabelChange{}, fmt.Errorf("%w: %v", ErrDenied, err)
	}
	if err != nil {
		return store.LabelChange{}, err
	}
	return store.LabelChange{LabelID: l.ID, From: l.Status, To: to, Action: r.Action, Reason: reason, UserID: p.UserID, OrgID: p.OrgID,
		Decision: registry.Decision{Kind: act.kind, Subject: l.ID, Digest: l.CredentialHash, Status: string(to), StatusIndex: l.StatusIndex,
			ReasonHash: tlog.ReasonHash(reason), At: at}}, nil
}

// actorOf maps a principal to the workflow actor it plays.
func actorOf(p Principal) assess.Actor {
	if p.IsSystem() {
		return assess.SystemActor
	}
	switch p.Role {
	case auth.RoleManufacturer:
		return assess.ManufacturerActor
	case auth.RoleAuthorityAdmin:
		return assess.AuthorityActor
	case auth.RoleAssessor:
		return assess.AssessorActor
	}
	return ""
}
