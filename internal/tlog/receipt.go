package tlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	f_log "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// ReceiptHeader is the first line of a receipt (C2SP tlog-proof).
const ReceiptHeader = "c2sp.org/tlog-proof@v1"

const (
	// MaxReceiptSize bounds ParseReceipt: 63 proof hashes and a checkpoint
	// with a hundred cosignatures fit several times over.
	MaxReceiptSize = 64 << 10
	// maxProofHashes is the longest inclusion proof a 2^63-entry tree needs.
	maxProofHashes = 63
	hashSize       = 32
)

// Receipt proves that an entry is in the log: its index, the RFC 6962
// inclusion proof, and the signed (and possibly cosigned) checkpoint the proof
// is against. Marshal gives the C2SP tlog-proof text, verifiable offline.
type Receipt struct {
	Index      uint64
	Proof      [][]byte
	Checkpoint []byte
}

// Marshal returns r in the C2SP tlog-proof format: the header line, "index N",
// one base64 proof hash per line, an empty line, then the checkpoint verbatim.
func (r Receipt) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ReceiptHeader + "\n")
	b.WriteString("index " + strconv.FormatUint(r.Index, 10) + "\n")
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// ParseReceipt parses a C2SP tlog-proof. It checks the form only; use
// VerifyReceipt to check what it claims. An "extra" line is accepted and
// dropped: the spec leaves it unauthenticated and Hallmark gives it no meaning.
func ParseReceipt(b []byte) (Receipt, error) {
	fail := func(format string, a ...any) (Receipt, error) {
		return Receipt{}, fmt.Errorf("tlog: receipt: "+format, a...)
	}
	if len(b) > MaxReceiptSize {
		return fail("%d bytes is larger than the %d-byte limit", len(b), MaxReceiptSize)
	}
	head, cp, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return fail("no empty line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != ReceiptHeader {
		return fail("first line is %q, want %q", clip(lines[0]), ReceiptHeader)
	}
	lines = lines[1:]
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		if _, err := base64.StdEncoding.DecodeString(lines[0][len("extra "):]); err != nil {
			return fail("extra line is not base64")
		}
		lines = lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return fail("no index line")
	}
	ds := lines[0][len("index "):]
	idx, err := strconv.ParseUint(ds, 10, 64)
	if err != nil || strconv.FormatUint(idx, 10) != ds {
		return fail("index %q is not a decimal without leading zeros", clip(ds))
	}
	lines = lines[1:]
	if len(lines) > maxProofHashes {
		return fail("%d proof hashes, more than the %d any tree needs", len(lines), maxProofHashes)
	}
	r := Receipt{Index: idx}
	for i, l := range lines {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != hashSize {
			return fail("proof line %d is not a base64 SHA-256 hash", i+1)
		}
		r.Proof = append(r.Proof, h)
	}
	if len(cp) == 0 || cp[len(cp)-1] != '\n' || !bytes.Contains(cp, []byte("\n\n")) {
		return fail("the checkpoint is missing or is not a signed note")
	}
	r.Checkpoint = bytes.Clone(cp)
	return r, nil
}

// VerifyReceipt checks, offline, that r proves entry is in the log called
// origin: the checkpoint carries a valid signature by one of verifiers named
// origin, and the RFC 6962 inclusion proof leads from the entry's leaf hash to
// the checkpoint's root. It returns the checkpoint's tree size.
// Cosignatures are not required here; see VerifyCosignatures.
func VerifyReceipt(r Receipt, entry []byte, verifiers note.Verifiers, origin string) (uint64, error) {
	cp, err := openCheckpoint(r.Checkpoint, verifiers, origin)
	if err != nil {
		return 0, fmt.Errorf("tlog: receipt: %w", err)
	}
	if r.Index >= cp.Size {
		return 0, fmt.Errorf("tlog: receipt: index %d is outside the checkpoint's tree of size %d", r.Index, cp.Size)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(entry)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index, cp.Size, leaf, r.Proof, cp.Hash); err != nil {
		return 0, fmt.Errorf("tlog: receipt: the inclusion proof does not lead from this entry to the checkpoint's root (wrong entry, or altered receipt): %w", err)
	}
	return cp.Size, nil
}

// VerifyCosignatures checks that checkpoint carries valid cosignatures from at
// least threshold of the given witnesses (cosignature/v1 verifiers).
func VerifyCosignatures(checkpoint []byte, witnesses []note.Verifier, threshold int) error {
	if threshold <= 0 {
		return nil
	}
	n, err := note.Open(checkpoint, note.VerifierList(witnesses...))
	if err != nil {
		var un *note.UnverifiedNoteError
		if errors.As(err, &un) {
			return fmt.Errorf("tlog: checkpoint has 0 of the %d cosignatures required", threshold)
		}
		return fmt.Errorf("tlog: checkpoint cosignatures: %w", err)
	}
	if len(n.Sigs) < threshold {
		return fmt.Errorf("tlog: checkpoint has %d of the %d cosignatures required", len(n.Sigs), threshold)
	}
	return nil
}

// openCheckpoint verifies the log's own signature (a key named origin) and
// parses the checkpoint body.
func openCheckpoint(cp []byte, verifiers note.Verifiers, origin string) (*f_log.Checkpoint, error) {
	n, err := note.Open(cp, verifiers)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature does not verify against the log's keys: %w", err)
	}
	signed := false
	for _, s := range n.Sigs {
		// Witness keys may be among verifiers; only the log's key, named
		// after its origin, vouches for the tree itself.
		if s.Name == origin {
			signed = true
			break
		}
	}
	if !signed {
		return nil, fmt.Errorf("checkpoint is not signed by a key of log %q", origin)
	}
	return parseCheckpointText(n.Text, origin)
}

// parseCheckpointText parses a checkpoint body (the note text).
func parseCheckpointText(text, origin string) (*f_log.Checkpoint, error) {
	var c f_log.Checkpoint
	if _, err := c.Unmarshal([]byte(text)); err != nil {
		return nil, fmt.Errorf("checkpoint does not parse: %w", err)
	}
	if c.Origin != origin {
		return nil, fmt.Errorf("checkpoint is for log %q, not %q", clip(c.Origin), origin)
	}
	if len(c.Hash) != hashSize {
		return nil, fmt.Errorf("checkpoint root is %d bytes, want %d", len(c.Hash), hashSize)
	}
	return &c, nil
}

// checkpointBody returns the note text of a signed note without verifying it,
// for reading our own checkpoint file.
func checkpointBody(cp []byte) (string, error) {
	i := bytes.LastIndex(cp, []byte("\n\n"))
	if i < 0 {
		return "", errors.New("checkpoint is not a signed note")
	}
	return string(cp[:i+1]), nil
}
