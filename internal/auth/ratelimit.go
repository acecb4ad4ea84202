package auth

import (
	"container/list"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// A Limit says how a key's failures slow its next attempts. There is no
// hard lock: a lock is a weapon, since whoever can fail for a key (an
// account name anyone can type, an address a whole office shares) could
// keep its owner out. Instead each failure past Free makes the next attempt
// wait longer, up to MaxDelay, which holds a guessing script to a trickle
// while a person who mistypes twice never notices.
type Limit struct {
	// Free failures carry no delay; after that each failure makes the next
	// attempt wait BaseDelay, doubling per failure up to MaxDelay.
	Free      int
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Forget is how long a key's failures are kept after its last one
	// (at least MaxDelay, so a delay never outlives its record).
	Forget time.Duration
	// MaxKeys caps the keys tracked; beyond it the key with the oldest
	// failure is forgotten. This bounds memory under a flood of invented
	// account names or addresses, at the price of letting such a flood
	// (MaxKeys fresh failures) shorten old delays.
	MaxKeys int
}

// The login limits. Each failed sign-in counts against three keys, and
// each key's delay stops only that key:
//
//   - the account from this address: the tight limit, since one address
//     guessing at one account is the plain attack, and it stops the
//     attacker's address only, never the owner's;
//   - the account from any address without a device cookie: rotating
//     addresses (a botnet) still meet a growing delay, capped at 15
//     minutes; the owner's browsers, which hold a device cookie for the
//     account (see device.go), are not slowed by it;
//   - the address for any account: one machine spraying a password over
//     many accounts. Looser, since an office or lab shares one address;
//     behind a reverse proxy, set the trusted proxies or everyone shares
//     the proxy's.
//
// A browser with a valid device cookie for the account is counted on its
// own key (DeviceLimit) instead: a stolen cookie guesses no faster.
var (
	PairLimit    = Limit{Free: 3, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour, MaxKeys: 50_000}
	AccountLimit = Limit{Free: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour, MaxKeys: 50_000}
	IPLimit      = Limit{Free: 20, BaseDelay: time.Second, MaxDelay: time.Minute, Forget: 15 * time.Minute, MaxKeys: 50_000}
	DeviceLimit  = Limit{Free: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour, MaxKeys: 50_000}
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
	key   string
	count int
	last  time.Time
}

// NewLimiter returns a Limiter for l. A zero BaseDelay means no delay at
// all; zero Forget and MaxKeys take AccountLimit's.
func NewLimiter(l Limit) *Limiter {
	if l.MaxKeys <= 0 {
		l.MaxKeys = AccountLimit.MaxKeys
	}
	if l.MaxDelay <= 0 {
		l.MaxDelay = AccountLimit.MaxDelay
	}
	if l.Forget <= 0 {
		l.Forget = AccountLimit.Forget
	}
	l.Forget = max(l.Forget, l.MaxDelay)
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
		el = l.order.PushFront(&failures{key: key})
		l.keys[key] = el
	}
	f := el.Value.(*failures)
	f.count++
	f.last = now
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

// live reports whether f still matters at now: its last failure is less
// than Forget ago.
func (l *Limiter) live(f *failures, now time.Time) bool {
	return now.Before(f.last.Add(l.lim.Forget))
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

// LoginLimiter applies the login limits (see PairLimit).
type LoginLimiter struct {
	Pair    *Limiter // account from address
	Account *Limiter // account from anywhere, browsers without its device cookie
	IP      *Limiter // address, any account
	Device  *Limiter // a device cookie, for its account
}

// NewLoginLimiter returns a LoginLimiter with the default limits.
func NewLoginLimiter() *LoginLimiter {
	return &LoginLimiter{Pair: NewLimiter(PairLimit), Account: NewLimiter(AccountLimit), IP: NewLimiter(IPLimit), Device: NewLimiter(DeviceLimit)}
}

// Attempt is one sign-in as the limiter sees it.
type Attempt struct {
	Account string // as typed; normalised here
	IP      string // the client's address (ClientIP)
	// Device is the id of a valid device cookie for Account (CheckDevice),
	// or "" when the browser sent none, or one for another account.
	Device string
}

func (a Attempt) keys() (pair, account, ip string) {
	acct := AccountKey(a.Account)
	return acct + "\x00" + IPKey(a.IP), acct, IPKey(a.IP)
}

// Allow reports whether a sign-in may be attempted, and if not how long to
// wait. Check it before the password: a refused attempt must cost us no
// argon2 time, and must get the same answer whether or not the account
// exists and whether or not the password is right.
func (l *LoginLimiter) Allow(a Attempt, now time.Time) (ok bool, retryAfter time.Duration) {
	if a.Device != "" {
		return l.Device.Allow(a.Device, now)
	}
	pair, acct, ip := a.keys()
	okP, waitP := l.Pair.Allow(pair, now)
	okA, waitA := l.Account.Allow(acct, now)
	okI, waitI := l.IP.Allow(ip, now)
	return okP && okA && okI, max(waitP, waitA, waitI)
}

// Fail records a failed sign-in. Record it for unknown accounts too, or
// the delays themselves would tell an attacker which accounts exist.
func (l *LoginLimiter) Fail(a Attempt, now time.Time) {
	if a.Device != "" {
		l.Device.Fail(a.Device, now)
		return
	}
	pair, acct, ip := a.keys()
	l.Pair.Fail(pair, now)
	l.Account.Fail(acct, now)
	l.IP.Fail(ip, now)
}

// Succeed clears the failures of this browser or this address for the
// account. The account-wide and address-wide counts are kept on purpose:
// the owner signing in must not hand a botnet fresh free guesses, and an
// attacker holding one valid account must not launder an address's
// failures by signing into it between guesses at others.
func (l *LoginLimiter) Succeed(a Attempt) {
	if a.Device != "" {
		l.Device.Succeed(a.Device)
		return
	}
	pair, _, _ := a.keys()
	l.Pair.Succeed(pair)
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

// maxForwardedHops bounds how many X-Forwarded-For entries ClientIP reads:
// real proxy chains are a few hops; a longer header is an attacker's.
const maxForwardedHops = 16

// ClientIP returns the client's address for r. When the connection comes
// from a trusted proxy (an address in trusted), it reads X-Forwarded-For
// from the right, skipping the trusted proxies' own entries, and takes the
// first address no trusted proxy vouches for: entries further left were
// sent by the client and may be forged. Without trusted proxies the header
// is ignored entirely, since anyone can send it. A malformed entry stops
// the walk at the last hop known good.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	remote, ok := parseIP(host)
	if !ok {
		return host
	}
	if !isTrusted(remote, trusted) {
		return remote
	}
	vs := r.Header.Values("X-Forwarded-For")
	hop := remote
	seen := 0
	for i := len(vs) - 1; i >= 0; i-- {
		entries := strings.Split(vs[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			if seen++; seen > maxForwardedHops {
				return hop
			}
			ip, ok := parseIP(strings.TrimSpace(entries[j]))
			if !ok {
				return hop
			}
			if !isTrusted(ip, trusted) {
				return ip
			}
			hop = ip
		}
	}
	return hop
}

func isTrusted(ip string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads a comma-separated list of CIDR prefixes or
// single addresses (10.0.0.0/8, 192.0.2.7, fd00::/8), as serve
// --trusted-proxy takes it.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			if p.Addr().Zone() != "" {
				return nil, fmt.Errorf("%q: a trusted proxy has no zone", f)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:10.0.0.0/104 is 10.0.0.0/8
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix such as 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
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
