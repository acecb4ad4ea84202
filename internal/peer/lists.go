package peer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

// How an issuer came to be trusted by its trust list.
const TrustedByList = "peer add URL"

// PinnedList is a peer's trust list as pinned in the trust store: the
// signed document itself, so that verify and bundle work offline from it.
type PinnedList struct {
	URL        string    `json:"url"`
	Sequence   uint64    `json:"sequence"`
	Digest     string    `json:"digest"` // SHA-256 of the list's payload
	Issued     time.Time `json:"issued"`
	NextUpdate time.Time `json:"next_update"`
	FetchedAt  time.Time `json:"fetched_at"`
	Signed     string    `json:"signed"` // the JWS as fetched
}

// Errors of CheckList besides trustlist's.
var (
	// ErrRollback: the list is older than the one pinned, as a replay of
	// an old list (with keys since compromised) would be.
	ErrRollback = errors.New("trust list older than the pinned one")
	// ErrEquivocation: two different lists under one sequence number: the
	// authority, or someone with its key, shows different parties
	// different lists.
	ErrEquivocation = errors.New("two different trust lists under one sequence number")
	// ErrWrongAuthority: the list describes another authority than the
	// one asked for.
	ErrWrongAuthority = errors.New("trust list of another authority")
)

// ListCheck is what CheckList concluded.
type ListCheck struct {
	List     *trustlist.Verified
	Issuer   TrustedIssuer // the entry as it would be pinned now
	New      bool          // the issuer was not in the store
	Changed  bool          // a newer list than the pinned one
	Previous uint64        // the pinned list's sequence number, 0 if none
}

// CheckList verifies raw, a trust list fetched from listURL, as issuer id's
// (an authority's URL): against the keys pinned for id (following key
// pivots), or, for an issuer not in the store, as a self-signed first
// contact. A list older than the pinned one, or different under the same
// sequence number, is refused. The store is not changed: Add the result.
func (s *TrustStore) CheckList(id, listURL string, raw []byte, now time.Time) (ListCheck, error) {
	id = NormalizeIssuerID(id)
	existing, known := s.Get(id)
	var pinned label.PublicKeys
	if known {
		pinned = existing.PublicKeys()
	}
	v, err := trustlist.Verify(raw, pinned, now)
	if err != nil {
		return ListCheck{}, err
	}
	l := v.List
	if NormalizeIssuerID(l.Authority) != id {
		return ListCheck{}, fmt.Errorf("%w: the list at %s describes %s, not %s", ErrWrongAuthority, listURL, l.Authority, id)
	}
	c := ListCheck{List: v, New: !known, Changed: true}
	if known && existing.TrustList != nil {
		p := existing.TrustList
		c.Previous = p.Sequence
		switch {
		case l.Sequence < p.Sequence:
			return ListCheck{}, fmt.Errorf("%w: %s serves list %d, but list %d is pinned (a replayed old list looks like this)", ErrRollback, id, l.Sequence, p.Sequence)
		case l.Sequence == p.Sequence && v.Digest != p.Digest:
			return ListCheck{}, fmt.Errorf("%w: %s serves a list numbered %d that differs from the pinned list %d: keep the evidence (the pinned list is in %s) and ask the authority",
				ErrEquivocation, id, l.Sequence, p.Sequence, s.path)
		case l.Sequence == p.Sequence:
			c.Changed = false
		}
	}
	t := existing
	if !known {
		t = TrustedIssuer{ID: id, Name: l.Name, How: TrustedByList, Added: now.UTC().Truncate(time.Second)}
		if t.Name == "" {
			t.Name = id
		}
	} else if c.Changed {
		t.Updated = now.UTC().Truncate(time.Second)
	}
	// The list's keys, keeping any compromise mark the pin already holds
	// (earliest wins): a list cannot unsay a compromise.
	keys := label.PublicKeys{}
	for kid, k := range l.IssuerKeys {
		if p, ok := pinned[kid]; ok && p.Compromised() && (!k.Compromised() || p.CompromisedAt.Before(k.CompromisedAt)) {
			k.CompromisedAt = p.CompromisedAt
		}
		keys[kid] = k
	}
	t.Keys = pin(keys)
	t.LogOrigin, t.LogVerifiers = l.LogOrigin, l.LogVerifiers
	t.TrustList = &PinnedList{URL: listURL, Sequence: l.Sequence, Digest: v.Digest, Issued: l.Issued, NextUpdate: l.NextUpdate,
		FetchedAt: now.UTC().Truncate(time.Second), Signed: string(raw)}
	c.Issuer = t
	return c, nil
}

// Verified re-verifies the pinned list against the pinned keys: what a
// reader of the store relies on, not the copy's say-so.
func (t TrustedIssuer) Verified(now time.Time) (*trustlist.Verified, error) {
	if t.TrustList == nil {
		return nil, fmt.Errorf("%s has no pinned trust list: run 'hallmark peer add %s'", t.ID, t.ID)
	}
	return trustlist.Verify([]byte(t.TrustList.Signed), t.PublicKeys(), now)
}

// TrustList fetches the authority's trust list (not parsed: CheckList
// does that against the pins).
func (c *Client) TrustList(ctx context.Context) ([]byte, Fetched, error) {
	var body []byte
	u := c.base + trustlist.WellKnownPath
	f, err := c.document(ctx, u, trustlist.MediaType+", application/json", trustlist.MaxBytes, func(b []byte) error {
		if _, err := trustlist.Parse(b); err != nil {
			return err
		}
		body = b
		return nil
	})
	if err != nil {
		return nil, f, fmt.Errorf("the trust list: %w", err)
	}
	return body, f, nil
}
