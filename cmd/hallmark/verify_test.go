package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
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

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/peer"
)

// labelServer is a small Hallmark registry: keys, label credentials, the
// three status lists and a log description, signed with real keys.
type labelServer struct {
	t    *testing.T
	srv  *httptest.Server
	name string // the issuer name it claims
	data string // its data directory: the keys are in data/keys, as 'hallmark keys' expects

	mu         sync.Mutex
	ring       *label.KeyRing
	creds      map[string]string // label id → compact JWS
	revoked    *label.Bitstring
	suspended  *label.Bitstring
	message    *label.Bitstring
	failStatus bool
	listFrom   time.Duration // status lists are valid from now+listFrom …
	listUntil  time.Duration // … to now+listUntil
}

func newLabelServer(t *testing.T) *labelServer {
	t.Helper()
	data := t.TempDir()
	ring, err := label.LoadOrCreate(filepath.Join(data, "keys"), time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s := &labelServer{t: t, ring: ring, data: data, name: "Example Agency", creds: map[string]string{}, listFrom: -time.Minute, listUntil: time.Hour}
	s.revoked, _ = label.NewBitstring(0)
	s.suspended, _ = label.NewBitstring(0)
	s.message, _ = label.NewSizedBitstring(0, label.MessageStatusSize)
	_, vkey, err := note.GenerateKey(rand.Reader, "test.example/log")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/hallmark/keys.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(s.keyRing().JWKS())
	})
	mux.HandleFunc("GET /.well-known/hallmark/log.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"origin": "test.example/log", "verifiers": []string{vkey},
			"issuer": map[string]string{"id": s.srv.URL, "name": s.name}})
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
		bits := map[string]*label.Bitstring{label.PurposeRevocation: s.revoked, label.PurposeSuspension: s.suspended,
			label.PurposeMessage: s.message}[r.PathValue("purpose")]
		if bits == nil || s.failStatus {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		now := time.Now()
		vc, err := label.StatusListCredential(s.srv.URL+r.URL.Path, r.PathValue("purpose"), bits,
			label.Issuer{ID: s.srv.URL}, now.Add(s.listFrom), now.Add(s.listUntil))
		if err != nil {
			t.Error(err)
			return
		}
		jws, err := vc.Sign(s.ring.Active()) // s.mu is held
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", label.MediaType)
		w.Write([]byte(jws))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("A"), peer.MaxCredentialBytes+10))
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// reloadRing rereads the keys, as a restarted server would.
func (s *labelServer) reloadRing(t *testing.T) {
	t.Helper()
	ring, err := label.LoadOrCreate(filepath.Join(s.data, "keys"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.ring = ring
	s.mu.Unlock()
}

// replaceKeys gives the server a new, unrelated key set, as an impersonator
// would publish.
func (s *labelServer) replaceKeys(t *testing.T) {
	t.Helper()
	ring, err := label.LoadOrCreate(t.TempDir(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.ring = ring
	s.mu.Unlock()
}

func (s *labelServer) keyRing() *label.KeyRing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ring
}

// issue issues a label at status index idx valid from..until, signed with
// the active key.
func (s *labelServer) issue(id string, idx int, from, until time.Time) string {
	s.t.Helper()
	return s.issueWith(s.keyRing().Active(), id, idx, from, until)
}

func (s *labelServer) issueWith(k label.Key, id string, idx int, from, until time.Time) string {
	s.t.Helper()
	c := label.LabelClaims{
		ID: label.NewCredentialID(), Issuer: label.Issuer{ID: s.srv.URL, Name: s.name},
		ValidFrom: from, ValidUntil: until, LabelID: id, SchemeID: "sg-cls", SchemeVersion: 3,
		SchemeVersionName: "2024-01", LevelID: "2", LevelName: "Level 2",
		Product: label.Product{Name: "Acme SmartCam 2", ModelNumber: "AC-2", Manufacturer: "Acme Devices Ltd",
			SoftwareVersion: "1.4.2", PURL: "pkg:generic/acme/smartcam-fw@1.4.2"},
		PageURL:    s.srv.URL + "/labels/" + id,
		Revocation: label.StatusRef{ListURL: s.srv.URL + "/status/revocation/1", Index: idx},
		Suspension: label.StatusRef{ListURL: s.srv.URL + "/status/suspension/1", Index: idx},
		Message:    label.StatusRef{ListURL: s.srv.URL + "/status/message/1", Index: idx},
	}
	jws, err := label.Issue(c, k)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.creds[id] = jws
	s.mu.Unlock()
	return jws
}

// setStatus sets a label's entries the way Hallmark's server derives them.
func (s *labelServer) setStatus(idx int, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked.Set(idx, status == "revoked" || status == "surrendered")
	s.suspended.Set(idx, status == "suspended")
	s.message.SetValue(idx, map[string]uint{"suspended": label.MessageSuspended, "revoked": label.MessageRevoked,
		"surrendered": label.MessageSurrendered}[status])
}

// trustStore trusts the server with the real 'hallmark trust add' and
// returns the store's path.
func (s *labelServer) trustStore(t *testing.T, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trust.json")
	var out, errb bytes.Buffer
	args := append(append([]string{"trust", "add", "--trust", path}, extra...), s.srv.URL)
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("trust add: exit %d\n%s%s", code, out.String(), errb.String())
	}
	return path
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

// at runs the rest of the test with the verifier's clock at t.
func at(t *testing.T, when time.Time) {
	t.Helper()
	clock = func() time.Time { return when }
	t.Cleanup(func() { clock = time.Now })
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
	trust := s.trustStore(t)
	now := time.Now()
	year := 365 * 24 * time.Hour
	s.issue("good", 10, now.Add(-time.Hour), now.Add(year))
	s.issue("susp", 11, now.Add(-time.Hour), now.Add(year))
	s.issue("rev", 12, now.Add(-time.Hour), now.Add(year))
	s.issue("old", 13, now.Add(-2*year), now.Add(-year))
	s.issue("soon", 14, now.Add(24*time.Hour), now.Add(year))
	s.issue("surr", 15, now.Add(-time.Hour), now.Add(year))
	s.setStatus(11, "suspended")
	s.setStatus(12, "revoked")
	s.suspended.Set(12, true)
	s.setStatus(15, "surrendered")
	good := s.creds["good"]
	tampered := good[:len(good)/2] + map[bool]string{true: "B", false: "A"}[good[len(good)/2] == 'A'] + good[len(good)/2+1:]

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"valid, from the label page URL", []string{s.srv.URL + "/labels/good"}, 0,
			[]string{"Label          good", "Status         VALID", "Status as of", "ago)", "Acme SmartCam 2, model AC-2, by Acme Devices Ltd, software 1.4.2",
				"sg-cls version 3 (2024-01), level 2 (Level 2)", "Example Agency <" + s.srv.URL + ">, trusted (trust add URL", "neither revoked nor suspended"}},
		{"valid, from the API URL", []string{s.srv.URL + "/api/v1/labels/good/credential"}, 0, []string{"VALID"}},
		{"suspended", []string{s.srv.URL + "/labels/susp"}, 11, []string{"Status         SUSPENDED", "suspended: entry 11"}},
		{"revoked wins over suspended", []string{s.srv.URL + "/labels/rev"}, 12, []string{"Status         REVOKED", "revoked: entry 12"}},
		{"surrendered", []string{s.srv.URL + "/labels/surr"}, 17, []string{"Status         SURRENDERED", "surrendered by its manufacturer: entry 15"}},
		{"expired", []string{s.srv.URL + "/labels/old"}, 13, []string{"Status         EXPIRED"}},
		{"not yet valid", []string{s.srv.URL + "/labels/soon"}, 14, []string{"Status         NOT-YET-VALID"}},
		{"tampered file", []string{"--keys", s.srv.URL + "/.well-known/hallmark/keys.json", writeTemp(t, "t.jws", tampered)}, 10,
			[]string{"Status         INVALID", "bad signature"}},
		{"file, keys found from the issuer", []string{writeTemp(t, "g.jws", good+"\n")}, 0, []string{"VALID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runVerifyCmd(t, append([]string{"--trust", trust, "--status-cache", t.TempDir()}, tc.args...)...)
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
	_, out, _ := runVerifyCmd(t, "--trust", trust, "--status-cache", t.TempDir(), "--keys", s.srv.URL+"/.well-known/hallmark/keys.json", writeTemp(t, "t.jws", tampered))
	if strings.Contains(out, "Acme") {
		t.Errorf("claims of an invalid credential shown:\n%s", out)
	}
	// A surrendered label whose message list cannot be read is still not
	// valid: it is reported revoked.
	s.mu.Lock()
	s.message = nil
	s.mu.Unlock()
	code, out, _ := runVerifyCmd(t, "--trust", trust, "--status-cache", t.TempDir(), s.srv.URL+"/labels/surr")
	if code != 12 || !strings.Contains(out, "could not tell a surrendered label from a revoked one") {
		t.Errorf("surrendered, message list unavailable: exit %d\n%s", code, out)
	}
}

func TestVerifyCommandOfflineWithCache(t *testing.T) {
	s := newLabelServer(t)
	trust := s.trustStore(t)
	now := time.Now()
	jws := s.issue("good", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	file := writeTemp(t, "label.jws", jws)
	cache := t.TempDir()

	before := time.Now().UTC().Truncate(time.Second)
	if code, out, errs := runVerifyCmd(t, "--trust", trust, "--status-cache", cache, file); code != 0 {
		t.Fatalf("online: exit %d\n%s%s", code, out, errs)
	}
	after := time.Now().UTC()
	s.srv.Close() // from here on there is no network

	code, out, errs := runVerifyCmd(t, "--trust", trust, "--offline", "--status-cache", cache, file)
	if code != 0 {
		t.Fatalf("offline with a cache: exit %d\n%s%s", code, out, errs)
	}
	asOf := ""
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Status as of"); ok {
			asOf, _, _ = strings.Cut(strings.TrimSpace(v), " ")
		}
	}
	at, err := time.Parse(time.RFC3339, asOf)
	if err != nil || at.Before(before) || at.After(after) {
		t.Errorf("status as of %q, want the time of the online run (%v to %v)\n%s", asOf, before, after, out)
	}
	if !strings.Contains(out, "(cached ") || !strings.Contains(out, "ago)") {
		t.Errorf("the report does not say the keys came from the cache, or how old the status is:\n%s", out)
	}

	// Offline with nothing cached: the signature still verifies with a key
	// file, but the status is unknown, and the exit code says so.
	keys := writeTemp(t, "keys.json", string(s.ring.JWKS()))
	code, out, errs = runVerifyCmd(t, "--trust", trust, "--offline", "--status-cache", t.TempDir(), "--keys", keys, file)
	if code != int(VerifyStatusUnknownOffline) || !strings.Contains(out, "Status as of   unknown") || !strings.Contains(out, "status unknown") {
		t.Errorf("offline without a cache: exit %d\n%s%s", code, out, errs)
	}
	// Offline with no cached keys, the keys pinned in the trust store verify.
	code, out, errs = runVerifyCmd(t, "--trust", trust, "--offline", "--status-cache", t.TempDir(), file)
	if code != int(VerifyStatusUnknownOffline) || !strings.Contains(out, "from the trust store") {
		t.Errorf("offline with only the pinned keys: exit %d\n%s%s", code, out, errs)
	}
}

// Status is only as good as it is fresh: a list past its validUntil, or
// older than --max-age, gives "status unknown" with when it was last known.
func TestVerifyCommandStaleStatus(t *testing.T) {
	s := newLabelServer(t)
	trust := s.trustStore(t)
	now := time.Now()
	file := writeTemp(t, "label.jws", s.issue("good", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour)))
	cache := t.TempDir()
	if code, out, _ := runVerifyCmd(t, "--trust", trust, "--status-cache", cache, file); code != 0 {
		t.Fatalf("online: exit %d\n%s", code, out)
	}
	verify := func(args ...string) (int, string) {
		code, out, errs := runVerifyCmd(t, append([]string{"--trust", trust, "--status-cache", cache}, args...)...)
		return code, out + errs
	}
	t.Run("offline, within the list's validity", func(t *testing.T) {
		at(t, now.Add(40*time.Minute))
		if code, out := verify("--offline", file); code != 0 || !strings.Contains(out, " min ago)") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("offline, --max-age too old", func(t *testing.T) {
		at(t, now.Add(40*time.Minute))
		if code, out := verify("--offline", "--max-age", "30m", file); code != 15 || !strings.Contains(out, "unknown (last known as of") ||
			!strings.Contains(out, "older than the maximum age asked for") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("offline, cache older than the list's validity", func(t *testing.T) {
		at(t, now.Add(2*time.Hour))
		if code, out := verify("--offline", file); code != 15 || !strings.Contains(out, "unknown (last known as of") || !strings.Contains(out, "expired") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("online, the server serves lists past their validUntil", func(t *testing.T) {
		at(t, now.Add(2*time.Hour))
		s.mu.Lock()
		s.listFrom, s.listUntil = -3*time.Hour, -time.Hour // relative to the server's real clock: long expired
		s.mu.Unlock()
		code, out := verify(file)
		if code != 15 || !strings.Contains(out, "unknown (last known as of") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
}

// A key verifies only what it signed before it was retired or compromised.
func TestVerifyCommandKeyTimes(t *testing.T) {
	s := newLabelServer(t)
	trust := s.trustStore(t) // pins the first key only
	now := time.Now()
	year := 365 * 24 * time.Hour
	old := s.keyRing().Active()
	early := writeTemp(t, "early.jws", s.issueWith(old, "early", 10, now.Add(-3*time.Hour), now.Add(year)))
	mid := writeTemp(t, "mid.jws", s.issueWith(old, "mid", 11, now.Add(-90*time.Minute), now.Add(year)))
	late := writeTemp(t, "late.jws", s.issueWith(old, "late", 12, now.Add(-10*time.Minute), now.Add(year)))
	if _, err := s.keyRing().Rotate(now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	verify := func(file string) (int, string) {
		code, out, errs := runVerifyCmd(t, "--trust", trust, "--status-cache", t.TempDir(), file)
		return code, out + errs
	}
	// The rotated key set still carries the pinned key: accepted, pin moved.
	if code, out := verify(early); code != 0 || !strings.Contains(out, "still carries the pinned key "+old.KID) {
		t.Fatalf("signed before the rotation: exit %d\n%s", code, out)
	}
	if code, out := verify(late); code != 10 || !strings.Contains(out, "signed after its key was retired") {
		t.Errorf("signed after the rotation: exit %d\n%s", code, out)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keys", "--data", s.data, "compromise", old.KID, "--since",
		now.Add(-2 * time.Hour).UTC().Format(time.RFC3339)}, &out, &errb); code != 0 {
		t.Fatalf("keys compromise: exit %d %s%s", code, out.String(), errb.String())
	}
	s.reloadRing(t)
	if code, out := verify(mid); code != 10 || !strings.Contains(out, "compromised since") {
		t.Errorf("signed after the compromise: exit %d\n%s", code, out)
	}
	if code, out := verify(early); code != 0 {
		t.Errorf("signed before the compromise: exit %d\n%s", code, out)
	}
}

func TestVerifyCommandTrust(t *testing.T) {
	s := newLabelServer(t)
	s.name = "Cyber Security Agency of Singapore" // what anyone can claim
	now := time.Now()
	file := writeTemp(t, "label.jws", s.issue("good", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour)))
	verify := func(args ...string) (int, string, string) {
		return runVerifyCmd(t, append([]string{"--status-cache", t.TempDir()}, args...)...)
	}

	t.Run("untrusted issuer", func(t *testing.T) {
		store := filepath.Join(t.TempDir(), "trust.json")
		code, out, _ := verify("--trust", store, file)
		for _, w := range []string{"ISSUER NOT TRUSTED", s.srv.URL + `, calling itself "Cyber Security Agency of Singapore" (unverified)`,
			"hallmark trust add --trust " + store + " " + s.srv.URL} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q", w)
			}
		}
		if code != 16 || strings.Contains(out, "VALID") || strings.Contains(out, "Acme") {
			t.Errorf("exit %d\n%s", code, out)
		}
		// The default store is used when --trust is not given.
		if code, out, _ := verify(file); code != 16 || !strings.Contains(out, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "hallmark", "trust.json")) {
			t.Errorf("default store: exit %d\n%s", code, out)
		}
	})

	t.Run("trust on first use", func(t *testing.T) {
		store := filepath.Join(t.TempDir(), "trust.json")
		code, out, errs := verify("--trust", store, "--tofu", file)
		if code != 0 || !strings.Contains(out, "pinned on first use") || !strings.Contains(errs, "on first use") || !strings.Contains(errs, "Nothing vouched") {
			t.Fatalf("first use: exit %d\n%s\n%s", code, out, errs)
		}
		if st, err := os.Stat(store); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("trust store %v, mode %v; want 0600", err, st)
		}
		code, out, errs = verify("--trust", store, file)
		if code != 0 || strings.Contains(out+errs, "pinned on first use") || !strings.Contains(out, "trusted (trust on first use") {
			t.Errorf("second use, from the pin: exit %d\n%s\n%s", code, out, errs)
		}
	})

	t.Run("a spoofed name shows the trusted name", func(t *testing.T) {
		store := s.trustStore(t, "--name", "Local test lab")
		code, out, _ := verify("--trust", store, file)
		if code != 0 || !strings.Contains(out, "Issuer         Local test lab <"+s.srv.URL+">") ||
			!strings.Contains(out, `the credential calls its issuer "Cyber Security Agency of Singapore"; you trusted `+s.srv.URL+` as "Local test lab"`) {
			t.Errorf("exit %d\n%s", code, out)
		}
		if strings.Contains(out, "Issuer         Cyber Security Agency") {
			t.Errorf("the claimed name is shown as the issuer:\n%s", out)
		}
	})

	t.Run("keys replaced without continuity", func(t *testing.T) {
		store := s.trustStore(t)
		before, _ := os.ReadFile(store)
		s.replaceKeys(t)
		t.Cleanup(func() { s.reloadRing(t) })
		forged := writeTemp(t, "forged.jws", s.issue("forged", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour)))
		code, out, _ := verify("--trust", store, forged)
		if code != 16 || !strings.Contains(out, "without continuity (possible impersonation)") {
			t.Errorf("exit %d\n%s", code, out)
		}
		if after, _ := os.ReadFile(store); !bytes.Equal(before, after) {
			t.Error("a refused key set changed the pin")
		}
	})
}

func TestTrustCommands(t *testing.T) {
	s := newLabelServer(t)
	store := filepath.Join(t.TempDir(), "trust.json")
	trust := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"trust", args[0], "--trust", store}, args[1:]...), &out, &errb)
		return code, out.String() + errb.String()
	}
	kid := s.keyRing().Active().KID
	if code, out := trust("add", s.srv.URL+"/"); code != 0 || !strings.Contains(out, `trusting `+s.srv.URL+` as "Example Agency"`) || !strings.Contains(out, kid) {
		t.Fatalf("add URL: exit %d\n%s", code, out)
	}
	keys := writeTemp(t, "keys.json", string(s.keyRing().JWKS()))
	if code, out := trust("add", "--keys", keys, "--issuer", "did:web:other.example", "--name", "Other"); code != 0 || !strings.Contains(out, `did:web:other.example as "Other"`) {
		t.Fatalf("add --keys: exit %d\n%s", code, out)
	}
	if code, out := trust("list"); code != 0 || !strings.Contains(out, s.srv.URL+`  "Example Agency"`) || !strings.Contains(out, "did:web:other.example") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if code, out := trust("remove", s.srv.URL); code != 0 {
		t.Errorf("remove: exit %d\n%s", code, out)
	}
	if code, out := trust("list"); strings.Contains(out, s.srv.URL) || code != 0 {
		t.Errorf("removed issuer still listed:\n%s", out)
	}
	if code, _ := trust("remove", s.srv.URL); code != 1 {
		t.Errorf("removing an issuer not trusted: exit %d", code)
	}
	if code, _ := trust("add", "--keys", keys); code != 2 {
		t.Errorf("--keys without --issuer: exit %d", code)
	}
}

