package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Device cookies (after OWASP's "Slow Down Online Guessing Attacks with
// Device Cookies"): a browser that signed in to an account gets a signed
// cookie naming the account. Its later sign-ins to that account are
// throttled on the cookie alone (DeviceLimit), not on the account's or
// the address's counts, so a stranger failing on purpose for the owner's
// e-mail, or sharing the owner's address, cannot keep the owner out of
// the browsers the owner uses. A stolen cookie guesses no faster: its own
// failures slow it like any other key.
//
// The cookie is "hmd1.<issued unix seconds>.<id>.<mac>", the MAC an
// HMAC-SHA256 over the version, time, id and the normalised account, under
// a key derived from the server secret. It holds no e-mail address; it is
// checked against the account being signed in to.

// DeviceLifetime is how long a device cookie is honoured after the sign-in
// that issued it. Each sign-in issues a fresh one.
const DeviceLifetime = 180 * 24 * time.Hour

// Device cookie names: __Host- when served over HTTPS, as for sessions.
const (
	DeviceCookieSecureName = "__Host-hallmark_device"
	DeviceCookieDevName    = "hallmark_device"
)

const deviceVersion = "hmd1"

// maxDeviceToken bounds what CheckDevice reads: a real token is about 80
// bytes.
const maxDeviceToken = 200

func deviceMAC(secret []byte, issued, id, account string) string {
	k := hmac.New(sha256.New, secret)
	k.Write([]byte("hallmark device cookie key"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(deviceVersion + "\x00" + issued + "\x00" + id + "\x00" + AccountKey(account)))
	return tokenEncoding.EncodeToString(m.Sum(nil))
}

// NewDevice returns a fresh device token for account, issued at now. With
// a secret shorter than MinCSRFSecretLen it returns "", which CheckDevice
// never accepts.
func NewDevice(secret []byte, account string, now time.Time) string {
	if len(secret) < MinCSRFSecretLen {
		return ""
	}
	issued := strconv.FormatInt(now.Unix(), 10)
	id := tokenEncoding.EncodeToString(randomBytes(16))
	return deviceVersion + "." + issued + "." + id + "." + deviceMAC(secret, issued, id, account)
}

// CheckDevice reports whether token is a device token for account, issued
// within DeviceLifetime before now (and not in the future), and returns its
// id, the key its failures are counted under.
func CheckDevice(secret []byte, token, account string, now time.Time) (id string, ok bool) {
	if len(secret) < MinCSRFSecretLen || len(token) > maxDeviceToken {
		return "", false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != deviceVersion {
		return "", false
	}
	for _, p := range parts[1:] {
		if p == "" {
			return "", false
		}
		for i := 0; i < len(p); i++ {
			if !isTokenChar(p[i]) {
				return "", false
			}
		}
	}
	secs, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || strconv.FormatInt(secs, 10) != parts[1] {
		return "", false
	}
	issued := time.Unix(secs, 0)
	if issued.After(now.Add(clockSkew)) || now.Sub(issued) > DeviceLifetime {
		return "", false
	}
	if !ConstantTimeEqual(deviceMAC(secret, parts[1], parts[2], account), parts[3]) {
		return "", false
	}
	return parts[2], true
}

// DeviceCookie is the cookie carrying a device token: HttpOnly, SameSite
// Strict (it is only ever needed on this site's own sign-in form), for
// DeviceLifetime.
func DeviceCookie(token string, secure bool) *http.Cookie {
	name := DeviceCookieDevName
	if secure {
		name = DeviceCookieSecureName
	}
	return &http.Cookie{Name: name, Value: token, Path: "/", Secure: secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		MaxAge: int(DeviceLifetime / time.Second)}
}

// ReadDeviceCookie returns the device token r carries, "" if none.
func ReadDeviceCookie(r *http.Request, secure bool) string {
	name := DeviceCookieDevName
	if secure {
		name = DeviceCookieSecureName
	}
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > maxDeviceToken {
		return ""
	}
	return c.Value
}
