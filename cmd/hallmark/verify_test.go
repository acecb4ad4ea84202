package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
)

// labelServer is a small Hallmark registry: keys, label credentials and
// status lists, signed with real keys.
type labelServer struct {
	t    *testing.T
	srv  *httptest.Server
	ring *label.KeyRing

	mu         sync.Mutex
	creds      map[string]string // label id → compact JWS
	revoked    *label.Bitstring
	suspended  *label.Bitstring
	failStatus bool
}

func newLabelServer(t *testing.T) *labelServer {
	t.Helper()
	ring, err := label.LoadOrCreate(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &labelServer{t: t, ring: ring, creds: map[string]string{}}
	s.revoked, _ = label.NewBitstring(0)
	s.suspended, _ = label.NewBitstring(0)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/hallmark/keys.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(s.ring.JWKS())
	})
	mux.HandleFunc("GET /api/v1/labels/{id}/credential", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		jws, ok := s.creds[r.PathValue("id")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", label.MediaType)
		w.Write([]byte(jws))
	})
	mux.HandleFunc("GET /status/{purpose}/1", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		bits := map[string]*label.Bitstring{label.PurposeRevocation: s.revoked, label.PurposeSuspension: s.suspended}[r.PathValue("purpose")]
		if bits == nil || s.failStatus {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		now := time.Now()
		vc, err := label.StatusListCredential(s.srv.URL+r.URL.Path, r.PathValue("purpose"), bits,
			label.Issuer{ID: s.srv.URL}, now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil {
			t.Error(err)
			return
		}
		jws, err := vc.Sign(s.ring.Active())
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", label.MediaType)
		w.Write([]byte(jws))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("A"), maxCredentialBody+10))
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// issue issues a label at status index idx valid from..until.
func (s *labelServer) issue(id string, idx int, from, until time.Time) string {
	s.t.Helper()
	c := label.LabelClaims{
		ID: label.NewCredentialID(), Issuer: label.Issuer{ID: s.srv.URL, Name: "Example Agency"},
		ValidFrom: from, ValidUntil: until, LabelID: id, SchemeID: "sg-cls", SchemeVersion: 3,
		SchemeVersionName: "2024-01", LevelID: "2", LevelName: "Level 2",
		Product: label.Product{Name: "Acme SmartCam 2", ModelNumber: "AC-2", Manufacturer: "Acme Devices Ltd",
			SoftwareVersion: "1.4.2", PURL: "pkg:generic/acme/smartcam-fw@1.4.2"},
		PageURL:    s.srv.URL + "/labels/" + id,
		Revocation: label.StatusRef{ListURL: s.srv.URL + "/status/revocation/1", Index: idx},
		Suspension: label.StatusRef{ListURL: s.srv.URL + "/status/suspension/1", Index: idx},
	}
	jws, err := label.Issue(c, s.ring.Active())
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.creds[id] = jws
	s.mu.Unlock()
	return jws
}

func runVerifyCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runVerify(context.Background(), args, &out, &errb)
	var ec interface{ ExitCode() int }
	var ue usageError
	switch {
	case err == nil:
		code = 0
	case errors.As(err, &ec):
		code = ec.ExitCode()
	case errors.As(err, &ue):
		code = 2
		errb.WriteString(err.Error())
	case errors.Is(err, flag.ErrHelp):
		code = 0
	default:
		code = 1
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyCommandOutcomes(t *testing.T) {
	s := newLabelServer(t)
	now := time.Now()
	year := 365 * 24 * time.Hour
	s.issue("good", 10, now.Add(-time.Hour), now.Add(year))
	s.issue("susp", 11, now.Add(-time.Hour), now.Add(year))
	s.issue("rev", 12, now.Add(-time.Hour), now.Add(year))
	s.issue("old", 13, now.Add(-2*year), now.Add(-year))
	s.issue("soon", 14, now.Add(24*time.Hour), now.Add(year))
	s.suspended.Set(11, true)
	s.suspended.Set(12, true)
	s.revoked.Set(12, true)
	good := s.creds["good"]
	tampered := good[:len(good)/2] + map[bool]string{true: "B", false: "A"}[good[len(good)/2] == 'A'] + good[len(good)/2+1:]

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"valid, from the label page URL", []string{s.srv.URL + "/labels/good"}, 0,
			[]string{"Label          good", "Status         VALID", "Status as of", "Acme SmartCam 2, model AC-2, by Acme Devices Ltd, software 1.4.2",
				"sg-cls version 3 (2024-01), level 2 (Level 2)", "Example Agency <" + s.srv.URL + ">", "neither revoked nor suspended"}},
		{"valid, from the API URL", []string{s.srv.URL + "/api/v1/labels/good/credential"}, 0, []string{"VALID"}},
		{"suspended", []string{s.srv.URL + "/labels/susp"}, 11, []string{"Status         SUSPENDED", "suspended: entry 11"}},
		{"revoked wins over suspended", []string{s.srv.URL + "/labels/rev"}, 12, []string{"Status         REVOKED", "revoked: entry 12"}},
		{"expired", []string{s.srv.URL + "/labels/old"}, 13, []string{"Status         EXPIRED"}},
		{"not yet valid", []string{s.srv.URL + "/labels/soon"}, 14, []string{"Status         NOT-YET-VALID"}},
		{"tampered file", []string{"--keys", s.srv.URL + "/.well-known/hallmark/keys.json", writeTemp(t, "t.jws", tampered)}, 10,
			[]string{"Status         INVALID", "bad signature"}},
		{"file, keys found from the issuer", []string{writeTemp(t, "g.jws", good+"\n")}, 0, []string{"VALID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runVerifyCmd(t, append([]string{"--status-cache", t.TempDir()}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.code != 10 && strings.Contains(out, "Warning: status unknown") {
				t.Errorf("status lists not read:\n%s", out)
			}
		})
	}
	// The report never echoes an invalid credential's claims.
	_, out, _ := runVerifyCmd(t, "--status-cache", t.TempDir(), "--keys", s.srv.URL+"/.well-known/hallmark/keys.json", writeTemp(t, "t.jws", tampered))
	if strings.Contains(out, "Acme") {
		t.Errorf("claims of an invalid credential shown:\n%s", out)
	}
}

