package label

import (
	"errors"
	"fmt"
	"time"
)

// Status is the outcome of verifying a label.
type Status string

// Statuses, from the one that wins to the one that loses: a bad signature
// says nothing can be trusted; revocation is final and outranks a
// suspension; either is more urgent for a buyer to learn than a lapse.
const (
	StatusInvalid     Status = "invalid"
	StatusRevoked     Status = "revoked"
	StatusSuspended   Status = "suspended"
	StatusExpired     Status = "expired"
	StatusNotYetValid Status = "not-yet-valid"
	StatusValid       Status = "valid"
)

// Result is what VerifyOffline concluded.
type Result struct {
	Status Status
	// Credential is the verified credential; nil when Status is Invalid.
	Credential *Verified
	// StatusKnown is true when both the revocation and the suspension entry
	// were read from a verified status list. When false a Valid result means
	// only "signed, in its window, and not known to be withdrawn".
	StatusKnown bool
	// StatusAsOf is the oldest snapshot consulted; zero when none was.
	StatusAsOf time.Time
	Reasons    []string // why the status is what it is
	Warnings   []string // what limits the conclusion
	Err        error    // the verification error behind Invalid, Expired or NotYetValid
}

// VerifyOffline verifies a label credential with no network: keys and
// status list snapshots (by status list URL) are whatever the caller has
// cached. A missing or unusable status list does not fail verification,
// because a verifier must be able to work offline; the result is then Valid
// with StatusKnown false and a "status unknown" warning, and the caller
// decides what that means (the CLI exits with its own code).
func VerifyOffline(jws string, keys PublicKeys, lists map[string]*StatusListSnapshot, now time.Time) Result {
	v, err := Verify(jws, keys, now)
	if v == nil {
		return Result{Status: StatusInvalid, Reasons: []string{err.Error()}, Err: err}
	}
	r := Result{Status: StatusValid, Credential: v, Err: err, StatusKnown: true}
	if v.Key.Retired() {
		r.Warnings = append(r.Warnings, fmt.Sprintf("signed with key %s, retired since %s (labels signed before a rotation stay valid)", v.Key.KID, rfc3339(v.Key.RetiredAt)))
	}
	var revoked, suspended bool
	for _, e := range []struct {
		purpose string
		ref     StatusRef
		set     *bool
	}{
		{PurposeRevocation, v.Claims.Revocation, &revoked},
		{PurposeSuspension, v.Claims.Suspension, &suspended},
	} {
		snap := lists[e.ref.ListURL]
		on, problem := readEntry(snap, e.purpose, e.ref, v.Claims.Issuer)
		if problem != "" {
			r.StatusKnown = false
			r.Warnings = append(r.Warnings, "status unknown: "+problem)
			continue
		}
		if r.StatusAsOf.IsZero() || snap.AsOf().Before(r.StatusAsOf) {
			r.StatusAsOf = snap.AsOf()
		}
		if !snap.ValidUntil.IsZero() && !now.Before(snap.ValidUntil) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the %s list fetched %s has since expired (%s): a newer one may say otherwise",
				e.purpose, rfc3339(snap.AsOf()), rfc3339(snap.ValidUntil)))
		}
		if on {
			*e.set = true
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: entry %d of %s is set (as of %s)", map[string]string{
				PurposeRevocation: "revoked", PurposeSuspension: "suspended"}[e.purpose], e.ref.Index, e.ref.ListURL, rfc3339(snap.AsOf())))
		}
	}
	switch {
	case revoked:
		r.Status = StatusRevoked
	case suspended:
		r.Status = StatusSuspended
	case errors.Is(err, ErrExpired):
		r.Status = StatusExpired
	case errors.Is(err, ErrNotYetValid):
		r.Status = StatusNotYetValid
	}
	if err != nil {
		r.Reasons = append(r.Reasons, err.Error())
	}
	if r.Status == StatusValid {
		if r.StatusKnown {
			r.Reasons = append(r.Reasons, "signature good, within its validity window, neither revoked nor suspended")
		} else {
			r.Reasons = append(r.Reasons, "signature good and within its validity window; revocation and suspension could not be checked")
		}
	}
	return r
}

// readEntry reads a label's bit in a snapshot, or says why it cannot: the
// spec's checks that the list is the one the entry names, for the same
// purpose, from the same issuer, and long enough.
func readEntry(snap *StatusListSnapshot, purpose string, ref StatusRef, issuer Issuer) (bool, string) {
	switch {
	case snap == nil || snap.Bits == nil:
		return false, fmt.Sprintf("no %s status list %s", purpose, ref.ListURL)
	case snap.URL != ref.ListURL:
		return false, fmt.Sprintf("the %s status list has id %s, not %s", purpose, snap.URL, ref.ListURL)
	case snap.Purpose != purpose:
		return false, fmt.Sprintf("%s is a %s list, not a %s list", ref.ListURL, snap.Purpose, purpose)
	case snap.Issuer.ID != issuer.ID:
		return false, fmt.Sprintf("%s was issued by %s, not by the label's issuer %s", ref.ListURL, snap.Issuer.ID, issuer.ID)
	}
	on, err := snap.Bits.Get(ref.Index)
	if err != nil {
		return false, fmt.Sprintf("%s: %v", ref.ListURL, err)
	}
	return on, ""
}
