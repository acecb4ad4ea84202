// Package mirror keeps verified copies of peer authorities' transparency
// logs, laid out as C2SP tlog-mirror prescribes for reading: the tiles,
// entry bundles and checkpoint of each origin log under the SHA-256 of its
// origin, with the checkpoint cosigned by the mirror. It also compares what
// a peer's registry says with what its log says, and one view of a log
// with another (a witness's, another mirror's), which is how a peer that
// shows different parties different things is caught.
//
// Only files: no HTTP server, no SQL. The caller fetches.
package mirror

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	f_log "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// OriginHash is the directory and URL segment of an origin's mirror: the
// SHA-256 of the origin line, lowercase hex (C2SP tlog-mirror).
func OriginHash(origin string) string {
	sum := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(sum[:])
}

// Files in an origin's directory besides the log's own resources.
const (
	// upstreamFile is the origin's checkpoint as last verified, without
	// the mirror's cosignature: the consistency anchor of the next pass.
	upstreamFile = "upstream-checkpoint"
)

// Mirror is the mirror of one origin log.
type Mirror struct {
	Root      string         // the directory holding every origin's mirror
	Origin    string         // the log's origin line
	Verifiers note.Verifiers // the log's keys, and the witnesses' whose cosignatures are kept
	// Signer cosigns the mirrored checkpoint (a cosignature/v1 key).
	Signer note.Signer
	// MaxSize bounds the log a peer may ask this mirror to hold (default
	// DefaultMaxSize): a checkpoint claiming more is refused before any
	// tile is fetched.
	MaxSize uint64
	mu      sync.Mutex // one update at a time
}

// DefaultMaxSize is the largest log mirrored by default: an audit keeps
// every entry in memory (about 0.9 KiB each, see bench/README.md).
const DefaultMaxSize = 10_000_000

// Dir is where the origin's copy lives.
func (m *Mirror) Dir() string { return filepath.Join(m.Root, OriginHash(m.Origin)) }

// Result is what one update found.
type Result struct {
	Size     uint64
	Previous uint64 // the mirror's size before
	// Checkpoint is the upstream checkpoint verified; Served the one the
	// mirror now serves (with its cosignature).
	Checkpoint []byte
	Served     []byte
	Entries    []tlog.Entry
	// Problems are the log's own faults (a fork from the mirror's last
	// checkpoint, an altered tile): nothing was committed.
	Problems []string
	// Last is the checkpoint the mirror held when problems were found:
	// with Checkpoint, the evidence.
	Last []byte
}

