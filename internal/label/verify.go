package label

import (
	"errors"
	"fmt"
	"time"
)

// Status is the outcome of verifying a label.
type Status string

// Statuses, from the one that wins to the one that loses: a bad signature
// says nothing can be trusted; revocation and surrender are final and
// outrank a suspension; either is more urgent for a buyer to learn than a
// lapse.
const (
	StatusInvalid     Status = "invalid"
	StatusRevoked     Status = "revoked"
	StatusSurrendered Status = "surrendered"
	StatusSuspended   Status = "suspended"
	StatusExpired     Status = "expired"
	StatusNotYetValid Status = "not-yet-valid"
	StatusValid       Status = "valid"
)

// DefaultStatusMaxAge is how old a status list that sets no validUntil may
// be. Hallmark's own lists always set one (a day); without it nothing would
// bound how long a withdrawn label could be shown as good.
const DefaultStatusMaxAge = 24 * time.Hour

// Result is what VerifyOffline concluded.
type Result struct {
	Status Status
	// Credential is the verified credential; nil when Status is Invalid.
	Credential *Verified
	// StatusKnown is true when both the revocation and the suspension entry
	// were read from a verified status list fresh enough for the Policy.
	// When false a Valid result means only "signed, in its window, and not
	// known to be withdrawn", which no caller should present as valid.
	StatusKnown bool
	// StatusAsOf is the oldest snapshot consulted, stale ones included (so
	// that an unknown status can say when it was last known); zero when
	// none was.
	StatusAsOf time.Time
	Reasons    []string // why the status is what it is
	Warnings   []string // what limits the conclusion
	Err        error    // the verification error behind Invalid, Expired or NotYetValid
}

// Policy is what a verifier demands of a label's status beyond the spec.
type Policy struct {
	// MaxStatusAge is the oldest status accepted: now minus the time the
	// list was fetched. Zero accepts a list for as long as its own validity
	// window (validUntil minus validFrom), or DefaultStatusMaxAge if it has
	// none. A list past its validUntil is never read, whatever the age: the
	// policy can demand fresher status than the issuer promises, not staler.
	MaxStatusAge time.Duration
}

// VerifyOffline is Policy{}.VerifyOffline.
func VerifyOffline(jws string, keys PublicKeys, lists map[string]*StatusListSnapshot, now time.Time) Result {
	return Policy{}.VerifyOffline(jws, keys, lists, now)
}

