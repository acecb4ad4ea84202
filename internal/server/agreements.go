package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hallmark-iot/hallmark/internal/agreement"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// AgreementRequest asks the gate to record a mutual-recognition agreement
// between a level of one of this instance's schemes and a level of a
// recognised peer's scheme. Each authority records it in its own log.
type AgreementRequest struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Scheme     string `json:"scheme"`
	Level      string `json:"level"`
	Peer       string `json:"peer"` // the peer's URL, as recognised
	PeerScheme string `json:"peer_scheme"`
	PeerLevel  string `json:"peer_level"`
}

// maxPeerScheme bounds a peer's scheme document.
const maxPeerScheme = 2 << 20

// RecordAgreement records an agreement through the gate.
func (s *Server) RecordAgreement(ctx context.Context, p Principal, req AgreementRequest) (agreement.Record, error) {
	o, err := s.decideOne(ctx, p, Request{Agreement: &req})
	return o.Agreement, err
}

func (s *Server) decideAgreement(ctx context.Context, p Principal, r Request) (Outcome, error) {
	req := *r.Agreement
	if err := s.CheckSchemeWrite(p, req.Scheme); err != nil {
		return Outcome{}, err
	}
	s.refreshPeer(ctx, req.Peer)
	local, peerSide, err := s.agreementSides(req.Scheme, req.Level, req.Peer, req.PeerScheme, req.PeerLevel)
	if err != nil {
		return Outcome{}, err
	}
	dirs, err := s.compareSides(ctx, local, peerSide)
	if err != nil {
		return Outcome{}, err
	}
	rec, err := agreement.New(req.ID, req.Title, local, peerSide, dirs[0], dirs[1], s.at(r))
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	id, err := s.store.WriteFederationAgreement(ctx, store.FederationAgreement{ID: rec.ID, Document: rec.Marshal(), Digest: rec.Digest(), RecordedAt: rec.At},
		registry.Decision{Kind: tlog.KindAgreementRecorded, Subject: "federation:" + rec.ID, Digest: rec.Digest(), StatusIndex: -1, At: rec.At}, p.UserID)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{DecisionID: id, Agreement: rec}, nil
}

// refreshPeer moves a recognised peer's pin to its current trust list
// (a newer scheme version); a peer not recognised is left alone, and a
// list that cannot be accepted leaves the pin (the mirror pass alarms).
func (s *Server) refreshPeer(ctx context.Context, peerURL string) {
	peers, err := s.RecognisedPeers()
	if err != nil || !slices.ContainsFunc(peers, func(t peer.TrustedIssuer) bool { return t.ID == peer.NormalizeIssuerID(peerURL) && t.TrustList != nil }) {
		return
	}
	if _, err := s.RecognisePeer(ctx, peerURL); err != nil {
		logWarn("refreshing the trust list of "+peerURL, err)
	}
}

// agreementSides names both parties at their current versions: this
// instance's scheme as stored, the peer's as its pinned trust list says.
func (s *Server) agreementSides(sc, level, peerURL, peerScheme, peerLevel string) (agreement.Side, agreement.Side, error) {
	if _, ok := s.Schemes()[sc]; !ok {
		return agreement.Side{}, agreement.Side{}, fmt.Errorf("%w: this instance runs no scheme %q", ErrInvalid, sc)
	}
	_, v := s.SchemeInfo(sc)
	local := agreement.Side{Authority: s.cfg.PublicURL, Scheme: sc, Version: v, Level: level}
	peers, err := s.RecognisedPeers()
	if err != nil {
		return local, agreement.Side{}, err
	}
	i := slices.IndexFunc(peers, func(t peer.TrustedIssuer) bool { return t.ID == peer.NormalizeIssuerID(peerURL) })
	if i < 0 || peers[i].TrustList == nil {
		return local, agreement.Side{}, fmt.Errorf("%w: %s is not a recognised peer: 'hallmark peer add --data DIR %s' first", ErrInvalid, peerURL, peerURL)
	}
	l, err := peers[i].Verified(s.now())
	if err != nil {
		return local, agreement.Side{}, err
	}
	for _, x := range l.List.Schemes {
		if x.ID == peerScheme {
			return local, agreement.Side{Authority: peers[i].ID, Scheme: peerScheme, Version: x.Version, Level: peerLevel}, nil
		}
	}
	return local, agreement.Side{}, fmt.Errorf("%w: %s's trust list names no scheme %q", ErrInvalid, peerURL, peerScheme)
}

