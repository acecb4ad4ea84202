package auth

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// A Limit says how many failures a key may have before it is locked out.
type Limit struct {
	// Failures within Window lock the key for Window after the last one.
	Failures int
	Window   time.Duration
	// Free failures carry no delay; after that each failure makes the next
	// attempt wait BaseDelay, doubling per failure up to MaxDelay. The
	// backoff slows a guessing script long before the hard lock, while a
	// person who mistypes twice never notices it.
	Free      int
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxKeys caps the keys tracked; beyond it the key with the oldest
	// failure is forgotten. This bounds memory under a flood of invented
	// account names or addresses, at the price of letting such a flood
	// (MaxKeys fresh failures) shorten old lockouts.
	MaxKeys int
}

// The login limits. Per account: 10 failures in 15 minutes (NIST SP
// 800-63B §5.2.2 allows up to 100; 10 is plenty for people and, with the
// backoff, holds a script to about 10 guesses per quarter hour). Per IP a
// looser 50, since an office or lab shares one address, but one machine
// spraying one password across many accounts is still stopped.
var (
	AccountLimit = Limit{Failures: 10, Window: 15 * time.Minute, Free: 3, BaseDelay: time.Second, MaxDelay: time.Minute, MaxKeys: 50_000}
	IPLimit      = Limit{Failures: 50, Window: 15 * time.Minute, Free: 20, BaseDelay: time.Second, MaxDelay: 15 * time.Second, MaxKeys: 50_000}
)

// maxLimiterKeyLen bounds the bytes a key may hold in memory; longer keys (an
// attacker's megabyte "email") are replaced by their hash.
const maxLimiterKeyLen = 128

// A Limiter counts failures per key. It is safe for concurrent use. Times
// are passed in so that tests (and callers) control the clock.
type Limiter struct {
	lim   Limit
	mu    sync.Mutex
	keys  map[string]*list.Element
	order list.List // of *failures; front = most recent failure
}

type failures struct {
	key         string
	count       int
	start       time.Time // first failure of the window
	last        time.Time
	lockedUntil time.Time // zero unless locked
}

// NewLimiter returns a Limiter for l. Zero or negative Failures, Window and
// MaxKeys take AccountLimit's values; a zero BaseDelay means no backoff.
func NewLimiter(l Limit) *Limiter {
	if l.Failures <= 0 {
		l.Failures = AccountLimit.Failures
	}
	if l.Window <= 0 {
		l.Window = AccountLimit.Window
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = AccountLimit.MaxKeys
	}
	if l.MaxDelay <= 0 {
		l.MaxDelay = l.Window
	}
	return &Limiter{lim: l, keys: make(map[string]*list.Element)}
}

// Allow reports whether key may attempt a login at now; if not, retryAfter
// is how long to wait (for a Retry-After header). Refused attempts should
// not be tried, nor counted with Fail.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	key = limiterKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.keys[key]
	if el == nil {
		return true, 0
	}
	f := el.Value.(*failures)
	if !l.live(f, now) {
		l.remove(el)
		return true, 0
	}
	if !f.lockedUntil.IsZero() {
		return false, f.lockedUntil.Sub(now)
	}
	if until := f.last.Add(l.backoff(f.count)); now.Before(until) {
		return false, until.Sub(now)
	}
	return true, 0
}

// Fail records a failed attempt for key at now.
func (l *Limiter) Fail(key string, now time.Time) {
	key = limiterKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.keys[key]
	if el != nil && !l.live(el.Value.(*failures), now) {
		l.remove(el)
		el = nil
	}
	if el == nil {
		l.makeRoom(now)
		el = l.order.PushFront(&failures{key: key, start: now})
		l.keys[key] = el
	}
	f := el.Value.(*failures)
	if !f.lockedUntil.IsZero() {
		return // already locked; more failures must not extend it forever
	}
	f.count++
	f.last = now
	if f.count >= l.lim.Failures {
		f.lockedUntil = now.Add(l.lim.Window)
	}
	l.order.MoveToFront(el)
}

// Succeed forgets key's failures.
func (l *Limiter) Succeed(key string) {
	key = limiterKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el := l.keys[key]; el != nil {
		l.remove(el)
	}
}

