package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSessionCookie(t *testing.T) {
	id, hash := NewSessionID()
	if !strings.HasPrefix(id, PrefixSession) || hash != HashToken(id) {
		t.Fatalf("NewSessionID = %q, %q", id, hash)
	}
	if again, _ := NewSessionID(); again == id {
		t.Fatal("NewSessionID repeated itself")
	}

	for _, c := range []struct {
		secure bool
		name   string
	}{{true, "__Host-hallmark_session"}, {false, "hallmark_session"}} {
		ck := SessionCookie(id, c.secure, AbsoluteTimeout)
		if ck.Name != c.name || ck.Value != id || ck.Path != "/" || ck.Domain != "" ||
			!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != c.secure ||
			ck.MaxAge != int(AbsoluteTimeout/time.Second) {
			t.Errorf("secure=%v: cookie %+v", c.secure, ck)
		}
		if err := ck.Valid(); err != nil {
			t.Errorf("secure=%v: invalid cookie: %v", c.secure, err)
		}
		line := ck.String()
		for _, attr := range []string{"Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=28800"} {
			if !strings.Contains(line, attr) {
				t.Errorf("secure=%v: %q lacks %s", c.secure, line, attr)
			}
		}
		if strings.Contains(line, "Secure") != c.secure {
			t.Errorf("secure=%v: %q", c.secure, line)
		}
	}

	if ck := SessionCookie(id, true, 0); ck.MaxAge != 0 || strings.Contains(ck.String(), "Max-Age") {
		t.Errorf("maxAge 0 should make a browser-session cookie: %q", ck.String())
	}
	if ck := SessionCookie(id, true, 300*time.Millisecond); ck.MaxAge != 1 {
		t.Errorf("sub-second maxAge became %d, want 1 (0 would mean no expiry)", ck.MaxAge)
	}
	gone := ClearSessionCookie(true)
	if gone.Value != "" || !strings.Contains(gone.String(), "Max-Age=0") || gone.Name != "__Host-hallmark_session" {
		t.Errorf("clear cookie %q", gone.String())
	}
}

func TestReadSessionCookie(t *testing.T) {
	id, _ := NewSessionID()
	req := func(name, value string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: name, Value: value})
		return r
	}
	if got, ok := ReadSessionCookie(req("__Host-hallmark_session", id), true); !ok || got != id {
		t.Errorf("secure read = %q, %v", got, ok)
	}
	if got, ok := ReadSessionCookie(req("hallmark_session", id), false); !ok || got != id {
		t.Errorf("dev read = %q, %v", got, ok)
	}
	// Over HTTPS an unprefixed cookie may have been planted: ignore it.
	if _, ok := ReadSessionCookie(req("hallmark_session", id), true); ok {
		t.Error("secure mode read the unprefixed cookie")
	}
	api, _ := NewToken(PrefixAPIToken)
	for _, v := range []string{"", "hms_short", api, "attacker-chosen"} {
		if _, ok := ReadSessionCookie(req("hallmark_session", v), false); ok {
			t.Errorf("accepted session cookie %q", v)
		}
	}
	if _, ok := ReadSessionCookie(httptest.NewRequest("GET", "/", nil), false); ok {
		t.Error("no cookie, but ok")
	}
}

func TestSessionExpired(t *testing.T) {
	cases := []struct {
		name                   string
		created, lastSeen, now time.Time
		want                   bool
	}{
		{"fresh", t0, t0, t0, false},
		{"active", t0, t0.Add(time.Hour), t0.Add(time.Hour + time.Minute), false},
		{"idle just under", t0, t0, t0.Add(IdleTimeout - time.Second), false},
		{"idle at limit", t0, t0, t0.Add(IdleTimeout), true},
		{"idle long", t0, t0, t0.Add(2 * time.Hour), true},
		{"absolute just under", t0, t0.Add(AbsoluteTimeout - time.Minute), t0.Add(AbsoluteTimeout - time.Second), false},
		{"absolute though active", t0, t0.Add(AbsoluteTimeout - time.Second), t0.Add(AbsoluteTimeout), true},
		{"zero created", time.Time{}, t0, t0, true},
		{"zero lastSeen", t0, time.Time{}, t0, true},
		{"small clock skew", t0.Add(30 * time.Second), t0.Add(30 * time.Second), t0, false},
		{"created in the future", t0.Add(time.Hour), t0, t0, true},
		{"lastSeen in the future", t0, t0.Add(2 * time.Hour), t0.Add(time.Hour), true},
	}
	for _, c := range cases {
		if got := SessionExpired(c.created, c.lastSeen, c.now); got != c.want {
			t.Errorf("%s: SessionExpired = %v, want %v", c.name, got, c.want)
		}
	}
	if IdleTimeout >= AbsoluteTimeout {
		t.Error("idle timeout must be shorter than absolute")
	}
	if SessionNeedsTouch(t0, t0.Add(30*time.Second)) || !SessionNeedsTouch(t0, t0.Add(TouchInterval)) {
		t.Error("SessionNeedsTouch")
	}
}
