package auth

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// failPatiently fails key n times like a patient script that waits out
// each delay. It returns the waits it was told, in order, and the time it
// reached.
func failPatiently(t *testing.T, l *Limiter, key string, now time.Time, n int) ([]time.Duration, time.Time) {
	t.Helper()
	var waits []time.Duration
	for i := range n {
		ok, wait := l.Allow(key, now)
		if !ok {
			if wait <= 0 {
				t.Fatalf("failure %d: refused with retryAfter %v", i+1, wait)
			}
			waits = append(waits, wait)
			now = now.Add(wait)
			if ok, _ := l.Allow(key, now); !ok {
				t.Fatalf("failure %d: still refused after waiting retryAfter", i+1)
			}
		}
		l.Fail(key, now)
	}
	return waits, now
}

// Failures slow a key down, doubling up to the cap, and never lock it:
// whoever waits the delay out may try again.
func TestDelaysNeverLock(t *testing.T) {
	l := NewLimiter(AccountLimit)
	const key = "alice@example.org"
	waits, now := failPatiently(t, l, key, t0, 20)
	// Five free failures (six tries), then 1s, 2s, ... doubling to the
	// 15-minute cap.
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v seconds", waits, want)
	}
	for i := range want {
		if waits[i] != want[i]*time.Second {
			t.Fatalf("waits %v, want %v seconds", waits, want)
		}
	}
	ok, wait := l.Allow(key, now)
	if ok || wait != AccountLimit.MaxDelay {
		t.Fatalf("after 20 failures: Allow = %v, %v; want a wait of the cap", ok, wait)
	}
	if ok, _ := l.Allow(key, now.Add(AccountLimit.MaxDelay)); !ok {
		t.Fatal("refused after waiting the cap: that is a lock")
	}
	// A quiet hour forgets everything: six free tries again.
	after := now.Add(AccountLimit.Forget)
	for i := range 6 {
		if ok, _ := l.Allow(key, after); !ok {
			t.Fatalf("free try %d refused after the failures were forgotten", i+1)
		}
		l.Fail(key, after)
	}
	if ok, _ := l.Allow(key, after); ok {
		t.Fatal("the seventh try after forgetting carries no delay")
	}
}

func TestSucceedResets(t *testing.T) {
	l := NewLimiter(AccountLimit)
	const key = "bob@example.org"
	_, now := failPatiently(t, l, key, t0, 9)
	if ok, _ := l.Allow(key, now); ok {
		t.Fatal("9 failures: expected a delay before the next try")
	}
	l.Succeed(key)
	if ok, wait := l.Allow(key, now); !ok || wait != 0 {
		t.Fatalf("after success: %v, %v", ok, wait)
	}
	if l.Len() != 0 {
		t.Fatalf("success left %d keys", l.Len())
	}
	l.Succeed("someone-else") // unknown keys are fine
}

func TestForgetAfterQuiet(t *testing.T) {
	l := NewLimiter(Limit{Free: 3, BaseDelay: time.Second, MaxDelay: time.Minute, Forget: 10 * time.Minute})
	for range 4 {
		l.Fail("carol", t0)
	}
	if ok, _ := l.Allow("carol", t0); ok {
		t.Fatal("delay not applied")
	}
	// Still remembered just before Forget, gone at it.
	l.Fail("carol", t0.Add(9*time.Minute))
	if ok, _ := l.Allow("carol", t0.Add(9*time.Minute)); ok {
		t.Fatal("failures forgotten too early")
	}
	if ok, _ := l.Allow("carol", t0.Add(19*time.Minute)); !ok || l.Len() != 0 {
		t.Fatalf("quiet for Forget: ok=%v len=%d", ok, l.Len())
	}
	// Forget is never shorter than the longest delay.
	if l := NewLimiter(Limit{BaseDelay: time.Second, MaxDelay: time.Hour, Forget: time.Minute}); l.lim.Forget != time.Hour {
		t.Errorf("Forget %v shorter than MaxDelay", l.lim.Forget)
	}
}