// Len is the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// live reports whether f still matters at now: locked, or inside its window.
func (l *Limiter) live(f *failures, now time.Time) bool {
	if !f.lockedUntil.IsZero() {
		return now.Before(f.lockedUntil)
	}
	return now.Before(f.start.Add(l.lim.Window))
}

func (l *Limiter) backoff(count int) time.Duration {
	n := count - l.lim.Free
	if l.lim.BaseDelay <= 0 || n <= 0 {
		return 0
	}
	if n > 30 {
		return l.lim.MaxDelay
	}
	d := l.lim.BaseDelay << (n - 1)
	if d <= 0 || d > l.lim.MaxDelay {
		return l.lim.MaxDelay
	}
	return d
}

// makeRoom drops expired keys from the old end, then the oldest live ones
// until a new key fits. The list is ordered by last failure, so expired
// keys cluster at the back and this is cheap on average.
func (l *Limiter) makeRoom(now time.Time) {
	for el := l.order.Back(); el != nil && !l.live(el.Value.(*failures), now); el = l.order.Back() {
		l.remove(el)
	}
	for len(l.keys) >= l.lim.MaxKeys {
		l.remove(l.order.Back())
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*failures).key)
	l.order.Remove(el)
}

func limiterKey(k string) string {
	if len(k) > maxLimiterKeyLen {
		return "#" + HashToken(k)
	}
	return k
}

// LoginLimiter applies both login limits: per account and per client IP.
type LoginLimiter struct {
	Account *Limiter
	IP      *Limiter
}

// NewLoginLimiter returns a LoginLimiter with AccountLimit and IPLimit.
func NewLoginLimiter() *LoginLimiter {
	return &LoginLimiter{Account: NewLimiter(AccountLimit), IP: NewLimiter(IPLimit)}
}

// Allow reports whether a login for account from ip may be attempted, and
// if not how long to wait. Check it before the password: a refused attempt
// must cost us no argon2 time, and must get the same answer whether or not
// the account exists.
func (l *LoginLimiter) Allow(account, ip string, now time.Time) (ok bool, retryAfter time.Duration) {
	okA, waitA := l.Account.Allow(AccountKey(account), now)
	okI, waitI := l.IP.Allow(IPKey(ip), now)
	return okA && okI, max(waitA, waitI)
}

// Fail records a failed login. Record it for unknown accounts too, or the
// lockout itself would tell an attacker which accounts exist.
func (l *LoginLimiter) Fail(account, ip string, now time.Time) {
	l.Account.Fail(AccountKey(account), now)
	l.IP.Fail(IPKey(ip), now)
}

// Succeed clears the account's failures. The IP's are kept on purpose:
// otherwise an attacker holding one valid account could log into it
// between guesses at others and never hit the IP limit.
func (l *LoginLimiter) Succeed(account string) {
	l.Account.Succeed(AccountKey(account))
}

// AccountKey normalises an account name (an email) so that case and stray
// spaces do not give an attacker ten fresh tries per spelling.
func AccountKey(account string) string {
	return strings.ToLower(strings.TrimSpace(account))
}

// IPKey is the limiter key for a client address. IPv6 addresses are keyed
// by their /64, because one host commonly holds a whole /64 and could
// otherwise take a fresh address for every attempt.
func IPKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// ClientIP returns the client's address for r. With trustProxy it takes the
// rightmost X-Forwarded-For entry: the one our own reverse proxy appended.
// Entries to its left were sent by the client and may be forged, so this
// assumes exactly one trusted proxy hop. Without trustProxy the header is
// ignored entirely, since anyone can send it.
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		vs := r.Header.Values("X-Forwarded-For")
		if len(vs) > 0 {
			last := vs[len(vs)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip, ok := parseIP(strings.TrimSpace(last)); ok {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, ok := parseIP(host); ok {
		return ip
	}
	return host
}

// parseIP accepts an address with or without a port and returns it in
// canonical form (IPv4-mapped IPv6 unmapped, zone dropped).
func parseIP(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return "", false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("").String(), true
}
