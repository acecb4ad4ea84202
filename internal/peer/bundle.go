package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/tlog"
	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

// An offline bundle is one file holding what verifying an authority's
// labels needs with the network off, as a market-surveillance inspector
// works: its trust list, its key set, its status lists and a cosigned
// checkpoint of its log. Every part is signed by the authority (or its
// witnesses); the file itself needs no signature and may travel any way.
const (
	BundleFormat = "hallmark-bundle/1"
	// MaxBundleBytes bounds a bundle before parsing.
	MaxBundleBytes        = 64 << 20
	maxBundleStatusLists  = trustlist.MaxStatusLists
	maxBundleCheckpoint   = 64 << 10
	maxBundleStatusLength = MaxStatusListBytes
)

// Bundle is an offline bundle as stored.
type Bundle struct {
	Format      string              `json:"format"`
	Created     time.Time           `json:"created"`
	Issuer      string              `json:"issuer"`
	TrustList   json.RawMessage     `json:"trust_list"`
	Keys        json.RawMessage     `json:"keys"`
	StatusLists []BundledStatusList `json:"status_lists"`
	Checkpoint  string              `json:"checkpoint"`
	Cosigners   []string            `json:"cosigners,omitempty"` // informative; OpenBundle recounts
}

// BundledStatusList is one status list credential and when it was fetched.
type BundledStatusList struct {
	URL        string    `json:"url"`
	FetchedAt  time.Time `json:"fetched_at"`
	Credential string    `json:"credential"`
}

// MakeBundle fetches an authority's trust list, keys, status lists and
// checkpoint, checks each (the list against the pin in t when there is
// one), and returns the bundle.
func MakeBundle(ctx context.Context, c *Client, store *TrustStore, now time.Time) (*Bundle, error) {
	raw, f, err := c.TrustList(ctx)
	if err != nil {
		return nil, err
	}
	chk, err := store.CheckList(c.BaseURL(), f.URL, raw, now)
	if err != nil {
		return nil, err
	}
	if chk.New {
		return nil, fmt.Errorf("%w: %s is not in the trust store %s: run 'hallmark peer add %s' first, so that the bundle is checked against a list you chose to trust",
			ErrNotTrusted, c.BaseURL(), store.Path(), c.BaseURL())
	}
	l := chk.List.List
	keysJSON, err := c.get(ctx, c.opts.KeysURL, "application/json", MaxKeysBytes)
	if err != nil {
		return nil, fmt.Errorf("the issuer's keys: %w", err)
	}
	if err := sameKeys(keysJSON, l.IssuerKeys); err != nil {
		return nil, err
	}
	b := &Bundle{Format: BundleFormat, Created: now.UTC().Truncate(time.Second), Issuer: c.BaseURL(), TrustList: raw, Keys: keysJSON}
	for _, u := range l.StatusLists {
		body, err := c.get(ctx, u, label.MediaType, MaxStatusListBytes)
		if err != nil {
			return nil, fmt.Errorf("status list %s: %w", u, err)
		}
		jws := strings.TrimSpace(string(body))
		if _, err := label.VerifyStatusList(jws, l.IssuerKeys, now); err != nil {
			return nil, fmt.Errorf("status list %s: %w", u, err)
		}
		b.StatusLists = append(b.StatusLists, BundledStatusList{URL: u, FetchedAt: now.UTC(), Credential: jws})
	}
	if l.LogURL != "" {
		cp, err := tlog.HTTPFetcher(l.LogURL, c.opts.HTTPClient)(ctx, "checkpoint")
		if err != nil {
			return nil, fmt.Errorf("the log's checkpoint: %w", err)
		}
		b.Checkpoint = string(cp)
		ci, err := checkBundleCheckpoint(l, b.Checkpoint)
		if err != nil {
			return nil, err
		}
		b.Cosigners = ci.Cosigners
	}
	return b, nil
}

