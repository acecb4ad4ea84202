package tlog

import (
	"bytes"
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// Consistent checks that a tree of size small with root smallRoot is a
// prefix of the tree of size large with root largeRoot, proving it from
// the larger tree's tiles read through f: what tells one view of a log
// from a fork of it.
func Consistent(ctx context.Context, f Fetcher, small uint64, smallRoot []byte, large uint64, largeRoot []byte) error {
	switch {
	case small > large:
		return fmt.Errorf("tlog: consistency: size %d is above %d", small, large)
	case small == large:
		if !bytes.Equal(smallRoot, largeRoot) {
			return fmt.Errorf("tlog: two checkpoints of size %d with different roots: a fork", small)
		}
		return nil
	case small == 0:
		return nil
	}
	pb, err := client.NewProofBuilder(ctx, large, tileFetcher(f))
	if err != nil {
		return fmt.Errorf("tlog: consistency: %w", err)
	}
	p, err := pb.ConsistencyProof(ctx, small, large)
	if err != nil {
		return fmt.Errorf("tlog: consistency proof %d to %d: %w", small, large, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, small, large, p, smallRoot, largeRoot); err != nil {
		return fmt.Errorf("tlog: the checkpoint of size %d is not a prefix of the one of size %d: a fork", small, large)
	}
	return nil
}

// OpenCheckpoint verifies a checkpoint of log origin against verifiers
// (the log's key must have signed it) and returns it.
func OpenCheckpoint(cp []byte, verifiers note.Verifiers, origin string) (Checkpoint, error) {
	c, err := openCheckpoint(cp, verifiers, origin)
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Hash, Raw: cp}, nil
}
