package auth

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// failUntilLocked fails key n times like a patient script that waits out
// each backoff. It returns the waits it was told, in order, and the time
// it reached.
func failUntilLocked(t *testing.T, l *Limiter, key string, now time.Time, n int) ([]time.Duration, time.Time) {
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

func TestAccountLockout(t *testing.T) {
	l := NewLimiter(AccountLimit)
	const key = "alice@example.org"
	waits, now := failUntilLocked(t, l, key, t0, 10)

	// Three free tries, then a doubling delay: 1s, 2s, ... 32s.
	want := []time.Duration{1, 2, 4, 8, 16, 32}
	if len(waits) != len(want) {
		t.Fatalf("backoff waits %v, want %v seconds", waits, want)
	}
	for i := range want {
		if waits[i] != want[i]*time.Second {
			t.Fatalf("backoff waits %v, want %v seconds", waits, want)
		}
	}

	// The tenth failure locks the account for the whole window.
	ok, wait := l.Allow(key, now)
	if ok || wait != 15*time.Minute {
		t.Fatalf("after 10 failures: Allow = %v, %v; want locked for 15m", ok, wait)
	}
	if ok, wait := l.Allow(key, now.Add(14*time.Minute)); ok || wait != time.Minute {
		t.Fatalf("14 min into the lock: %v, %v", ok, wait)
	}
	// Failures reported during the lock (a caller that did not ask Allow)
	// must not extend it indefinitely.
	l.Fail(key, now.Add(10*time.Minute))
	if ok, _ := l.Allow(key, now.Add(15*time.Minute)); !ok {
		t.Fatal("still locked after the window")
	}
	// And the slate is clean: three free tries again.
	after := now.Add(15 * time.Minute)
	for i := range 3 {
		l.Fail(key, after)
		if ok, _ := l.Allow(key, after); !ok {
			t.Fatalf("free try %d refused after lock expiry", i+1)
		}
	}
}

func TestSucceedResets(t *testing.T) {
	l := NewLimiter(AccountLimit)
	const key = "bob@example.org"
	_, now := failUntilLocked(t, l, key, t0, 9)
	if ok, _ := l.Allow(key, now); ok {
		t.Fatal("9 failures: expected a backoff before the next try")
	}
	l.Succeed(key)
	if ok, wait := l.Allow(key, now); !ok || wait != 0 {
		t.Fatalf("after success: %v, %v", ok, wait)
	}
	if l.Len() != 0 {
		t.Fatalf("success left %d keys", l.Len())
	}
	// A full ten new failures are needed to lock again.
	_, now = failUntilLocked(t, l, key, now, 9)
	l.Fail(key, now.Add(time.Minute))
	if ok, _ := l.Allow(key, now.Add(time.Minute)); ok {
		t.Fatal("not locked after 10 more failures")
	}
	l.Succeed("someone-else") // unknown keys are fine
}

func TestWindowExpires(t *testing.T) {
	l := NewLimiter(AccountLimit)
	for range 3 {
		l.Fail("carol", t0)
	}
	l.Fail("carol", t0.Add(time.Minute)) // 4th: 1s backoff
	if ok, _ := l.Allow("carol", t0.Add(time.Minute)); ok {
		t.Fatal("backoff not applied")
	}
	// Failures spread wider than the window never add up to a lock.
	later := t0.Add(AccountLimit.Window)
	if ok, _ := l.Allow("carol", later); !ok || l.Len() != 0 {
		t.Fatalf("window over: ok=%v len=%d", ok, l.Len())
	}
	l.Fail("carol", later)
	if ok, _ := l.Allow("carol", later); !ok {
		t.Fatal("first failure of a new window refused")
	}
}

func TestLoginLimiter(t *testing.T) {
	l := NewLoginLimiter()
	const ip1, ip2 = "198.51.100.7", "203.0.113.9"

	// Lock alice from ip1; waiting out backoffs as a script would.
	now := t0
	for range 10 {
		if ok, wait := l.Allow("alice@example.org", ip1, now); !ok {
			now = now.Add(wait)
		}
		l.Fail("Alice@Example.org ", ip1, now) // spelling does not matter
	}
	if ok, wait := l.Allow("alice@example.org", ip2, now); ok || wait != 15*time.Minute {
		t.Fatalf("alice from another IP: %v, %v; the account lock must hold", ok, wait)
	}
	if ok, _ := l.Allow("bob@example.org", ip1, now); !ok {
		t.Fatal("bob refused: ip1 has only 10 failures, under its limit")
	}

	// Spray one password over many accounts from ip2: the IP limit stops
	// it although no single account gets near its own limit.
	for i := range 50 {
		acct := fmt.Sprintf("user%d@example.org", i)
		if ok, wait := l.Allow(acct, ip2, now); !ok {
			now = now.Add(wait)
			if ok, _ := l.Allow(acct, ip2, now); !ok {
				t.Fatalf("spray %d: refused after waiting", i)
			}
		}
		l.Fail(acct, ip2, now)
	}
	if ok, wait := l.Allow("fresh@example.org", ip2, now); ok || wait != 15*time.Minute {
		t.Fatalf("ip2 after 50 failures: %v, %v; want locked", ok, wait)
	}
	if ok, _ := l.Allow("fresh@example.org", "192.0.2.1", now); !ok {
		t.Fatal("the IP lock leaked to another IP")
	}

	// Success clears the account, never the IP: a valid account must not
	// launder an IP's failures.
	l.Succeed("user0@example.org")
	if ok, _ := l.Allow("user0@example.org", ip2, now); ok {
		t.Fatal("IP lock lifted by a success")
	}
	if ok, _ := l.Allow("user0@example.org", "192.0.2.1", now); !ok {
		t.Fatal("account not reset by success")
	}

	// IPv6: one /64 is one client.
	for i := range 60 {
		ip := fmt.Sprintf("2001:db8:1:2::%x", i+1)
		l.Fail(fmt.Sprintf("v6-%d@example.org", i), ip, now)
	}
	if ok, _ := l.Allow("another@example.org", "2001:db8:1:2:ffff::1", now); ok {
		t.Fatal("rotating addresses within a /64 escaped the IP limit")
	}
	if ok, _ := l.Allow("another@example.org", "2001:db8:1:3::1", now); !ok {
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
	l.Fail("new", t0.Add(time.Hour))
	if l.Len() != 1 {
		t.Errorf("expired keys kept: %d", l.Len())
	}

	// A huge key costs a hash's worth of memory, not its own size.
	l.Fail(strings.Repeat("x", 1<<20), t0.Add(time.Hour))
	l.mu.Lock()
	for k := range l.keys {
		if len(k) > maxLimiterKeyLen {
			t.Errorf("stored a %d-byte key", len(k))
		}
	}
	l.mu.Unlock()
	if ok, _ := l.Allow(strings.Repeat("x", 1<<20), t0.Add(time.Hour)); !ok {
		t.Error("one failure of a long key refused")
	}
}

func TestLimiterBackoffCap(t *testing.T) {
	l := NewLimiter(Limit{Failures: 1000, Window: time.Hour, BaseDelay: time.Second, MaxDelay: time.Minute})
	for _, c := range []struct {
		count int
		want  time.Duration
	}{{0, 0}, {1, time.Second}, {2, 2 * time.Second}, {6, 32 * time.Second}, {7, time.Minute}, {63, time.Minute}, {500, time.Minute}} {
		if got := l.backoff(c.count); got != c.want {
			t.Errorf("backoff(%d) = %v, want %v", c.count, got, c.want)
		}
	}
	if NewLimiter(Limit{Failures: 3, Window: time.Minute}).backoff(2) != 0 {
		t.Error("no BaseDelay should mean no backoff")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(Limit{Failures: 5, Window: time.Minute, Free: 1, BaseDelay: time.Millisecond, MaxKeys: 64})
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
		{"xff ignored untrusted", "192.0.2.1:5555", []string{"203.0.113.5"}, false, "192.0.2.1"},
		{"xff single", "10.0.0.1:5555", []string{"203.0.113.5"}, true, "203.0.113.5"},
		{"xff rightmost", "10.0.0.1:5555", []string{"1.1.1.1, 203.0.113.5"}, true, "203.0.113.5"},
		{"xff forged left", "10.0.0.1:5555", []string{"127.0.0.1,203.0.113.5"}, true, "203.0.113.5"},
		{"xff many lines", "10.0.0.1:5555", []string{"1.1.1.1", "8.8.8.8, 203.0.113.5"}, true, "203.0.113.5"},
		{"xff with port", "10.0.0.1:5555", []string{"203.0.113.5:4711"}, true, "203.0.113.5"},
		{"xff ipv6 with port", "10.0.0.1:5555", []string{"[2001:db8::5]:4711"}, true, "2001:db8::5"},
		{"xff garbage", "10.0.0.1:5555", []string{"203.0.113.5, not-an-ip"}, true, "10.0.0.1"},
		{"xff empty", "10.0.0.1:5555", []string{""}, true, "10.0.0.1"},
		{"xff trailing comma", "10.0.0.1:5555", []string{"203.0.113.5,"}, true, "10.0.0.1"},
		{"no xff trusted", "10.0.0.1:5555", nil, true, "10.0.0.1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientIP(r, c.trust); got != c.want {
			t.Errorf("%s: ClientIP = %q, want %q", c.name, got, c.want)
		}
	}
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