func TestVerifyCommandOfflineWithCache(t *testing.T) {
	s := newLabelServer(t)
	now := time.Now()
	jws := s.issue("good", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	file := writeTemp(t, "label.jws", jws)
	cache := t.TempDir()

	before := time.Now().UTC().Truncate(time.Second)
	if code, out, errs := runVerifyCmd(t, "--status-cache", cache, file); code != 0 {
		t.Fatalf("online: exit %d\n%s%s", code, out, errs)
	}
	after := time.Now().UTC()
	s.srv.Close() // from here on there is no network

	code, out, errs := runVerifyCmd(t, "--offline", "--status-cache", cache, file)
	if code != 0 {
		t.Fatalf("offline with a cache: exit %d\n%s%s", code, out, errs)
	}
	asOf := ""
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Status as of"); ok {
			asOf = strings.TrimSpace(v)
		}
	}
	at, err := time.Parse(time.RFC3339, asOf)
	if err != nil || at.Before(before) || at.After(after) {
		t.Errorf("status as of %q, want the time of the online run (%v to %v)\n%s", asOf, before, after, out)
	}
	if !strings.Contains(out, "(cached ") {
		t.Errorf("the report does not say the keys came from the cache:\n%s", out)
	}

	// Offline with nothing cached: the signature still verifies with a key
	// file, but the status is unknown, and the exit code says so.
	keys := writeTemp(t, "keys.json", string(s.ring.JWKS()))
	code, out, errs = runVerifyCmd(t, "--offline", "--status-cache", t.TempDir(), "--keys", keys, file)
	if code != int(VerifyStatusUnknownOffline) || !strings.Contains(out, "Status as of   unknown") || !strings.Contains(out, "status unknown") {
		t.Errorf("offline without a cache: exit %d\n%s%s", code, out, errs)
	}
	// Offline with no keys at all cannot verify.
	if code, _, errs := runVerifyCmd(t, "--offline", "--status-cache", t.TempDir(), file); code != 1 || !strings.Contains(errs, "no cached keys") {
		t.Errorf("offline without keys: exit %d %s", code, errs)
	}
}

func TestVerifyCommandFallsBackToCache(t *testing.T) {
	s := newLabelServer(t)
	now := time.Now()
	s.issue("good", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	cache := t.TempDir()
	if code, out, _ := runVerifyCmd(t, "--status-cache", cache, s.srv.URL+"/labels/good"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	s.mu.Lock()
	s.failStatus = true
	s.mu.Unlock()
	code, out, _ := runVerifyCmd(t, "--status-cache", cache, s.srv.URL+"/labels/good")
	if code != 0 || !strings.Contains(out, "using the cached copy") {
		t.Errorf("status lists unavailable, cache present: exit %d\n%s", code, out)
	}
	code, out, _ = runVerifyCmd(t, "--status-cache", t.TempDir(), s.srv.URL+"/labels/good")
	if code != int(VerifyStatusUnknownOffline) || !strings.Contains(out, "503") {
		t.Errorf("status lists unavailable, no cache: exit %d\n%s", code, out)
	}
}

func TestVerifyCommandLimitsAndMistakes(t *testing.T) {
	s := newLabelServer(t)
	if code, _, errs := runVerifyCmd(t, s.srv.URL+"/big"); code != 1 || !strings.Contains(errs, "limit") {
		t.Errorf("oversized credential: exit %d %s", code, errs)
	}
	if code, _, errs := runVerifyCmd(t, s.srv.URL+"/labels/missing"); code != 1 || !strings.Contains(errs, "404") {
		t.Errorf("missing label: exit %d %s", code, errs)
	}
	if code, _, _ := runVerifyCmd(t, "--offline", s.srv.URL+"/labels/x"); code != 2 {
		t.Errorf("--offline with a URL: exit %d, want 2", code)
	}
	if code, _, _ := runVerifyCmd(t); code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}
	if code, _, errs := runVerifyCmd(t, filepath.Join(t.TempDir(), "none.jws")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: exit %d %s", code, errs)
	}
	// Garbage is invalid, though there is nowhere to get keys from.
	if code, out, errs := runVerifyCmd(t, writeTemp(t, "x.jws", "not a credential")); code != 10 || !strings.Contains(out, "INVALID") {
		t.Errorf("garbage: exit %d %s%s", code, out, errs)
	}
}

func TestVerifyCommandHelpDocumentsExitCodes(t *testing.T) {
	code, out, errs := runVerifyCmd(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"Usage: hallmark verify", "--offline", "--keys", "--status-cache",
		" 0  valid", "10  invalid", "11  suspended", "12  revoked", "13  expired", "14  not yet valid", "15  status unknown"} {
		if !strings.Contains(out+errs, w) {
			t.Errorf("help lacks %q", w)
		}
	}
	for _, c := range []VerifyExit{VerifyInvalid, VerifySuspended, VerifyRevoked, VerifyExpired, VerifyNotYetValid, VerifyStatusUnknownOffline} {
		var err error = c
		var ec interface{ ExitCode() int }
		if !errors.As(err, &ec) || ec.ExitCode() != int(c) || err.Error() == "" {
			t.Errorf("%d does not carry its exit code", c)
		}
	}
}
