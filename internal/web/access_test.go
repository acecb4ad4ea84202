package web_test

// Lock-out as a weapon and access that can be taken back (issue 10, items
// 4 and 5), through the pages with plain HTTP clients.

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// proxiedServer is a clocked server behind a reverse proxy on loopback
// (the test's clients are the proxy, saying who the client is in
// X-Forwarded-For).
func proxiedServer(t *testing.T, clock *secClock) *servertest.Instance {
	t.Helper()
	return servertest.StartWith(t, store.SQLite, func(c *server.Config) {
		c.Clock = clock.Now
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
}

func from(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

func (c *secClient) signIn(email, password string, headers map[string]string) (*http.Response, string) {
	c.t.Helper()
	return c.post("/login", url.Values{"email": {email}, "password": {password}, "next": {"/console"}}, headers)
}

// waitOut advances the clock by a 429's Retry-After (bounded by the cap,
// or the limiter would be a lock).
func waitOut(t *testing.T, clock *secClock, resp *http.Response, cap time.Duration) {
	t.Helper()
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > cap {
		t.Fatalf("429 with Retry-After %q; want 1s to %v", resp.Header.Get("Retry-After"), cap)
	}
	clock.Advance(time.Duration(secs) * time.Second)
}

// Wrong passwords for a known e-mail from rotating addresses do not keep
// its owner out: the owner's own browser signs in at once, a new browser
// after a bounded wait. (It was a 15-minute lock from any address.)
func TestNoLockoutFromRotatingAddresses(t *testing.T) {
	clock := &secClock{now: time.Now().UTC()}
	s := newSecSite(t, proxiedServer(t, clock))
	owner := s.client()
	if resp, body := owner.signIn(s.m1Email, demo.Password, from("192.0.2.10")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner's first sign-in: %d %s", resp.StatusCode, clipText(body))
	}
	owner.post("/logout", url.Values{"csrf": {owner.csrf()}}, nil)

	attacker := s.client()
	for i := range 20 {
		resp, body := attacker.signIn(s.m1Email, "guess-"+strconv.Itoa(i), from(fmt.Sprintf("198.51.100.%d", i+1)))
		switch resp.StatusCode {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			waitOut(t, clock, resp, auth.AccountLimit.MaxDelay)
		default:
			t.Fatalf("guess %d: %d %s", i+1, resp.StatusCode, clipText(body))
		}
	}

	// The owner's browser, from its usual address or a new one.
	for _, ip := range []string{"192.0.2.10", "203.0.113.77"} {
		if resp, body := owner.signIn(s.m1Email, demo.Password, from(ip)); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the owner's browser from %s during the attack: %d, want 303: %s", ip, resp.StatusCode, clipText(body))
		}
		owner.post("/logout", url.Values{"csrf": {owner.csrf()}}, nil)
	}
	// A browser the owner never used is slowed, not locked.
	fresh := s.client()
	resp, body := fresh.signIn(s.m1Email, demo.Password, from("203.0.113.78"))
	if resp.StatusCode == http.StatusTooManyRequests {
		if !strings.Contains(body, "a browser you have signed in with before") {
			t.Errorf("the 429 does not say how to get past the wait: %s", clipText(body))
		}
		waitOut(t, clock, resp, auth.AccountLimit.MaxDelay)
		resp, body = fresh.signIn(s.m1Email, demo.Password, from("203.0.113.78"))
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a new browser of the owner after the wait: %d, want 303: %s", resp.StatusCode, clipText(body))
	}
}

// Behind a reverse proxy, failures count against the client the proxy
// names, not against the proxy: a spray from one address leaves everyone
// else's sign-ins alone. (31 sprayed failures made 48 of 52 fail.)
func TestTrustedProxyKeepsSprayToItsAddress(t *testing.T) {
	clock := &secClock{now: time.Now().UTC()}
	s := newSecSite(t, proxiedServer(t, clock))
	var emails []string
	for _, kind := range []string{"manufacturer", "authority", "assessor-lab"} {
		orgs, err := s.inst.Store.Organisations(s.ctx, auth.OrgKind(kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orgs {
			emails = append(emails, s.email(o.ID))
		}
	}
	spray := s.client()
	for i := range 31 {
		resp, _ := spray.signIn(emails[i%len(emails)], "Winter2026!", from("203.0.113.66"))
		if resp.StatusCode == http.StatusTooManyRequests {
			waitOut(t, clock, resp, auth.IPLimit.MaxDelay)
		}
	}
	if resp, _ := spray.signIn(emails[0], "Winter2026!", from("203.0.113.66")); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the sprayer's address is not slowed after 32 failures: %d", resp.StatusCode)
	}
	failed := 0
	for i := range 52 {
		c := s.client() // each a new browser, without a device cookie
		if resp, _ := c.signIn(emails[i%len(emails)], demo.Password, from(fmt.Sprintf("198.51.100.%d", i+1))); resp.StatusCode != http.StatusSeeOther {
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of 52 legitimate sign-ins behind the proxy failed during the spray", failed)
	}
}

// Registration answers the same whether or not the e-mail address has an
// account, so it cannot be used to find out; the existing account is
// untouched and nothing is created for it.
func TestRegistrationRevealsNothing(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := newSecSite(t, servertest.Start(t, d))
			register := func(org, email string) (*http.Response, string) {
				c := s.client()
				return c.post("/register", url.Values{"org": {org}, "country": {"DE"}, "name": {"Reg Tester"}, "email": {email},
					"password": {"a fresh registration password"}, "password2": {"a fresh registration password"}}, nil)
			}
			taken, takenBody := register("Probe Devices One", s.m1Email)
			fresh, freshBody := register("Probe Devices Two", "new-maker@probe.example")
			if taken.StatusCode != fresh.StatusCode || taken.Header.Get("Location") != fresh.Header.Get("Location") ||
				len(taken.Cookies()) != len(fresh.Cookies()) || takenBody != freshBody {
				t.Errorf("registration answers differ: taken e-mail %d %q %d cookies, new e-mail %d %q %d cookies",
					taken.StatusCode, taken.Header.Get("Location"), len(taken.Cookies()), fresh.StatusCode, fresh.Header.Get("Location"), len(fresh.Cookies()))
			}
			if strings.Contains(takenBody, "exists") || strings.Contains(takenBody, s.m1Email) {
				t.Errorf("the answer to a taken e-mail mentions it: %s", clipText(takenBody))
			}
			if fresh.StatusCode != http.StatusSeeOther || fresh.Header.Get("Location") != "/login?registered=1" {
				t.Errorf("registration: %d to %q, want 303 to the sign-in page", fresh.StatusCode, fresh.Header.Get("Location"))
			}
			c := s.client()
			if _, body := c.get("/login?registered=1"); !strings.Contains(body, "registration was received") {
				t.Errorf("the sign-in page does not acknowledge the registration: %s", clipText(body))
			}
			// The new account works; the taken e-mail kept its own password
			// and got no second organisation.
			if resp, _ := s.client().signIn("new-maker@probe.example", "a fresh registration password", nil); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("the new account does not sign in: %d", resp.StatusCode)
			}
			if resp, _ := s.client().signIn(s.m1Email, "a fresh registration password", nil); resp.StatusCode == http.StatusSeeOther {
				t.Error("registering a taken e-mail set its password")
			}
			s.client().login(s.m1Email)
			orgs, _ := s.inst.Store.Organisations(s.ctx, "manufacturer")
			for _, o := range orgs {
				if o.Name == "Probe Devices One" {
					t.Error("registering a taken e-mail created an organisation")
				}
			}
			// A mistake the user can fix is still said.
			if resp, body := register("Probe Devices Two", "another@probe.example"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Probe Devices Two") {
				t.Errorf("a taken organisation name: %d %s", resp.StatusCode, clipText(body))
			}
		})
	}
}

