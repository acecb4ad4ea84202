package tlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// witnessStateFile holds, per log origin, the latest checkpoint cosigned.
const witnessStateFile = "witness-state.json"

// maxWitnessRequest bounds an add-checkpoint body: 63 proof lines and a
// checkpoint with its signatures.
const maxWitnessRequest = 64 << 10

// Witness is a C2SP tlog-witness for peer authorities' logs. For each known
// log it keeps the latest checkpoint it cosigned and cosigns a new one only if
// it is signed by the log's key and provably extends that one, so a log cannot
// show two different histories to two audiences and get both cosigned.
type Witness struct {
	dir    string
	signer note.Signer
	logs   map[string]note.Verifier

	mu    sync.Mutex // serialises check-and-persist (C2SP tlog-witness)
	state map[string]witnessedLog
}

type witnessedLog struct {
	Size       uint64 `json:"size"`
	Root       []byte `json:"root"`
	Checkpoint string `json:"checkpoint"`
}

// NewWitness returns a witness keeping its state in dir, cosigning with
// signer (a cosignature/v1 signer, see LoadOrCreateWitnessSigner), for the
// logs given as origin -> the log's checkpoint verifier.
func NewWitness(dir string, signer note.Signer, logs map[string]note.Verifier) (*Witness, error) {
	if signer == nil {
		return nil, errors.New("tlog: witness: no signer")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlog: witness: %w", err)
	}
	w := &Witness{dir: dir, signer: signer, logs: map[string]note.Verifier{}, state: map[string]witnessedLog{}}
	for o, v := range logs {
		if v == nil {
			return nil, fmt.Errorf("tlog: witness: log %q has no verifier", o)
		}
		w.logs[o] = v
	}
	b, err := os.ReadFile(filepath.Join(dir, witnessStateFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("tlog: witness: %w", err)
	default:
		if err := json.Unmarshal(b, &w.state); err != nil {
			return nil, fmt.Errorf("tlog: witness: state %s: %w", witnessStateFile, err)
		}
		if w.state == nil {
			w.state = map[string]witnessedLog{}
		}
	}
	return w, nil
}

// Latest returns the latest checkpoint the witness cosigned for origin.
func (w *Witness) Latest(origin string) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.state[origin]
	return []byte(s.Checkpoint), ok
}

// WitnessError is a refusal, with the HTTP status C2SP tlog-witness assigns.
type WitnessError struct {
	Status int
	Size   uint64 // with 409 for a wrong old size: the witness's current size
	Msg    string

	sizeHint bool // a wrong old size: answer with the text/x.tlog.size body
}

func (e *WitnessError) Error() string {
	return fmt.Sprintf("tlog: witness: %s (%d %s)", e.Msg, e.Status, http.StatusText(e.Status))
}

func refuse(status int, format string, a ...any) *WitnessError {
	return &WitnessError{Status: status, Msg: fmt.Sprintf(format, a...)}
}

