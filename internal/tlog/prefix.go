package tlog

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// What indicators need from the log: the checkpoint a figure cites, and
// the first entries of the log up to it, proven to be the ones that
// checkpoint (or a later one) commits to, so a figure can be recomputed
// from the log itself.

// CheckpointInfo is a verified checkpoint: its log, size and root hash.
type CheckpointInfo struct {
	Origin string
	Size   uint64
	Root   []byte
}

// RootBase64 is the root hash as the checkpoint writes it.
func (c CheckpointInfo) RootBase64() string { return base64.StdEncoding.EncodeToString(c.Root) }

// VerifyCheckpoint verifies a checkpoint with the log's keys and reads it.
// The origin is the checkpoint's own first line; the signature must be by
// a key of that name.
func VerifyCheckpoint(cp []byte, verifiers note.Verifiers) (CheckpointInfo, error) {
	body, err := checkpointBody(cp)
	if err != nil {
		return CheckpointInfo{}, err
	}
	origin, _, _ := bytes.Cut([]byte(body), []byte("\n"))
	c, err := openCheckpoint(cp, verifiers, string(origin))
	if err != nil {
		return CheckpointInfo{}, err
	}
	return CheckpointInfo{Origin: c.Origin, Size: c.Size, Root: c.Hash}, nil
}

// PrefixEntries reads the log's first size entries through f and returns
// them parsed, with the Merkle root of those entries: the root a checkpoint
// of that size must carry. It fails if an entry is missing or does not
// parse; it does not itself check the root against anything.
func PrefixEntries(ctx context.Context, f Fetcher, size uint64) ([]Entry, []byte, error) {
	entries := make([]Entry, 0, size)
	tree := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for bi := uint64(0); bi*layout.EntryBundleWidth < size; bi++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		first := bi * layout.EntryBundleWidth
		want := min(size-first, layout.EntryBundleWidth)
		p := layout.PartialTileSize(0, bi, size)
		raw, path, err := fetchPartialOrFull(ctx, f, layout.EntriesPath(bi, p), layout.EntriesPath(bi, 0))
		if err != nil {
			return nil, nil, fmt.Errorf("tlog: entries %d to %d: %w", first, first+want-1, err)
		}
		var eb api.EntryBundle
		if err := eb.UnmarshalText(raw); err != nil {
			return nil, nil, fmt.Errorf("tlog: %s does not parse as an entry bundle: %w", path, err)
		}
		if uint64(len(eb.Entries)) < want {
			return nil, nil, fmt.Errorf("tlog: %s holds %d entries, want %d", path, len(eb.Entries), want)
		}
		for i, raw := range eb.Entries[:want] {
			if err := tree.Append(rfc6962.DefaultHasher.HashLeaf(raw), nil); err != nil {
				return nil, nil, err
			}
			e, err := ParseEntry(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("tlog: entry %d: %w", first+uint64(i), err)
			}
			entries = append(entries, e)
		}
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if size > 0 {
		var err error
		if root, err = tree.GetRootHash(nil); err != nil {
			return nil, nil, err
		}
	}
	return entries, root, nil
}

// ConsistentWith checks that a log of size with root is a prefix of the
// log cp describes (a verified checkpoint): the same root when the sizes
// match, else a consistency proof built from f's tiles.
func ConsistentWith(ctx context.Context, f Fetcher, size uint64, root []byte, cp CheckpointInfo) error {
	switch {
	case size > cp.Size:
		return fmt.Errorf("tlog: size %d is beyond the log's checkpoint (size %d)", size, cp.Size)
	case size == cp.Size:
		if !bytes.Equal(root, cp.Root) {
			return fmt.Errorf("tlog: the root at size %d differs from the checkpoint's: another history", size)
		}
		return nil
	case size == 0:
		return nil
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, tileFetcher(f))
	if err != nil {
		return fmt.Errorf("tlog: consistency proof: %w", err)
	}
	p, err := pb.ConsistencyProof(ctx, size, cp.Size)
	if err != nil {
		return fmt.Errorf("tlog: consistency proof from %d to %d: %w", size, cp.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size, cp.Size, p, root, cp.Root); err != nil {
		return fmt.Errorf("tlog: the log at size %d with that root is not a prefix of the checkpoint's log (size %d): %w", size, cp.Size, err)
	}
	return nil
}