// The attack of issue 10: wrong passwords for a known e-mail from rotating
// addresses must not keep the owner out.
func TestLoginLimiterNoLockout(t *testing.T) {
	l := NewLoginLimiter()
	const alice = "alice@example.org"
	now := t0
	// A botnet: 40 wrong passwords for alice, each from a fresh address,
	// each waiting out whatever delay it is told.
	for i := range 40 {
		a := Attempt{Account: alice, IP: fmt.Sprintf("198.51.100.%d", i+1)}
		if ok, wait := l.Allow(a, now); !ok {
			if wait > AccountLimit.MaxDelay {
				t.Fatalf("attempt %d: told to wait %v, more than the cap", i+1, wait)
			}
			now = now.Add(wait)
		}
		l.Fail(a, now)
	}
	// The owner's own browser (a device cookie for alice) signs in at once,
	// from the owner's usual address or any other.
	for _, ip := range []string{"203.0.113.9", "198.51.100.7"} {
		if ok, wait := l.Allow(Attempt{Account: alice, IP: ip, Device: "owner-laptop"}, now); !ok {
			t.Errorf("the owner's browser from %s refused for %v during the attack", ip, wait)
		}
	}
	// A new browser of the owner's is slowed, never locked: after the
	// wait it is let through.
	fresh := Attempt{Account: "Alice@Example.org ", IP: "203.0.113.10"} // spelling does not matter
	ok, wait := l.Allow(fresh, now)
	if ok || wait > AccountLimit.MaxDelay {
		t.Fatalf("a new browser during the attack: %v, %v; want a delay of at most %v", ok, wait, AccountLimit.MaxDelay)
	}
	if ok, _ := l.Allow(fresh, now.Add(wait)); !ok {
		t.Fatal("a new browser still refused after waiting: a lock")
	}
	// Another account is untouched, from the attacker's addresses too.
	if ok, _ := l.Allow(Attempt{Account: "bob@example.org", IP: "198.51.100.7"}, now); !ok {
		t.Fatal("bob refused: each attacking address failed once")
	}
	// A stolen device cookie guesses no faster: its failures are its own.
	stolen := Attempt{Account: alice, IP: "192.0.2.66", Device: "stolen"}
	waits, _ := failPatientlyLogin(t, l, stolen, now, 10)
	if len(waits) != 10-DeviceLimit.Free-1 {
		t.Errorf("a device cookie failing 10 times waited %d times, want %d", len(waits), 10-DeviceLimit.Free-1)
	}
	if ok, _ := l.Allow(Attempt{Account: alice, IP: "192.0.2.66", Device: "owner-laptop"}, now); !ok {
		t.Error("one cookie's failures slowed another")
	}
}

func failPatientlyLogin(t *testing.T, l *LoginLimiter, a Attempt, now time.Time, n int) ([]time.Duration, time.Time) {
	t.Helper()
	var waits []time.Duration
	for range n {
		if ok, wait := l.Allow(a, now); !ok {
			waits = append(waits, wait)
			now = now.Add(wait)
		}
		l.Fail(a, now)
	}
	return waits, now
}

func TestLoginLimiter(t *testing.T) {
	l := NewLoginLimiter()
	const ip1, ip2 = "198.51.100.7", "203.0.113.9"

	// One address guessing at alice is slowed after three free tries;
	// alice from another address is not (the account-wide count has five).
	now := t0
	a1 := Attempt{Account: "alice@example.org", IP: ip1}
	for range 4 {
		l.Fail(a1, now)
	}
	if ok, _ := l.Allow(a1, now); ok {
		t.Fatal("alice from ip1 after 4 failures: no delay")
	}
	if ok, _ := l.Allow(Attempt{Account: "alice@example.org", IP: ip2}, now); !ok {
		t.Fatal("alice from another address slowed by ip1's failures")
	}
	if ok, _ := l.Allow(Attempt{Account: "bob@example.org", IP: ip1}, now); !ok {
		t.Fatal("bob refused: ip1 has only 4 failures, under its free 20")
	}
	// Success from ip1 clears ip1's count for alice.
	l.Succeed(a1)
	if ok, _ := l.Allow(a1, now); !ok {
		t.Fatal("alice from ip1 still slowed after signing in")
	}

	// Spray one password over many accounts from ip2: the address limit
	// slows it although no account gets near its own.
	for i := range 40 {
		a := Attempt{Account: fmt.Sprintf("user%d@example.org", i), IP: ip2}
		if ok, wait := l.Allow(a, now); !ok {
			if wait > IPLimit.MaxDelay {
				t.Fatalf("spray %d: wait %v over the address cap", i, wait)
			}
			now = now.Add(wait)
		}
		l.Fail(a, now)
	}
	if ok, _ := l.Allow(Attempt{Account: "fresh@example.org", IP: ip2}, now); ok {
		t.Fatal("ip2 after spraying 40 accounts: no delay")
	}
	if ok, _ := l.Allow(Attempt{Account: "fresh@example.org", IP: "192.0.2.1"}, now); !ok {
		t.Fatal("the address delay leaked to another address")
	}
	// A success never clears the address: a valid account must not
	// launder the spray's failures.
	l.Succeed(Attempt{Account: "user0@example.org", IP: ip2})
	if ok, _ := l.Allow(Attempt{Account: "user0@example.org", IP: ip2}, now); ok {
		t.Fatal("address delay lifted by a success")
	}
	// But a browser holding its device cookie signs in through the spray
	// (an office behind one address).
	if ok, _ := l.Allow(Attempt{Account: "user0@example.org", IP: ip2, Device: "d"}, now); !ok {
		t.Fatal("a device cookie slowed by its address's spray")
	}

	// IPv6: one /64 is one client.
	for i := range 60 {
		ip := fmt.Sprintf("2001:db8:1:2::%x", i+1)
		l.Fail(Attempt{Account: fmt.Sprintf("v6-%d@example.org", i), IP: ip}, now)
	}
	if ok, _ := l.Allow(Attempt{Account: "another@example.org", IP: "2001:db8:1:2:ffff::1"}, now); ok {
		t.Fatal("rotating addresses within a /64 escaped the address limit")
	}
	if ok, _ := l.Allow(Attempt{Account: "another@example.org", IP: "2001:db8:1:3::1"}, now); !ok {
		t.Fatal("neighbouring /64 refused")
	}
}

