package web_test

// Security tests of the web console with plain HTTP clients and cookie jars:
// CSRF tokens, the same-origin check, session fixation, logout, login rate
// limiting, cross-organisation reads, and what uploads and downloads may be.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// secSite is a running server with the demo accounts the tests play.
type secSite struct {
	t      *testing.T
	ctx    context.Context
	inst   *servertest.Instance
	origin string // the site's own origin, as its forms must send it
	cookie string // the session cookie's name

	m1, m2       int64  // two manufacturers
	m1Email      string //
	m2Email      string //
	appM1, appM2 int64  // an application of each that still takes evidence
}

func newSecSite(t *testing.T, inst *servertest.Instance) *secSite {
	t.Helper()
	s := &secSite{t: t, ctx: context.Background(), inst: inst}
	pub := inst.Server.Config().PublicURL
	u, err := url.Parse(pub)
	if err != nil {
		t.Fatal(err)
	}
	s.origin = u.Scheme + "://" + u.Host
	s.cookie = auth.SessionCookieName(u.Scheme == "https")

	open, _, err := inst.Store.Applications(s.ctx, store.AppQuery{States: []assess.State{assess.Draft, assess.Submitted, assess.InAssessment}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range open {
		switch {
		case s.m1 == 0:
			s.m1, s.appM1 = a.ManufacturerID, a.ID
		case s.m2 == 0 && a.ManufacturerID != s.m1:
			s.m2, s.appM2 = a.ManufacturerID, a.ID
		}
	}
	if s.m1 == 0 || s.m2 == 0 {
		t.Fatalf("the demo market needs open applications of two manufacturers; found %d open", len(open))
	}
	s.m1Email, s.m2Email = s.email(s.m1), s.email(s.m2)
	return s
}

func (s *secSite) email(org int64) string {
	users, err := s.inst.Store.Users(s.ctx, org)
	if err != nil || len(users) == 0 {
		s.t.Fatalf("organisation %d has no user: %v", org, err)
	}
	return users[0].Email
}

// secClient is one browser: a cookie jar, redirects not followed.
type secClient struct {
	t    *testing.T
	site *secSite
	jar  http.CookieJar
	http *http.Client
}

func (s *secSite) client() *secClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &secClient{t: s.t, site: s, jar: jar, http: &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *secClient) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(b)
}

func (c *secClient) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.site.inst.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// sameSite marks a request as a browser on the site sends it; headers may
// override (an empty value removes the header).
func (c *secClient) sameSite(req *http.Request, headers map[string]string) {
	req.Header.Set("Origin", c.site.origin)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
}

func (c *secClient) post(path string, form url.Values, headers map[string]string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.site.inst.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.sameSite(req, headers)
	return c.do(req)
}

// secFile is a file part of a multipart form.
type secFile struct {
	field, name, ctype string
	body               io.Reader
}

// multipartBody streams fields and one file as multipart/form-data.
func multipartBody(fields url.Values, file secFile) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, vs := range fields {
			for _, v := range vs {
				if err := mw.WriteField(k, v); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, file.field, file.name))
		h.Set("Content-Type", file.ctype)
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(part, file.body)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

func (c *secClient) upload(path string, fields url.Values, file secFile) (*http.Response, string) {
	c.t.Helper()
	body, ctype := multipartBody(fields, file)
	req, err := http.NewRequest(http.MethodPost, c.site.inst.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	c.sameSite(req, nil)
	return c.do(req)
}

// login signs in through the form and insists it worked.
func (c *secClient) login(email string) {
	c.t.Helper()
	resp, body := c.post("/login", url.Values{"email": {email}, "password": {demo.Password}, "next": {"/console"}, "csrf": {c.csrfOrEmpty()}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
		c.t.Fatalf("log in as %s: %d %s, want 303 to /console: %s", email, resp.StatusCode, resp.Header.Get("Location"), clipText(body))
	}
	if c.session() == "" {
		c.t.Fatalf("log in as %s set no session cookie", email)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// csrf reads the form token from a console page, as a browser's form holds it.
func (c *secClient) csrf() string {
	c.t.Helper()
	resp, body := c.get("/console/products")
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || m[1] == "" {
		c.t.Fatalf("no CSRF token on /console/products (status %d)", resp.StatusCode)
	}
	return m[1]
}

// csrfOrEmpty is the token of the login form, empty without a session.
func (c *secClient) csrfOrEmpty() string {
	_, body := c.get("/login")
	if m := csrfField.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func (c *secClient) session() string {
	u, _ := url.Parse(c.site.inst.URL)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == c.site.cookie {
			return ck.Value
		}
	}
	return ""
}

func (c *secClient) setSession(v string) {
	u, _ := url.Parse(c.site.inst.URL)
	c.jar.SetCookies(u, []*http.Cookie{{Name: c.site.cookie, Value: v, Path: "/"}})
}

// signedOut asserts the client's session gives no console: a redirect to
// the login page.
func (c *secClient) signedOut(what string) {
	c.t.Helper()
	resp, _ := c.get("/console")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		c.t.Errorf("%s: GET /console answered %d (Location %q), want a 303 to /login", what, resp.StatusCode, resp.Header.Get("Location"))
	}
}

func clipText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// products counts products with a model number, whoever made them.
func (s *secSite) products(model string) []registry.Product {
	list, _, err := s.inst.Store.Products(s.ctx, store.ProductQuery{All: true, Text: model, Limit: 100})
	if err != nil {
		s.t.Fatal(err)
	}
	return list
}

func productForm(csrf, model string) url.Values {
	f := url.Values{"name": {"Security Test Camera"}, "category": {"camera"}, "model_number": {model}, "published": {"on"}}
	if csrf != "" {
		f.Set("csrf", csrf)
	}
	return f
}

// A signed-in manufacturer's form is refused without its session's CSRF
// token, and nothing is created; with it, the product exists.
func TestCSRF(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := newSecSite(t, servertest.Start(t, d))
			m1 := s.client()
			m1.login(s.m1Email)
			token := m1.csrf()

			other := s.client() // M2's session
			other.login(s.m2Email)
			otherToken := other.csrf()
			again := s.client() // M1 again, in another browser
			again.login(s.m1Email)
			againToken := again.csrf()
			if token == otherToken || token == againToken {
				t.Fatal("two sessions got the same CSRF token")
			}

			for _, tc := range []struct{ name, token string }{
				{"no csrf field", ""},
				{"another account's session token", otherToken},
				{"the same account's other session token", againToken},
				{"a made-up token", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))},
			} {
				model := "SEC-CSRF-" + strings.ReplaceAll(tc.name, " ", "-")
				resp, body := m1.post("/console/products", productForm(tc.token, model), nil)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: %d, want 403: %s", tc.name, resp.StatusCode, clipText(body))
				}
				if n := len(s.products(model)); n != 0 {
					t.Errorf("%s: refused, yet %d product(s) created", tc.name, n)
				}
			}

			resp, body := m1.post("/console/products", productForm(token, "SEC-CSRF-OK"), nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/products/") {
				t.Fatalf("with the right token: %d %q, want 303 to the product: %s", resp.StatusCode, resp.Header.Get("Location"), clipText(body))
			}
			got := s.products("SEC-CSRF-OK")
			if len(got) != 1 || got[0].ManufacturerID != s.m1 {
				t.Fatalf("after the accepted form: %+v, want one product of organisation %d", got, s.m1)
			}
			if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("/console/products/%d", got[0].ID) {
				t.Errorf("redirected to %s, want the new product %d", loc, got[0].ID)
			}
		})
	}
}