func sameKeys(keysJSON []byte, want label.PublicKeys) error {
	got, err := label.ParseJWKS(keysJSON)
	if err != nil {
		return err
	}
	for kid, k := range got {
		if w, ok := want[kid]; !ok || !bytes.Equal(w.Key, k.Key) {
			return fmt.Errorf("the key set and the trust list disagree on key %s: the authority is changing its keys; try again in a few minutes", kid)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("the key set has %d keys and the trust list %d: try again in a few minutes", len(got), len(want))
	}
	return nil
}

// CheckpointInfo is a verified checkpoint and who cosigned it.
type CheckpointInfo struct {
	Origin    string
	Size      uint64
	Cosigners []string // the list's witnesses whose cosignatures verify
}

func checkBundleCheckpoint(l *trustlist.List, cp string) (CheckpointInfo, error) {
	if len(cp) > maxBundleCheckpoint {
		return CheckpointInfo{}, fmt.Errorf("checkpoint of %d bytes, over %d", len(cp), maxBundleCheckpoint)
	}
	var vs []note.Verifier
	for _, k := range l.LogVerifiers {
		v, err := note.NewVerifier(k)
		if err != nil {
			return CheckpointInfo{}, fmt.Errorf("the trust list's log key %q: %v", k, err)
		}
		vs = append(vs, v)
	}
	c, err := tlog.ReadCheckpoint(context.Background(), func(context.Context, string) ([]byte, error) { return []byte(cp), nil }, note.VerifierList(vs...))
	if err != nil {
		return CheckpointInfo{}, err
	}
	if c.Origin != l.LogOrigin {
		return CheckpointInfo{}, fmt.Errorf("the checkpoint is of log %q, the trust list names %q", c.Origin, l.LogOrigin)
	}
	info := CheckpointInfo{Origin: c.Origin, Size: c.Size}
	for _, w := range l.Witnesses {
		v, err := tlog.NewWitnessVerifier(w.VKey)
		if err != nil {
			continue
		}
		if _, err := note.Open([]byte(cp), note.VerifierList(v)); err == nil {
			info.Cosigners = append(info.Cosigners, v.Name())
		}
	}
	if len(info.Cosigners) < l.Quorum {
		return info, fmt.Errorf("the checkpoint carries %d of the %d witness cosignatures the log's policy requires", len(info.Cosigners), l.Quorum)
	}
	return info, nil
}

// ParseBundle reads a bundle, bounded, without checking its signatures.
func ParseBundle(b []byte) (*Bundle, error) {
	if len(b) > MaxBundleBytes {
		return nil, fmt.Errorf("bundle of %d bytes, over the %d byte limit", len(b), MaxBundleBytes)
	}
	var bd Bundle
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bd); err != nil {
		return nil, fmt.Errorf("not a Hallmark bundle: %v", err)
	}
	switch {
	case bd.Format != BundleFormat:
		return nil, fmt.Errorf("bundle format %q, this hallmark reads %q", bd.Format, BundleFormat)
	case bd.Created.IsZero() || bd.Issuer == "" || len(bd.TrustList) == 0:
		return nil, errors.New("the bundle names no creation time, issuer or trust list")
	case len(bd.StatusLists) > maxBundleStatusLists:
		return nil, fmt.Errorf("the bundle holds %d status lists, over %d", len(bd.StatusLists), maxBundleStatusLists)
	case len(bd.Checkpoint) > maxBundleCheckpoint:
		return nil, errors.New("the bundle's checkpoint is too large")
	}
	for _, s := range bd.StatusLists {
		if len(s.Credential) > maxBundleStatusLength || s.FetchedAt.IsZero() {
			return nil, fmt.Errorf("the bundle's status list %s is too large or undated", s.URL)
		}
	}
	return &bd, nil
}

// Opened is a bundle whose parts verified.
type Opened struct {
	Bundle      *Bundle
	List        *trustlist.Verified
	Keys        label.PublicKeys
	StatusLists map[string]*label.StatusListSnapshot
	Checkpoint  *CheckpointInfo // nil when the bundle holds none
	Problems    []string        // parts that did not verify and were left out
}

// OpenBundle verifies a bundle for the trusted issuer t: its trust list
// against t's pinned keys (following key pivots; not older than t's pinned
// list), then the status lists and checkpoint against the list. A status
// list that fails is left out (its labels' status is then unknown), never
// used.
func OpenBundle(bd *Bundle, t TrustedIssuer, now time.Time) (*Opened, error) {
	if NormalizeIssuerID(bd.Issuer) != t.ID {
		return nil, fmt.Errorf("%w: the bundle is of %s, not %s", ErrWrongAuthority, bd.Issuer, t.ID)
	}
	v, err := trustlist.Verify(bd.TrustList, t.PublicKeys(), now)
	if err != nil {
		return nil, fmt.Errorf("the bundle's trust list: %w", err)
	}
	if NormalizeIssuerID(v.List.Authority) != t.ID {
		return nil, fmt.Errorf("%w: the bundle's trust list describes %s", ErrWrongAuthority, v.List.Authority)
	}
	if p := t.TrustList; p != nil && (v.List.Sequence < p.Sequence || (v.List.Sequence == p.Sequence && v.Digest != p.Digest)) {
		return nil, fmt.Errorf("%w: the bundle's trust list %d is older than, or differs from, the pinned list %d", ErrRollback, v.List.Sequence, p.Sequence)
	}
	o := &Opened{Bundle: bd, List: v, Keys: v.List.IssuerKeys, StatusLists: map[string]*label.StatusListSnapshot{}}
	for _, s := range bd.StatusLists {
		if !slices.Contains(v.List.StatusLists, s.URL) {
			o.Problems = append(o.Problems, fmt.Sprintf("status list %s is not one the trust list names; left out", s.URL))
			continue
		}
		// The fetch time is the bundle maker's word: never later than the
		// bundle itself. The list's own signed validity bounds it anyway.
		at := s.FetchedAt
		if at.After(bd.Created) {
			at = bd.Created
		}
		snap, err := label.VerifyStatusList(s.Credential, o.Keys, at)
		if err != nil {
			o.Problems = append(o.Problems, fmt.Sprintf("status list %s: %v; left out", s.URL, err))
			continue
		}
		o.StatusLists[s.URL] = snap
	}
	if bd.Checkpoint != "" {
		ci, err := checkBundleCheckpoint(v.List, bd.Checkpoint)
		if err != nil {
			o.Problems = append(o.Problems, "checkpoint: "+err.Error())
		} else {
			o.Checkpoint = &ci
		}
	}
	return o, nil
}

// Marshal is the bundle as written to its file.
func (b *Bundle) Marshal() ([]byte, error) {
	out, err := json.MarshalIndent(b, "", "  ")
	return append(out, '\n'), err
}
