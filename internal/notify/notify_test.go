package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignMatchesTheDocumentedScheme(t *testing.T) {
	secret, body, ts := "whsec_test", []byte(`{"id":1}`), int64(1767225600)
	// Computed here the way the README tells receivers to.
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("1767225600.{\"id\":1}"))
	if got, want := Sign(secret, ts, body), "v1="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	now := time.Unix(ts, 0).Add(time.Minute)
	sig := Sign(secret, ts, body)
	if err := Verify(secret, sig, "1767225600", body, now, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := Verify(secret, "v1=00, "+sig, "1767225600", body, now, 5*time.Minute); err != nil {
		t.Errorf("a list with the right signature: %v", err)
	}
	for name, c := range map[string]struct {
		secret, sig, ts string
		body            []byte
		now             time.Time
	}{
		"other secret":    {"whsec_other", sig, "1767225600", body, now},
		"other body":      {secret, sig, "1767225600", []byte(`{"id":2}`), now},
		"other timestamp": {secret, sig, "1767225601", body, now},
		"stale":           {secret, sig, "1767225600", body, now.Add(time.Hour)},
		"from the future": {secret, sig, "1767225600", body, now.Add(-time.Hour)},
		"no timestamp":    {secret, sig, "", body, now},
		"no signature":    {secret, "", "1767225600", body, now},
	} {
		if err := Verify(c.secret, c.sig, c.ts, c.body, c.now, 5*time.Minute); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", name, err)
		}
	}
}

func TestSecretsDiffer(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") || len(a) < 40 {
		t.Fatalf("secrets %q %q", a, b)
	}
}

func TestEventBody(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("x", 3600))
	var got map[string]any
	if err := json.Unmarshal(Event{ID: 7, Organisation: 3, FindingID: 9, Rule: "sg-cls/notify", Message: "m", CreatedAt: at}.Body(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": 7.0, "type": "finding.notification", "organisation": 3.0, "finding_id": 9.0, "rule": "sg-cls/notify",
		"message": "m", "created_at": "2026-12-01T09:00:00Z"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("body has %d fields: %v", len(got), got)
	}
}

func TestSchedule(t *testing.T) {
	s := DefaultSchedule
	if len(s) != 7 || s[0] != time.Minute || s[6] != 24*time.Hour {
		t.Fatalf("default schedule %v", s)
	}
	for i, base := range s {
		for range 50 {
			d, ok := s.Retry(i + 1)
			if !ok || d < base || d > base+base/10 {
				t.Fatalf("retry after attempt %d: %v %v, want within [%v, %v]", i+1, d, ok, base, base+base/10)
			}
		}
	}
	if _, ok := s.Retry(len(s) + 1); ok {
		t.Error("no give-up after the last retry")
	}
	if _, ok := s.Retry(0); ok {
		t.Error("attempt 0 retried")
	}
	// Jitter spreads retries.
	seen := map[time.Duration]bool{}
	for range 20 {
		d, _ := s.Retry(7)
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter")
	}
}

func TestCheckURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxURLLen)
	for _, c := range []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"https://hooks.example.com/hallmark", false, true},
		{"https://hooks.example.com:8443/a?b=c", false, true},
		{"http://hooks.example.com/", false, false},
		{"http://hooks.example.com/", true, true},
		{"http://127.0.0.1:8080/hook", false, false},
		{"http://127.0.0.1:8080/hook", true, true},
		{"http://[::1]:8080/hook", true, true},
		{"https://10.0.0.1/", false, false},
		{"https://10.0.0.1/", true, false}, // insecure admits loopback only
		{"https://[fe80::1]/", false, false},
		{"https://8.8.8.8/", false, false}, // public, but still a literal
		{"https://2130706433/", false, false},
		{"https://0x7f000001/", false, false},
		{"https://127.1/", false, false},
		{"https://user:pass@example.com/", false, false},
		{"https://example.com/#frag", false, false},
		{"ftp://example.com/", false, false},
		{"https:///path", false, false},
		{"https:example.com", false, false},
		{"https://example.com:0/", false, false},
		{"https://[fe80::1%25eth0]/", false, false},
		{"//example.com/", false, false},
		{"", false, false},
		{long, false, false},
	} {
		_, err := Policy{Insecure: c.insecure}.CheckURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("CheckURL(%q, insecure=%v) = %v, want ok=%v", c.url, c.insecure, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("CheckURL(%q): %v is not ErrRefused", c.url, err)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for _, c := range []struct {
		addr     string
		insecure bool
		ok       bool
	}{
		{"93.184.215.14", false, true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", false, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"::1", false, false},
		{"::ffff:127.0.0.1", false, false},
		{"::ffff:10.1.2.3", false, false},
		{"10.0.0.1", true, false},
		{"172.16.5.4", false, false},
		{"192.168.1.1", false, false},
		{"169.254.169.254", false, false}, // cloud metadata
		{"fe80::1", false, false},
		{"fc00::1", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"100.64.0.1", false, false},
		{"255.255.255.255", false, false},
		{"64:ff9b::a00:1", false, false}, // NAT64 of 10.0.0.1
		{"2002:a00:1::", false, false},   // 6to4 of 10.0.0.1
	} {
		err := Policy{Insecure: c.insecure}.CheckAddr(netip.MustParseAddr(c.addr))
		if (err == nil) != c.ok {
			t.Errorf("CheckAddr(%s, insecure=%v) = %v, want ok=%v", c.addr, c.insecure, err, c.ok)
		}
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCheckHost(t *testing.T) {
	r := fakeResolver{
		"public.example":  {netip.MustParseAddr("93.184.215.14")},
		"mixed.example":   {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.7")},
		"private.example": {netip.MustParseAddr("192.168.0.2")},
	}
	for host, ok := range map[string]bool{"public.example": true, "mixed.example": false, "private.example": false, "missing.example": false} {
		u, _ := url.Parse("https://" + host + "/")
		if err := (Policy{}).CheckHost(context.Background(), r, u); (err == nil) != ok {
			t.Errorf("CheckHost(%s) = %v, want ok=%v", host, err, ok)
		}
	}
	// The real resolver: localhost is loopback on every system.
	u, _ := url.Parse("https://localhost/hook")
	if err := (Policy{}).CheckHost(context.Background(), net.DefaultResolver, u); !errors.Is(err, ErrRefused) {
		t.Errorf("localhost admitted: %v", err)
	}
}

// The client's dialler refuses what the policy refuses, whatever the URL
// said at registration.
func TestClientRefusesAtDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Policy{}.Client().Get("http://" + ln.Addr().String() + "/")
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("loopback dialled: %v", err)
	}
}

// FuzzCheckURL: whatever is accepted is an https URL of a bounded length
// with a host name (not an address), no credentials and no fragment, and
// parsing it again gives the same host.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/x", "http://127.0.0.1:1/", "https://10.0.0.1/", "https://[::1]/",
		"https://a@b/", "https://0x7f.1/", "https://example.com:443/#", "https://ex%41mple.com/", "https://xn--bcher-kva.example/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Policy{}.CheckURL(raw)
		if err != nil {
			if u != nil || !errors.Is(err, ErrRefused) {
				t.Fatalf("refusal of %q: %v, %v", raw, u, err)
			}
			return
		}
		if len(raw) > MaxURLLen || u.Scheme != "https" || u.User != nil || u.Fragment != "" || u.Hostname() == "" {
			t.Fatalf("accepted %q: %#v", raw, u)
		}
		if _, err := netip.ParseAddr(u.Hostname()); err == nil {
			t.Fatalf("accepted an IP literal: %q", raw)
		}
		if _, err := strconv.ParseUint(strings.TrimPrefix(u.Hostname(), "0x"), 0, 64); err == nil && !strings.Contains(u.Hostname(), ".") {
			t.Fatalf("accepted a numeric host: %q", raw)
		}
		again, err := url.Parse(u.String())
		if err != nil || again.Hostname() != u.Hostname() {
			t.Fatalf("%q does not round-trip: %v %v", raw, again, err)
		}
	})
}