// An unsafe request must come from the site itself: another Origin, a
// foreign Referer, or neither header is refused even with a valid token.
func TestCrossSiteOrigin(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))
	m1 := s.client()
	m1.login(s.m1Email)
	token := m1.csrf()
	for i, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"Origin https://evil.example", map[string]string{"Origin": "https://evil.example"}},
		{"Origin null", map[string]string{"Origin": "null"}},
		{"the site's origin over https", map[string]string{"Origin": strings.Replace(s.origin, "http://", "https://", 1)}},
		{"a sibling port", map[string]string{"Origin": s.origin + "1"}},
		{"no Origin and no Referer", map[string]string{"Origin": ""}},
		{"no Origin, a foreign Referer", map[string]string{"Origin": "", "Referer": "https://evil.example/console/products"}},
		{"the right Origin but Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		model := fmt.Sprintf("SEC-XSITE-%d", i)
		resp, body := m1.post("/console/products", productForm(token, model), tc.headers)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403: %s", tc.name, resp.StatusCode, clipText(body))
		}
		if n := len(s.products(model)); n != 0 {
			t.Errorf("%s: refused, yet %d product(s) created", tc.name, n)
		}
	}
	// A cross-site logout is refused too: the session survives.
	if resp, _ := m1.post("/logout", url.Values{"csrf": {token}}, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site logout: %d, want 403", resp.StatusCode)
	}
	if p, ok := s.inst.Server.SessionPrincipal(s.ctx, m1.session()); !ok || p.OrgID != s.m1 {
		t.Error("a cross-site logout ended the session")
	}
	// The same form from the site itself (Referer only, as some browsers
	// send it) is accepted: the refusals above are about the origin.
	resp, body := m1.post("/console/products", productForm(token, "SEC-XSITE-OK"), map[string]string{"Origin": "", "Referer": s.origin + "/console/products"})
	if resp.StatusCode != http.StatusSeeOther || len(s.products("SEC-XSITE-OK")) != 1 {
		t.Errorf("same-site form with a Referer: %d, want 303 and the product: %s", resp.StatusCode, clipText(body))
	}
}

