package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/tlogpolicy"
	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

// The trust list is reissued this long before its next update, and says
// it will be replaced within trustListValidity.
const (
	trustListValidity = 24 * time.Hour
	trustListState    = "trust-list-state.json"
	// PeersFile is the instance's own trust store in its data directory:
	// the peers it recognises ('hallmark peer add --data DIR URL').
	PeersFile = "peers.json"
)

type trustListCache struct {
	mu     sync.Mutex
	body   []byte
	digest string
	issued time.Time
}

// trustListStateFile keeps the sequence number across restarts: a list
// whose content changed gets the next number, never an old one again.
type trustListStateFile struct {
	Sequence uint64    `json:"sequence"`
	Digest   string    `json:"digest"`
	Issued   time.Time `json:"issued"`
}

// TrustList is this instance's signed trust list (internal/trustlist): the
// same bytes until its content changes or half its validity has passed.
// Its content is gathered on every request (one small query and a file):
// a key change shows at once, and HTTP caches hold the list for minutes.
func (s *Server) TrustList(ctx context.Context) ([]byte, error) {
	c := &s.trustList
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	l, err := s.trustListContent(ctx)
	if err != nil {
		return nil, err
	}
	digest := contentDigest(l)
	if c.body != nil && digest == c.digest && now.Sub(c.issued) < trustListValidity/2 {
		return c.body, nil
	}
	st, err := s.readTrustListState()
	if err != nil {
		return nil, err
	}
	if st.Digest != digest || st.Sequence == 0 {
		st = trustListStateFile{Sequence: st.Sequence + 1, Digest: digest}
	}
	// Reissued with the same content: the same sequence number, a new issue
	// time (TS 119 602 numbers content, not issues).
	st.Issued = now.UTC().Truncate(time.Second)
	l.Sequence, l.Issued, l.NextUpdate = st.Sequence, st.Issued, st.Issued.Add(trustListValidity)
	body, err := l.Sign(s.keys.Active())
	if err != nil {
		return nil, fmt.Errorf("signing the trust list: %w", err)
	}
	b, _ := json.Marshal(st)
	if err := peer.WriteFileAtomic(filepath.Join(s.cfg.DataDir, trustListState), b); err != nil {
		return nil, fmt.Errorf("the trust list's sequence number: %w", err)
	}
	c.body, c.digest, c.issued = body, digest, st.Issued
	return body, nil
}

func (s *Server) readTrustListState() (trustListStateFile, error) {
	var st trustListStateFile
	b, err := peer.ReadFileLimited(filepath.Join(s.cfg.DataDir, trustListState), 4096)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return st, fmt.Errorf("%s: %w (fix or remove it: the next list then starts again at 1, which peers refuse as a rollback)", trustListState, err)
	}
	return st, nil
}

// contentDigest identifies what a list says, apart from when it was issued.
func contentDigest(l *trustlist.List) string {
	c := *l
	c.Sequence, c.Issued, c.NextUpdate = 0, time.Time{}, time.Time{}
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// trustListContent gathers what the list says, as of now.
func (s *Server) trustListContent(ctx context.Context) (*trustlist.List, error) {
	base := s.cfg.PublicURL
	l := &trustlist.List{Authority: base, Name: s.cfg.IssuerName, IssuerKeys: s.keys.PublicKeys(),
		LogOrigin: s.LogOrigin(), LogVerifiers: s.LogVerifiers()}
	if l.LogOrigin != "" {
		l.LogURL = base + "/log/"
	}
	var err error
	if l.Pivots, err = s.keys.Pivots(); err != nil {
		return nil, fmt.Errorf("key pivots: %w", err)
	}
	for _, sc := range s.Schemes().Sorted() {
		_, v := s.SchemeInfo(sc.ID)
		l.Schemes = append(l.Schemes, trustlist.Scheme{ID: sc.ID, Name: sc.Name, Version: v, URL: base + "/schemes/" + sc.ID})
	}
	maxIdx, err := s.store.MaxStatusIndex(ctx)
	if err != nil {
		return nil, err
	}
	if maxIdx >= 0 {
		for _, purpose := range []string{label.PurposeRevocation, label.PurposeSuspension, label.PurposeMessage} {
			for n := 0; n <= maxIdx/label.MinListBits; n++ {
				l.StatusLists = append(l.StatusLists, s.StatusListURL(purpose, n))
			}
		}
	}
	if p := s.cfg.Witnesses; p != nil && len(p.Keys) == len(p.URLs) {
		for i, u := range p.URLs {
			l.Witnesses = append(l.Witnesses, trustlist.Witness{VKey: p.Keys[i], URL: u})
		}
		l.Quorum = p.Threshold
	}
	if s.witness != nil {
		l.Witness = &trustlist.Witness{VKey: s.witnessKey, URL: base + "/witness"}
	}
	peers, err := s.RecognisedPeers()
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		if p.TrustList == nil {
			continue
		}
		l.Peers = append(l.Peers, trustlist.Peer{Authority: p.ID, Name: p.Name, ListURL: p.TrustList.URL, Keys: p.PublicKeys()})
	}
	return l, nil
}