// compareSides resolves both levels (the peer's scheme read from its API at
// the version its list names) and compares them both ways.
func (s *Server) compareSides(ctx context.Context, local, remote agreement.Side) ([2]agreement.Direction, error) {
	var out [2]agreement.Direction
	a, err := s.Schemes().ResolveRef(s.Catalog(), local.Ref())
	if err != nil {
		return out, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	sc, err := s.peerScheme(ctx, remote)
	if err != nil {
		return out, err
	}
	b, err := scheme.NewSet([]*scheme.Scheme{sc}).ResolveRef(s.Catalog(), remote.Ref())
	if err != nil {
		return out, fmt.Errorf("%w: the peer's %v", ErrInvalid, err)
	}
	out[0], out[1] = agreement.Compare(local, remote, a, b), agreement.Compare(remote, local, b, a)
	return out, nil
}

func (s *Server) peerScheme(ctx context.Context, side agreement.Side) (*scheme.Scheme, error) {
	u := fmt.Sprintf("%s/api/v1/schemes/%s?version=%d", side.Authority, url.PathEscape(side.Scheme), side.Version)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := peer.DefaultHTTPClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the peer's scheme: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %s", ErrInvalid, u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPeerScheme+1))
	if err != nil || len(b) > maxPeerScheme {
		return nil, fmt.Errorf("%w: the peer's scheme document is unreadable or over %d bytes", ErrInvalid, maxPeerScheme)
	}
	var sc scheme.Scheme
	if err := json.Unmarshal(b, &sc); err != nil || sc.ID != side.Scheme {
		return nil, fmt.Errorf("%w: %s is not scheme %s", ErrInvalid, u, side.Scheme)
	}
	return &sc, nil
}

// FederationAgreement is an agreement as this instance recorded it, with
// the drift found since.
type FederationAgreement struct {
	Record    agreement.Record
	Digest    string
	Changes   []agreement.Change
	FlaggedAt time.Time
	CheckedAt time.Time
}

// FederationAgreements are the recorded agreements with their flags.
func (s *Server) FederationAgreements(ctx context.Context) ([]FederationAgreement, error) {
	rows, err := s.store.FederationAgreements(ctx)
	if err != nil {
		return nil, err
	}
	var out []FederationAgreement
	for _, r := range rows {
		rec, err := agreement.Parse(r.Document)
		if err != nil {
			return nil, fmt.Errorf("stored agreement %s: %w", r.ID, err)
		}
		fa := FederationAgreement{Record: rec, Digest: r.Digest, FlaggedAt: r.FlaggedAt, CheckedAt: r.CheckedAt}
		if r.Flag != "" {
			json.Unmarshal([]byte(r.Flag), &fa.Changes)
		}
		out = append(out, fa)
	}
	return out, nil
}

// RecheckAgreements recomputes every recorded agreement at the parties'
// current versions (this instance's schemes as stored, the peer's as its
// pinned trust list names them) and flags those whose coverage fell below
// what was recorded, with what changed; an agreement whose coverage is
// back clears its flag. A peer that cannot be read leaves the flag as it is.
func (s *Server) RecheckAgreements(ctx context.Context) error {
	rows, err := s.FederationAgreements(ctx)
	if err != nil {
		return err
	}
	for _, fa := range rows {
		r := fa.Record
		local, remote, err := s.agreementSides(r.Parties[0].Scheme, r.Parties[0].Level, r.Parties[1].Authority, r.Parties[1].Scheme, r.Parties[1].Level)
		if err != nil {
			logWarn("rechecking agreement "+r.ID, err)
			continue
		}
		dirs, err := s.compareSides(ctx, local, remote)
		if err != nil {
			logWarn("rechecking agreement "+r.ID, err)
			continue
		}
		changes := agreement.Drift(r, [2]agreement.Side{local, remote}, dirs[:])
		flag := ""
		if len(changes) > 0 {
			b, _ := json.Marshal(changes)
			flag = string(b)
		}
		if err := s.store.FlagFederationAgreement(ctx, r.ID, flag, s.now()); err != nil {
			return err
		}
	}
	return nil
}
