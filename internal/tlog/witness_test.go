package tlog

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	f_log "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

type witnessServer struct {
	*Witness
	srv      *httptest.Server
	verifier note.Verifier // checks its cosignatures
	dir      string
}

func newWitnessServer(t *testing.T, name string, logs map[string]note.Verifier) *witnessServer {
	t.Helper()
	dir := t.TempDir()
	s, vkey, err := LoadOrCreateWitnessSigner(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewWitnessVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWitness(dir, s, logs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return &witnessServer{Witness: w, srv: srv, verifier: v, dir: dir}
}

func witnessOptions(threshold int, ws ...*witnessServer) Options {
	o := fastOptions()
	o.PublishTimeout = 4 * time.Second
	p := &WitnessPolicy{Threshold: threshold, Timeout: 2 * time.Second}
	for _, w := range ws {
		p.URLs = append(p.URLs, w.srv.URL)
		p.Verifiers = append(p.Verifiers, w.verifier)
	}
	o.Witnesses = p
	return o
}

func TestWitnessedLog(t *testing.T) {
	s, v, _ := newSigner(t)
	logs := map[string]note.Verifier{testOrigin: v}
	w1 := newWitnessServer(t, "witness1.example", logs)
	w2 := newWitnessServer(t, "witness2.example", logs)
	both := []note.Verifier{w1.verifier, w2.verifier}
	dir := t.TempDir()
	ctx := ctxT(t, 60*time.Second)
	e0, e1 := decisionBytes(t, 0), decisionBytes(t, 1)

	l := openLog(t, dir, s, witnessOptions(2, w1, w2))
	r, err := l.Append(ctx, e0)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCosignatures(r.Checkpoint, both, 2); err != nil {
		t.Fatalf("checkpoint lacks cosignatures: %v\n%s", err, r.Checkpoint)
	}
	// A verifier list holding the log's and the witnesses' keys still
	// demands the log's own signature.
	if _, err := VerifyReceipt(r, e0, note.VerifierList(v, w1.verifier, w2.verifier), testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyReceipt(r, e0, note.VerifierList(w1.verifier, w2.verifier), testOrigin); err == nil {
		t.Fatal("a receipt verified by witness keys alone")
	}
	for _, w := range []*witnessServer{w1, w2} {
		cp, ok := w.Latest(testOrigin)
		if !ok || checkpointSize(t, cp) != checkpointSize(t, r.Checkpoint) {
			t.Fatalf("witness state %q, want size %d", cp, checkpointSize(t, r.Checkpoint))
		}
	}

	t.Run("one witness down, threshold 2", func(t *testing.T) {
		w2.srv.Close()
		start := time.Now()
		_, err := l.Append(ctx, e1)
		t.Logf("Append after %v: %v", time.Since(start).Round(time.Millisecond), err)
		if err == nil {
			t.Fatal("published without the second cosignature")
		}
		for _, want := range []string{"entry 1 is sequenced, but no checkpoint covering it was published", "witness policy not met", w2.srv.URL} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not mention %q", want)
			}
		}
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := checkpointSize(t, cp); got != 1 {
			t.Fatalf("published checkpoint has size %d, want 1", got)
		}
		shortCtx := ctxT(t, time.Second)
		if err := l.Close(shortCtx); err == nil {
			t.Fatal("Close reported success with an unpublished entry")
		} else {
			t.Logf("Close: %v", err)
		}
	})

	t.Run("one witness down, threshold 1", func(t *testing.T) {
		l := openLog(t, dir, s, witnessOptions(1, w1, w2))
		r, err := l.Append(ctx, e1) // the same bytes: sequenced before, not re-added
		if err != nil {
			t.Fatal(err)
		}
		if r.Index != 1 {
			t.Fatalf("index %d, want 1 (the entry sequenced while unwitnessed)", r.Index)
		}
		if err := VerifyCosignatures(r.Checkpoint, []note.Verifier{w1.verifier}, 1); err != nil {
			t.Fatal(err)
		}
		if err := VerifyCosignatures(r.Checkpoint, both, 2); err == nil {
			t.Fatal("two cosignatures with one witness down")
		}
		if _, err := VerifyReceipt(r, e1, note.VerifierList(v), testOrigin); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWitnessCatchesFork(t *testing.T) {
	s, v, _ := newSigner(t)
	logs := map[string]note.Verifier{testOrigin: v}
	w1 := newWitnessServer(t, "witness1.example", logs)
	w2 := newWitnessServer(t, "witness2.example", logs)
	ctx := ctxT(t, 60*time.Second)

	// Log A grows to 2 entries, is copied (B will fork from there), then grows
	// to 4; both witnesses cosign A at 4.
	dirA := t.TempDir()
	a := openLog(t, dirA, s, witnessOptions(2, w1, w2))
	appendAll(t, a, 0, 2)
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	dirB := copyDir(t, dirA)
	a = openLog(t, dirA, s, witnessOptions(2, w1, w2))
	appendAll(t, a, 2, 4)
	cpA, err := a.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if checkpointSize(t, cpA) != 4 {
		t.Fatalf("A at %d", checkpointSize(t, cpA))
	}
	latest := func(w *witnessServer) []byte {
		cp, _ := w.Latest(testOrigin)
		return cp
	}
	textA, _ := checkpointBody(cpA)
	sizeA := uint64(4)
	rootA := mustParse(t, textA).Hash

	post := func(t *testing.T, w *witnessServer, body string) (int, string, string) {
		t.Helper()
		resp, err := http.Post(w.srv.URL+"/add-checkpoint", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	signed := func(t *testing.T, signer note.Signer, origin string, size uint64, root []byte) string {
		t.Helper()
		cp, err := note.Sign(&note.Note{Text: string(f_log.Checkpoint{Origin: origin, Size: size, Hash: root}.Marshal())}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return string(cp)
	}
	randomHash := func() []byte {
		b := make([]byte, 32)
		rand.Read(b)
		return b
	}

	t.Run("same size, different root", func(t *testing.T) {
		code, ct, body := post(t, w1, fmt.Sprintf("old %d\n\n%s", sizeA, signed(t, s, testOrigin, sizeA, randomHash())))
		if code != http.StatusConflict || ct == "text/x.tlog.size" || !strings.Contains(body, "forked") {
			t.Fatalf("got %d %q %q, want 409 naming the fork", code, ct, body)
		}
	})
	t.Run("smaller checkpoint", func(t *testing.T) {
		cp := signed(t, s, testOrigin, 3, randomHash())
		code, ct, body := post(t, w1, "old 3\n\n"+cp)
		if code != http.StatusConflict || ct != "text/x.tlog.size" || body != "4\n" {
			t.Fatalf("got %d %q %q, want 409 text/x.tlog.size \"4\\n\"", code, ct, body)
		}
		if code, _, _ := post(t, w1, "old 4\n\n"+cp); code != http.StatusBadRequest {
			t.Fatalf("old size above the checkpoint's: got %d, want 400", code)
		}
	})
	t.Run("larger but inconsistent", func(t *testing.T) {
		var b strings.Builder
		fmt.Fprintf(&b, "old %d\n", sizeA)
		for range 3 {
			b.WriteString(base64.StdEncoding.EncodeToString(randomHash()) + "\n")
		}
		b.WriteString("\n" + signed(t, s, testOrigin, 7, randomHash()))
		if code, _, body := post(t, w1, b.String()); code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d %q, want 422", code, body)
		}
	})
	t.Run("unknown log, wrong key, bad request", func(t *testing.T) {
		if code, _, _ := post(t, w1, "old 0\n\n"+signed(t, s, "other.example/log", 1, randomHash())); code != http.StatusNotFound {
			t.Errorf("unknown origin: got %d, want 404", code)
		}
		other, _, _ := newSigner(t)
		if code, _, _ := post(t, w1, fmt.Sprintf("old %d\n\n%s", sizeA, signed(t, other, testOrigin, sizeA+1, randomHash()))); code != http.StatusForbidden {
			t.Errorf("signed by another key: got %d, want 403", code)
		}
		for _, body := range []string{"", "old 01\n\nx", "new 4\n\n" + string(cpA), "old 4\nnot-base64\n\n" + string(cpA)} {
			if code, _, _ := post(t, w1, body); code != http.StatusBadRequest {
				t.Errorf("%q: got %d, want 400", body, code)
			}
		}
		resp, err := http.Get(w1.srv.URL + "/add-checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: got %d, want 405", resp.StatusCode)
		}
	})
	t.Run("refusals leave the witness state alone", func(t *testing.T) {
		for _, w := range []*witnessServer{w1, w2} {
			text, _ := checkpointBody(latest(w))
			if c := mustParse(t, text); c.Size != sizeA || !bytes.Equal(c.Hash, rootA) {
				t.Fatalf("witness moved to %d %x", c.Size, c.Hash)
			}
		}
	})

	t.Run("forked Tessera log cannot publish", func(t *testing.T) {
		// B holds A's first two entries, then others: a real fork under A's key.
		o := witnessOptions(1, w1, w2)
		o.BatchMaxAge = 300 * time.Millisecond // one batch: B's next checkpoint is at 5
		o.PublishTimeout = 3 * time.Second
		b := openLog(t, dirB, s, o)
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = b.Append(ctx, decisionBytes(t, 900+i))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err == nil {
				t.Fatalf("forked append %d was published", i)
			}
		}
		t.Logf("forked log: %v", errs[0])
		if !strings.Contains(errs[0].Error(), "422 Unprocessable Entity") {
			t.Errorf("error does not name the witnesses' 422")
		}
		for _, w := range []*witnessServer{w1, w2} {
			if !bytes.Equal(latest(w), latestCosigned(t, w, cpA)) {
				t.Fatal("a witness moved to the forked log")
			}
		}
		_ = b.Close(ctxT(t, 500*time.Millisecond))
	})

	t.Run("fresh log under the same key cannot start", func(t *testing.T) {
		_, err := Open(ctxT(t, 10*time.Second), t.TempDir(), s, witnessOptions(1, w1, w2))
		if err == nil {
			t.Fatal("a second, empty log under A's key got its checkpoint cosigned")
		}
		t.Logf("Open: %v", err)
		if !strings.Contains(err.Error(), "it has cosigned this log up to size 4") {
			t.Error("the error does not say the witnesses hold a larger checkpoint")
		}
	})

	t.Run("state survives a restart", func(t *testing.T) {
		ws, _, err := LoadOrCreateWitnessSigner(w1.dir, "witness1.example")
		if err != nil {
			t.Fatal(err)
		}
		again, err := NewWitness(w1.dir, ws, logs)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := again.Latest(testOrigin); !bytes.Equal(got, latest(w1)) {
			t.Fatalf("restarted witness has %q", got)
		}
		_, err = again.AddCheckpoint(0, nil, []byte(signed(t, s, testOrigin, 1, randomHash())))
		if we, ok := err.(*WitnessError); !ok || we.Status != http.StatusConflict || we.Size != sizeA {
			t.Fatalf("rollback after restart: %v", err)
		}
	})
}

// latestCosigned returns the witness's stored checkpoint if it is cpA's text
// (so a caller can compare it with Latest).
func latestCosigned(t *testing.T, w *witnessServer, cpA []byte) []byte {
	t.Helper()
	cp, _ := w.Latest(testOrigin)
	text, _ := checkpointBody(cp)
	textA, _ := checkpointBody(cpA)
	if text != textA {
		t.Fatalf("witness holds\n%s\nwant the text of\n%s", cp, cpA)
	}
	return cp
}

func mustParse(t *testing.T, text string) *f_log.Checkpoint {
	t.Helper()
	c, err := parseCheckpointText(text, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
