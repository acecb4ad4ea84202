package assess_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/assess"
)

// Every (state, step, actor) combination: exactly the listed transitions
// are legal, everything else is refused with ErrIllegal.
func TestApplicationMachine(t *testing.T) {
	legal := map[string]assess.State{
		"draft/submit/manufacturer":            assess.Submitted,
		"draft/withdraw/manufacturer":          assess.Withdrawn,
		"submitted/withdraw/manufacturer":      assess.Withdrawn,
		"submitted/assign/authority-admin":     assess.InAssessment,
		"submitted/reject/authority-admin":     assess.Rejected,
		"in-assessment/complete/assessor":      assess.Assessed,
		"in-assessment/assign/authority-admin": assess.InAssessment,
		"assessed/return/authority-admin":      assess.InAssessment,
		"assessed/approve/authority-admin":     assess.Approved,
		"assessed/reject/authority-admin":      assess.Rejected,
	}
	steps := []assess.Step{assess.Submit, assess.Withdraw, assess.Assign, assess.Complete, assess.Return, assess.Approve, assess.Reject}
	actors := []assess.Actor{assess.ManufacturerActor, assess.AuthorityActor, assess.AssessorActor, assess.SystemActor}
	seen := 0
	for _, s := range assess.States {
		for _, step := range steps {
			for _, a := range actors {
				key := fmt.Sprintf("%s/%s/%s", s, step, a)
				got, err := assess.Next(s, step, a)
				want, ok := legal[key]
				switch {
				case ok && (err != nil || got != want):
					t.Errorf("%s: got %q, %v; want %q", key, got, err, want)
				case !ok && !errors.Is(err, assess.ErrIllegal) && !errors.Is(err, assess.ErrWrongActor):
					t.Errorf("%s: allowed (to %q), want refused", key, got)
				case ok:
					seen++
				}
			}
		}
	}
	if seen != len(legal) {
		t.Errorf("checked %d legal transitions, table has %d", seen, len(legal))
	}
	// Final states allow nothing.
	for _, s := range []assess.State{assess.Approved, assess.Rejected, assess.Withdrawn} {
		for _, a := range actors {
			if got := assess.Allowed(s, a); len(got) != 0 {
				t.Errorf("%s allows %v to %s", s, got, a)
			}
		}
	}
}

func TestLabelMachine(t *testing.T) {
	legal := map[string]assess.LabelStatus{
		"active/suspend/authority-admin":    assess.Suspended,
		"active/suspend/system":             assess.Suspended,
		"active/revoke/authority-admin":     assess.Revoked,
		"active/revoke/system":              assess.Revoked,
		"active/surrender/manufacturer":     assess.Surrendered,
		"active/expire/system":              assess.Expired,
		"suspended/restore/authority-admin": assess.Active,
		"suspended/restore/system":          assess.Active,
		"suspended/revoke/authority-admin":  assess.Revoked,
		"suspended/revoke/system":           assess.Revoked,
		"suspended/surrender/manufacturer":  assess.Surrendered,
		"suspended/expire/system":           assess.Expired,
	}
	statuses := []assess.LabelStatus{assess.Active, assess.Suspended, assess.Revoked, assess.Surrendered, assess.Expired}
	actions := []assess.LabelAction{assess.SuspendLabel, assess.RestoreLabel, assess.RevokeLabel, assess.SurrenderLabel, assess.ExpireLabel}
	actors := []assess.Actor{assess.ManufacturerActor, assess.AuthorityActor, assess.AssessorActor, assess.SystemActor}
	for _, s := range statuses {
		for _, act := range actions {
			for _, a := range actors {
				key := fmt.Sprintf("%s/%s/%s", s, act, a)
				got, err := assess.NextLabel(s, act, a)
				want, ok := legal[key]
				if ok && (err != nil || got != want) || !ok && !errors.Is(err, assess.ErrIllegal) && !errors.Is(err, assess.ErrWrongActor) {
					t.Errorf("%s: got %q, %v; legal=%v want %q", key, got, err, ok, want)
				}
			}
		}
	}
}

func TestFindings(t *testing.T) {
	req := map[string]bool{"HM-AUTH-1": true, "HM-UPD-2": true}
	for _, tc := range []struct {
		f  assess.Finding
		ok bool
	}{
		{assess.Finding{Requirement: "HM-AUTH-1", Verdict: assess.Pass}, true},
		{assess.Finding{Requirement: "HM-AUTH-1", Verdict: assess.Fail}, false},
		{assess.Finding{Requirement: "HM-AUTH-1", Verdict: assess.Fail, Rationale: "shared password in firmware"}, true},
		{assess.Finding{Requirement: "HM-AUTH-1", Verdict: assess.NotApplicable}, false},
		{assess.Finding{Requirement: "HM-SBOM-1", Verdict: assess.Pass}, false},
		{assess.Finding{Requirement: "HM-AUTH-1", Verdict: "maybe"}, false},
	} {
		if err := assess.ValidateFinding(tc.f, req); (err == nil) != tc.ok {
			t.Errorf("%+v: err=%v, want ok=%v", tc.f, err, tc.ok)
		}
	}
	fs := []assess.Finding{{Requirement: "HM-AUTH-1", Verdict: assess.Pass}}
	if err := assess.CheckComplete(fs, []string{"HM-AUTH-1", "HM-UPD-2"}); err == nil {
		t.Error("completion with a requirement unassessed")
	}
	fs = append(fs, assess.Finding{Requirement: "HM-UPD-2", Verdict: assess.Fail, Rationale: "no signature check"})
	if err := assess.CheckComplete(fs, []string{"HM-AUTH-1", "HM-UPD-2"}); err != nil {
		t.Error(err)
	}
	if err := assess.CheckApprovable(fs); err == nil {
		t.Error("approval despite a failed requirement")
	}
}