func TestVerifyCommandFallsBackToCache(t *testing.T) {
	s := newLabelServer(t)
	trust := s.trustStore(t)
	now := time.Now()
	s.issue("good", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	cache := t.TempDir()
	if code, out, _ := runVerifyCmd(t, "--trust", trust, "--status-cache", cache, s.srv.URL+"/labels/good"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	s.mu.Lock()
	s.failStatus = true
	s.mu.Unlock()
	code, out, _ := runVerifyCmd(t, "--trust", trust, "--status-cache", cache, s.srv.URL+"/labels/good")
	if code != 0 || !strings.Contains(out, "using the copy cached") {
		t.Errorf("status lists unavailable, cache present: exit %d\n%s", code, out)
	}
	code, out, _ = runVerifyCmd(t, "--trust", trust, "--status-cache", t.TempDir(), s.srv.URL+"/labels/good")
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
	if code, _, _ := runVerifyCmd(t, "--offline", "--tofu", "x.jws"); code != 2 {
		t.Errorf("--offline with --tofu: exit %d, want 2", code)
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
	for _, w := range []string{"Usage: hallmark verify", "--offline", "--keys", "--status-cache", "--trust", "--tofu", "--max-age",
		" 0  valid", "10  invalid", "11  suspended", "12  revoked", "13  expired", "14  not yet valid", "15  status unknown",
		"16  issuer not trusted", "17  surrendered"} {
		if !strings.Contains(out+errs, w) {
			t.Errorf("help lacks %q", w)
		}
	}
	for _, c := range []VerifyExit{VerifyInvalid, VerifySuspended, VerifyRevoked, VerifyExpired, VerifyNotYetValid, VerifyStatusUnknownOffline,
		VerifyIssuerNotTrusted, VerifySurrendered} {
		var err error = c
		var ec interface{ ExitCode() int }
		if !errors.As(err, &ec) || ec.ExitCode() != int(c) || err.Error() == "" {
			t.Errorf("%d does not carry its exit code", c)
		}
	}
}

// The report's Credential line says where the credential was read (its
// URL or file), not the page; an unknown label is said in words.
func TestVerifyCommandCredentialSourceAndUnknownLabel(t *testing.T) {
	s := newLabelServer(t)
	trust := s.trustStore(t)
	now := time.Now()
	s.issue("good", 10, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	code, out, errs := runVerifyCmd(t, "--trust", trust, "--status-cache", t.TempDir(), s.srv.URL+"/labels/good")
	if code != 0 || !strings.Contains(out, "Credential     "+s.srv.URL+"/api/v1/labels/good/credential\n") {
		t.Errorf("exit %d; the Credential line does not name the credential's URL:\n%s%s", code, out, errs)
	}
	file := writeTemp(t, "g.jws", s.creds["good"])
	if _, out, _ := runVerifyCmd(t, "--trust", trust, "--status-cache", t.TempDir(), file); !strings.Contains(out, "Credential     "+file+"\n") {
		t.Errorf("the Credential line does not name the file:\n%s", out)
	}
	code, out, errs = runVerifyCmd(t, "--trust", trust, "--status-cache", t.TempDir(), s.srv.URL+"/labels/HM-NONE-XXXX")
	if code != 1 || !strings.Contains(out+errs, "there is no label HM-NONE-XXXX at "+s.srv.URL+": check the code on the box") {
		t.Errorf("an unknown label: exit %d, %s%s", code, out, errs)
	}
}

// scheme show names each level once: "Level 1:", never "Level 1 (1):".
func TestSchemeShowLevelNames(t *testing.T) {
	code, out, errs := hallmark(t, "", "scheme", "show", "sg-cls")
	if code != 0 || !strings.Contains(out, "\nLevel 1: 5 requirements") || strings.Contains(out, "Level 1 (1)") {
		t.Errorf("exit %d: %s%s", code, out, errs)
	}
	if _, out, _ := hallmark(t, "", "scheme", "show", "eu-red-da"); !strings.Contains(out, "(3-3-d): ") {
		t.Errorf("a level whose name lacks its id loses the id:\n%s", out)
	}
}
