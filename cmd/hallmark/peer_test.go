package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
	"github.com/hallmark-iot/hallmark/internal/tlogpolicy"
	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

func runCmd(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(context.Background(), args, &out, &out)
	return code, out.String()
}

func fetchCredential(t *testing.T, base, id string) string {
	t.Helper()
	resp, err := http.Get(base + "/labels/" + id + "/credential.jwt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f := filepath.Join(t.TempDir(), id+".jwt")
	os.WriteFile(f, b, 0o644)
	return f
}

// A peer pinned by its trust list verifies offline with nothing more: no
// keys flag, no network; after a key rotation the new list is followed by
// its pivot; an instance's own peers appear in its trust list; a bundle
// verifies with an empty cache and says when it is too old.
func TestPeerTrustListAndBundle(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) { testPeerTrustListAndBundle(t, d) })
	}
}

func testPeerTrustListAndBundle(t *testing.T, d store.Dialect) {
	a := servertest.Start(t, d)
	b := servertest.Start(t, d)
	trust := filepath.Join(t.TempDir(), "trust.json")
	cache := t.TempDir()

	code, out := runCmd("peer", "add", "--trust", trust, "--status-cache", cache, a.URL)
	if code != 0 || !strings.Contains(out, "first contact") || !strings.Contains(out, "status lists cached") {
		t.Fatalf("peer add: exit %d\n%s", code, out)
	}
	active := fetchCredential(t, a.URL, someLabel(t, a.URL, "active"))
	suspended := fetchCredential(t, a.URL, someLabel(t, a.URL, "suspended"))
	code, out = runCmd("verify", "--trust", trust, "--status-cache", cache, "--offline", active)
	if code != 0 || !strings.Contains(out, "trust list 1 of "+a.URL) || strings.Contains(out, "Warning: could not read the issuer") {
		t.Fatalf("offline verify of a pinned peer's label: exit %d\n%s", code, out)
	}
	if code, out = runCmd("verify", "--trust", trust, "--status-cache", cache, "--offline", suspended); code != int(VerifySuspended) {
		t.Fatalf("offline verify of a suspended label: exit %d\n%s", code, out)
	}

	// The bundle: verified with an empty cache, the network unused.
	bundle := filepath.Join(t.TempDir(), "a.bundle.json")
	if code, out = runCmd("bundle", "--trust", trust, "-o", bundle, a.URL); code != 0 {
		t.Fatalf("bundle: exit %d\n%s", code, out)
	}
	code, out = runCmd("verify", "--trust", trust, "--status-cache", t.TempDir(), "--bundle", bundle, active)
	if code != 0 || !strings.Contains(out, "log checkpoint") {
		t.Fatalf("verify --bundle: exit %d\n%s", code, out)
	}
	if code, out = runCmd("verify", "--trust", trust, "--bundle", bundle, suspended); code != int(VerifySuspended) {
		t.Fatalf("verify --bundle, suspended: exit %d\n%s", code, out)
	}
	// Two days on, the bundle's status lists have expired: status unknown,
	// and the report says why and what to do.
	defer func(c func() time.Time) { clock = c }(clock)
	clock = func() time.Time { return time.Now().Add(48 * time.Hour) }
	code, out = runCmd("verify", "--trust", trust, "--bundle", bundle, active)
	if code != int(VerifyStatusUnknownOffline) || !strings.Contains(out, "too old to establish") || !strings.Contains(out, "hallmark bundle -o FILE "+a.URL) {
		t.Fatalf("an old bundle: exit %d, want %d\n%s", code, VerifyStatusUnknownOffline, out)
	}
	clock = time.Now
	// A bundle of someone the store does not hold is refused as untrusted.
	if code, out = runCmd("verify", "--trust", filepath.Join(t.TempDir(), "empty.json"), "--bundle", bundle, active); code != int(VerifyIssuerNotTrusted) {
		t.Fatalf("bundle without a pin: exit %d\n%s", code, out)
	}

	// A rotates its key: the new list is signed by the new key and
	// reached from the pin through the pivot the old key signed.
	if _, err := a.Server.Keys().Rotate(time.Now()); err != nil {
		t.Fatal(err)
	}
	code, out = runCmd("peer", "add", "--trust", trust, "--status-cache", cache, a.URL)
	if code != 0 || !strings.Contains(out, "trust list 2 replaces 1") || !strings.Contains(out, "followed key pivot") {
		t.Fatalf("peer add after a rotation: exit %d\n%s", code, out)
	}

	// B recognises A: B's own trust list points at A's, with A's keys.
	listOf := func(base string) *trustlist.Verified {
		t.Helper()
		resp, err := http.Get(base + trustlist.WellKnownPath)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != trustlist.MediaType {
			t.Errorf("trust list served as %q", ct)
		}
		v, err := trustlist.Verify(body, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if first := listOf(b.URL); first.List.Sequence != 1 || len(first.List.Peers) != 0 {
		t.Fatalf("B's first list: %d with %d peers", first.List.Sequence, len(first.List.Peers))
	}
	if code, out = runCmd("peer", "add", "--data", b.Server.Config().DataDir, "--status-cache", t.TempDir(), a.URL); code != 0 {
		t.Fatalf("peer add --data: exit %d\n%s", code, out)
	}
	v := listOf(b.URL)
	if len(v.List.Peers) != 1 || v.List.Peers[0].Authority != a.URL || v.List.Peers[0].ListURL != a.URL+trustlist.WellKnownPath ||
		len(v.List.Peers[0].Keys) != 2 {
		t.Fatalf("B's list names peers %+v, want A with its two keys", v.List.Peers)
	}
	if v.List.Sequence != 2 {
		t.Errorf("B's list after a new peer is %d, want 2 (content changed since list 1)", v.List.Sequence)
	}
	st, _ := peer.LoadTrustStore(filepath.Join(b.Server.Config().DataDir, server.PeersFile))
	if p, _ := st.Get(a.URL); p.TrustList == nil || p.TrustList.Sequence != 2 {
		t.Fatalf("B's peer store: %+v", p)
	}

	if code, out = runCmd("peer", "list", "--trust", trust); code != 0 || !strings.Contains(out, a.URL) || !strings.Contains(out, "list 2") {
		t.Fatalf("peer list: exit %d\n%s", code, out)
	}
	if code, out = runCmd("peer", "remove", "--trust", trust, a.URL); code != 0 {
		t.Fatalf("peer remove: exit %d\n%s", code, out)
	}
	if code, _ = runCmd("verify", "--trust", trust, "--status-cache", cache, "--offline", active); code != int(VerifyIssuerNotTrusted) {
		t.Fatalf("after peer remove: exit %d", code)
	}
}

// startWitnessed starts an instance whose log publishes a checkpoint only
// with the cosignature of a second instance, its witness (quorum 1).
func startWitnessed(t *testing.T) (a, witness *servertest.Instance) {
	t.Helper()
	a = servertest.StartWith(t, "sqlite", func(cfg *server.Config) {
		origin := server.LogOrigin(cfg.PublicURL)
		if _, _, err := tlog.LoadOrCreateSigner(filepath.Join(cfg.DataDir, "logkeys"), origin); err != nil {
			t.Fatal(err)
		}
		_, vkeys, err := tlog.Verifiers(filepath.Join(cfg.DataDir, "logkeys"))
		if err != nil {
			t.Fatal(err)
		}
		witness = servertest.StartWith(t, "sqlite", func(c *server.Config) { c.WitnessFor = map[string]string{origin: vkeys[0]} })
		v, err := tlog.NewWitnessVerifier(witness.Server.WitnessKey())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Witnesses = &tlog.WitnessPolicy{URLs: []string{witness.URL + "/witness"}, Verifiers: []note.Verifier{v},
			Keys: []string{witness.Server.WitnessKey()}, Threshold: 1, Timeout: 5 * time.Second}
	})
	return a, witness
}

// A bundle of a witnessed log carries a checkpoint with the witness's
// cosignature, and verify counts it against the quorum the trust list
// publishes. C witnesses A; both are real servers on loopback.
func TestBundleCheckpointIsCosigned(t *testing.T) {
	a, _ := startWitnessed(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.Server.WaitLogged(ctx); err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(t.TempDir(), "trust.json")
	code, out := runCmd("peer", "add", "--trust", trust, "--status-cache", t.TempDir(), a.URL)
	if code != 0 || !strings.Contains(out, "1 witnesses, quorum 1") {
		t.Fatalf("peer add: exit %d\n%s", code, out)
	}
	bundle := filepath.Join(t.TempDir(), "a.bundle.json")
	if code, out = runCmd("bundle", "--trust", trust, "-o", bundle, a.URL); code != 0 || !strings.Contains(out, "cosigned by 1 witnesses") {
		t.Fatalf("bundle: exit %d\n%s", code, out)
	}
	active := fetchCredential(t, a.URL, someLabel(t, a.URL, "active"))
	code, out = runCmd("verify", "--trust", trust, "--bundle", bundle, active)
	if code != 0 || !strings.Contains(out, "cosigned by 1 of 1 witnesses (quorum 1)") {
		t.Fatalf("verify --bundle: exit %d\n%s", code, out)
	}
	// The published witness policy (C2SP tlog-policy) accepts the served
	// checkpoint, and not one stripped of its cosignature.
	resp, err := http.Get(a.URL + "/.well-known/hallmark/witness-policy.txt")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pol, err := tlogpolicy.Parse(text)
	if err != nil {
		t.Fatalf("the served policy does not parse: %v\n%s", err, text)
	}
	resp, err = http.Get(a.URL + "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	cp, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, err := pol.Check(cp); err != nil || len(got) != 1 {
		t.Fatalf("the log's checkpoint against its own policy: %v %v\n%s", got, err, text)
	}
	cpLines := strings.Split(strings.TrimSuffix(string(cp), "\n"), "\n")
	if _, err := pol.Check([]byte(strings.Join(cpLines[:len(cpLines)-1], "\n") + "\n")); err == nil {
		t.Fatal("a checkpoint without its cosignature met the policy's quorum")
	}

	// The cosignature stripped: the checkpoint falls short of the quorum,
	// and verify says so rather than counting the log's word alone.
	raw, _ := os.ReadFile(bundle)
	bd, err := peer.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(bd.Checkpoint, "\n"), "\n")
	bd.Checkpoint = strings.Join(lines[:len(lines)-1], "\n") + "\n"
	stripped, _ := bd.Marshal()
	os.WriteFile(bundle, stripped, 0o600)
	code, out = runCmd("verify", "--trust", trust, "--bundle", bundle, active)
	if !strings.Contains(out, "0 of the 1 witness cosignatures") {
		t.Fatalf("a checkpoint without its cosignature: exit %d\n%s", code, out)
	}
}