// VerifyOffline verifies a label credential with no network: keys and
// status list snapshots (by status list URL) are whatever the caller has
// cached. A missing, unusable or stale status list does not fail
// verification, because a verifier must be able to work offline; the
// result is then Valid with StatusKnown false and a "status unknown"
// warning, and the caller must not present that as valid (the CLI exits
// with its own code).
//
// A set revocation bit means revoked or surrendered: both set it, so that a
// generic verifier fails closed. The message list tells them apart; when it
// cannot be read the label is reported revoked, which is no less final.
func (p Policy) VerifyOffline(jws string, keys PublicKeys, lists map[string]*StatusListSnapshot, now time.Time) Result {
	v, err := Verify(jws, keys, now)
	if v == nil {
		return Result{Status: StatusInvalid, Reasons: []string{err.Error()}, Err: err}
	}
	r := Result{Status: StatusValid, Credential: v, Err: err, StatusKnown: true}
	if v.Key.Retired() {
		r.Warnings = append(r.Warnings, fmt.Sprintf("signed with key %s, retired since %s (labels signed before a rotation stay valid)", v.Key.KID, rfc3339(v.Key.RetiredAt)))
	}
	// snapshot returns the usable list for ref, or why there is none, and
	// keeps StatusAsOf.
	snapshot := func(purpose string, ref StatusRef) (*StatusListSnapshot, string) {
		snap := lists[ref.ListURL]
		if problem := checkSnapshot(snap, purpose, ref, v.Claims.Issuer); problem != "" {
			return nil, problem
		}
		if r.StatusAsOf.IsZero() || snap.AsOf().Before(r.StatusAsOf) {
			r.StatusAsOf = snap.AsOf()
		}
		if problem := p.stale(snap, now); problem != "" {
			return nil, problem
		}
		return snap, ""
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
		snap, problem := snapshot(e.purpose, e.ref)
		var on bool
		if problem == "" {
			var err error
			if on, err = snap.Bits.Get(e.ref.Index); err != nil {
				problem = fmt.Sprintf("%s: %v", e.ref.ListURL, err)
			}
		}
		if problem != "" {
			r.StatusKnown = false
			r.Warnings = append(r.Warnings, "status unknown: "+problem)
			continue
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
		if m := v.Claims.Message; m.ListURL == "" {
			// Issued before the message list existed: revoked is all it can say.
		} else if snap, problem := snapshot(PurposeMessage, m); problem != "" {
			r.Warnings = append(r.Warnings, "could not tell a surrendered label from a revoked one, so it is reported revoked: "+problem)
		} else if msg, problem := readMessage(snap, m); problem != "" {
			r.Warnings = append(r.Warnings, "could not tell a surrendered label from a revoked one, so it is reported revoked: "+problem)
		} else if msg == MessageTextSurrendered {
			r.Status = StatusSurrendered
			r.Reasons = append(r.Reasons, fmt.Sprintf("surrendered by its manufacturer: entry %d of %s says %q (as of %s)", m.Index, m.ListURL, msg, rfc3339(snap.AsOf())))
		} else if msg != MessageTextRevoked {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the revocation bit is set but entry %d of %s says %q: reported revoked", m.Index, m.ListURL, msg))
		}
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

// stale says why a snapshot is too old to read, or "".
func (p Policy) stale(snap *StatusListSnapshot, now time.Time) string {
	asOf := snap.AsOf()
	if !snap.ValidUntil.IsZero() && !now.Before(snap.ValidUntil) {
		return fmt.Sprintf("the %s list %s expired %s; the status was last known as of %s (%s ago)",
			snap.Purpose, snap.URL, rfc3339(snap.ValidUntil), rfc3339(asOf), now.Sub(asOf).Round(time.Second))
	}
	limit, why := p.MaxStatusAge, "the maximum age asked for"
	if limit <= 0 {
		limit, why = DefaultStatusMaxAge, "the default maximum age"
		if !snap.ValidUntil.IsZero() {
			limit, why = snap.ValidUntil.Sub(snap.ValidFrom), "the list's validity"
		}
	}
	if age := now.Sub(asOf); age > limit {
		return fmt.Sprintf("the %s list %s was fetched %s, %s ago, older than %s (%s); the status was last known as of %s",
			snap.Purpose, snap.URL, rfc3339(asOf), age.Round(time.Second), why, limit, rfc3339(asOf))
	}
	return ""
}

// checkSnapshot says why a snapshot cannot give a label's entry, or "": the
// spec's checks that the list is the one the entry names, for the same
// purpose, from the same issuer.
func checkSnapshot(snap *StatusListSnapshot, purpose string, ref StatusRef, issuer Issuer) string {
	switch {
	case snap == nil || snap.Bits == nil:
		return fmt.Sprintf("no %s status list %s", purpose, ref.ListURL)
	case snap.URL != ref.ListURL:
		return fmt.Sprintf("the %s status list has id %s, not %s", purpose, snap.URL, ref.ListURL)
	case snap.Purpose != purpose:
		return fmt.Sprintf("%s is a %s list, not a %s list", ref.ListURL, snap.Purpose, purpose)
	case snap.Issuer.ID != issuer.ID:
		return fmt.Sprintf("%s was issued by %s, not by the label's issuer %s", ref.ListURL, snap.Issuer.ID, issuer.ID)
	}
	return ""
}

// readMessage reads a label's entry in a message list and says what it
// means by the credential's own table (the list's, when it has one, must
// agree: a verifier must not be told two meanings for one value).
func readMessage(snap *StatusListSnapshot, ref StatusRef) (string, string) {
	if snap.Bits.StatusSize() != ref.Size {
		return "", fmt.Sprintf("%s has %d-bit entries, the credential says %d", ref.ListURL, snap.Bits.StatusSize(), ref.Size)
	}
	value, err := snap.Bits.Value(ref.Index)
	if err != nil {
		return "", fmt.Sprintf("%s: %v", ref.ListURL, err)
	}
	msg, ok := messageFor(ref.Messages, value)
	if !ok {
		return "", fmt.Sprintf("entry %d of %s is 0x%x, which the credential's statusMessage does not name", ref.Index, ref.ListURL, value)
	}
	if snap.Messages != nil {
		if listMsg, _ := messageFor(snap.Messages, value); listMsg != msg {
			return "", fmt.Sprintf("%s says 0x%x means %q, the credential says %q", ref.ListURL, value, listMsg, msg)
		}
	}
	return msg, ""
}
