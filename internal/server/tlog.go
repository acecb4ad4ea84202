package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"
)

// decisionLog is the authority's transparency log and what verifiers need
// to check it.
type decisionLog struct {
	log       *tlog.Log
	origin    string
	verifiers []string // note verifier keys, newest last; old ones verify old checkpoints
	flush     sync.Mutex
	wake      chan struct{} // a decision was committed
	stop      context.CancelFunc
	done      chan struct{} // closed when the logger has stopped
	health    logHealth     // the logger's last rounds, for readiness
}

// LogOrigin names the log in its checkpoints: the public host and /log.
func LogOrigin(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return "hallmark.invalid/log"
	}
	return u.Host + "/log"
}

func (s *Server) openLog(ctx context.Context) error {
	// Tessera logs through klog; send that to our structured log. (In a
	// cluster startCluster does it, before anything logs: klog's logger is
	// global, and a promoted instance opens its log while others log.)
	if !s.cl.on {
		klog.SetSlogLogger(slog.Default())
	}
	origin := LogOrigin(s.cfg.PublicURL)
	keyDir := filepath.Join(s.cfg.DataDir, "logkeys")
	signer, _, err := tlog.LoadOrCreateSigner(keyDir, origin)
	if err != nil {
		return fmt.Errorf("log signing key: %w", err)
	}
	_, vkeys, err := tlog.Verifiers(keyDir)
	if err != nil {
		return err
	}
	l, err := tlog.Open(ctx, filepath.Join(s.cfg.DataDir, "log"), signer, tlog.Options{Witnesses: s.cfg.Witnesses, CheckpointInterval: s.cfg.LogCheckpointInterval,
		PublishTimeout: s.cfg.LogPublishTimeout})
	if err != nil {
		return fmt.Errorf("open the transparency log: %w", err)
	}
	s.tlogPtr.Store(&decisionLog{log: l, origin: origin, verifiers: vkeys, wake: make(chan struct{}, 1), done: make(chan struct{})})
	return nil
}

// LogOrigin is the log's origin line; LogVerifiers its public keys.
func (s *Server) LogOrigin() string {
	if d := s.dlog(); d != nil {
		return d.origin
	}
	if s.cl.on { // a reader serves the writer's log
		return s.cl.origin
	}
	return ""
}

// LogVerifiers are the log's note verifier keys.
func (s *Server) LogVerifiers() []string {
	if d := s.dlog(); d != nil {
		return d.verifiers
	}
	return s.cl.verifier
}

// LogDir is the directory of the log's public files (checkpoint, tiles).
func (s *Server) LogDir() string {
	if d := s.dlog(); d != nil {
		return d.log.Dir()
	}
	if s.cl.on { // the data directory the instances share
		return filepath.Join(s.cfg.DataDir, "log")
	}
	return ""
}

// entryFor turns an outbox row into the log entry: hashes and identifiers
// only, and the row id, which makes every entry unique (so a retried
// append is recognised as the same entry).
func (s *Server) entryFor(d registry.Decision) tlog.Entry {
	return tlog.Entry{Version: 1, Kind: d.Kind, Authority: s.LogOrigin(), Subject: d.Subject, Digest: d.Digest, Status: d.Status,
		StatusIndex: d.StatusIndex, Reason: d.ReasonHash, At: d.At, Ref: fmt.Sprint(d.ID)}
}

// flushBatch is how many pending decisions one round appends together:
// Tessera sequences them in shared batches and one checkpoint covers them,
// so a backlog is logged at the sequencer's pace.
const flushBatch = 16384

