package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Token prefixes. A readable prefix lets people (and secret scanners) tell
// at a glance what a leaked string is and where to revoke it.
const (
	PrefixAPIToken = "hm_live_"
	PrefixSession  = "hms_"
)

// tokenBytes is the entropy of every token: 256 bits, so guessing one is
// hopeless even with the hash table in hand.
const tokenBytes = 32

var tokenEncoding = base64.RawURLEncoding

// NewToken returns a fresh random token and the hash to store. Only the hash
// goes to the database, so a leaked backup does not leak live credentials;
// the plain token is shown once (API) or set as a cookie (session).
//
// The prefix must be a fixed, readable label of letters, digits, '_' or
// '-'; anything else is a programming error and panics, because it could
// break cookies and headers in ways that are hard to see.
func NewToken(prefix string) (plain string, hash string) {
	for i := 0; i < len(prefix); i++ {
		if !isTokenChar(prefix[i]) {
			panic("auth: token prefix " + strconv.Quote(prefix) + " has characters other than [A-Za-z0-9_-]")
		}
	}
	plain = prefix + tokenEncoding.EncodeToString(randomBytes(tokenBytes))
	return plain, HashToken(plain)
}

// HashToken is the stored form of a token: lowercase hex SHA-256 of the
// whole string, prefix included. A plain hash (no salt, no slow KDF) is
// right here because tokens have 256 bits of entropy: nothing to brute-force,
// and the server must find the row by hash in one indexed lookup.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// WellFormedToken reports whether plain looks like a token NewToken(prefix)
// made. Checking the shape before a database lookup turns garbage into a
// cheap refusal and keeps odd bytes out of queries and logs.
func WellFormedToken(plain, prefix string) bool {
	body, ok := strings.CutPrefix(plain, prefix)
	if !ok || len(body) != tokenEncoding.EncodedLen(tokenBytes) {
		return false
	}
	// The decoder skips newlines, so check the alphabet first.
	for i := 0; i < len(body); i++ {
		if !isTokenChar(body[i]) {
			return false
		}
	}
	_, err := tokenEncoding.Strict().DecodeString(body)
	return err == nil
}

// ConstantTimeEqual compares two secrets (tokens, hashes, MACs) in time that
// depends only on their lengths, so a network attacker cannot find a secret
// byte by byte from response times.
func ConstantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// API token lifetimes. Every token expires: a token forgotten in a CI
// system stops being a key on its own. A year at most, so even a
// long-lived integration is looked at once a year.
const (
	DefaultTokenLifetime = 90 * 24 * time.Hour
	MaxTokenLifetime     = 366 * 24 * time.Hour
	MinTokenLifetime     = time.Hour
)

// ErrTokenLifetime is a lifetime outside MinTokenLifetime..MaxTokenLifetime
// or one that cannot be read.
var ErrTokenLifetime = errors.New("token lifetime")

// ParseTokenExpiry reads when a new token should expire: "" for the
// default, a number of days ("30d"), a Go duration ("720h"), or a date
// ("2027-01-31", the end of that day UTC). The answer lies between
// MinTokenLifetime and MaxTokenLifetime from now.
func ParseTokenExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	var at time.Time
	switch {
	case s == "":
		at = now.Add(DefaultTokenLifetime)
	case len(s) == len(time.DateOnly) && strings.Count(s, "-") == 2:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %q is not a date such as 2027-01-31", ErrTokenLifetime, s)
		}
		at = d.Add(24*time.Hour - time.Second)
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 1 || n > 366 {
			return time.Time{}, fmt.Errorf("%w: %q is not a number of days from 1 to 366, such as 90d", ErrTokenLifetime, s)
		}
		at = now.Add(time.Duration(n) * 24 * time.Hour)
	default:
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %q is not a number of days (90d), a duration (720h) or a date (2027-01-31)", ErrTokenLifetime, s)
		}
		at = now.Add(d)
	}
	if d := at.Sub(now); d < MinTokenLifetime || d > MaxTokenLifetime {
		return time.Time{}, fmt.Errorf("%w: a token lives from an hour to 366 days, not until %s", ErrTokenLifetime, at.UTC().Format(time.RFC3339))
	}
	return at.UTC(), nil
}