// A session id chosen before login never becomes an authenticated one.
func TestSessionFixation(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))

	t.Run("planted id", func(t *testing.T) {
		planted := auth.PrefixSession + base64.RawURLEncoding.EncodeToString([]byte("attackerchosenattackerchosen1234"))
		if !auth.WellFormedToken(planted, auth.PrefixSession) {
			t.Fatalf("%q is not a well-formed session id", planted)
		}
		victim := s.client()
		victim.setSession(planted)
		// Straight to the form post, with the planted cookie still sent.
		resp, body := victim.post("/login", url.Values{"email": {s.m1Email}, "password": {demo.Password}, "next": {"/console"}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login with a planted cookie: %d, want 303: %s", resp.StatusCode, clipText(body))
		}
		var issued string
		for _, ck := range resp.Cookies() {
			if ck.Name == s.cookie && ck.Value != "" {
				issued = ck.Value
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode && ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
					t.Errorf("session cookie %s: HttpOnly=%v SameSite=%v Path=%q; want HttpOnly, SameSite Lax or Strict, Path /", ck.Name, ck.HttpOnly, ck.SameSite, ck.Path)
				}
			}
		}
		if issued == "" || issued == planted {
			t.Fatalf("the session cookie issued at login is %q; want a new id, not the planted %q", issued, planted)
		}
		if got := victim.session(); got != issued {
			t.Errorf("the browser holds %q after login, want the issued %q", got, issued)
		}
		if r, _ := victim.get("/console"); r.StatusCode != http.StatusOK {
			t.Errorf("the new session does not open the console: %d", r.StatusCode)
		}
		attacker := s.client()
		attacker.setSession(planted)
		attacker.signedOut("the planted id after the victim's login")
		if _, ok := s.inst.Server.SessionPrincipal(s.ctx, planted); ok {
			t.Error("the planted id resolves to a principal")
		}
	})

	t.Run("attacker's own live session", func(t *testing.T) {
		attacker := s.client()
		attacker.login(s.m2Email)
		theirs := attacker.session()
		victim := s.client()
		victim.setSession(theirs) // e.g. tossed from a sibling subdomain
		victim.login(s.m1Email)
		mine := victim.session()
		if mine == theirs {
			t.Fatal("login kept the session id the browser had before")
		}
		if p, ok := s.inst.Server.SessionPrincipal(s.ctx, mine); !ok || p.OrgID != s.m1 {
			t.Errorf("the victim's new session is %+v (%v), want organisation %d", p, ok, s.m1)
		}
		if p, ok := s.inst.Server.SessionPrincipal(s.ctx, theirs); ok && p.OrgID == s.m1 {
			t.Error("the attacker's session id now acts for the victim")
		}
		attacker.signedOut("the pre-login session id after the victim's login")
	})
}

