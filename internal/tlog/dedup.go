package tlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
)

// dedupFile is the persistent dedup index, kept in Tessera's private .state
// directory: one 32-byte SHA-256 of the entry bytes per log entry, in index
// order, so record i names entry i and no index needs storing.
const dedupFile = ".state/hallmark-dedup"

// dedupIndex is a persistent tessera.Antispam: it maps the SHA-256 of every
// entry in the log to the index it first got.
//
// Why not Tessera's own: its persistent antispam for POSIX needs BadgerDB, a
// module this project does not carry, and its in-memory layer forgets
// everything at restart, which would break idempotent re-appends after a
// crash. This one plugs into the same hooks (WithAntispam: a Decorator in
// front of Add and a Follower tailing the log) and is exact, not best-effort:
//   - the follower rebuilds the index from the log's own entry bundles, so the
//     log stays the source of truth; a lost, stale or torn index file is just
//     re-derived;
//   - Open waits until the follower has caught up with the integrated tree
//     before accepting appends;
//   - entries appended since are remembered the moment their index resolves,
//     before the follower persists them.
//
// It assumes one process appends to a log directory at a time.
type dedupIndex struct {
	path string

	mu      sync.Mutex
	f       *os.File
	seen    map[[32]byte]uint64 // persisted and followed entries
	pending map[[32]byte]uint64 // resolved by Add, not yet followed
	n       uint64              // entries followed (= records in the file)
	checked bool                // the file's tail was checked against the log
	err     error               // the follower's last failure, for Open
	kick    chan struct{}
}

func openDedup(path string) (*dedupIndex, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dedup index: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dedup index: %w", err)
	}
	d := &dedupIndex{path: path, f: f, seen: map[[32]byte]uint64{}, pending: map[[32]byte]uint64{}, kick: make(chan struct{}, 1)}
	// A crash mid-write can leave a torn last record: drop it, the follower
	// re-derives it from the log.
	whole := len(b) / sha256.Size * sha256.Size
	if whole != len(b) {
		if err := f.Truncate(int64(whole)); err != nil {
			f.Close()
			return nil, fmt.Errorf("dedup index: %w", err)
		}
	}
	for i := 0; i < whole; i += sha256.Size {
		k := [32]byte(b[i : i+sha256.Size])
		if _, ok := d.seen[k]; !ok {
			d.seen[k] = uint64(i / sha256.Size)
		}
	}
	d.n = uint64(whole / sha256.Size)
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("dedup index: %w", err)
	}
	return d, nil
}

func (d *dedupIndex) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

func (d *dedupIndex) lookup(id []byte) (uint64, bool) {
	if len(id) != sha256.Size {
		return 0, false
	}
	k := [32]byte(id)
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, ok := d.seen[k]; ok {
		return i, true
	}
	i, ok := d.pending[k]
	return i, ok
}

// Decorator implements tessera.Antispam.
func (d *dedupIndex) Decorator() func(tessera.AddFn) tessera.AddFn {
	return func(next tessera.AddFn) tessera.AddFn {
		return func(ctx context.Context, e *tessera.Entry) tessera.IndexFuture {
			if i, ok := d.lookup(e.Identity()); ok {
				return func() (tessera.Index, error) { return tessera.Index{Index: i, IsDup: true}, nil }
			}
			f := next(ctx, e)
			return func() (tessera.Index, error) {
				idx, err := f()
				if err == nil && !idx.IsDup && len(e.Identity()) == sha256.Size {
					d.mu.Lock()
					k := [32]byte(e.Identity())
					if _, ok := d.seen[k]; !ok && idx.Index >= d.n {
						d.pending[k] = idx.Index
					}
					d.mu.Unlock()
					d.wake()
				}
				return idx, err
			}
		}
	}
}

// Follower implements tessera.Antispam; hasher gives the identity hashes
// (SHA-256 of each entry) of a bundle.
func (d *dedupIndex) Follower(hasher func([]byte) ([][]byte, error)) tessera.Follower {
	return &dedupFollower{d: d, hasher: hasher}
}

func (d *dedupIndex) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// processed is how many entries are indexed; nothing counts until the file
// has been checked against the log (ok).
func (d *dedupIndex) processed() (n uint64, ok bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.checked {
		return 0, false, d.err
	}
	return d.n, true, d.err
}

type dedupFollower struct {
	d      *dedupIndex
	hasher func([]byte) ([][]byte, error)
}

