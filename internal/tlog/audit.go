package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// Fetcher reads one resource of a tlog-tiles log by its path: "checkpoint",
// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]". A missing resource
// is an error wrapping fs.ErrNotExist.
type Fetcher func(ctx context.Context, path string) ([]byte, error)

// Size limits for fetched resources: a full entry bundle is at most 256
// entries of at most 64 KiB; everything else is small.
const (
	maxBundleBytes   = 256 * (2 + 1<<16)
	maxResourceBytes = 1 << 20
)

func resourceLimit(path string) int64 {
	if strings.HasPrefix(path, "tile/entries/") {
		return maxBundleBytes
	}
	return maxResourceBytes
}

// checkResourcePath keeps fetches inside the log: a server or a directory
// must never be asked for anything but log resources.
func checkResourcePath(path string) error {
	if !fs.ValidPath(path) || (path != "checkpoint" && !strings.HasPrefix(path, "tile/")) {
		return fmt.Errorf("tlog: %q is not a log resource path", path)
	}
	return nil
}

// HTTPFetcher reads a log served over HTTP under base (e.g.
// "https://hallmark.example/log"). A nil client means http.DefaultClient.
func HTTPFetcher(base string, c *http.Client) Fetcher {
	if c == nil {
		c = http.DefaultClient
	}
	base = strings.TrimRight(base, "/")
	return func(ctx context.Context, path string) ([]byte, error) {
		if err := checkResourcePath(path); err != nil {
			return nil, err
		}
		u := base + "/" + path
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("tlog: %w", err)
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("tlog: fetch %s: %w", u, err)
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusNotFound:
			return nil, fmt.Errorf("tlog: fetch %s: %w", u, fs.ErrNotExist)
		default:
			return nil, fmt.Errorf("tlog: fetch %s: %s", u, resp.Status)
		}
		return readLimited(resp.Body, resourceLimit(path), u)
	}
}