// Logout ends the session on the server: the old cookie opens nothing.
func TestLogout(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))
	c := s.client()
	c.login(s.m1Email)
	sid, token := c.session(), c.csrf()
	resp, body := c.post("/logout", url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d, want 303: %s", resp.StatusCode, clipText(body))
	}
	if got := c.session(); got != "" {
		t.Errorf("logout left the cookie %q in the browser", got)
	}
	if _, ok := s.inst.Server.SessionPrincipal(s.ctx, sid); ok {
		t.Error("the session still resolves on the server after logout")
	}
	replay := s.client()
	replay.setSession(sid)
	replay.signedOut("the cookie replayed after logout")
	// Nor does it carry a form.
	if resp, _ := replay.post("/console/products", productForm(token, "SEC-AFTER-LOGOUT"), nil); resp.StatusCode/100 == 2 || len(s.products("SEC-AFTER-LOGOUT")) != 0 {
		t.Errorf("a form with the logged-out cookie: %d, and the product was created", resp.StatusCode)
	}
}

// secClock is a clock the test moves.
type secClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *secClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *secClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// secClockedServer is servertest.Start with the server's clock in the
// test's hands, so the limiter's backoff and lockout can be reached
// without waiting minutes.
func secClockedServer(t *testing.T, d store.Dialect, clock *secClock) *servertest.Instance {
	t.Helper()
	return servertest.StartWith(t, d, func(c *server.Config) { c.Clock = clock.Now })
}

// Wrong passwords from one address slow that address's tries at the
// account: past the free ones even the right password is refused with 429
// and how long to wait (nothing is checked meanwhile); another account
// from the same address still signs in; and once the wait is over, the
// right password works: a delay, never a lock.
func TestLoginRateLimit(t *testing.T) {
	clock := &secClock{now: time.Now().UTC()}
	s := newSecSite(t, secClockedServer(t, "sqlite", clock))
	c := s.client()
	// Each try claims another address: without trusted proxies the header
	// is not believed, and every try counts against the real one.
	n := 0
	attempt := func(password string) (*http.Response, string) {
		n++
		return c.post("/login", url.Values{"email": {s.m1Email}, "password": {password}, "next": {"/console"}},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", n)})
	}
	for i := 1; i <= auth.PairLimit.Free+1; i++ { // the free tries, back to back
		if resp, body := attempt("not-the-password"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong password #%d: %d, want 401: %s", i, resp.StatusCode, clipText(body))
		}
	}
	resp, body := attempt(demo.Password)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password right after %d wrong ones: %d, want 429: %s", auth.PairLimit.Free+1, resp.StatusCode, clipText(body))
	}
	if !strings.Contains(body, "try again in") {
		t.Errorf("the 429 page does not say how long to wait: %s", clipText(body))
	}
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || wait < 1 || time.Duration(wait)*time.Second > auth.PairLimit.MaxDelay {
		t.Errorf("Retry-After %q, want the wait in seconds", resp.Header.Get("Retry-After"))
	}
	if c.session() != "" {
		t.Error("a refused login set a session cookie")
	}

	other := s.client()
	other.login(s.m2Email) // same address, another account

	clock.Advance(time.Duration(wait) * time.Second)
	if resp, body := attempt(demo.Password); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the right password after waiting %ds: %d, want 303: %s", wait, resp.StatusCode, clipText(body))
	}
}

