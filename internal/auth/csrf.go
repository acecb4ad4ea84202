package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
)

// MinCSRFSecretLen is the shortest secret CSRFToken accepts: 256 bits, the
// HMAC-SHA256 block strength.
const MinCSRFSecretLen = 32

// NewCSRFSecret returns a fresh random server secret for CSRFToken. Keep it
// for the life of the deployment (or rotate it, which logs forms out).
func NewCSRFSecret() []byte { return randomBytes(MinCSRFSecretLen) }

// CSRFToken is the synchroniser token for a session's forms:
// base64url(HMAC-SHA256(secret, "csrf:"+sessionID)). Deriving it rather than
// storing it means no extra state, and binding it to the session means a
// token seen in one session is useless in another. sessionID may be the
// cookie value or its stored hash, as long as the caller is consistent; the
// HMAC reveals nothing about it either way.
//
// With a missing session or a secret shorter than MinCSRFSecretLen it
// returns "", which CheckCSRF never accepts: a misconfiguration breaks
// forms loudly instead of silently weakening them.
func CSRFToken(secret []byte, sessionID string) string {
	if len(secret) < MinCSRFSecretLen || sessionID == "" {
		return ""
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("csrf:" + sessionID))
	return tokenEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether token is the CSRF token for
// sessionID under secret.
func CheckCSRF(secret []byte, sessionID, token string) bool {
	want := CSRFToken(secret, sessionID)
	return want != "" && token != "" && ConstantTimeEqual(want, token)
}

// SafeMethod reports whether m is one that must not change state (RFC 9110
// §9.2.1), so needs no CSRF check.
func SafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// SameOrigin is the defence-in-depth check behind CSRF tokens: for unsafe
// methods the request must come from allowedOrigin (e.g.
// "https://hallmark.example"), as told by Origin or, when a browser omits
// Origin, by Referer. With neither it refuses: every browser we support sends
// one of them on a form POST (our pages must not set Referrer-Policy:
// no-referrer), and a request without them cannot be shown to be ours.
// A Sec-Fetch-Site of cross-site or same-site also refuses, since a sibling
// subdomain is a different origin too.
func SameOrigin(r *http.Request, allowedOrigin string) bool {
	if SafeMethod(r.Method) {
		return true
	}
	want, ok := origin(allowedOrigin, false)
	if !ok {
		return false // a bad configuration must not open the gate
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	}
	if vs := r.Header.Values("Origin"); len(vs) > 0 {
		// Present but "null", empty or repeated is a refusal, not a reason
		// to fall back to the weaker Referer.
		got, ok := origin(vs[0], false)
		return len(vs) == 1 && ok && got == want
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		got, ok := origin(ref, true)
		return ok && got == want
	}
	return false
}

// origin returns the canonical scheme://host[:port] of s: lowercase, default
// port dropped. An origin proper has no path (a trailing "/" is tolerated in
// configuration); a Referer may have one. User info is refused as it is a
// classic way to make a URL look like another's.
func origin(s string, allowPath bool) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Opaque != "" || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	if !allowPath && ((u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "") {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) {
		host += ":" + port
	}
	return scheme + "://" + host, true
}