func (f *dedupFollower) Name() string { return "hallmark dedup index" }

func (f *dedupFollower) EntriesProcessed(context.Context) (uint64, error) {
	n, _, _ := f.d.processed()
	return n, nil
}

// Follow tails the integrated tree and records every new entry's hash.
func (f *dedupFollower) Follow(ctx context.Context, lr tessera.LogReader) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		err := f.catchUp(ctx, lr)
		f.d.mu.Lock()
		f.d.err = err
		f.d.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "tlog: dedup index follower", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.d.kick:
		}
	}
}

func (f *dedupFollower) catchUp(ctx context.Context, lr tessera.LogReader) error {
	size, err := lr.IntegratedSize(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing integrated yet
	}
	if err != nil {
		return err
	}
	if err := f.checkTail(ctx, lr, size); err != nil {
		return err
	}
	for {
		f.d.mu.Lock()
		from := f.d.n
		f.d.mu.Unlock()
		if from >= size {
			return nil
		}
		// Bounded chunks keep memory flat when rebuilding a large log. The
		// stream is given the real tree size, which decides the partial
		// bundle names, and is cut after n entries.
		n := min(size-from, 1<<14)
		ids := make([][]byte, 0, n)
		sizeFn := func(context.Context) (uint64, error) { return size, nil }
		for e, err := range client.Entries(client.EntryBundles(ctx, 2, sizeFn, lr.ReadEntryBundle, from, n), f.hasher) {
			if err != nil {
				return fmt.Errorf("reading entries from %d: %w", from, err)
			}
			if e.Index != from+uint64(len(ids)) {
				return fmt.Errorf("entry stream out of order at %d", e.Index)
			}
			ids = append(ids, e.Entry)
			if uint64(len(ids)) == n {
				break
			}
		}
		if err := f.d.record(from, ids); err != nil {
			return err
		}
	}
}

// checkTail makes sure, once per open, that the index file describes this
// log: if the tree was replaced or rolled back, the index is rebuilt.
func (f *dedupFollower) checkTail(ctx context.Context, lr tessera.LogReader, size uint64) error {
	f.d.mu.Lock()
	n, checked := f.d.n, f.d.checked
	f.d.mu.Unlock()
	if checked {
		return nil
	}
	ok := n <= size
	if ok && n > 0 {
		sizeFn := func(context.Context) (uint64, error) { return size, nil }
		ok = false
		for e, err := range client.Entries(client.EntryBundles(ctx, 1, sizeFn, lr.ReadEntryBundle, n-1, 1), f.hasher) {
			if err != nil {
				return fmt.Errorf("reading entry %d: %w", n-1, err)
			}
			f.d.mu.Lock()
			i, found := f.d.seen[[32]byte(e.Entry)]
			f.d.mu.Unlock()
			ok = found && i <= n-1
			break
		}
	}
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if f.d.f == nil {
		return errors.New("dedup index closed")
	}
	if !ok {
		slog.WarnContext(ctx, "tlog: dedup index does not match the log; rebuilding it", "path", f.d.path, "indexed", n, "size", size)
		if err := f.d.f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.d.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		f.d.seen = map[[32]byte]uint64{}
		f.d.n = 0
	}
	f.d.checked = true
	return nil
}

// record appends the identities of entries [from, from+len(ids)) durably.
func (d *dedupIndex) record(from uint64, ids [][]byte) error {
	var buf bytes.Buffer
	for _, id := range ids {
		if len(id) != sha256.Size {
			return fmt.Errorf("identity hash of %d bytes", len(id))
		}
		buf.Write(id)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return errors.New("dedup index closed")
	}
	if d.n != from {
		return fmt.Errorf("dedup index at %d, asked to record from %d", d.n, from)
	}
	if _, err := d.f.Write(buf.Bytes()); err != nil {
		// Cut any partial write so later records stay aligned with indexes.
		_ = d.f.Truncate(int64(d.n) * sha256.Size)
		_, _ = d.f.Seek(0, io.SeekEnd)
		return fmt.Errorf("dedup index: %w", err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("dedup index: %w", err)
	}
	for i, id := range ids {
		k := [32]byte(id)
		if _, ok := d.seen[k]; !ok {
			d.seen[k] = from + uint64(i)
		}
		delete(d.pending, k)
	}
	d.n = from + uint64(len(ids))
	return nil
}