// The console never shows one manufacturer another's application,
// evidence or unpublished product.
func TestCrossOrgReads(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))
	m1, m2 := s.client(), s.client()
	m1.login(s.m1Email)
	m2.login(s.m2Email)

	ev := s.addEvidence(m1, s.appM1, "test-report.pdf", "application/pdf", []byte("%PDF-1.4\n% confidential\n%%EOF\n"))
	m2ev := s.addEvidence(m2, s.appM2, "m2-report.pdf", "application/pdf", []byte("%PDF-1.4\n% M2's own\n%%EOF\n"))

	p1, _ := s.inst.Store.Organisation(s.ctx, s.m1)
	hidden, err := s.inst.Server.CreateProduct(s.ctx, auth.Principal{UserID: s.userID(s.m1), OrgID: s.m1, OrgKind: auth.KindManufacturer, Role: auth.RoleManufacturer},
		registry.Product{Name: p1.Name + " Prototype", Category: "camera", ModelNumber: "SEC-HIDDEN-1"})
	if err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{
		fmt.Sprintf("/console/applications/%d", s.appM1),
		fmt.Sprintf("/console/applications/%d/evidence/%d", s.appM1, ev),
		fmt.Sprintf("/console/products/%d", hidden),
	} {
		if resp, body := m1.get(path); resp.StatusCode != http.StatusOK {
			t.Errorf("M1 opening its own %s: %d: %s", path, resp.StatusCode, clipText(body))
		}
		resp, body := m2.get(path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("M2 opening M1's %s: %d, want 404", path, resp.StatusCode)
		}
		if strings.Contains(body, "confidential") || strings.Contains(body, "test-report.pdf") || strings.Contains(body, "Prototype") {
			t.Errorf("M2's answer for %s shows M1's data", path)
		}
	}
	// M1's evidence through M2's own application, and M2's through M1's.
	if resp, _ := m2.get(fmt.Sprintf("/console/applications/%d/evidence/%d", s.appM2, ev)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("M2 reading M1's evidence %d through its own application: %d, want 404", ev, resp.StatusCode)
	}
	if resp, _ := m1.get(fmt.Sprintf("/console/applications/%d/evidence/%d", s.appM1, m2ev)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("M1 reading M2's evidence %d through its own application: %d, want 404", m2ev, resp.StatusCode)
	}
	// Nor may M2 add evidence to M1's application.
	before := s.evidence(s.appM1)
	resp, _ := m2.upload(fmt.Sprintf("/console/applications/%d/evidence", s.appM1), url.Values{"csrf": {m2.csrf()}},
		secFile{"file", "planted.pdf", "application/pdf", strings.NewReader("%PDF-1.4\n%%EOF\n")})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("M2 uploading to M1's application: %d, want 404", resp.StatusCode)
	}
	if after := s.evidence(s.appM1); after != before {
		t.Errorf("M2's refused upload changed M1's evidence: %d → %d files", before, after)
	}
}

func (s *secSite) userID(org int64) int64 {
	users, err := s.inst.Store.Users(s.ctx, org)
	if err != nil || len(users) == 0 {
		s.t.Fatalf("organisation %d has no user: %v", org, err)
	}
	return users[0].ID
}

// evidence counts an application's evidence files.
func (s *secSite) evidence(app int64) int {
	list, err := s.inst.Store.EvidenceList(s.ctx, app)
	if err != nil {
		s.t.Fatal(err)
	}
	return len(list)
}