// RecognisedPeers are the authorities in this instance's own trust store
// (PeersFile in its data directory).
func (s *Server) RecognisedPeers() ([]peer.TrustedIssuer, error) {
	st, err := peer.LoadTrustStore(filepath.Join(s.cfg.DataDir, PeersFile))
	if err != nil {
		return nil, err
	}
	return st.List(), nil
}

// WitnessPolicy is the log's witness policy as C2SP tlog-policy text: the
// log's keys, the witnesses it asks, and the quorum it publishes with.
func (s *Server) WitnessPolicy() []byte {
	var logs []tlogpolicy.Log
	for _, v := range s.LogVerifiers() {
		logs = append(logs, tlogpolicy.Log{VKey: v, URL: s.cfg.PublicURL + "/log/"})
	}
	var ws []tlogpolicy.Witness
	k := 0
	if p := s.cfg.Witnesses; p != nil && len(p.Keys) == len(p.URLs) {
		for i, u := range p.URLs {
			name, _, _ := strings.Cut(p.Keys[i], "+")
			ws = append(ws, tlogpolicy.Witness{Name: fmt.Sprintf("%s#%d", name, i+1), VKey: p.Keys[i], URL: u})
		}
		k = p.Threshold
	}
	pol := tlogpolicy.Simple(tlogpolicy.Log{}, ws, k)
	pol.Logs = logs
	return pol.Format(fmt.Sprintf("Witness policy of the log %s (%s).\nA checkpoint counts when one of these log keys signed it and the quorum of witnesses cosigned it.", s.LogOrigin(), s.cfg.IssuerName))
}

// peersMu serialises this instance's writes to its peer store.
var peersMu sync.Mutex

// RecognisePeer pins the trust list of the authority at rawURL in this
// instance's peer store (serve --peer): on first contact the list vouches
// for itself, the operator having named the URL; later lists must follow
// from the pinned keys (trustlist.Verify) and never go back. It returns
// the check, whose Changed says whether the store was updated.
func (s *Server) RecognisePeer(ctx context.Context, rawURL string) (peer.ListCheck, error) {
	c, err := peer.New(rawURL, peer.Options{UserAgent: "hallmark-peer", Now: s.now})
	if err != nil {
		return peer.ListCheck{}, err
	}
	raw, f, err := c.TrustList(ctx)
	if err != nil {
		return peer.ListCheck{}, err
	}
	peersMu.Lock()
	defer peersMu.Unlock()
	st, err := peer.LoadTrustStore(filepath.Join(s.cfg.DataDir, PeersFile))
	if err != nil {
		return peer.ListCheck{}, err
	}
	chk, err := st.CheckList(c.BaseURL(), f.URL, raw, s.now())
	if err != nil {
		return chk, err
	}
	if chk.New || chk.Changed {
		st.Add(chk.Issuer)
		if err := st.Save(); err != nil {
			return chk, err
		}
	}
	return chk, nil
}