func TestLimiterMemoryBounded(t *testing.T) {
	for _, c := range []struct {
		lim Limit
		cap int
	}{
		{AccountLimit, AccountLimit.MaxKeys},
		{IPLimit, IPLimit.MaxKeys},
		{PairLimit, PairLimit.MaxKeys},
		{Limit{MaxKeys: 1000}, 1000},
	} {
		l := NewLimiter(c.lim)
		for i := range 100_000 {
			// All within one window, so nothing expires: only the cap
			// keeps memory bounded.
			l.Fail(fmt.Sprintf("k%06d", i), t0.Add(time.Duration(i)*time.Millisecond))
		}
		l.mu.Lock()
		n, listN := len(l.keys), l.order.Len()
		l.mu.Unlock()
		if n != c.cap || listN != n {
			t.Errorf("cap %d: %d keys in map, %d in list", c.cap, n, listN)
		}
		// The newest keys are kept, the oldest evicted.
		if _, found := l.keys["k000000"]; found {
			t.Errorf("cap %d: oldest key kept", c.cap)
		}
		if _, found := l.keys["k099999"]; !found {
			t.Errorf("cap %d: newest key evicted", c.cap)
		}
	}

	// Expired keys go first, without waiting for the cap.
	l := NewLimiter(Limit{MaxKeys: 10})
	for i := range 5 {
		l.Fail(fmt.Sprint("old", i), t0)
	}
	l.Fail("new", t0.Add(2*AccountLimit.Forget))
	if l.Len() != 1 {
		t.Errorf("expired keys kept: %d", l.Len())
	}

	// A huge key costs a hash's worth of memory, not its own size.
	l.Fail(strings.Repeat("x", 1<<20), t0.Add(2*AccountLimit.Forget))
	l.mu.Lock()
	for k := range l.keys {
		if len(k) > maxLimiterKeyLen {
			t.Errorf("stored a %d-byte key", len(k))
		}
	}
	l.mu.Unlock()
	if ok, _ := l.Allow(strings.Repeat("x", 1<<20), t0.Add(2*AccountLimit.Forget)); !ok {
		t.Error("one failure of a long key refused")
	}
}

