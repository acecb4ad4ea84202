package auth

import (
	"strings"
	"testing"
	"time"
)

func TestDevice(t *testing.T) {
	secret := NewCSRFSecret()
	tok := NewDevice(secret, "Alice@Example.org", t0)
	id, ok := CheckDevice(secret, tok, "alice@example.org ", t0.Add(time.Hour))
	if !ok || id == "" {
		t.Fatalf("a fresh device token for the same account refused: %q", tok)
	}
	if id2, _ := CheckDevice(secret, NewDevice(secret, "alice@example.org", t0), "alice@example.org", t0); id2 == id {
		t.Error("two device tokens share an id")
	}
	parts := strings.Split(tok, ".")
	for name, c := range map[string]struct {
		tok, account string
		now          time.Time
		secret       []byte
	}{
		"another account":   {tok, "bob@example.org", t0, secret},
		"another secret":    {tok, "alice@example.org", t0, NewCSRFSecret()},
		"short secret":      {tok, "alice@example.org", t0, secret[:8]},
		"too old":           {tok, "alice@example.org", t0.Add(DeviceLifetime + time.Second), secret},
		"from the future":   {tok, "alice@example.org", t0.Add(-time.Hour), secret},
		"time changed":      {strings.Join([]string{parts[0], "1", parts[2], parts[3]}, "."), "alice@example.org", t0, secret},
		"id changed":        {strings.Join([]string{parts[0], parts[1], "AAAAAAAAAAAAAAAAAAAAAA", parts[3]}, "."), "alice@example.org", t0, secret},
		"mac cut":           {tok[:len(tok)-2], "alice@example.org", t0, secret},
		"other version":     {"hmd2" + tok[4:], "alice@example.org", t0, secret},
		"empty":             {"", "alice@example.org", t0, secret},
		"extra part":        {tok + ".x", "alice@example.org", t0, secret},
		"leading zero time": {strings.Join([]string{parts[0], "0" + parts[1], parts[2], parts[3]}, "."), "alice@example.org", t0, secret},
		"huge":              {strings.Repeat("a", 1<<16), "alice@example.org", t0, secret},
	} {
		if _, ok := CheckDevice(c.secret, c.tok, c.account, c.now); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if NewDevice(secret[:8], "alice@example.org", t0) != "" {
		t.Error("a short secret made a device token")
	}
	c := DeviceCookie(tok, true)
	if c.Name != DeviceCookieSecureName || !c.HttpOnly || !c.Secure || c.MaxAge <= 0 || c.Path != "/" {
		t.Errorf("device cookie %+v", c)
	}
}

// FuzzCheckDevice: no token makes CheckDevice panic or accept without the
// secret.
func FuzzCheckDevice(f *testing.F) {
	secret := NewCSRFSecret()
	f.Add(NewDevice(secret, "a@example.org", t0), "a@example.org")
	f.Add("hmd1.1.a.b", "")
	f.Add("hmd1..x.", "x")
	f.Fuzz(func(t *testing.T, tok, account string) {
		if _, ok := CheckDevice(NewCSRFSecret(), tok, account, t0); ok {
			t.Fatalf("a token accepted under a secret it was not made with: %q", tok)
		}
		CheckDevice(secret, tok, account, t0)
	})
}