// DirFetcher reads a log from a local directory (a Log's Dir, or a mirror).
func DirFetcher(dir string) Fetcher {
	return func(ctx context.Context, path string) ([]byte, error) {
		if err := checkResourcePath(path); err != nil {
			return nil, err
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil {
			return nil, fmt.Errorf("tlog: %w", err)
		}
		defer f.Close()
		return readLimited(f, resourceLimit(path), path)
	}
}

func readLimited(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("tlog: read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("tlog: %s is larger than the %d-byte limit", name, limit)
	}
	return b, nil
}

// fetchPartialOrFull fetches a partial resource, falling back to the full
// one: once a tile or bundle fills up Tessera may remove the partial files,
// and the full resource begins with the same content.
func fetchPartialOrFull(ctx context.Context, f Fetcher, partial, full string) ([]byte, string, error) {
	b, err := f(ctx, partial)
	if partial != full && errors.Is(err, fs.ErrNotExist) {
		b, err = f(ctx, full)
		return b, full, err
	}
	return b, partial, err
}

// AuditReport is what Audit found. Entries[i] is entry i (the zero Entry if
// it could not be read or parsed). Problems are plain sentences naming the
// cause; an empty list means the log checks out.
type AuditReport struct {
	Size       uint64
	Root       []byte
	Checkpoint []byte
	Entries    []Entry
	Problems   []string
}

// OK reports whether the audit found no problem.
func (r AuditReport) OK() bool { return len(r.Problems) == 0 }

// Audit checks a whole log: the checkpoint's signature; if last (the latest
// checkpoint this auditor saw before) is given, that the log only grew from
// it; then it reads every entry bundle, recomputes the Merkle tree from the
// leaves and compares its root with the checkpoint's and every tile with the
// recomputed hashes, and checks that every entry parses.
//
// Findings about the log are Problems; the error is for when the audit could
// not run (no checkpoint reachable, a last checkpoint that does not verify,
// a cancelled ctx).
//
// Tessera's fsck does the tile recomputation too, but stops at the first
// difference and reports it as a hex dump; an auditor needs every finding,
// named, plus the entry and fork checks.
func Audit(ctx context.Context, f Fetcher, verifiers note.Verifiers, origin string, last []byte) (AuditReport, error) {
	var rep AuditReport
	problem := func(format string, a ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, a...)) }

	var lastCP *checkpointInfo
	if len(last) > 0 {
		c, err := openCheckpoint(last, verifiers, origin)
		if err != nil {
			return rep, fmt.Errorf("tlog: audit: the last checkpoint seen: %w", err)
		}
		lastCP = &checkpointInfo{size: c.Size, root: c.Hash}
	}
	cpRaw, err := f(ctx, "checkpoint")
	if err != nil {
		return rep, fmt.Errorf("tlog: audit: %w", err)
	}
	rep.Checkpoint = cpRaw
	cp, err := openCheckpoint(cpRaw, verifiers, origin)
	if err != nil {
		problem("the %v; nothing in the log can be trusted", err)
		return rep, nil
	}
	rep.Size, rep.Root = cp.Size, cp.Hash
	tiles := tileFetcher(f)

	if lastCP != nil {
		switch {
		case cp.Size < lastCP.size:
			problem("checkpoint is smaller than the last one seen (fork or rollback): size %d, last seen %d", cp.Size, lastCP.size)
		case cp.Size == lastCP.size && !bytes.Equal(cp.Hash, lastCP.root):
			problem("checkpoint has the same size (%d) as the last one seen but a different root (fork)", cp.Size)
		case cp.Size > lastCP.size && lastCP.size > 0:
			pb, err := client.NewProofBuilder(ctx, cp.Size, tiles)
			var p [][]byte
			if err == nil {
				p, err = pb.ConsistencyProof(ctx, lastCP.size, cp.Size)
			}
			if err != nil {
				problem("cannot build a consistency proof from the last checkpoint seen (size %d) to this one (size %d): %v", lastCP.size, cp.Size, err)
			} else if err := proof.VerifyConsistency(rfc6962.DefaultHasher, lastCP.size, cp.Size, p, lastCP.root, cp.Hash); err != nil {
				problem("checkpoint (size %d) is not consistent with the last one seen (size %d): the log was forked or its history rewritten", cp.Size, lastCP.size)
			}
		}
	}

	// Read every entry bundle and hash its entries.
	rep.Entries = make([]Entry, 0, cp.Size)
	leaves := make([][]byte, 0, cp.Size)
	unreadable := uint64(0)
	for bi := uint64(0); bi*layout.EntryBundleWidth < cp.Size; bi++ {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("tlog: audit: %w", err)
		}
		first := bi * layout.EntryBundleWidth
		want := min(cp.Size-first, layout.EntryBundleWidth)
		p := layout.PartialTileSize(0, bi, cp.Size)
		raw, path, err := fetchPartialOrFull(ctx, f, layout.EntriesPath(bi, p), layout.EntriesPath(bi, 0))
		var entries [][]byte
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problem("%s is missing (entries %d to %d)", layout.EntriesPath(bi, p), first, first+want-1)
		case err != nil:
			problem("%s cannot be read: %v", layout.EntriesPath(bi, p), err)
		default:
			var eb api.EntryBundle
			if err := eb.UnmarshalText(raw); err != nil {
				problem("%s does not parse as an entry bundle (truncated or altered): %v", path, err)
				break
			}
			switch n := uint64(len(eb.Entries)); {
			case n < want:
				problem("%s holds %d entries, want %d (truncated)", path, n, want)
			case n > want && path == layout.EntriesPath(bi, p):
				problem("%s holds %d entries, want %d (altered)", path, n, want)
			default:
				entries = eb.Entries[:want]
			}
		}
		for i := range want {
			idx := first + i
			if entries == nil {
				rep.Entries = append(rep.Entries, Entry{})
				leaves = append(leaves, nil)
				unreadable++
				continue
			}
			leaves = append(leaves, rfc6962.DefaultHasher.HashLeaf(entries[i]))
			e, err := ParseEntry(entries[i])
			if err != nil {
				problem("entry %d does not parse: %v", idx, strings.TrimPrefix(err.Error(), errEntryPrefix))
			}
			rep.Entries = append(rep.Entries, e)
		}
	}
	rep.Problems = append(rep.Problems, CheckReferences(rep.Entries)...)
	if unreadable > 0 {
		problem("cannot recompute the tree: %d of %d entries could not be read, so the checkpoint's root and the tiles are unchecked", unreadable, cp.Size)
		return rep, nil
	}

	// Recompute the tree, collecting the hashes each tile must hold: tile
	// level L holds the tree's level-8L nodes of full subtrees.
	want := map[[2]uint64][][]byte{}
	visit := func(id compact.NodeID, h []byte) {
		if id.Level%layout.TileHeight != 0 {
			return
		}
		k := [2]uint64{uint64(id.Level / layout.TileHeight), id.Index / layout.TileWidth}
		want[k] = append(want[k], h)
	}
	tree := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	var lastRoot []byte
	for i, l := range leaves {
		if lastCP != nil && uint64(i) == lastCP.size && lastCP.size > 0 && lastCP.size < cp.Size {
			lastRoot, _ = tree.GetRootHash(nil)
		}
		if err := tree.Append(l, visit); err != nil {
			return rep, fmt.Errorf("tlog: audit: %w", err)
		}
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if cp.Size > 0 {
		if root, err = tree.GetRootHash(nil); err != nil {
			return rep, fmt.Errorf("tlog: audit: %w", err)
		}
	}
	rootOK := bytes.Equal(root, cp.Hash)
	if !rootOK {
		problem("the Merkle root recomputed from the entries differs from the checkpoint's root: entries were altered, removed or reordered, or the checkpoint does not describe these entries")
	}
	if lastRoot != nil && rootOK && !bytes.Equal(lastRoot, lastCP.root) {
		problem("the entries up to the last checkpoint seen (size %d) do not hash to its root: the log's history was rewritten (fork)", lastCP.size)
	}

	// Compare every tile. When the root differs, the entries themselves are
	// suspect, so level-0 differences are reported per entry instead.
	for level := uint64(0); cp.Size>>(level*layout.TileHeight) > 0; level++ {
		for index := uint64(0); ; index++ {
			hs, ok := want[[2]uint64{level, index}]
			if !ok {
				break
			}
			p := layout.PartialTileSize(level, index, cp.Size)
			pp := layout.TilePath(level, index, p)
			raw, path, err := fetchPartialOrFull(ctx, f, pp, layout.TilePath(level, index, 0))
			if errors.Is(err, fs.ErrNotExist) {
				problem("%s is missing", pp)
				continue
			} else if err != nil {
				problem("%s cannot be read: %v", pp, err)
				continue
			}
			var t api.HashTile
			if err := t.UnmarshalText(raw); err != nil {
				problem("%s does not parse as a tile (truncated or altered): %v", path, err)
				continue
			}
			if len(t.Nodes) < len(hs) {
				problem("%s holds %d hashes, want %d (truncated)", path, len(t.Nodes), len(hs))
				continue
			}
			if len(t.Nodes) > len(hs) && path == pp {
				problem("%s holds %d hashes, want %d (altered)", path, len(t.Nodes), len(hs))
				continue
			}
			if !rootOK {
				if level == 0 {
					for i, h := range hs {
						if !bytes.Equal(h, t.Nodes[i]) {
							problem("entry %d (in %s) does not match its hash in %s: the entry was altered", index*layout.TileWidth+uint64(i), layout.EntriesPath(index, p), path)
						}
					}
				}
				continue
			}
			for i, h := range hs {
				if !bytes.Equal(h, t.Nodes[i]) {
					problem("%s level %d differs from the hashes recomputed from the entries", path, level)
					break
				}
			}
		}
	}
	return rep, nil
}

