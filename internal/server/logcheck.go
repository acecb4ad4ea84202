package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/hallmark-iot/hallmark/internal/backup"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// ErrDecisionsHeld is the cause of every decision refused while the
// database is behind the transparency log (see holdIfBehindLog); its message
// says what is missing and what to do.
var ErrDecisionsHeld = errors.New("decisions are held: the database is behind the transparency log")

// HeldNotice is what users are told when a decision is refused for
// ErrDecisionsHeld; the operator's log has the details.
const HeldNotice = "New decisions are refused for now: this instance's database is behind its transparency log " +
	"(it was restored from an older backup), and its operator has been told what is missing. Nothing was changed; " +
	"labels, pages and the log are still served."

// maxGapScan bounds the log entries past the database's last receipt that
// the start-up check reads: the outbox leaves at most a few rounds
// appended but not yet receipted, so a longer tail is a gap anyway.
const maxGapScan = 100_000

type heldError struct{ gap backup.Gap }

func (e heldError) Error() string { return e.gap.Error() }
func (e heldError) Unwrap() error { return ErrDecisionsHeld }

// holdIfBehindLog compares the database with the transparency log on disk before
// anything is decided: every entry past the database's last receipt must
// be a decision the database holds (pending, or receipted). A database
// restored from an older backup fails this — its decision ids and
// status-list positions would be given out again, and a label the log
// says is revoked would be served as valid — and the server then holds
// every decision until the database is replaced, serving reads only.
func (s *Server) holdIfBehindLog(ctx context.Context) error {
	gap, err := CompareWithLog(ctx, s.store, s.cfg.DataDir)
	if err != nil {
		return err
	}
	if gap.OK() {
		s.held.Store(nil)
		return nil
	}
	s.held.Store(&gap)
	slog.Error("new decisions are refused", "why", gap.Error())
	return nil
}

// CompareWithLog compares the database with the transparency log kept in
// the data directory dataDir: every entry past the database's last receipt
// must be a decision the database holds.
func CompareWithLog(ctx context.Context, st *store.Store, dataDir string) (backup.Gap, error) {
	fail := func(err error) (backup.Gap, error) {
		return backup.Gap{}, fmt.Errorf("compare the database with the transparency log: %w", err)
	}
	last, hasLast, err := st.LastLogged(ctx)
	if err != nil {
		return fail(err)
	}
	logDir := tlog.DirFetcher(filepath.Join(dataDir, "log"))
	vs, _, err := tlog.Verifiers(filepath.Join(dataDir, "logkeys"))
	var size uint64
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No log was ever kept in this data directory.
	case err != nil:
		return fail(err)
	default:
		cp, err := tlog.ReadCheckpoint(ctx, logDir, vs)
		switch {
		case errors.Is(err, tlog.ErrNoCheckpoint):
		case err != nil:
			return fail(err)
		default:
			size = cp.Size
		}
	}
	var from uint64
	if hasLast && uint64(last.LogIndex) < size {
		from = uint64(last.LogIndex) // the anchor: the database's newest receipt
	}
	to := min(size, from+maxGapScan)
	if hasLast && uint64(last.LogIndex) >= size {
		to = from
	}
	tail, err := tlog.ReadEntries(ctx, logDir, size, from, to)
	if err != nil {
		return fail(err)
	}
	ids := make([]int64, 0, len(tail))
	for _, e := range tail {
		if id, err := strconv.ParseInt(e.Ref, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	db, err := st.DecisionsByID(ctx, ids)
	if err != nil {
		return fail(err)
	}
	return backup.Compare(size, from, tail, size-to, last, hasLast, db), nil
}

// DecisionsHeld is nil while the server may decide, or why it may not
// (wrapping ErrDecisionsHeld): for the start-up log and readiness checks.
func (s *Server) DecisionsHeld() error {
	if !s.IsWriter() {
		return notWriterError{}
	}
	if g := s.held.Load(); g != nil {
		return heldError{*g}
	}
	return nil
}
