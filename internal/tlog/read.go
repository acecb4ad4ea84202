package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a log's checkpoint whose signature verified.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	Raw    []byte
}

// ErrNoCheckpoint means the log has published no checkpoint yet (a log
// never opened, or one that has not integrated anything).
var ErrNoCheckpoint = errors.New("the log has no checkpoint")

// ReadCheckpoint reads a log's checkpoint through f and verifies it: the
// origin is the one its first line names, and a key of that name among
// verifiers must have signed it.
func ReadCheckpoint(ctx context.Context, f Fetcher, verifiers note.Verifiers) (Checkpoint, error) {
	raw, err := f(ctx, "checkpoint")
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, ErrNoCheckpoint
	}
	if err != nil {
		return Checkpoint{}, err
	}
	origin, _, _ := bytes.Cut(raw, []byte("\n"))
	c, err := openCheckpoint(raw, verifiers, string(origin))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: the log's %v", err)
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Hash, Raw: raw}, nil
}

// ReadEntries reads and parses entries [from, to) of a log of the given
// size (to <= size) through f. Reading does not check the entries against
// the tree: Audit does that; this is for comparing a log with what a
// database says it holds.
func ReadEntries(ctx context.Context, f Fetcher, size, from, to uint64) ([]Entry, error) {
	if from > to || to > size {
		return nil, fmt.Errorf("tlog: entries [%d, %d) are not in a log of size %d", from, to, size)
	}
	out := make([]Entry, 0, to-from)
	for bi := from / layout.EntryBundleWidth; bi*layout.EntryBundleWidth < to; bi++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		first := bi * layout.EntryBundleWidth
		p := layout.PartialTileSize(0, bi, size)
		raw, path, err := fetchPartialOrFull(ctx, f, layout.EntriesPath(bi, p), layout.EntriesPath(bi, 0))
		if err != nil {
			return nil, fmt.Errorf("tlog: entries %d to %d: %w", first, min(first+layout.EntryBundleWidth, size)-1, err)
		}
		var eb api.EntryBundle
		if err := eb.UnmarshalText(raw); err != nil {
			return nil, fmt.Errorf("tlog: %s does not parse as an entry bundle: %w", path, err)
		}
		for i, b := range eb.Entries {
			idx := first + uint64(i)
			if idx < from {
				continue
			}
			if idx >= to {
				break
			}
			e, err := ParseEntry(b)
			if err != nil {
				return nil, fmt.Errorf("tlog: entry %d: %w", idx, err)
			}
			out = append(out, e)
		}
		if want := min(to, first+layout.EntryBundleWidth); first+uint64(len(eb.Entries)) < want {
			return nil, fmt.Errorf("tlog: %s holds %d entries, want at least %d", path, len(eb.Entries), want-first)
		}
	}
	return out, nil
}
