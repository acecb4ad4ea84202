package peer

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ring(t *testing.T, created time.Time) *label.KeyRing {
	t.Helper()
	r, err := label.LoadOrCreate(t.TempDir(), created)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTrustStoreSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "trust.json")
	s, err := LoadTrustStore(path)
	if err != nil || len(s.List()) != 0 {
		t.Fatalf("a missing store: %v %v", err, s.List())
	}
	r := ring(t, t0)
	s.Add(NewTrustedIssuer("https://csa.example/", "CSA", r.PublicKeys(), TrustedByURL, t0))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved store: %v %v", err, st.Mode())
	}
	again, err := LoadTrustStore(path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := again.Get("https://csa.example")
	if !ok || got.Name != "CSA" || len(got.PublicKeys()) != 1 || !bytes.Equal(got.PublicKeys()[r.Active().KID].Key, r.Active().Public().Key) {
		t.Fatalf("reloaded %+v", got)
	}
	if !again.Remove("https://csa.example/") || again.Remove("https://csa.example") {
		t.Error("Remove")
	}
	os.WriteFile(path, []byte(`{"issuers": [`), 0o600)
	if _, err := LoadTrustStore(path); err == nil || !strings.Contains(err.Error(), "does not parse") {
		t.Errorf("a corrupt store: %v", err)
	}
}

func TestTrustStoreCheck(t *testing.T) {
	const id = "https://csa.example"
	r := ring(t, t0)
	first := r.Active()
	newStore := func() *TrustStore {
		s := &TrustStore{path: filepath.Join(t.TempDir(), "trust.json")}
		s.Add(NewTrustedIssuer(id, "CSA", r.PublicKeys(), TrustedByURL, t0))
		return s
	}
	if _, err := newStore().Check("https://other.example", r.PublicKeys(), t0); !errors.Is(err, ErrNotTrusted) {
		t.Errorf("an unknown issuer: %v", err)
	}
	s := newStore()
	if c, err := s.Check(id, r.PublicKeys(), t0); err != nil || c.Rotated || c.Changed {
		t.Errorf("the pinned set: %+v %v", c, err)
	}
	if c, err := s.Check(id, nil, t0); err != nil || len(c.Keys) != 1 {
		t.Errorf("no published set: the pin is used: %+v %v", c, err)
	}

	// A rotation keeps the old key published: continuity.
	second, err := r.Rotate(t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Check(id, r.PublicKeys(), t0.Add(2*time.Hour))
	if err != nil || !c.Rotated || c.Continuity != first.KID || !c.Changed || len(c.Issuer.Keys) != 2 {
		t.Fatalf("rotation: %+v %v", c, err)
	}
	// The next rotation may drop the first key: the second carries on.
	only := label.PublicKeys{second.KID: r.PublicKeys()[second.KID]}
	third := ring(t, t0.Add(3*time.Hour)).PublicKeys()
	for k, v := range third {
		only[k] = v
	}
	if c, err := s.Check(id, only, t0.Add(3*time.Hour)); err != nil || c.Continuity != second.KID {
		t.Errorf("second rotation: %+v %v", c, err)
	}

	// A set with no pinned key is refused, and the pin is untouched.
	s = newStore()
	before := s.List()
	if _, err := s.Check(id, ring(t, t0).PublicKeys(), t0); !errors.Is(err, ErrKeysChanged) || !strings.Contains(err.Error(), "possible impersonation") {
		t.Errorf("replaced keys: %v", err)
	}
	if after := s.List(); len(after[0].Keys) != len(before[0].Keys) || after[0].Keys[0] != before[0].Keys[0] {
		t.Error("a refused set changed the pin")
	}
	// A pinned kid with another key behind it is refused.
	forged := ring(t, t0).PublicKeys()
	for _, k := range forged {
		k.KID = first.KID
		forged = label.PublicKeys{first.KID: k}
	}
	if _, err := s.Check(id, forged, t0); !errors.Is(err, ErrKeysChanged) || !strings.Contains(err.Error(), "different key under the pinned kid") {
		t.Errorf("kid reused: %v", err)
	}
	// A pinned key now marked compromised is no continuity.
	compromised := r.PublicKeys()
	pk := compromised[first.KID]
	pk.CompromisedAt = t0
	compromised = label.PublicKeys{first.KID: pk, "2026-11-22-new": ring(t, t0).Active().Public()}
	if _, err := newStore().Check(id, compromised, t0); !errors.Is(err, ErrKeysChanged) {
		t.Errorf("continuity through a compromised key: %v", err)
	}
	// A compromise once seen stays, even if the issuer's set later drops the mark.
	s = &TrustStore{path: filepath.Join(t.TempDir(), "trust.json")}
	s.Add(NewTrustedIssuer(id, "CSA", label.PublicKeys{first.KID: first.Public()}, TrustedByURL, t0))
	same := label.PublicKeys{first.KID: pk}
	if _, err := s.Check(id, same, t0); err != nil {
		t.Fatal(err)
	}
	c, err = s.Check(id, label.PublicKeys{first.KID: first.Public()}, t0)
	if err != nil || !c.Keys[first.KID].CompromisedAt.Equal(t0) {
		t.Errorf("the compromise mark was dropped: %+v %v", c.Keys, err)
	}
}

// served is an authority whose documents are counted and can fail.
func served(t *testing.T, r *label.KeyRing) (*httptest.Server, *atomic.Bool, *atomic.Int32) {
	t.Helper()
	var down atomic.Bool
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WellKnownKeysPath, func(w http.ResponseWriter, req *http.Request) {
		hits.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write(r.JWKS())
	})
	mux.HandleFunc("GET /status/revocation/0", func(w http.ResponseWriter, req *http.Request) {
		hits.Add(1)
		bits, _ := label.NewBitstring(0)
		now := time.Now()
		vc, _ := label.StatusListCredential("http://"+req.Host+"/status/revocation/0", label.PurposeRevocation, bits,
			label.Issuer{ID: "http://" + req.Host}, now.Add(-time.Minute), now.Add(time.Hour))
		jws, _ := vc.Sign(r.Active())
		w.Write([]byte(jws))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, req *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), MaxCredentialBytes+1))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &down, &hits
}