func TestLimiterBackoffCap(t *testing.T) {
	l := NewLimiter(Limit{Forget: time.Hour, BaseDelay: time.Second, MaxDelay: time.Minute})
	for _, c := range []struct {
		count int
		want  time.Duration
	}{{0, 0}, {1, time.Second}, {2, 2 * time.Second}, {6, 32 * time.Second}, {7, time.Minute}, {63, time.Minute}, {500, time.Minute}} {
		if got := l.backoff(c.count); got != c.want {
			t.Errorf("backoff(%d) = %v, want %v", c.count, got, c.want)
		}
	}
	if NewLimiter(Limit{Free: 3, Forget: time.Minute}).backoff(5) != 0 {
		t.Error("no BaseDelay should mean no backoff")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(Limit{Forget: time.Minute, Free: 1, BaseDelay: time.Millisecond, MaxKeys: 64})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprint("k", (g*7+i)%100)
				now := t0.Add(time.Duration(i) * time.Millisecond)
				if ok, _ := l.Allow(key, now); ok {
					l.Fail(key, now)
				}
				if i%13 == 0 {
					l.Succeed(key)
				}
				_ = l.Len()
			}
		})
	}
	wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) > 64 || len(l.keys) != l.order.Len() {
		t.Fatalf("map %d, list %d, cap 64", len(l.keys), l.order.Len())
	}
	for el := l.order.Front(); el != nil; el = el.Next() {
		f := el.Value.(*failures)
		if l.keys[f.key] != el {
			t.Fatalf("list and map disagree about %q", f.key)
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 2001:db8:ffff::/48,192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		remote string
		xff    []string
		trust  bool
		want   string
	}{
		{"ipv4", "192.0.2.1:5555", nil, false, "192.0.2.1"},
		{"ipv6", "[2001:db8::1]:5555", nil, false, "2001:db8::1"},
		{"mapped", "[::ffff:192.0.2.1]:5555", nil, false, "192.0.2.1"},
		{"zone", "[fe80::1%eth0]:5555", nil, false, "fe80::1"},
		{"no port", "192.0.2.1", nil, false, "192.0.2.1"},
		{"unix socket", "@", nil, false, "@"},
		{"xff ignored without trusted proxies", "10.0.0.1:5555", []string{"203.0.113.5"}, false, "10.0.0.1"},
		{"xff ignored from an untrusted peer", "192.0.2.1:5555", []string{"203.0.113.5"}, true, "192.0.2.1"},
		{"xff single", "10.0.0.1:5555", []string{"203.0.113.5"}, true, "203.0.113.5"},
		{"xff rightmost untrusted", "10.0.0.1:5555", []string{"1.1.1.1, 203.0.113.5"}, true, "203.0.113.5"},
		{"xff forged left", "10.0.0.1:5555", []string{"127.0.0.1,203.0.113.5"}, true, "203.0.113.5"},
		{"xff two trusted hops", "10.0.0.1:5555", []string{"203.0.113.5, 10.1.2.3"}, true, "203.0.113.5"},
		{"xff trusted single address", "192.0.2.200:5555", []string{"203.0.113.5"}, true, "203.0.113.5"},
		{"xff trusted ipv6 proxy", "[2001:db8:ffff::7]:443", []string{"2001:db8:1::9"}, true, "2001:db8:1::9"},
		{"xff many lines", "10.0.0.1:5555", []string{"1.1.1.1", "8.8.8.8, 203.0.113.5"}, true, "203.0.113.5"},
		{"xff with port", "10.0.0.1:5555", []string{"203.0.113.5:4711"}, true, "203.0.113.5"},
		{"xff ipv6 with port", "10.0.0.1:5555", []string{"[2001:db8::5]:4711"}, true, "2001:db8::5"},
		{"xff garbage right", "10.0.0.1:5555", []string{"203.0.113.5, not-an-ip"}, true, "10.0.0.1"},
		{"xff garbage behind a hop", "10.0.0.1:5555", []string{"junk, 10.9.9.9"}, true, "10.9.9.9"},
		{"xff empty", "10.0.0.1:5555", []string{""}, true, "10.0.0.1"},
		{"xff trailing comma", "10.0.0.1:5555", []string{"203.0.113.5,"}, true, "10.0.0.1"},
		{"xff only proxies", "10.0.0.1:5555", []string{"10.0.0.2, 10.0.0.3"}, true, "10.0.0.2"},
		{"no xff trusted", "10.0.0.1:5555", nil, true, "10.0.0.1"},
		{"xff too long", "10.0.0.1:5555", []string{strings.Repeat("10.0.0.9,", 40) + "10.0.0.9"}, true, "10.0.0.9"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		var trusted []netip.Prefix
		if c.trust {
			trusted = proxies
		}
		if got := ClientIP(r, trusted); got != c.want {
			t.Errorf("%s: ClientIP = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8 ,192.0.2.7,, fd00::/8, ::ffff:172.16.0.0/108, 10.1.2.3/8")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "fd00::/8", "172.16.0.0/12", "10.0.0.0/8"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "fe80::1%eth0", "10.0.0.1:80"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted", bad)
		}
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
}

// FuzzClientIP: any header and peer give an answer without panicking, and
// the answer is the peer itself unless the peer is a trusted proxy.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:5555", "203.0.113.5, 10.0.0.2")
	f.Add("192.0.2.1:1", "[2001:db8::5]:4711")
	f.Add("@", ",,,")
	trusted, _ := ParseTrustedProxies("10.0.0.0/8")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		untrusted := ClientIP(r, nil)
		if got := ClientIP(r, trusted); !isTrusted(untrusted, trusted) && got != untrusted {
			t.Fatalf("peer %q is not trusted, yet ClientIP took %q from the header", remote, got)
		}
	})
}

func TestKeys(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an ip":            "not an ip",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
	if AccountKey("  Alice@Example.ORG\t") != "alice@example.org" {
		t.Error("AccountKey does not normalise")
	}
}
