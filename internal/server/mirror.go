package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/mirror"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

// Mirroring bounds: a peer's registry is read page by page up to this
// many labels; a disagreement that may be a decision not yet logged is an
// alarm only once it outlasts the grace period.
const (
	maxMirrorLabels    = 1_000_000
	DefaultMirrorGrace = 2 * time.Minute
	mirrorPage         = 1000
	maxAlarmEvidence   = 64 << 10
	propagationSamples = 1000
	mirrorDir          = "mirror"
	mirrorKeyDir       = "mirrorkeys"
)

// KindTrustList is an alarm about a peer's trust list: older than the
// pinned one, a different list under its number, or signed by a key the
// pin does not lead to.
const KindTrustList = "trust-list"

// MirrorStatus is the outcome of the last mirror pass of one peer.
type MirrorStatus struct {
	Peer       string    `json:"peer"`
	Name       string    `json:"name"`
	Origin     string    `json:"log_origin"`
	OriginHash string    `json:"origin_hash"`
	At         time.Time `json:"at"`
	Size       uint64    `json:"log_size"`
	Labels     int       `json:"labels"`
	Agree      bool      `json:"registry_agrees_with_log"`
	Views      int       `json:"views_compared"` // witnesses' and other mirrors' checkpoints checked
	Error      string    `json:"error,omitempty"`
}

type mirrorState struct {
	mu     sync.Mutex
	status map[string]MirrorStatus
	signer note.Signer
	vkey   string
	run    sync.Mutex // one pass at a time
}

func (s *Server) mirrorSigner() (note.Signer, string, error) {
	s.mirrors.mu.Lock()
	defer s.mirrors.mu.Unlock()
	if s.mirrors.signer == nil {
		u, _ := url.Parse(s.cfg.PublicURL)
		sg, vk, err := tlog.LoadOrCreateWitnessSigner(filepath.Join(s.cfg.DataDir, mirrorKeyDir), u.Host+"/mirror")
		if err != nil {
			return nil, "", err
		}
		s.mirrors.signer, s.mirrors.vkey = sg, vk
	}
	return s.mirrors.signer, s.mirrors.vkey, nil
}

// MirrorKey is the verifier key of this instance's mirror cosignatures.
func (s *Server) MirrorKey() string {
	_, vk, err := s.mirrorSigner()
	if err != nil {
		return ""
	}
	return vk
}

// MirrorDir is where the mirrored logs live, one directory per origin hash.
func (s *Server) MirrorDir() string { return filepath.Join(s.cfg.DataDir, mirrorDir) }

// MirrorStatuses are the last passes, by peer.
func (s *Server) MirrorStatuses() []MirrorStatus {
	s.mirrors.mu.Lock()
	defer s.mirrors.mu.Unlock()
	var out []MirrorStatus
	for _, m := range s.mirrors.status {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Peer < out[j].Peer })
	return out
}

// MirrorPeers runs one mirror pass over every recognised peer with a
// pinned trust list: its log copied and audited, its registry read and
// checked against the log, the log compared with its witnesses' and other
// mirrors' views. Disagreements become public alarms with their evidence;
// alarms whose cause is gone are marked resolved. A peer that cannot be
// reached is reported, never alarmed: absence is not evidence.
func (s *Server) MirrorPeers(ctx context.Context) ([]MirrorStatus, error) {
	s.mirrors.run.Lock()
	defer s.mirrors.run.Unlock()
	peers, err := s.RecognisedPeers()
	if err != nil {
		return nil, err
	}
	signer, _, err := s.mirrorSigner()
	if err != nil {
		return nil, fmt.Errorf("mirror key: %w", err)
	}
	var out []MirrorStatus
	for _, p := range peers {
		if p.TrustList == nil {
			continue
		}
		st := s.mirrorPeer(ctx, p, peers, signer)
		s.mirrors.mu.Lock()
		if s.mirrors.status == nil {
			s.mirrors.status = map[string]MirrorStatus{}
		}
		s.mirrors.status[p.ID] = st
		s.mirrors.mu.Unlock()
		out = append(out, st)
	}
	// A peer's list may name a new version of a scheme an agreement rests on.
	if err := s.RecheckAgreements(ctx); err != nil {
		logWarn("rechecking agreements", err)
	}
	return out, nil
}