func TestClientCacheAndOffline(t *testing.T) {
	r := ring(t, t0)
	srv, down, hits := served(t, r)
	cache := t.TempDir()
	var warnings []string
	c, err := New(srv.URL+"/some/page", Options{CacheDir: cache, Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil || c.BaseURL() != srv.URL {
		t.Fatalf("New: %v %s", err, c.BaseURL())
	}
	keys, f, err := c.Keys(context.Background())
	if err != nil || f.Cached || len(keys) != 1 {
		t.Fatalf("online: %v %+v", err, f)
	}
	if _, err := c.StatusList(context.Background(), srv.URL+"/status/revocation/0", keys); err != nil {
		t.Fatal(err)
	}
	// The network fails: the cached copy is used, and the caller told.
	down.Store(true)
	if _, f, err := c.Keys(context.Background()); err != nil || !f.Cached || !strings.Contains(strings.Join(warnings, "\n"), "using the copy cached") {
		t.Errorf("fallback: %v %+v %q", err, f, warnings)
	}
	// Offline reads only the cache.
	n := hits.Load()
	off, _ := New(srv.URL, Options{CacheDir: cache, Offline: true})
	if _, f, err := off.Keys(context.Background()); err != nil || !f.Cached {
		t.Errorf("offline: %v %+v", err, f)
	}
	snap, err := off.StatusList(context.Background(), srv.URL+"/status/revocation/0", keys)
	if err != nil || snap.FetchedAt.IsZero() {
		t.Errorf("offline status list: %v", err)
	}
	if hits.Load() != n {
		t.Error("offline reached the network")
	}
	empty, _ := New(srv.URL, Options{CacheDir: t.TempDir(), Offline: true})
	if _, _, err := empty.Keys(context.Background()); !errors.Is(err, ErrNotCached) {
		t.Errorf("offline, nothing cached: %v", err)
	}
}

func TestClientRefuses(t *testing.T) {
	r := ring(t, t0)
	srv, _, _ := served(t, r)
	c, _ := New(srv.URL, Options{})
	if _, err := c.Credential(context.Background(), srv.URL+"/big"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("an oversized body: %v", err)
	}
	// A status list is read only from the issuer's own origin.
	if _, err := c.StatusList(context.Background(), "https://elsewhere.example/status/revocation/0", r.PublicKeys()); err == nil ||
		!strings.Contains(err.Error(), "not on the issuer's origin") {
		t.Errorf("a list elsewhere: %v", err)
	}
	for _, bad := range []string{"ftp://x.example", "not a url", "/relative"} {
		if _, err := New(bad, Options{}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	// A redirect from https to http is refused.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.RedirectHandler(plain.URL+WellKnownKeysPath, http.StatusFound))
	defer tlsSrv.Close()
	hc := DefaultHTTPClient()
	hc.Transport = tlsSrv.Client().Transport
	tc, _ := New(tlsSrv.URL, Options{HTTPClient: hc})
	if _, _, err := tc.Keys(context.Background()); err == nil || !strings.Contains(err.Error(), "refusing redirect from https") {
		t.Errorf("https to http redirect: %v", err)
	}
}