// blobs counts the files in the evidence store.
func (s *secSite) blobs() int {
	n := 0
	dir := filepath.Join(s.inst.Server.Config().DataDir, "evidence")
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// addEvidence uploads a file through the console and returns its id.
func (s *secSite) addEvidence(c *secClient, app int64, name, ctype string, content []byte) int64 {
	s.t.Helper()
	before, _ := s.inst.Store.EvidenceList(s.ctx, app)
	resp, body := c.upload(fmt.Sprintf("/console/applications/%d/evidence", app), url.Values{"csrf": {c.csrf()}},
		secFile{"file", name, ctype, bytes.NewReader(content)})
	if resp.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("upload %s to application %d: %d, want 303: %s", name, app, resp.StatusCode, clipText(body))
	}
	after, _ := s.inst.Store.EvidenceList(s.ctx, app)
	if len(after) != len(before)+1 {
		s.t.Fatalf("upload %s: %d evidence files before, %d after", name, len(before), len(after))
	}
	return after[len(after)-1].ID
}

// Evidence is served as a download that cannot run in the site's origin.
func TestEvidenceDownload(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))
	m1 := s.client()
	m1.login(s.m1Email)
	content := []byte("<html><script>alert(document.cookie)</script></html>\n")
	ev := s.addEvidence(m1, s.appM1, "notes.txt", "text/plain", content)
	resp, body := m1.get(fmt.Sprintf("/console/applications/%d/evidence/%d", s.appM1, ev))
	if resp.StatusCode != http.StatusOK || body != string(content) {
		t.Fatalf("download: %d, %d bytes, want 200 and the file", resp.StatusCode, len(body))
	}
	h := resp.Header
	if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "notes.txt") {
		t.Errorf("Content-Disposition %q, want an attachment named notes.txt", cd)
	}
	if csp := h.Get("Content-Security-Policy"); !regexp.MustCompile(`(^|;)\s*sandbox\s*(;|$)`).MatchString(csp) {
		t.Errorf("Content-Security-Policy %q, want sandbox", csp)
	}
	if v := h.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", v)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the stored text/plain", ct)
	}
}

// An executable is not evidence: refused, and nothing is stored.
func TestUploadEvidenceWrongType(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))
	m1 := s.client()
	m1.login(s.m1Email)
	records, files := s.evidence(s.appM1), s.blobs()
	for _, tc := range []struct{ name, ctype string }{
		{"setup.exe", "application/x-msdownload"},
		{"page.html", "text/html"},
		{"image.svg", "image/svg+xml"},
	} {
		resp, body := m1.upload(fmt.Sprintf("/console/applications/%d/evidence", s.appM1), url.Values{"csrf": {m1.csrf()}},
			secFile{"file", tc.name, tc.ctype, strings.NewReader("MZ\x90\x00<script>alert(1)</script>")})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s (%s): %d, want 400: %s", tc.name, tc.ctype, resp.StatusCode, clipText(body))
		}
		if !strings.Contains(body, "evidence must be one of") {
			t.Errorf("%s: the answer does not say which types are accepted: %s", tc.name, clipText(body))
		}
	}
	if n := s.evidence(s.appM1); n != records {
		t.Errorf("refused uploads added evidence records: %d → %d", records, n)
	}
	if n := s.blobs(); n != files {
		t.Errorf("refused uploads left files in the evidence store: %d → %d", files, n)
	}
}

// secCounter counts the bytes the server took from a request body.
type secCounter struct {
	r io.Reader
	n atomic.Int64
}

