package tlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// Snapshot copies the log read through src, as its current checkpoint
// describes it, into dst (which must not exist), while the log goes on
// growing: only the entries the checkpoint covers are copied, and the
// copy's tree is rebuilt from them and must hash to the checkpoint's
// root, so a snapshot is never torn. Tessera's migration does the copy;
// dst is then a log Open can append to (the dedup index is rebuilt at
// Open). It returns the checkpoint copied.
func Snapshot(ctx context.Context, src Fetcher, verifiers note.Verifiers, dst string) (Checkpoint, error) {
	cp, err := ReadCheckpoint(ctx, src, verifiers)
	if err != nil {
		return Checkpoint{}, err
	}
	if _, err := os.Stat(dst); err == nil {
		return Checkpoint{}, fmt.Errorf("tlog: snapshot: %s exists already", dst)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: snapshot: %w", err)
	}
	driver, err := posix.New(ctx, posix.Config{Path: dst})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: snapshot: %w", err)
	}
	mt, err := tessera.NewMigrationTarget(ctx, driver, tessera.NewMigrationOptions())
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: snapshot: %w", err)
	}
	bundle := func(ctx context.Context, index uint64, p uint8) ([]byte, error) {
		return bundleAt(ctx, src, index, p)
	}
	if err := mt.Migrate(ctx, 4, cp.Size, cp.Root, bundle); err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: snapshot of %d entries: %w", cp.Size, err)
	}
	if err := os.WriteFile(filepath.Join(dst, "checkpoint"), cp.Raw, 0o644); err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: snapshot: %w", err)
	}
	return cp, nil
}

// bundleAt reads entry bundle index as it was when it held p entries (0:
// full). Once a bundle fills up its partial files may be gone; the full
// bundle begins with the same entries, so it is cut down to p.
func bundleAt(ctx context.Context, f Fetcher, index uint64, p uint8) ([]byte, error) {
	b, err := f(ctx, layout.EntriesPath(index, p))
	if p == 0 || !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	full, err := f(ctx, layout.EntriesPath(index, 0))
	if err != nil {
		return nil, err
	}
	var eb api.EntryBundle
	if err := eb.UnmarshalText(full); err != nil {
		return nil, fmt.Errorf("%s does not parse as an entry bundle: %w", layout.EntriesPath(index, 0), err)
	}
	if len(eb.Entries) < int(p) {
		return nil, fmt.Errorf("%s holds %d entries, fewer than the %d it held before", layout.EntriesPath(index, 0), len(eb.Entries), p)
	}
	// The tlog-tiles bundle format: each entry as a big-endian uint16
	// length and its bytes.
	var out []byte
	for _, e := range eb.Entries[:p] {
		out = binary.BigEndian.AppendUint16(out, uint16(len(e)))
		out = append(out, e...)
	}
	return out, nil
}
