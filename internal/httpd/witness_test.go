package httpd_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// instance is one Hallmark on loopback.
type instance struct {
	url  string
	dir  string
	srv  *server.Server
	http *httptest.Server
	down atomic.Bool // when set, the instance answers nothing but 503
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

func startInstance(t *testing.T, ln net.Listener, url, dir string, cfg server.Config) *instance {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "hallmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	cheap := auth.TestParams
	cfg.DataDir, cfg.PublicURL, cfg.PasswordParams, cfg.LogCheckpointInterval = dir, url, &cheap, 100*time.Millisecond
	srv, err := server.New(ctx, st, cfg)
	if err != nil {
		t.Fatalf("start %s: %v", url, err)
	}
	h, err := httpd.Handler(srv)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{url: url, dir: dir, srv: srv}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if in.down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	in.http = ts
	t.Cleanup(func() {
		ts.Close()
		srv.Close(context.Background())
		st.Close()
	})
	return in
}

func checkpoint(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url + "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// Three instances on loopback: one authority's log and two peers that
// witness it. The log publishes checkpoints only with both cosignatures;
// with a witness down it publishes nothing and the decision waits, pending,
// until the witness is back. (Split views presented to a witness are
// refused by it: internal/tlog's witness tests drive a forked log.)
func TestWitnessedLog(t *testing.T) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	lnL, urlL := listen(t)
	ln1, url1 := listen(t)
	ln2, url2 := listen(t)
	dirL := t.TempDir()

	// The witnesses must know the log's key before it starts, so make it.
	origin := lnL.Addr().String() + "/log"
	if _, _, err := tlog.LoadOrCreateSigner(filepath.Join(dirL, "logkeys"), origin); err != nil {
		t.Fatal(err)
	}
	_, vkeys, err := tlog.Verifiers(filepath.Join(dirL, "logkeys"))
	if err != nil {
		t.Fatal(err)
	}
	witnessFor := map[string]string{origin: vkeys[0]}
	w1 := startInstance(t, ln1, url1, t.TempDir(), server.Config{WitnessFor: witnessFor})
	w2dir := t.TempDir()
	w2 := startInstance(t, ln2, url2, w2dir, server.Config{WitnessFor: witnessFor})
	v1, err := tlog.NewWitnessVerifier(w1.srv.WitnessKey())
	if err != nil {
		t.Fatal(err)
	}
	v2, err := tlog.NewWitnessVerifier(w2.srv.WitnessKey())
	if err != nil {
		t.Fatal(err)
	}
	policy := &tlog.WitnessPolicy{URLs: []string{url1 + "/witness", url2 + "/witness"}, Verifiers: []note.Verifier{v1, v2}, Threshold: 2, Timeout: 2 * time.Second}
	l := startInstance(t, lnL, urlL, dirL, server.Config{Witnesses: policy, LogPublishTimeout: 4 * time.Second})

	cp := checkpoint(t, urlL)
	if err := tlog.VerifyCosignatures(cp, []note.Verifier{v1, v2}, 2); err != nil {
		t.Fatalf("the log's checkpoint lacks the witnesses' cosignatures: %v\n%s", err, cp)
	}
	// Keep a copy of the log as it is now: later it will try to fork.
	forkDir := filepath.Join(t.TempDir(), "fork")
	if err := os.CopyFS(forkDir, os.DirFS(l.srv.LogDir())); err != nil {
		t.Fatal(err)
	}

	// One witness goes down: a new decision cannot be published.
	w2.down.Store(true)
	draft, err := os.ReadFile(filepath.Join("..", "scheme", "testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scheme.Parse("good.yaml", draft, l.srv.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.srv.PutScheme(ctx, auth.System, sc); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := l.srv.WaitLogged(short); err == nil {
		t.Fatal("with a witness down the decision was logged")
	}
	if after := checkpoint(t, urlL); string(after) != string(cp) {
		t.Fatalf("the log published a checkpoint without both cosignatures:\n%s", after)
	}

	// The witness comes back: the pending decision is logged and the new
	// checkpoint carries both cosignatures again.
	w2.down.Store(false)
	long, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	if err := l.srv.WaitLogged(long); err != nil {
		t.Fatalf("after the witness returned: %v", err)
	}
	cp2 := checkpoint(t, urlL)
	if string(cp2) == string(cp) {
		t.Fatal("no new checkpoint after the witness returned")
	}
	if err := tlog.VerifyCosignatures(cp2, []note.Verifier{v1, v2}, 2); err != nil {
		t.Fatalf("the new checkpoint lacks cosignatures: %v", err)
	}

	// The log tries to show a different history (a split view): a copy of
	// its earlier state, under its own key, grows differently. The
	// witnesses, holding the real checkpoint, refuse to cosign it.
	err = forkAttempt(t, forkDir, filepath.Join(dirL, "logkeys"), origin, policy)
	if err == nil {
		t.Fatal("the witnesses cosigned a forked history of the log")
	}
	t.Logf("fork refused: %v", err)
	for _, w := range []*instance{w1, w2} {
		if latest, _ := w.srv.Witness().Latest(origin); !strings.Contains(string(cp2), string(checkpointBody(latest))) {
			t.Fatalf("witness %s moved off the real log:\n%s", w.url, latest)
		}
	}
}

// checkpointBody is a signed note's text, before the signatures.
func checkpointBody(n []byte) []byte {
	if i := strings.Index(string(n), "\n\n"); i >= 0 {
		return n[:i+1]
	}
	return n
}

// forkAttempt appends a different history to a copy of the log, under the
// log's own key, and asks the same witnesses to cosign it.
func forkAttempt(t *testing.T, forkDir, keyDir, origin string, policy *tlog.WitnessPolicy) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	signer, _, err := tlog.LoadOrCreateSigner(keyDir, origin)
	if err != nil {
		t.Fatal(err)
	}
	p := *policy
	p.Threshold = 1 // even one cosignature would let the fork publish
	fork, err := tlog.Open(ctx, forkDir, signer, tlog.Options{Witnesses: &p, PublishTimeout: 4 * time.Second, CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		return err // refused at once: the witnesses already hold a larger checkpoint
	}
	defer func() {
		// The fork never publishes: do not wait for it to drain.
		c, stop := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer stop()
		fork.Close(c)
	}()
	e := tlog.Entry{Version: 1, Kind: tlog.KindLabelRevoked, Authority: origin, Subject: "HM-FORK-0001",
		Digest: strings.Repeat("ab", 32), Status: "revoked", StatusIndex: 1, At: time.Now(), Ref: "999999"}
	_, err = fork.Append(ctx, e.Marshal())
	return err
}