func (c *secCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// An evidence file over the limit is refused, nothing is stored, and the
// server stops reading soon after the limit instead of taking the whole
// body first.
func TestUploadEvidenceOversized(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))
	m1 := s.client()
	m1.login(s.m1Email)
	records, files := s.evidence(s.appM1), s.blobs()
	path := fmt.Sprintf("/console/applications/%d/evidence", s.appM1)

	// Just over the limit.
	over := io.MultiReader(strings.NewReader("%PDF-1.4\n"), io.LimitReader(zeros{}, server.MaxEvidenceSize))
	resp, body := m1.upload(path, url.Values{"csrf": {m1.csrf()}}, secFile{"file", "big.pdf", "application/pdf", over})
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("evidence 1 byte over %d MiB: %d, want 400 or 413: %s", server.MaxEvidenceSize>>20, resp.StatusCode, clipText(body))
	} else if !strings.Contains(body, "at most 20 MiB") {
		t.Errorf("the refusal does not give the limit: %s", clipText(body))
	}

	// Far over: 96 MiB. The handler bounds the body at the evidence limit
	// plus 1 MiB of form; the server must not read (and spool to disk) much
	// more than that before refusing. (A handler that bounds the body first
	// stops at about 25 MiB here: the limit plus the socket buffers.)
	const huge = 96 << 20
	token := m1.csrf()
	mb, ctype := multipartBody(url.Values{"csrf": {token}}, secFile{"file", "huge.pdf", "application/pdf",
		io.MultiReader(strings.NewReader("%PDF-1.4\n"), io.LimitReader(zeros{}, huge))})
	counted := &secCounter{r: mb}
	req, err := http.NewRequest(http.MethodPost, s.inst.URL+path, counted)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	m1.sameSite(req, nil)
	start := time.Now()
	hresp, err := m1.http.Do(req)
	if err == nil {
		io.Copy(io.Discard, hresp.Body)
		hresp.Body.Close()
		if hresp.StatusCode != http.StatusBadRequest && hresp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("evidence of %d MiB: %d, want 400 or 413", huge>>20, hresp.StatusCode)
		}
	} // else the server closed the connection on the refused body: also a refusal
	read := counted.n.Load()
	t.Logf("%d MiB upload: the server took %.1f MiB in %s (err %v)", huge>>20, float64(read)/(1<<20), time.Since(start).Round(time.Millisecond), err)
	if limit := int64(huge / 2); read > limit {
		t.Errorf("the server read %.1f MiB of a %d MiB upload before refusing it; want it to stop soon after the %d MiB limit "+
			"(under %d MiB): the body is parsed before the handler's limit applies", float64(read)/(1<<20), huge>>20, server.MaxEvidenceSize>>20, limit>>20)
	}

	if n := s.evidence(s.appM1); n != records {
		t.Errorf("oversized uploads added evidence records: %d → %d", records, n)
	}
	if n := s.blobs(); n != files {
		t.Errorf("oversized uploads left files in the evidence store: %d → %d", files, n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A file that is not an SBOM is refused with a message saying so, and no
// version is registered.
func TestUploadNotAnSBOM(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, "sqlite"))
	m1 := s.client()
	m1.login(s.m1Email)
	a, err := s.inst.Store.Application(s.ctx, s.appM1)
	if err != nil {
		t.Fatal(err)
	}
	versions := func() int {
		vs, err := s.inst.Store.Versions(s.ctx, a.ProductID)
		if err != nil {
			t.Fatal(err)
		}
		return len(vs)
	}
	before := versions()
	for _, tc := range []struct{ name, ctype, content string }{
		{"sbom.json", "application/json", `{"hello": "world"}`},
		{"sbom.txt", "text/plain", "this is not a software bill of materials\n"},
		{"firmware.bin", "application/octet-stream", "\x7fELF\x02\x01\x01\x00"},
	} {
		resp, body := m1.upload(fmt.Sprintf("/console/products/%d/versions", a.ProductID),
			url.Values{"csrf": {m1.csrf()}, "software_version": {"9.9.9-" + tc.name}},
			secFile{"sbom", tc.name, tc.ctype, strings.NewReader(tc.content)})
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s as the SBOM: %d, want 400 or 422: %s", tc.name, resp.StatusCode, clipText(body))
		}
		if !strings.Contains(body, "SBOM") {
			t.Errorf("%s: the refusal does not say the SBOM is the problem: %s", tc.name, clipText(body))
		}
	}
	if n := versions(); n != before {
		t.Errorf("refused SBOM uploads registered versions: %d → %d", before, n)
	}
}
