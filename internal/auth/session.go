package auth

import (
	"net/http"
	"time"
)

// Session timeouts. The console can grant and revoke labels, so sessions are
// kept short (OWASP Session Management: 15-30 min idle for such apps, 4-8 h
// absolute): a forgotten browser tab stops being a key after half an hour,
// and even an active session must log in again after a working day.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 8 * time.Hour
	// TouchInterval is how stale lastSeen may get before it is worth a
	// write; refreshing on every request would make every page a DB write.
	TouchInterval = time.Minute
	// clockSkew tolerates servers whose clocks differ slightly.
	clockSkew = time.Minute
)

// Session cookie names. The __Host- prefix makes browsers refuse the cookie
// unless it is Secure, has Path=/ and no Domain, so a sibling subdomain or a
// plain-HTTP attacker cannot plant a session cookie for us (session
// fixation by cookie tossing). Browsers refuse it over plain HTTP, hence
// the fallback name for local development.
const (
	SessionCookieSecureName = "__Host-hallmark_session"
	SessionCookieDevName    = "hallmark_session"
)

// SessionCookieName is the cookie name to use given whether we serve HTTPS.
func SessionCookieName(secure bool) string {
	if secure {
		return SessionCookieSecureName
	}
	return SessionCookieDevName
}

// NewSessionID returns a fresh session id for the cookie and the hash to
// store. Call it at every login (and privilege change) and drop any session
// the browser had before: an id chosen or seen before authentication must
// never become an authenticated one (session fixation, OWASP ASVS 3.2.1).
func NewSessionID() (id, hash string) { return NewToken(PrefixSession) }

// SessionCookie builds the session cookie. HttpOnly keeps it from scripts
// (XSS cannot steal it); SameSite=Lax keeps it off cross-site POSTs while
// still letting people follow links into the console. maxAge > 0 sets
// Max-Age (normally AbsoluteTimeout), 0 makes a browser-session cookie, and
// < 0 deletes the cookie.
func SessionCookie(value string, secure bool, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     SessionCookieName(secure),
		Value:    value,
		Path:     "/",
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	switch {
	case maxAge < 0:
		c.Value = ""
		c.MaxAge = -1 // net/http writes Max-Age=0: delete now
		c.Expires = time.Unix(0, 0)
	case maxAge > 0:
		c.MaxAge = max(int(maxAge/time.Second), 1) // never 0, which would mean "no Max-Age"
	}
	return c
}

// ClearSessionCookie is the cookie that logs the browser out.
func ClearSessionCookie(secure bool) *http.Cookie { return SessionCookie("", secure, -1) }

// ReadSessionCookie returns the session id from r, if it has a well-formed
// one under the name for this mode. When secure it deliberately ignores the
// unprefixed name: that one could have been planted over plain HTTP.
func ReadSessionCookie(r *http.Request, secure bool) (string, bool) {
	c, err := r.Cookie(SessionCookieName(secure))
	if err != nil || !WellFormedToken(c.Value, PrefixSession) {
		return "", false
	}
	return c.Value, true
}

// SessionExpired reports whether a session created at created and last used
// at lastSeen must be refused at now: idle too long, alive too long, or with
// timestamps that cannot be right (zero, or in the future, which would
// otherwise stretch the idle timeout).
func SessionExpired(created, lastSeen, now time.Time) bool {
	if created.IsZero() || lastSeen.IsZero() {
		return true
	}
	if created.Sub(now) > clockSkew || lastSeen.Sub(now) > clockSkew {
		return true
	}
	return now.Sub(created) >= AbsoluteTimeout || now.Sub(lastSeen) >= IdleTimeout
}

// SessionNeedsTouch reports whether lastSeen is stale enough to update.
func SessionNeedsTouch(lastSeen, now time.Time) bool {
	return now.Sub(lastSeen) >= TouchInterval
}