// FlushDecisions appends every pending decision to the log, waits until
// each is covered by a published checkpoint, and stores its receipt. It is
// safe to call again after a crash at any point: the log recognises an
// entry it already holds and returns its index. Decisions are acknowledged
// before this runs (the outbox row is durable); the logger goroutine calls
// it behind them.
func (s *Server) FlushDecisions(ctx context.Context) (int, error) {
	if s.dlog() == nil {
		return 0, nil // no log here: decisions wait for a server that has one
	}
	s.dlog().flush.Lock()
	defer s.dlog().flush.Unlock()
	total := 0
	for {
		pending, err := s.store.PendingDecisions(ctx, flushBatch)
		if err != nil || len(pending) == 0 {
			return total, err
		}
		entries := make([][]byte, len(pending))
		for i, d := range pending {
			entries[i] = s.entryFor(d).Marshal()
		}
		receipts, errs := s.dlog().log.AppendMany(ctx, entries)
		results := make([]store.Logged, len(pending))
		for i, d := range pending {
			results[i] = store.Logged{ID: d.ID, Index: int64(receipts[i].Index), Receipt: string(receipts[i].Marshal())}
		}
		// Store the receipts of every entry that made it, in one
		// transaction, even if others failed: they are in the log.
		var ok []store.Logged
		var firstErr error
		for i, d := range pending {
			if errs[i] != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("append decision %d to the log: %w", d.ID, errs[i])
				}
				continue
			}
			ok = append(ok, results[i])
		}
		if err := s.store.MarkLogged(ctx, ok); err != nil {
			return total, err
		}
		total += len(ok)
		if firstErr != nil {
			return total, firstErr
		}
	}
}

// notifyLog wakes the logger: a decision has just been committed.
func (s *Server) notifyLog() {
	if s.dlog() == nil {
		return
	}
	select {
	case s.dlog().wake <- struct{}{}:
	default: // already woken; it will see this decision too
	}
}

// runLogger appends pending decisions to the log behind the requests that
// made them, until ctx ends: woken by each decision, and on a timer for
// whatever an earlier round could not log (a witness down), the timer
// backing off while the log cannot publish.
func (s *Server) runLogger(ctx context.Context) {
	defer close(s.dlog().done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var retryAt time.Time
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.dlog().wake: // a new decision: always try
		case <-tick.C:
			if time.Now().Before(retryAt) {
				continue
			}
		}
		n, err := s.FlushDecisions(ctx)
		s.dlog().health.note(err, ctx.Err() != nil)
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			retryAt = time.Now().Add(min(time.Duration(1<<min(failures, 5))*time.Second, 30*time.Second))
			slog.Warn("decisions not yet in the transparency log; they stay pending and are retried", "logged", n, "err", err)
		case err == nil:
			failures, retryAt = 0, time.Time{}
		}
	}
}

