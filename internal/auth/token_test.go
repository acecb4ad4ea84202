package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewToken(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		plain, hash := NewToken(PrefixAPIToken)
		if !strings.HasPrefix(plain, "hm_live_") || len(plain) != len("hm_live_")+43 {
			t.Fatalf("token %q: want hm_live_ and 43 base64url characters", plain)
		}
		if !WellFormedToken(plain, PrefixAPIToken) {
			t.Fatalf("own token %q not well formed", plain)
		}
		if seen[plain] || seen[hash] {
			t.Fatalf("repeated token or hash after %d", len(seen))
		}
		seen[plain], seen[hash] = true, true
		if hash != HashToken(plain) {
			t.Fatal("returned hash is not HashToken(plain)")
		}
		if strings.Contains(hash, strings.TrimPrefix(plain, PrefixAPIToken)) {
			t.Fatal("hash contains the token")
		}
	}
	if s, _ := NewToken(PrefixSession); !strings.HasPrefix(s, "hms_") {
		t.Fatalf("session token %q", s)
	}
}

func TestHashTokenStable(t *testing.T) {
	const plain = "hm_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	// A golden value (from sha256sum): the stored form must never change,
	// or every issued token and session dies.
	const want = "fe92d686e68a7fa8ca8811629bb46028e93b0adcdadd557282df04be2c70a6c5"
	if got := HashToken(plain); got != want {
		t.Fatalf("HashToken = %q, want %q", got, want)
	}
	if HashToken(plain) == HashToken(plain+"x") || HashToken("hms_x") == HashToken("hm_live_x") {
		t.Fatal("different tokens share a hash")
	}
}

func TestNewTokenBadPrefix(t *testing.T) {
	for _, p := range []string{"hm live_", "hm;", "ü_", "a\n"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewToken(%q) did not panic", p)
				}
			}()
			NewToken(p)
		}()
	}
	if plain, _ := NewToken(""); len(plain) != 43 {
		t.Errorf("empty prefix: %q", plain)
	}
}

func TestWellFormedToken(t *testing.T) {
	good, _ := NewToken(PrefixAPIToken)
	body := strings.TrimPrefix(good, PrefixAPIToken)
	for tok, want := range map[string]bool{
		good:                             true,
		"":                               false,
		PrefixAPIToken:                   false,
		"hms_" + body:                    false, // a session id is not an API token
		good + "A":                       false,
		good[:len(good)-1]:               false,
		PrefixAPIToken + body + "=":      false,
		PrefixAPIToken + body[:42] + "+": false, // standard, not URL, alphabet
		PrefixAPIToken + body[:20] + "\n" + body[20:42]: false,
	} {
		if got := WellFormedToken(tok, PrefixAPIToken); got != want {
			t.Errorf("WellFormedToken(%q) = %v, want %v", tok, got, want)
		}
	}
}

func TestConstantTimeEqual(t *testing.T) {
	a := HashToken("a")
	if !ConstantTimeEqual(a, HashToken("a")) || ConstantTimeEqual(a, HashToken("b")) ||
		ConstantTimeEqual(a, a[:63]) || ConstantTimeEqual("", a) || !ConstantTimeEqual("", "") {
		t.Fatal("ConstantTimeEqual is wrong")
	}
}

func TestParseTokenExpiry(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":           now.Add(DefaultTokenLifetime),
		"30d":        now.AddDate(0, 0, 30),
		" 366d ":     now.AddDate(0, 0, 366),
		"720h":       now.Add(720 * time.Hour),
		"1h":         now.Add(time.Hour),
		"2026-12-31": time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		got, err := ParseTokenExpiry(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTokenExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0d", "367d", "-5d", "d", "1.5d", "59m", "9000h", "-1h", "2026-03-01", "2028-01-01", "2026-02-30", "never", "1e9d"} {
		if got, err := ParseTokenExpiry(in, now); !errors.Is(err, ErrTokenLifetime) {
			t.Errorf("ParseTokenExpiry(%q) = %v, %v; want refused", in, got, err)
		}
	}
}

// FuzzParseTokenExpiry: any text gives an expiry within the bounds or a
// refusal, never a panic.
func FuzzParseTokenExpiry(f *testing.F) {
	for _, s := range []string{"", "90d", "720h", "2026-12-31", "-1d", "9999999999d", "1e3h"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		at, err := ParseTokenExpiry(s, now)
		if err != nil {
			return
		}
		if d := at.Sub(now); d < MinTokenLifetime || d > MaxTokenLifetime {
			t.Fatalf("%q: expiry %v is %v away", s, at, d)
		}
	})
}