// AddCheckpoint checks checkpoint against the witness's view of its log, from
// oldSize with the consistency proof, and returns the witness's cosignature
// line(s). Refusals are *WitnessError.
func (w *Witness) AddCheckpoint(oldSize uint64, consistency [][]byte, checkpoint []byte) ([]byte, error) {
	origin, _, _ := strings.Cut(string(checkpoint), "\n")
	v, ok := w.logs[origin]
	if !ok {
		return nil, refuse(http.StatusNotFound, "unknown log %q", clip(origin))
	}
	n, err := note.Open(checkpoint, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return nil, refuse(http.StatusForbidden, "checkpoint is not signed by the key of log %q", origin)
		}
		return nil, refuse(http.StatusBadRequest, "checkpoint is not a signed note: %v", err)
	}
	cp, err := parseCheckpointText(n.Text, origin)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "%v", err)
	}
	if oldSize > cp.Size {
		return nil, refuse(http.StatusBadRequest, "old size %d is larger than the checkpoint's size %d", oldSize, cp.Size)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.state[origin]
	if oldSize != prev.Size {
		e := refuse(http.StatusConflict, "old size %d is not the size this witness last cosigned for %q", oldSize, origin)
		e.Size, e.sizeHint = prev.Size, true
		return nil, e
	}
	switch {
	case oldSize == cp.Size:
		if len(consistency) != 0 {
			return nil, refuse(http.StatusUnprocessableEntity, "a consistency proof between equal sizes must be empty")
		}
		want := prev.Root
		if prev.Checkpoint == "" {
			want = rfc6962.DefaultHasher.EmptyRoot()
		}
		if !bytes.Equal(cp.Hash, want) {
			// Same size, different root: the log has two histories.
			return nil, refuse(http.StatusConflict, "checkpoint of size %d has a different root from the one cosigned: the log %q has forked", cp.Size, origin)
		}
	case oldSize == 0:
		if len(consistency) != 0 {
			return nil, refuse(http.StatusUnprocessableEntity, "the consistency proof from size 0 must be empty")
		}
	default:
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, oldSize, cp.Size, consistency, prev.Root, cp.Hash); err != nil {
			return nil, refuse(http.StatusUnprocessableEntity, "checkpoint of size %d is not consistent with the cosigned one of size %d: %v", cp.Size, oldSize, err)
		}
	}

	signed, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		return nil, fmt.Errorf("tlog: witness: cosign: %w", err)
	}
	cosig := signed[len(n.Text)+1:] // after the text and the blank line
	// Persist before answering, under the lock: otherwise a slower request
	// for a smaller size could roll the stored state back.
	next := maps.Clone(w.state)
	next[origin] = witnessedLog{Size: cp.Size, Root: cp.Hash, Checkpoint: n.Text + "\n" + string(cosig)}
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("tlog: witness: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(w.dir, witnessStateFile), b, 0o600); err != nil {
		return nil, fmt.Errorf("tlog: witness: persist state: %w", err)
	}
	w.state = next
	return cosig, nil
}

// Handler serves POST /add-checkpoint (C2SP tlog-witness). Mount it at the
// witness's submission prefix (with http.StripPrefix if needed).
func (w *Witness) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", w.serveAddCheckpoint)
	return mux
}

func (w *Witness) serveAddCheckpoint(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxWitnessRequest))
	if err != nil {
		http.Error(rw, "request body too large or unreadable", http.StatusBadRequest)
		return
	}
	old, consistency, cp, err := parseAddCheckpoint(body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	cosig, err := w.AddCheckpoint(old, consistency, cp)
	var we *WitnessError
	switch {
	case errors.As(err, &we) && we.sizeHint:
		// The body format lets the log retry from our size at once.
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", we.Size)
	case errors.As(err, &we):
		http.Error(rw, we.Msg, we.Status)
	case err != nil:
		http.Error(rw, "internal error", http.StatusInternalServerError)
	default:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write(cosig)
	}
}

// parseAddCheckpoint splits an add-checkpoint body: "old N", up to 63 base64
// proof lines, an empty line, then the checkpoint.
func parseAddCheckpoint(b []byte) (uint64, [][]byte, []byte, error) {
	head, cp, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, errors.New("no empty line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	ds, ok := strings.CutPrefix(lines[0], "old ")
	if !ok {
		return 0, nil, nil, errors.New("first line must be \"old <size>\"")
	}
	old, err := strconv.ParseUint(ds, 10, 64)
	if err != nil || strconv.FormatUint(old, 10) != ds {
		return 0, nil, nil, fmt.Errorf("old size %q is not a decimal without leading zeros", clip(ds))
	}
	lines = lines[1:]
	if len(lines) > maxProofHashes {
		return 0, nil, nil, fmt.Errorf("%d consistency proof lines, more than %d", len(lines), maxProofHashes)
	}
	var p [][]byte
	for i, l := range lines {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != hashSize {
			return 0, nil, nil, fmt.Errorf("proof line %d is not a base64 SHA-256 hash", i+1)
		}
		p = append(p, h)
	}
	return old, p, cp, nil
}