// WaitLogged waits until every decision committed so far is in the log
// with its receipt, or ctx ends. Tests and command-line tools use it; the
// server itself never waits.
func (s *Server) WaitLogged(ctx context.Context) error {
	if s.dlog() == nil {
		return errors.New("this instance has no transparency log")
	}
	for {
		n, err := s.store.PendingCount(ctx)
		if err != nil || n == 0 {
			return err
		}
		s.notifyLog()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d decision(s) still pending: %w", n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Receipts returns the logged decisions about a subject (a label id) with
// their receipts, oldest first.
func (s *Server) Receipts(ctx context.Context, subject string) ([]registry.Decision, error) {
	return s.store.Decisions(ctx, subject)
}

// EntryBytes is the exact log entry of a decision, for receipt checks.
func (s *Server) EntryBytes(d registry.Decision) []byte { return s.entryFor(d).Marshal() }

// Close stops the webhook sender and shuts the log down cleanly.
func (s *Server) Close(ctx context.Context) error {
	s.stopCluster()
	s.stopSender()
	// The writer role is given up last: the log is closed first.
	defer s.closeCluster()
	if s.dlog() == nil {
		return nil
	}
	if s.dlog().stop != nil {
		s.dlog().stop()
		<-s.dlog().done
	}
	return s.dlog().log.Close(ctx)
}

// startLogger runs the logger until Close.
func (s *Server) startLogger() {
	if s.dlog() == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.dlog().stop = cancel
	go s.runLogger(ctx)
	s.notifyLog() // whatever a crash left pending
}

// isLogPath admits the log's public files and nothing else from its directory.
func IsLogPath(p string) bool {
	if p == "checkpoint" {
		return true
	}
	return strings.HasPrefix(p, "tile/") && !strings.Contains(p, "..")
}

// logKeys records each label-signing key in the log once: added when first
// seen, retired when it stops signing. Verifiers can then tell which keys
// were legitimately in use when.
func (s *Server) logKeys(ctx context.Context) error {
	for _, k := range s.keys.Keys() {
		pub := k.Public()
		sum := sha256.Sum256(pub.Key)
		digest := hex.EncodeToString(sum[:])
		have, err := s.store.Decisions(ctx, "key:"+k.KID)
		if err != nil {
			return err
		}
		added, retired, compromised := false, false, false
		for _, d := range have {
			added = added || d.Kind == "key.added"
			retired = retired || d.Kind == "key.retired"
			// A compromise moved earlier is a new decision.
			compromised = compromised || d.Kind == tlog.KindKeyCompromised && d.At.Equal(k.CompromisedAt)
		}
		if !added {
			if err := s.store.RecordDecision(ctx, registry.Decision{Kind: "key.added", Subject: "key:" + k.KID, Digest: digest, StatusIndex: -1, At: k.Created}); err != nil {
				return err
			}
		}
		if k.Retired() && !retired {
			if err := s.store.RecordDecision(ctx, registry.Decision{Kind: "key.retired", Subject: "key:" + k.KID, Digest: digest, StatusIndex: -1, At: k.RetiredAt}); err != nil {
				return err
			}
		}
		if !k.CompromisedAt.IsZero() && !compromised {
			if err := s.store.RecordDecision(ctx, registry.Decision{Kind: tlog.KindKeyCompromised, Subject: "key:" + k.KID, Digest: digest, StatusIndex: -1, At: k.CompromisedAt}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Witness is this instance acting as a witness for peer authorities' logs,
// or nil when it witnesses none.
func (s *Server) Witness() *tlog.Witness { return s.witness }

// WitnessKey is the verifier key of this instance's witness cosignatures.
func (s *Server) WitnessKey() string { return s.witnessKey }

func (s *Server) openWitness() error {
	if len(s.cfg.WitnessFor) == 0 {
		return nil
	}
	logs := map[string]note.Verifier{}
	for origin, vkey := range s.cfg.WitnessFor {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return fmt.Errorf("witness for %s: the log's verifier key: %w", origin, err)
		}
		if v.Name() != origin {
			return fmt.Errorf("witness for %s: the verifier key is for %q", origin, v.Name())
		}
		logs[origin] = v
	}
	name := strings.TrimSuffix(LogOrigin(s.cfg.PublicURL), "/log") + "/witness"
	signer, vkey, err := tlog.LoadOrCreateWitnessSigner(filepath.Join(s.cfg.DataDir, "witnesskey"), name)
	if err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	w, err := tlog.NewWitness(filepath.Join(s.cfg.DataDir, "witness"), signer, logs)
	if err != nil {
		return err
	}
	s.witness, s.witnessKey = w, vkey
	return nil
}

// WatchEvery is how often Maintain runs the post-market watch's rules over
// every finding: remediation clocks run out between advisories too.
const WatchEvery = time.Hour

// Maintain runs the periodic work until ctx ends: labels past their
// validity expire, and the watch judges every finding again. (Pending
// decisions are the logger's: see runLogger.)
func (s *Server) Maintain(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var lastWatch, lastReports time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.DecisionsHeld() != nil {
				continue // said at start-up; nothing here may decide
			}
			if n, err := s.ExpireDue(ctx); err != nil {
				slog.Warn("expiring labels", "err", err)
			} else if n > 0 {
				slog.Info("labels expired", "count", n)
			}
			if time.Since(lastReports) >= 24*time.Hour {
				// Last month's transparency reports, once the month is over.
				lastReports = time.Now()
				s.publishDueReports(ctx)
			}
			if time.Since(lastWatch) >= WatchEvery {
				lastWatch = time.Now()
				run, err := s.runWatch(ctx, []string{}, IngestOptions{})
				switch {
				case err != nil:
					slog.Warn("post-market watch", "err", err)
				case run.Suspended+run.Restored+run.Revoked+run.Expired > 0 || run.Held:
					slog.Info("post-market watch", "suspended", run.Suspended, "restored", run.Restored, "revoked", run.Revoked, "expired", run.Expired, "held", run.Why)
				}
			}
		}
	}
}