var revokeForm = regexp.MustCompile(`action="/console/tokens/(\d+)/revoke"`)

// Tokens made in the console expire, are listed, and stop at once when
// revoked there; a password changed there ends the user's other sessions.
func TestConsoleTokensAndPassword(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, store.SQLite))
	c := s.client()
	c.login(s.m1Email)
	resp, body := c.post("/console/tokens", url.Values{"csrf": {c.csrf()}, "name": {"release pipeline"}, "expires": {"7d"}}, nil)
	tok := regexp.MustCompile(`hm_live_[A-Za-z0-9_-]+`).FindString(body)
	if resp.StatusCode != http.StatusOK || tok == "" || !strings.Contains(body, "expires on") {
		t.Fatalf("create a token: %d %s", resp.StatusCode, clipText(body))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page showing the token may be cached")
	}
	api := func() int {
		req, _ := http.NewRequest("GET", s.inst.URL+"/api/v1/applications", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if got := api(); got != http.StatusOK {
		t.Fatalf("the new token: %d", got)
	}
	_, console := c.get("/console")
	m := revokeForm.FindStringSubmatch(console)
	if m == nil || !strings.Contains(console, "release pipeline") || strings.Contains(console, tok) {
		t.Fatalf("the console does not list the token (or shows it): %s", clipText(console))
	}
	if _, ex := c.post("/console/tokens", url.Values{"csrf": {c.csrf()}, "name": {"forever"}, "expires": {"400d"}}, nil); !strings.Contains(ex, "366") {
		t.Errorf("a token for 400 days was not refused with the bound: %s", clipText(ex))
	}

	other := s.client()
	other.login(s.m2Email)
	if resp, _ := other.post("/console/tokens/"+m[1]+"/revoke", url.Values{"csrf": {other.csrf()}}, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another manufacturer revoking the token: %d, want 404", resp.StatusCode)
	}
	if got := api(); got != http.StatusOK {
		t.Fatalf("a refused revocation stopped the token: %d", got)
	}
	if resp, _ := c.post("/console/tokens/"+m[1]+"/revoke", url.Values{"csrf": {c.csrf()}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if got := api(); got != http.StatusUnauthorized {
		t.Errorf("the revoked token: %d, want 401", got)
	}
	if _, console := c.get("/console"); !strings.Contains(console, "revoked") || revokeForm.MatchString(console) {
		t.Errorf("the console does not show the token revoked")
	}

	// Password: a second browser of the same user ends; this one goes on.
	second := s.client()
	second.login(s.m1Email)
	const next = "a new console password 2026"
	if resp, body := c.post("/console/password", url.Values{"csrf": {c.csrf()}, "current": {"wrong"}, "new": {next}, "new2": {next}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a wrong current password: %d %s", resp.StatusCode, clipText(body))
	}
	if resp, body := c.post("/console/password", url.Values{"csrf": {c.csrf()}, "current": {demo.Password}, "new": {next}, "new2": {next}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change the password: %d %s", resp.StatusCode, clipText(body))
	}
	if resp, _ := c.get("/console"); resp.StatusCode != http.StatusOK {
		t.Errorf("the browser that changed the password was signed out: %d", resp.StatusCode)
	}
	second.signedOut("another session after the password change")
	if resp, _ := s.client().signIn(s.m1Email, next, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password does not sign in: %d", resp.StatusCode)
	}
}