// Update fetches the upstream log through fetch, audits it in full
// against the mirror's last checkpoint (tlog.Audit: consistency, every
// entry rehashed, every tile compared), and only then commits the new
// resources and the cosigned checkpoint. Resources the mirror already
// holds are read locally (full tiles never change), so a pass costs the
// new entries' download and one rehash of the tree.
func (m *Mirror) Update(ctx context.Context, fetch tlog.Fetcher) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := m.Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	last, err := os.ReadFile(filepath.Join(dir, upstreamFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Result{}, err
	}
	var res Result
	if len(last) > 0 {
		c, err := tlog.OpenCheckpoint(last, m.Verifiers, m.Origin)
		if err != nil {
			return Result{}, fmt.Errorf("the mirror's own last checkpoint of %s: %w", m.Origin, err)
		}
		res.Previous = c.Size
	}
	staging, err := os.MkdirTemp(m.Root, ".staging-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(staging)
	// The checkpoint first, once: its size bounds everything after, and the
	// audit then works on this very checkpoint.
	upstream, err := fetch(ctx, "checkpoint")
	if err != nil {
		return Result{}, fmt.Errorf("the log's checkpoint: %w", err)
	}
	if c, err := tlog.OpenCheckpoint(upstream, m.Verifiers, m.Origin); err == nil {
		limit := m.MaxSize
		if limit == 0 {
			limit = DefaultMaxSize
		}
		if c.Size > limit {
			return Result{}, fmt.Errorf("the log of %s claims %d entries, over this mirror's limit of %d: not mirrored", m.Origin, c.Size, limit)
		}
	}
	local := tlog.DirFetcher(dir)
	var mu sync.Mutex
	fetched := map[string]bool{} // a resource may be read twice (proofs, then the audit)
	layered := func(ctx context.Context, path string) ([]byte, error) {
		if path == "checkpoint" {
			return upstream, nil
		}
		if b, err := local(ctx, path); err == nil {
			return b, nil
		}
		b, err := fetch(ctx, path)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(staging, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		mu.Lock()
		fetched[path] = true
		mu.Unlock()
		return b, nil
	}
	rep, err := tlog.Audit(ctx, layered, m.Verifiers, m.Origin, last)
	if err != nil {
		return Result{}, err
	}
	res.Size, res.Checkpoint, res.Entries = rep.Size, rep.Checkpoint, rep.Entries
	if !rep.OK() {
		res.Problems, res.Last = rep.Problems, last
		return res, nil
	}
	// Commit: resources first, then the checkpoints that describe them, so
	// a crash leaves the old checkpoint over a superset of its resources.
	for p := range fetched {
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return Result{}, err
		}
		if err := os.Rename(filepath.Join(staging, filepath.FromSlash(p)), dst); err != nil {
			return Result{}, err
		}
	}
	served, err := m.cosign(rep.Checkpoint)
	if err != nil {
		return Result{}, err
	}
	if err := writeAtomic(filepath.Join(dir, "checkpoint"), served); err != nil {
		return Result{}, err
	}
	if err := writeAtomic(filepath.Join(dir, upstreamFile), rep.Checkpoint); err != nil {
		return Result{}, err
	}
	res.Served = served
	return res, nil
}

// cosign adds the mirror's cosignature to a verified checkpoint, keeping
// the signatures that verify (the log's, known witnesses').
func (m *Mirror) cosign(cp []byte) ([]byte, error) {
	n, err := note.Open(cp, m.Verifiers)
	if err != nil {
		return nil, err
	}
	if m.Signer == nil {
		return cp, nil
	}
	return note.Sign(n, m.Signer)
}

// Fetcher reads the mirror's copy, for serving and for proofs.
func (m *Mirror) Fetcher() tlog.Fetcher { return tlog.DirFetcher(m.Dir()) }

// Compare checks another party's checkpoint of the same log (a witness's
// latest cosigned one, another mirror's) against the mirror's copy; also
// are further keys that may vouch for the view. A
// view no larger than the mirror must be a prefix of it (proved from the
// mirror's tiles); a larger one is checked on a later pass, once the
// mirror has caught up. It returns an error describing a fork, nil when
// the views agree, and ErrAhead when the view cannot be checked yet.
func (m *Mirror) Compare(ctx context.Context, view []byte, also ...note.Verifier) error {
	// A witness keeps the checkpoint text with its own cosignature only:
	// any known signature vouches for a view (the log's, a witness's of the
	// log's policy, or also's: the witness of the party showing the view).
	vs := m.Verifiers
	if len(also) > 0 {
		vs = extraVerifiers{vs, note.VerifierList(also...)}
	}
	n, err := note.Open(view, vs)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadView, err)
	}
	var other f_log.Checkpoint
	if _, err := other.Unmarshal([]byte(n.Text)); err != nil || other.Origin != m.Origin {
		return fmt.Errorf("%w: not a checkpoint of %s", ErrBadView, m.Origin)
	}
	raw, err := os.ReadFile(filepath.Join(m.Dir(), upstreamFile))
	if err != nil {
		return fmt.Errorf("%w: the mirror holds no checkpoint yet", ErrAhead)
	}
	mine, err := tlog.OpenCheckpoint(raw, m.Verifiers, m.Origin)
	if err != nil {
		return err
	}
	if other.Size > mine.Size {
		return ErrAhead
	}
	return tlog.Consistent(ctx, m.Fetcher(), other.Size, other.Hash, mine.Size, mine.Root)
}

// extraVerifiers looks a key up in two sets.
type extraVerifiers [2]note.Verifiers

func (e extraVerifiers) Verifier(name string, hash uint32) (note.Verifier, error) {
	if v, err := e[0].Verifier(name, hash); err == nil {
		return v, nil
	}
	return e[1].Verifier(name, hash)
}

// Errors of Compare that are not forks.
var (
	ErrAhead   = errors.New("the other view is ahead of the mirror")
	ErrBadView = errors.New("the other view does not verify")
)

// IsFork says whether a Compare error is a fork.
func IsFork(err error) bool {
	return err != nil && !errors.Is(err, ErrAhead) && !errors.Is(err, ErrBadView)
}

func writeAtomic(path string, b []byte) error {
	var r [8]byte
	rand.Read(r[:])
	tmp := path + ".tmp-" + hex.EncodeToString(r[:])
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ValidHash says whether s is an origin hash (64 lowercase hex digits), so
// a URL segment can be a directory name.
func ValidHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