func (s *Server) mirrorPeer(ctx context.Context, p peer.TrustedIssuer, all []peer.TrustedIssuer, signer note.Signer) MirrorStatus {
	now := s.now()
	st := MirrorStatus{Peer: p.ID, Name: p.Name, At: now}
	fail := func(format string, a ...any) MirrorStatus {
		st.Error = fmt.Sprintf(format, a...)
		return st
	}
	// The peer's current list first: a key change followed by its pivots
	// moves the pin; an older list or a second list under the pinned
	// number is evidence in itself.
	chk, err := s.RecognisePeer(ctx, p.ID)
	switch {
	case err == nil:
		if chk.Changed {
			p = chk.Issuer
		}
		s.store.ResolveAlarms(ctx, p.ID, KindTrustList, nil, now)
	case errors.Is(err, peer.ErrRollback) || errors.Is(err, peer.ErrEquivocation) || errors.Is(err, trustlist.ErrNoChain):
		s.alarm(ctx, p.ID, KindTrustList, p.ID, fmt.Sprintf("%s serves a trust list this instance cannot accept: %v", p.Name, err),
			evidence(map[string]any{"pinned_list_url": p.TrustList.URL, "pinned_sequence": p.TrustList.Sequence, "pinned_digest": p.TrustList.Digest,
				"pinned_issued": p.TrustList.Issued, "error": err.Error()}), now)
	}
	v, err := p.Verified(now)
	if err != nil {
		return fail("its pinned trust list: %v", err)
	}
	l := v.List
	if l.LogOrigin == "" || l.LogURL == "" {
		return fail("its trust list names no log")
	}
	st.Origin, st.OriginHash = l.LogOrigin, mirror.OriginHash(l.LogOrigin)
	vs, err := listVerifiers(l)
	if err != nil {
		return fail("%v", err)
	}
	m := &mirror.Mirror{Root: s.MirrorDir(), Origin: l.LogOrigin, Verifiers: vs, Signer: signer}
	hc := peer.DefaultHTTPClient()
	res, err := m.Update(ctx, tlog.HTTPFetcher(l.LogURL, hc))
	if err != nil {
		return fail("mirroring its log: %v", err)
	}
	st.Size = res.Size
	if len(res.Problems) > 0 {
		ev := evidence(map[string]any{"problems": res.Problems, "mirrored_checkpoint": string(res.Last), "served_checkpoint": string(res.Checkpoint)})
		s.alarm(ctx, p.ID, mirror.KindLog, l.LogOrigin, fmt.Sprintf("%s's log is not consistent with what this mirror holds: %s", p.Name, res.Problems[0]), ev, now)
		return fail("its log failed the audit (%d problems): an alarm is raised", len(res.Problems))
	}
	s.store.ResolveAlarms(ctx, p.ID, mirror.KindLog, nil, now)

	// Other views of the same log: its witnesses' latest cosigned
	// checkpoints, and the mirrors other recognised peers keep of it.
	type view struct {
		url  string
		keys []note.Verifier // who may vouch for it besides the log's policy
	}
	var views []view
	seenURL := map[string]bool{}
	add := func(u string, keys ...note.Verifier) {
		if !seenURL[u] {
			seenURL[u] = true
			views = append(views, view{u, keys})
		}
	}
	for _, w := range l.Witnesses {
		if w.URL != "" {
			add(strings.TrimRight(w.URL, "/") + "/latest/" + st.OriginHash)
		}
	}
	for _, o := range all {
		if o.ID == p.ID || o.TrustList == nil {
			continue
		}
		var keys []note.Verifier
		if ov, err := o.Verified(now); err == nil {
			for _, w := range append(slices.Clone(ov.List.Witnesses), ptrSlice(ov.List.Witness)...) {
				if v, err := tlog.NewWitnessVerifier(w.VKey); err == nil {
					keys = append(keys, v)
				}
			}
		}
		add(o.ID+"/mirror/"+st.OriginHash+"/checkpoint", keys...)
		add(o.ID+"/witness/latest/"+st.OriginHash, keys...)
	}
	forks := map[string]bool{}
	for _, vw := range views {
		u := vw.url
		body, err := getSmall(ctx, hc, u)
		if err != nil {
			slog.Debug("no view of the log", "url", u, "err", err)
			continue // not every party keeps a view of every log
		}
		err = m.Compare(ctx, body, vw.keys...)
		slog.Debug("compared a view of the log", "url", u, "err", err)
		if mirror.IsFork(err) {
			subject := l.LogOrigin + " @ " + u
			forks[subject] = true
			mine, _ := m.Fetcher()(ctx, "checkpoint")
			s.alarm(ctx, p.ID, mirror.KindFork, subject, fmt.Sprintf("%s's log shows this mirror one history and %s another: %v", p.Name, u, err),
				evidence(map[string]any{"this_mirror": string(mine), "other_view": string(body), "other_view_url": u}), now)
		}
		if err == nil || mirror.IsFork(err) {
			st.Views++
		}
	}
	s.store.ResolveAlarms(ctx, p.ID, mirror.KindFork, forks, now)

	// The registry against the log.
	// Fresh: the mirror compares the registry with the log as an auditor
	// does, so it reads past the peer's caches (a row changed behind the
	// log's back would otherwise hide until an unrelated change).
	c, err := peer.New(p.ID, peer.Options{HTTPClient: hc, UserAgent: "hallmark-mirror", Fresh: true})
	if err != nil {
		return fail("%v", err)
	}
	var labels []mirror.RegistryLabel
	cursor := ""
	for offset := 0; offset < maxMirrorLabels; offset += mirrorPage {
		// By cursor, so a pass reads the registry in time linear in its
		// size; by offset from a peer that pages by offset only.
		var page peer.LabelPage
		if offset == 0 || cursor != "" {
			page, err = c.LabelsAfter(ctx, cursor, mirrorPage)
		} else {
			page, err = c.Labels(ctx, offset, mirrorPage)
		}
		if err != nil {
			return fail("reading its registry: %v", err)
		}
		cursor = page.Cursor
		for _, it := range page.Items {
			labels = append(labels, mirror.RegistryLabel{ID: it.ID, Status: it.Status, CredentialSHA: it.CredentialSHA,
				Manufacturer: clip(it.Manufacturer, 200), ModelNumber: clip(it.ModelNumber, 200), GTIN: clip(it.GTIN, 64), PURL: clip(it.PURL, 1000)})
		}
		if len(page.Items) == 0 || (cursor == "" && offset+len(page.Items) >= page.Total) {
			break
		}
	}
	st.Labels = len(labels)
	prior, err := s.store.MirrorLabels(ctx, p.ID)
	if err != nil {
		return fail("%v", err)
	}
	grace := s.cfg.MirrorGrace
	if grace == 0 {
		grace = DefaultMirrorGrace
	}
	latest := mirror.Latest(res.Entries)
	disagreements := mirror.CompareRegistry(res.Entries, labels)
	open := map[string]map[string]bool{}
	since := map[string]time.Time{}
	for _, d := range disagreements {
		mayBePending := d.Kind == mirror.KindStatus || d.Kind == mirror.KindUnlogged
		first := now
		if pr, ok := prior[d.Label]; ok && !pr.DisagreesSince.IsZero() {
			first = pr.DisagreesSince
		}
		if mayBePending {
			since[d.Label] = first
			if now.Sub(first) < grace {
				continue
			}
		}
		if open[d.Kind] == nil {
			open[d.Kind] = map[string]bool{}
		}
		open[d.Kind][d.Label] = true
		s.alarm(ctx, p.ID, d.Kind, d.Label, p.Name+": "+d.Summary, evidence(map[string]any{"registry_label": d.Label, "logged_decision": d.Logged,
			"log_checkpoint": string(res.Checkpoint), "disagrees_since": first}), now)
	}
	for _, k := range []string{mirror.KindStatus, mirror.KindUnlogged, mirror.KindMissing, mirror.KindCredential} {
		s.store.ResolveAlarms(ctx, p.ID, k, open[k], now)
	}
	st.Agree = len(disagreements) == 0

	// What changed since the last pass, and how long it took to get here:
	// from the decision (its time in the log) to this pass.
	var rows []store.MirrorLabel
	var props []store.Propagation
	for _, lb := range labels {
		rows = append(rows, store.MirrorLabel{LabelID: lb.ID, Status: lb.Status, CredentialSHA: lb.CredentialSHA, DisagreesSince: since[lb.ID], SeenAt: now,
			Manufacturer: lb.Manufacturer, ModelNumber: lb.ModelNumber, GTIN: lb.GTIN, PURL: lb.PURL})
		pr, seen := prior[lb.ID]
		if e, ok := latest[lb.ID]; seen && pr.Status != lb.Status && ok && e.Status == lb.Status {
			props = append(props, store.Propagation{LabelID: lb.ID, Status: lb.Status, DecidedAt: e.At, SeenAt: now})
		}
	}
	if err := s.store.SaveMirror(ctx, p.ID, rows, props); err != nil {
		return fail("saving the mirrored registry: %v", err)
	}
	return st
}