type checkpointInfo struct {
	size uint64
	root []byte
}

// tileFetcher adapts a Fetcher to Tessera's client, for proof building.
func tileFetcher(f Fetcher) client.TileFetcherFunc {
	return func(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
		b, _, err := fetchPartialOrFull(ctx, f, layout.TilePath(level, index, p), layout.TilePath(level, index, 0))
		return b, err
	}
}

// CheckReferences finds what must be unique in a log and is not: a
// decision id (Ref) logged for two different decisions, a label issued
// twice, a status-list index given to two labels. Each is what a database
// restored from an older backup produces once it decides again: its ids
// and indices start again from where the backup stood. Unparsed entries
// (the zero Entry) are skipped.
func CheckReferences(entries []Entry) []string {
	var problems []string
	refs := map[string]int{}
	issued := map[string]int{}
	indices := map[int]int{}
	for i, e := range entries {
		if e.Kind == "" {
			continue
		}
		if j, ok := refs[e.Ref]; ok {
			problems = append(problems, fmt.Sprintf("decision id %s is logged for two decisions (entries %d and %d, %s %s and %s %s): decision ids were reused, as when a database restored from an older backup decides again",
				e.Ref, j, i, entries[j].Kind, entries[j].Subject, e.Kind, e.Subject))
		} else {
			refs[e.Ref] = i
		}
		if e.Kind != KindLabelIssued {
			continue
		}
		if j, ok := issued[e.Subject]; ok {
			problems = append(problems, fmt.Sprintf("label %s is issued twice (entries %d and %d)", e.Subject, j, i))
		} else {
			issued[e.Subject] = i
		}
		if e.StatusIndex < 0 {
			continue
		}
		if j, ok := indices[e.StatusIndex]; ok && entries[j].Subject != e.Subject {
			problems = append(problems, fmt.Sprintf("status-list index %d is given to two labels, %s (entry %d) and %s (entry %d): a change to one would show on the other",
				e.StatusIndex, entries[j].Subject, j, e.Subject, i))
		} else if !ok {
			indices[e.StatusIndex] = i
		}
	}
	return problems
}
