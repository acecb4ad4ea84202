package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
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