func ptrSlice[T any](p *T) []T {
	if p == nil {
		return nil
	}
	return []T{*p}
}

func listVerifiers(l *trustlist.List) (note.Verifiers, error) {
	var vs []note.Verifier
	for _, k := range l.LogVerifiers {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("log key %q: %v", k, err)
		}
		vs = append(vs, v)
	}
	for _, w := range l.Witnesses {
		if v, err := tlog.NewWitnessVerifier(w.VKey); err == nil {
			vs = append(vs, v)
		}
	}
	return note.VerifierList(vs...), nil
}

func evidence(v map[string]any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	if len(b) > maxAlarmEvidence {
		b = b[:maxAlarmEvidence]
	}
	return string(b)
}

func (s *Server) alarm(ctx context.Context, peerID, kind, subject, summary, ev string, now time.Time) {
	if _, err := s.store.RaiseAlarm(ctx, store.Alarm{Peer: peerID, Kind: kind, Subject: subject, Summary: summary, Evidence: ev}, now); err != nil {
		logWarn("recording a federation alarm", err)
	}
}

func logWarn(what string, err error) { slog.Warn(what, "err", err) }

// getSmall fetches a checkpoint-sized document (at most 64 KiB).
func getSmall(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	if _, err := peer.Origin(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 64<<10 {
		return nil, errors.New("checkpoint too large")
	}
	return b, nil
}

// Alarms are the federation alarms, open first.
func (s *Server) Alarms(ctx context.Context, limit int) ([]store.Alarm, error) {
	return s.store.Alarms(ctx, limit)
}

// MirroredLabel is a peer's label as this instance's mirror last saw it.
func (s *Server) MirroredLabel(ctx context.Context, id string) (store.MirrorLabel, error) {
	return s.store.MirrorLabel(ctx, id)
}

// Propagation is the propagation indicator: how long peers' status
// changes took to reach this instance's mirror, over the latest samples.
type Propagation struct {
	Samples int           `json:"samples"`
	P50     time.Duration `json:"p50_ns"`
	P99     time.Duration `json:"p99_ns"`
	Max     time.Duration `json:"max_ns"`
	Latest  []store.Propagation
}

// PropagationIndicator summarises the latest samples.
func (s *Server) PropagationIndicator(ctx context.Context) (Propagation, error) {
	ps, err := s.store.Propagations(ctx, propagationSamples)
	if err != nil {
		return Propagation{}, err
	}
	var ds []time.Duration
	for _, p := range ps {
		ds = append(ds, max(p.SeenAt.Sub(p.DecidedAt), 0))
	}
	slices.Sort(ds)
	out := Propagation{Samples: len(ds), Latest: ps[:min(len(ps), 20)]}
	if len(ds) > 0 {
		out.P50, out.P99, out.Max = Quantile(ds, 0.50), Quantile(ds, 0.99), ds[len(ds)-1]
	}
	return out, nil
}

// Quantile is the nearest-rank q-quantile of sorted durations.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// RunMirrors runs a mirror pass every interval until ctx ends.
func (s *Server) RunMirrors(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.MirrorPeers(ctx); err != nil && !errors.Is(err, context.Canceled) {
			logWarn("mirroring peers", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// IsMirrorPath says whether p (after /mirror/) names a mirrored log
// resource: an origin hash, then checkpoint or a tile path.
func IsMirrorPath(p string) (hash, rest string, ok bool) {
	hash, rest, ok = strings.Cut(p, "/")
	if !ok || !mirror.ValidHash(hash) || !fs.ValidPath(rest) || (rest != "checkpoint" && !strings.HasPrefix(rest, "tile/")) {
		return "", "", false
	}
	return hash, rest, true
}

// LinkedLabels are the peers' labels for the same product as this
// instance's label id (same GTIN, PURL, or manufacturer and model
// number), as the mirrors last saw them.
func (s *Server) LinkedLabels(ctx context.Context, id string) ([]store.MirrorLabel, error) {
	l, err := s.store.Label(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.store.LinkedMirrorLabels(ctx, l.Manufacturer, l.ModelNumber, l.GTIN, l.PURL, 100)
}

// LinkedSuspensions are this instance's labels whose product a peer has
// suspended or revoked.
func (s *Server) LinkedSuspensions(ctx context.Context) ([]store.LinkedSuspension, error) {
	return s.store.LinkedSuspensions(ctx, 200)
}
