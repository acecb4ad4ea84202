package server_test

// Application-layer tests without HTTP: a real server.Server on a real
// store (SQLite, and PostgreSQL where the test is cheap enough), called the
// way the API and the web pages call it. Each test asserts what a user
// relies on: who may do what, what is refused and why, and that a refused
// request leaves nothing behind.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	schemeA  = "etsi-baseline" // run by authority A
	levelA   = "baseline"
	schemeB  = "sg-cls" // run by authority B
	levelB   = "1"
	password = "correct horse battery staple 2026"
)

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a server with one party of every kind: two authorities running
// different schemes, two labs, two manufacturers.
type env struct {
	srv          *server.Server
	st           *store.Store
	clock        *clock
	authA, authB server.Principal
	lab, lab2    server.Principal
	mfr, mfr2    server.Principal
	supportEnd   string // of the versions product registers; default 2031-12-31
}

func newServer(t *testing.T, d store.Dialect) (*server.Server, *store.Store, *clock) {
	t.Helper()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "hallmark.db")
	if d == store.Postgres {
		dsn = pgtest.DSN(t)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	cheap := auth.TestParams
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	srv, err := server.New(ctx, st, server.Config{DataDir: t.TempDir(), PasswordParams: &cheap, Clock: c.now,
		PublicURL: "https://hallmark.test", LogCheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close(context.Background())
		st.Close()
	})
	return srv, st, c
}

func newEnv(t *testing.T, d store.Dialect) *env {
	t.Helper()
	ctx := context.Background()
	srv, st, c := newServer(t, d)
	e := &env{srv: srv, st: st, clock: c}
	account := func(name string, kind registry.OrgKind, role auth.Role, schemes ...string) server.Principal {
		t.Helper()
		email := strings.ToLower(strings.ReplaceAll(name, " ", "-")) + "@example.org"
		if _, err := srv.CreateAccount(ctx, auth.System, registry.Organisation{Name: name, Kind: kind, Schemes: schemes},
			registry.User{Email: email, Name: name + " user", Role: string(role)}, password); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		// Principals come from a login, as in a real request: an
		// authority's schemes are read from the store.
		_, p, err := srv.Login(ctx, email, password, "192.0.2.1")
		if err != nil {
			t.Fatalf("login %s: %v", name, err)
		}
		return p
	}
	e.authA = account("Authority A", registry.Authority, auth.RoleAuthorityAdmin, schemeA)
	e.authB = account("Authority B", registry.Authority, auth.RoleAuthorityAdmin, schemeB)
	e.lab = account("Lab One", registry.AssessorLab, auth.RoleAssessor)
	e.lab2 = account("Lab Two", registry.AssessorLab, auth.RoleAssessor)
	var err error
	if e.mfr, err = srv.Register(ctx, "Acme Devices", "DE", "Ann Acme", "ann@acme.example", password); err != nil {
		t.Fatal(err)
	}
	if e.mfr2, err = srv.Register(ctx, "Rival Devices", "FR", "Rob Rival", "rob@rival.example", password); err != nil {
		t.Fatal(err)
	}
	return e
}

// eachDialect runs fn on a fresh environment per database engine.
func eachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, newEnv(t, d)) })
	}
}

func is(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

var modelSeq int

// product registers a product and a version as p, returning both ids.
func (e *env) product(t *testing.T, p server.Principal) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	modelSeq++
	pid, err := e.srv.CreateProduct(ctx, p, registry.Product{Name: "Camera", Category: "camera", ModelNumber: fmt.Sprintf("C-%d", modelSeq)})
	ok(t, "create product", err)
	end := e.supportEnd
	if end == "" {
		end = "2031-12-31"
	}
	vid, err := e.srv.CreateVersion(ctx, p, registry.Version{ProductID: pid, SoftwareVersion: "1.0",
		Facts: registry.Facts{SupportEnd: end, UpdateMode: "automatic", SecurityContact: "security@acme.example"}}, nil)
	ok(t, "create version", err)
	return pid, vid
}

// needs lists the requirement ids an application must have a verdict for.
func (e *env) needs(t *testing.T, p server.Principal, app int64) []string {
	t.Helper()
	v, err := e.srv.ApplicationView(context.Background(), p, app)
	ok(t, "application view", err)
	var ids []string
	for _, n := range v.Needs.Needs {
		ids = append(ids, n.Requirement.ID)
	}
	if len(ids) == 0 {
		t.Fatalf("application %d needs no requirements", app)
	}
	return ids
}

// assessed takes an application of mfr for ref to assessed, with the
// authority au assigning lab, every requirement passed.
func (e *env) assessed(t *testing.T, mfr, au server.Principal, ref string) (app int64) {
	t.Helper()
	return e.assessedWith(t, mfr, au, ref, true)
}

// assessedWith is assessed, with or without an evidence file attached.
func (e *env) assessedWith(t *testing.T, mfr, au server.Principal, ref string, evidence bool) (app int64) {
	t.Helper()
	ctx := context.Background()
	_, vid := e.product(t, mfr)
	app, err := e.srv.Apply(ctx, mfr, vid, ref)
	ok(t, "apply", err)
	if evidence {
		_, err = e.srv.AddEvidence(ctx, mfr, app, "test-report.txt", "text/plain", strings.NewReader("every requirement met"))
		ok(t, "add evidence", err)
	}
	_, err = e.srv.Step(ctx, mfr, app, assess.Submit, "", 0)
	ok(t, "submit", err)
	_, err = e.srv.Step(ctx, au, app, assess.Assign, "", e.lab.OrgID)
	ok(t, "assign", err)
	for _, id := range e.needs(t, e.lab, app) {
		ok(t, "finding", e.srv.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: id, Verdict: assess.Pass}))
	}
	_, err = e.srv.Step(ctx, e.lab, app, assess.Complete, "", 0)
	ok(t, "complete", err)
	return app
}

// label issues a label for a new product of mfr under ref.
func (e *env) label(t *testing.T, mfr, au server.Principal, ref string) registry.Label {
	t.Helper()
	app := e.assessed(t, mfr, au, ref)
	o, err := e.srv.Step(context.Background(), au, app, assess.Approve, "all met", 0)
	ok(t, "approve", err)
	if o.Label.ID == "" || o.Label.Status != assess.Active || o.DecisionID == 0 {
		t.Fatalf("approval outcome %+v", o)
	}
	return o.Label
}

func (e *env) status(t *testing.T, id string) assess.LabelStatus {
	t.Helper()
	l, err := e.st.Label(context.Background(), id)
	ok(t, "read label "+id, err)
	return l.Status
}

func (e *env) appState(t *testing.T, id int64) assess.State {
	t.Helper()
	a, err := e.st.Application(context.Background(), id)
	ok(t, "read application", err)
	return a.State
}

// decisionKinds lists the decisions recorded about a label, oldest first.
func (e *env) decisionKinds(t *testing.T, id string) []string {
	t.Helper()
	ds, err := e.srv.Receipts(context.Background(), id)
	ok(t, "receipts", err)
	var out []string
	for _, d := range ds {
		out = append(out, d.Kind)
	}
	return out
}

// settle waits for the log and checks every decision about the labels is
// logged with a receipt.
func (e *env) settle(t *testing.T, labels ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok(t, "WaitLogged", e.srv.WaitLogged(ctx))
	if n, err := e.st.PendingCount(ctx); err != nil || n != 0 {
		t.Fatalf("after WaitLogged %d decisions pending (%v)", n, err)
	}
	for _, id := range labels {
		ds, err := e.srv.Receipts(ctx, id)
		ok(t, "receipts", err)
		if len(ds) == 0 {
			t.Errorf("label %s has no decisions", id)
		}
		for _, d := range ds {
			if !d.Logged || d.Receipt == "" || d.LogIndex < 0 {
				t.Errorf("decision %d (%s %s) not logged with a receipt: logged=%v index=%d receipt=%d bytes", d.ID, d.Kind, id, d.Logged, d.LogIndex, len(d.Receipt))
			}
		}
	}
}

func TestAccounts(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		_, err := s.Register(ctx, "Acme Two", "DE", "Ann", "ann@acme.example", password)
		is(t, "register a taken e-mail", err, store.ErrConflict)
		_, err = s.Register(ctx, "Bad Mail", "DE", "X", "not-an-address", password)
		is(t, "register a bad e-mail", err, server.ErrInvalid)
		_, err = s.Register(ctx, "Weak", "DE", "X", "weak@weak.example", "short")
		is(t, "register a weak password", err, server.ErrInvalid)
		_, err = s.Register(ctx, "No Name", "DE", "", "noname@x.example", password)
		is(t, "register without a name", err, server.ErrInvalid)
		// A failed registration leaves no account behind.
		_, _, err = s.Login(ctx, "weak@weak.example", "short", "192.0.2.9")
		is(t, "login to a refused registration", err, server.ErrLogin)

		if e.mfr.Role != auth.RoleManufacturer || e.mfr.OrgKind != auth.KindManufacturer || e.mfr.UserID == 0 || e.mfr.OrgID == 0 {
			t.Errorf("registered principal %+v", e.mfr)
		}
		_, _, err = s.Login(ctx, "ann@acme.example", "wrong password entirely", "192.0.2.2")
		is(t, "wrong password", err, server.ErrLogin)
		_, _, err = s.Login(ctx, "nobody@acme.example", password, "192.0.2.2")
		is(t, "unknown account", err, server.ErrLogin)

		sid, p, err := s.Login(ctx, "ANN@acme.example", password, "192.0.2.2")
		ok(t, "login", err)
		if p.UserID != e.mfr.UserID || p.OrgID != e.mfr.OrgID || p.Role != auth.RoleManufacturer {
			t.Errorf("login principal %+v, registered %+v", p, e.mfr)
		}
		sid2, _, err := s.Login(ctx, "ann@acme.example", password, "192.0.2.2")
		ok(t, "second login", err)
		if sid == "" || sid == sid2 {
			t.Errorf("session ids %q and %q: each login must give a new one", sid, sid2)
		}
		got, found := s.SessionPrincipal(ctx, sid)
		if !found || got.UserID != e.mfr.UserID || got.OrgID != e.mfr.OrgID {
			t.Errorf("SessionPrincipal = %+v, %v", got, found)
		}
		if got, found := s.SessionPrincipal(ctx, "forged-session-id"); found || !got.IsAnonymous() {
			t.Errorf("an unknown session resolved to %+v", got)
		}
		if got, found := s.SessionPrincipal(ctx, ""); found || !got.IsAnonymous() {
			t.Errorf("no session resolved to %+v", got)
		}
		ok(t, "logout", s.Logout(ctx, sid))
		if got, found := s.SessionPrincipal(ctx, sid); found || !got.IsAnonymous() {
			t.Errorf("a logged-out session still resolves to %+v", got)
		}
		if _, found := s.SessionPrincipal(ctx, sid2); !found {
			t.Errorf("logging out one session ended another")
		}
		// The absolute timeout ends a session however busy it is.
		e.clock.advance(9 * time.Hour)
		if _, found := s.SessionPrincipal(ctx, sid2); found {
			t.Errorf("a session 9 hours old still resolves")
		}

		// An authority's principal carries the schemes it runs, from the store.
		_, pa, err := s.Login(ctx, "authority-a@example.org", password, "192.0.2.3")
		ok(t, "authority login", err)
		if !slices.Equal(pa.Schemes, []string{schemeA}) || pa.Role != auth.RoleAuthorityAdmin {
			t.Errorf("authority principal %+v", pa)
		}

		tok, err := s.NewAPIToken(ctx, e.authA, "ci")
		ok(t, "new token", err)
		tp, err := s.TokenPrincipal(ctx, tok)
		if err != nil || tp.UserID != e.authA.UserID || !slices.Equal(tp.Schemes, []string{schemeA}) {
			t.Errorf("TokenPrincipal = %+v, %v", tp, err)
		}
		if tp, err := s.TokenPrincipal(ctx, tok+"x"); !errors.Is(err, server.ErrToken) || !tp.IsAnonymous() {
			t.Errorf("a wrong token resolved to %+v, %v", tp, err)
		}
		_, err = s.NewAPIToken(ctx, auth.Anonymous, "x")
		is(t, "anonymous token", err, server.ErrDenied)
	})
}

func TestProductsVersionsSBOM(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ctx := context.Background()
	s := e.srv
	for name, p := range map[string]server.Principal{"anonymous": auth.Anonymous, "authority": e.authA, "lab": e.lab} {
		_, err := s.CreateProduct(ctx, p, registry.Product{Name: "X", Category: "camera", ModelNumber: "X1"})
		is(t, name+" creates a product", err, server.ErrDenied)
	}
	_, err := s.CreateProduct(ctx, e.mfr, registry.Product{Name: "X", Category: "no-such-category", ModelNumber: "X1"})
	is(t, "invalid category", err, server.ErrInvalid)
	// The product belongs to the principal's organisation, whatever the input says.
	pid, err := s.CreateProduct(ctx, e.mfr, registry.Product{Name: "Cam", Category: "camera", ModelNumber: "CAM-1", ManufacturerID: e.mfr2.OrgID})
	ok(t, "create product", err)
	prod, err := s.Product(ctx, e.mfr, pid)
	ok(t, "owner reads product", err)
	if prod.ManufacturerID != e.mfr.OrgID || prod.Published {
		t.Errorf("product %+v: want made by %d, unpublished", prod, e.mfr.OrgID)
	}
	_, err = s.CreateProduct(ctx, e.mfr, registry.Product{Name: "Cam", Category: "camera", ModelNumber: "CAM-1"})
	is(t, "duplicate model number", err, store.ErrConflict)

	v := registry.Version{ProductID: pid, SoftwareVersion: "1.0", Facts: registry.Facts{SBOMAvailable: true}}
	_, err = s.CreateVersion(ctx, e.mfr2, v, nil)
	is(t, "another maker adds a version", err, store.ErrNotFound)
	_, err = s.CreateVersion(ctx, e.mfr, registry.Version{ProductID: pid, SoftwareVersion: "1.0", Facts: registry.Facts{UpdateMode: "sometimes"}}, nil)
	is(t, "invalid facts", err, server.ErrInvalid)
	// A claim of an SBOM is not taken on trust: only a received SBOM sets it.
	vid, err := s.CreateVersion(ctx, e.mfr, v, nil)
	ok(t, "create version", err)
	got, err := s.Version(ctx, vid)
	ok(t, "version", err)
	if got.Facts.SBOMAvailable || got.SBOMFormat != "" || got.Components != 0 {
		t.Errorf("version without an SBOM claims one: %+v", got)
	}

	raw, err := os.ReadFile("../sbom/testdata/alpine-zlib-16.cdx.json")
	ok(t, "read SBOM", err)
	sb, err := server.ParseSBOM(raw)
	ok(t, "parse SBOM", err)
	if len(sb.Components) == 0 {
		t.Fatal("the SBOM has no components")
	}
	_, err = server.ParseSBOM([]byte("this is not an SBOM"))
	is(t, "parse garbage", err, server.ErrInvalid)
	is(t, "another maker uploads an SBOM", s.UploadSBOM(ctx, e.mfr2, vid, sb), store.ErrNotFound)
	is(t, "an authority uploads an SBOM", s.UploadSBOM(ctx, e.authA, vid, sb), server.ErrDenied)
	if got, _ := s.Version(ctx, vid); got.Components != 0 {
		t.Errorf("a refused upload stored %d components", got.Components)
	}
	ok(t, "upload SBOM", s.UploadSBOM(ctx, e.mfr, vid, sb))
	got, _ = s.Version(ctx, vid)
	if got.Components != len(sb.Components) || got.SBOMDigest != sb.Digest || got.SBOMFormat != sb.Format {
		t.Errorf("after upload: %d components %q %q, want %d %q %q", got.Components, got.SBOMFormat, got.SBOMDigest, len(sb.Components), sb.Format, sb.Digest)
	}
	vid2, err := s.CreateVersion(ctx, e.mfr, registry.Version{ProductID: pid, SoftwareVersion: "2.0"}, sb)
	ok(t, "version with SBOM", err)
	if got, _ := s.Version(ctx, vid2); !got.Facts.SBOMAvailable || got.Components != len(sb.Components) {
		t.Errorf("version created with an SBOM: %+v", got)
	}
	_, err = s.CreateVersion(ctx, e.mfr, registry.Version{ProductID: 999999, SoftwareVersion: "1"}, nil)
	is(t, "version of no product", err, store.ErrNotFound)
}

// visible reports whether p sees the product, both as one product and in
// the listing; the two must agree.
func (e *env) visible(t *testing.T, p server.Principal, pid int64) bool {
	t.Helper()
	ctx := context.Background()
	_, err := e.srv.Product(ctx, p, pid)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("product: %v", err)
	}
	one := err == nil
	list, _, err := e.srv.Products(ctx, p, store.ProductQuery{Limit: 1000})
	ok(t, "products", err)
	listed := slices.ContainsFunc(list, func(x registry.Product) bool { return x.ID == pid })
	if one != listed {
		t.Errorf("%s (org %d): Product says visible=%v, Products lists it=%v", p.Role, p.OrgID, one, listed)
	}
	return one
}

func TestWorkflow(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		pid, vid := e.product(t, e.mfr)
		who := map[string]server.Principal{"maker": e.mfr, "other maker": e.mfr2, "authority A": e.authA, "authority B": e.authB,
			"lab": e.lab, "lab 2": e.lab2, "anonymous": auth.Anonymous}
		seeing := func(stage string, want ...string) {
			t.Helper()
			for name, p := range who {
				if got := e.visible(t, p, pid); got != slices.Contains(want, name) {
					t.Errorf("%s: %s sees the unpublished product = %v, want %v", stage, name, got, !got)
				}
			}
		}
		seeing("registered", "maker")

		_, err := s.Apply(ctx, e.mfr2, vid, schemeA+"@"+levelA)
		is(t, "another maker applies", err, store.ErrNotFound)
		_, err = s.Apply(ctx, e.authA, vid, schemeA+"@"+levelA)
		is(t, "an authority applies", err, server.ErrDenied)
		_, err = s.Apply(ctx, e.mfr, vid, "fi-traficom")
		is(t, "apply to a closed scheme", err, server.ErrInvalid)
		_, err = s.Apply(ctx, e.mfr, vid, "no-such-scheme@1")
		is(t, "apply to an unknown scheme", err, server.ErrInvalid)
		seeing("refused applications", "maker")

		app, err := s.Apply(ctx, e.mfr, vid, schemeA+"@"+levelA)
		ok(t, "apply", err)
		a, err := s.Application(ctx, e.mfr, app)
		ok(t, "read application", err)
		if a.State != assess.Draft || a.SchemeID != schemeA || a.LevelID != levelA || a.SchemeVersion < 1 {
			t.Errorf("new application %+v", a)
		}
		_, err = s.Application(ctx, e.authB, app)
		is(t, "authority of another scheme reads the application", err, store.ErrNotFound)
		_, err = s.Application(ctx, e.lab, app)
		is(t, "unassigned lab reads the application", err, store.ErrNotFound)

		_, err = s.Step(ctx, e.authA, app, assess.Submit, "", 0)
		is(t, "authority submits", err, server.ErrDenied)
		_, err = s.Step(ctx, e.mfr2, app, assess.Submit, "", 0)
		is(t, "another maker submits", err, store.ErrNotFound)
		_, err = s.Step(ctx, e.mfr, app, assess.Approve, "", 0)
		is(t, "maker approves", err, server.ErrDenied)
		_, err = s.Step(ctx, e.authA, app, assess.Approve, "", 0)
		is(t, "authority approves a draft", err, assess.ErrIllegal)
		o, err := s.Step(ctx, e.mfr, app, assess.Submit, "", 0)
		ok(t, "submit", err)
		if o.State != assess.Submitted || e.appState(t, app) != assess.Submitted {
			t.Errorf("after submit: outcome %s, stored %s", o.State, e.appState(t, app))
		}
		seeing("submitted to A", "maker", "authority A")

		// Evidence: only the maker adds; who may read follows the application.
		_, err = s.AddEvidence(ctx, e.mfr, app, "report.exe", "application/x-msdownload", strings.NewReader("MZ"))
		is(t, "evidence of a refused type", err, server.ErrInvalid)
		_, err = s.AddEvidence(ctx, e.mfr, app, "empty.txt", "text/plain", strings.NewReader(""))
		is(t, "empty evidence", err, server.ErrInvalid)
		_, err = s.AddEvidence(ctx, e.authA, app, "a.txt", "text/plain", strings.NewReader("x"))
		is(t, "authority adds evidence", err, server.ErrDenied)
		_, err = s.AddEvidence(ctx, e.mfr2, app, "a.txt", "text/plain", strings.NewReader("x"))
		is(t, "another maker adds evidence", err, store.ErrNotFound)
		content := []byte("ICS for EN 303 645\n")
		evID, err := s.AddEvidence(ctx, e.mfr, app, "../../ics.txt", "text/plain; charset=utf-8", bytes.NewReader(content))
		ok(t, "add evidence", err)
		readEvidence := func(p server.Principal) ([]byte, error) {
			ev, rc, err := s.OpenEvidence(ctx, p, app, evID)
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			if ev.Name != "ics.txt" || ev.ContentType != "text/plain" || ev.Size != int64(len(content)) {
				t.Errorf("evidence record %+v", ev)
			}
			return io.ReadAll(rc)
		}
		if b, err := readEvidence(e.mfr); err != nil || !bytes.Equal(b, content) {
			t.Errorf("maker reads evidence: %q, %v", b, err)
		}
		if b, err := readEvidence(e.authA); err != nil || !bytes.Equal(b, content) {
			t.Errorf("authority A reads evidence: %q, %v", b, err)
		}
		for _, p := range []server.Principal{e.authB, e.lab, e.mfr2, auth.Anonymous} {
			if _, err := readEvidence(p); !errors.Is(err, store.ErrNotFound) && !errors.Is(err, server.ErrDenied) {
				t.Errorf("%s (org %d) reads evidence: %v, want refused", p.Role, p.OrgID, err)
			}
		}
		_, _, err = s.OpenEvidence(ctx, e.mfr, app, evID+1000)
		is(t, "unknown evidence", err, store.ErrNotFound)

		// Assign: only authority A, only to a lab.
		// An authority of another scheme does not even learn the application exists.
		_, err = s.Step(ctx, e.authB, app, assess.Assign, "", e.lab.OrgID)
		is(t, "authority of another scheme assigns", err, store.ErrNotFound)
		_, err = s.Step(ctx, e.mfr, app, assess.Assign, "", e.lab.OrgID)
		is(t, "maker picks its lab", err, server.ErrDenied)
		for name, org := range map[string]int64{"a manufacturer": e.mfr.OrgID, "an authority": e.authA.OrgID, "nobody": 0, "no such org": 999999} {
			_, err = s.Step(ctx, e.authA, app, assess.Assign, "", org)
			is(t, "assign to "+name, err, server.ErrInvalid)
		}
		if got := e.appState(t, app); got != assess.Submitted {
			t.Fatalf("refused assignments moved the application to %s", got)
		}
		o, err = s.Step(ctx, e.authA, app, assess.Assign, "", e.lab.OrgID)
		ok(t, "assign", err)
		if a, _ := s.Application(ctx, e.authA, app); o.State != assess.InAssessment || a.State != assess.InAssessment || a.AssessorOrgID != e.lab.OrgID {
			t.Errorf("after assign: outcome %s, stored %s lab %d", o.State, a.State, a.AssessorOrgID)
		}
		seeing("assigned to lab", "maker", "authority A", "lab")
		if b, err := readEvidence(e.lab); err != nil || !bytes.Equal(b, content) {
			t.Errorf("assigned lab reads evidence: %q, %v", b, err)
		}

		// Findings: only the assigned lab, only required requirements,
		// only this application's evidence.
		needs := e.needs(t, e.lab, app)
		_, otherVid := e.product(t, e.mfr)
		otherApp, err := s.Apply(ctx, e.mfr, otherVid, schemeA+"@"+levelA)
		ok(t, "other application", err)
		otherEv, err := s.AddEvidence(ctx, e.mfr, otherApp, "other.txt", "text/plain", strings.NewReader("other"))
		ok(t, "other evidence", err)
		pass := assess.Finding{Requirement: needs[0], Verdict: assess.Pass}
		is(t, "other lab records", s.RecordFinding(ctx, e.lab2, app, pass), store.ErrNotFound)
		is(t, "authority records", s.RecordFinding(ctx, e.authA, app, pass), server.ErrDenied)
		is(t, "maker records", s.RecordFinding(ctx, e.mfr, app, pass), server.ErrDenied)
		is(t, "unrequired requirement", s.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: "HM-NOPE-1", Verdict: assess.Pass}), server.ErrInvalid)
		is(t, "fail without rationale", s.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: needs[0], Verdict: assess.Fail}), server.ErrInvalid)
		is(t, "evidence of another application", s.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: needs[0], Verdict: assess.Pass, Evidence: []int64{otherEv}}), server.ErrInvalid)
		if fs, _ := e.st.Findings(ctx, app); len(fs) != 0 {
			t.Fatalf("refused findings were stored: %+v", fs)
		}
		ok(t, "finding with evidence", s.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: needs[0], Verdict: assess.Pass, Evidence: []int64{evID}}))

		// Complete is refused while any requirement lacks a verdict.
		_, err = s.Step(ctx, e.lab, app, assess.Complete, "", 0)
		is(t, "complete with findings missing", err, assess.ErrIllegal)
		for _, id := range needs[1 : len(needs)-1] {
			ok(t, "finding", s.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: id, Verdict: assess.Pass}))
		}
		if len(needs) > 1 {
			_, err = s.Step(ctx, e.lab, app, assess.Complete, "", 0)
			is(t, "complete with one finding missing", err, assess.ErrIllegal)
		}
		last := needs[len(needs)-1]
		ok(t, "failed finding", s.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: last, Verdict: assess.Fail, Rationale: "default password shared"}))
		_, err = s.Step(ctx, e.authA, app, assess.Complete, "", 0)
		is(t, "authority completes", err, server.ErrDenied)
		_, err = s.Step(ctx, e.lab2, app, assess.Complete, "", 0)
		is(t, "other lab completes", err, store.ErrNotFound)
		if e.appState(t, app) != assess.InAssessment {
			t.Fatal("a refused completion moved the application")
		}
		o, err = s.Step(ctx, e.lab, app, assess.Complete, "", 0)
		ok(t, "complete", err)
		if o.State != assess.Assessed {
			t.Errorf("after complete: %s", o.State)
		}

		// Approve is refused while a requirement failed; nothing is issued.
		_, err = s.Step(ctx, e.authA, app, assess.Approve, "looks fine", 0)
		is(t, "approve with a failed finding", err, assess.ErrIllegal)
		if a, _ := s.Application(ctx, e.mfr, app); a.State != assess.Assessed || a.LabelID != "" {
			t.Fatalf("after a refused approval: %s, label %q", a.State, a.LabelID)
		}
		if _, n, _ := s.LabelsFor(ctx, e.authA, store.LabelQuery{Limit: 10}); n != 0 {
			t.Fatalf("a refused approval issued %d labels", n)
		}
		// Return needs a reason.
		_, err = s.Step(ctx, e.authA, app, assess.Return, "   ", 0)
		is(t, "return without a reason", err, server.ErrInvalid)
		_, err = s.Step(ctx, e.authA, app, assess.Return, strings.Repeat("x", 2001), 0)
		is(t, "return with an overlong reason", err, server.ErrInvalid)
		o, err = s.Step(ctx, e.authA, app, assess.Return, "re-test the default password", 0)
		ok(t, "return", err)
		if o.State != assess.InAssessment {
			t.Errorf("after return: %s", o.State)
		}
		ok(t, "re-test", s.RecordFinding(ctx, e.lab, app, assess.Finding{Requirement: last, Verdict: assess.Pass}))
		_, err = s.Step(ctx, e.lab, app, assess.Complete, "", 0)
		ok(t, "complete again", err)

		_, err = s.Step(ctx, e.lab, app, assess.Approve, "", 0)
		is(t, "the lab approves its own work", err, server.ErrDenied)
		_, err = s.Step(ctx, e.authB, app, assess.Approve, "", 0)
		is(t, "authority of another scheme approves", err, store.ErrNotFound)
		o, err = s.Step(ctx, e.authA, app, assess.Approve, "all provisions met", 0)
		ok(t, "approve", err)
		if o.State != assess.Approved || o.Label.ID == "" || o.Label.Status != assess.Active || o.DecisionID == 0 || o.Label.SchemeID != schemeA {
			t.Errorf("approval outcome %+v", o)
		}
		a, _ = s.Application(ctx, e.mfr, app)
		if a.State != assess.Approved || a.LabelID != o.Label.ID || a.DecisionReason != "all provisions met" {
			t.Errorf("approved application %+v", a)
		}
		l, events, err := s.Label(ctx, o.Label.ID)
		ok(t, "label", err)
		if l.Status != assess.Active || l.Credential == "" || l.VersionID != vid || len(events) != 1 || events[0].Action != "issue" {
			t.Errorf("issued label %+v, events %+v", l, events)
		}
		_, err = s.Step(ctx, e.authA, app, assess.Approve, "again", 0)
		is(t, "approve twice", err, assess.ErrIllegal)

		// The history names every step in order.
		v, err := s.ApplicationView(ctx, e.mfr, app)
		ok(t, "view", err)
		var steps []string
		for _, ev := range v.Events {
			steps = append(steps, ev.Step)
		}
		want := []string{"submit", "assign", "complete", "return", "complete", "approve"}
		if !slices.Equal(steps[len(steps)-len(want):], want) {
			t.Errorf("history %v, want it to end %v", steps, want)
		}

		// Reject needs reasons; withdraw is the maker's.
		_, err = s.Step(ctx, e.mfr, otherApp, assess.Submit, "", 0)
		ok(t, "submit other", err)
		_, err = s.Step(ctx, e.authA, otherApp, assess.Reject, "", 0)
		is(t, "reject without reasons", err, server.ErrInvalid)
		_, err = s.Step(ctx, e.mfr, otherApp, assess.Reject, "I changed my mind", 0)
		is(t, "maker rejects", err, server.ErrDenied)
		o, err = s.Step(ctx, e.authA, otherApp, assess.Reject, "incomplete documentation", 0)
		ok(t, "reject", err)
		if o.State != assess.Rejected || e.appState(t, otherApp) != assess.Rejected {
			t.Errorf("after reject: %s", o.State)
		}
		_, err = s.Step(ctx, e.mfr, otherApp, assess.Withdraw, "", 0)
		is(t, "withdraw a rejected application", err, assess.ErrIllegal)
		_, thirdVid := e.product(t, e.mfr)
		third, err := s.Apply(ctx, e.mfr, thirdVid, schemeA+"@"+levelA)
		ok(t, "third application", err)
		_, err = s.Step(ctx, e.authA, third, assess.Withdraw, "", 0)
		is(t, "authority withdraws", err, server.ErrDenied)
		_, err = s.Step(ctx, e.mfr, third, assess.Withdraw, "", 0)
		ok(t, "withdraw", err)
		_, err = s.Step(ctx, e.mfr, third, "launch", "", 0)
		is(t, "unknown step", err, server.ErrInvalid)

		e.settle(t, l.ID)
		if kinds := e.decisionKinds(t, l.ID); !slices.Equal(kinds, []string{tlog.KindLabelIssued}) {
			t.Errorf("decisions about the new label: %v", kinds)
		}
	})
}

func TestLabelLifecycle(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		l := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		id := l.ID
		actions := func(p server.Principal) []assess.LabelAction {
			cur, err := s.LabelRecord(ctx, id)
			ok(t, "label record", err)
			return s.LabelActionsFor(p, cur)
		}
		wantActions := func(stage string, p server.Principal, want ...assess.LabelAction) {
			t.Helper()
			if got := actions(p); !slices.Equal(got, want) {
				t.Errorf("%s: %s (org %d) may %v, want %v", stage, p.Role, p.OrgID, got, want)
			}
		}
		wantActions("active", e.authA, assess.SuspendLabel, assess.RevokeLabel)
		wantActions("active", e.mfr, assess.SurrenderLabel)
		for _, p := range []server.Principal{e.authB, e.mfr2, e.lab, auth.Anonymous} {
			wantActions("active", p)
		}

		change := func(p server.Principal, a assess.LabelAction, reason string) error {
			_, err := s.ChangeLabel(ctx, p, id, a, reason)
			return err
		}
		is(t, "authority of another scheme suspends", change(e.authB, assess.SuspendLabel, "x"), server.ErrDenied)
		is(t, "maker suspends", change(e.mfr, assess.SuspendLabel, "x"), server.ErrDenied)
		is(t, "lab suspends", change(e.lab, assess.SuspendLabel, "x"), server.ErrDenied)
		is(t, "anonymous suspends", change(auth.Anonymous, assess.SuspendLabel, "x"), server.ErrDenied)
		is(t, "authority surrenders", change(e.authA, assess.SurrenderLabel, "x"), server.ErrDenied)
		is(t, "authority expires", change(e.authA, assess.ExpireLabel, "x"), server.ErrDenied)
		is(t, "other maker surrenders", change(e.mfr2, assess.SurrenderLabel, "x"), store.ErrNotFound)
		is(t, "suspend without a reason", change(e.authA, assess.SuspendLabel, " "), server.ErrInvalid)
		is(t, "unknown action", change(e.authA, "burn", "x"), server.ErrInvalid)
		_, err := s.ChangeLabel(ctx, e.authA, "HM-NONE-NONE", assess.SuspendLabel, "x")
		is(t, "unknown label", err, store.ErrNotFound)
		if got := e.status(t, id); got != assess.Active {
			t.Fatalf("refused actions left the label %s", got)
		}

		o, err := s.ChangeLabel(ctx, e.authA, id, assess.SuspendLabel, "exploited vulnerability")
		ok(t, "suspend", err)
		if o.Status != assess.Suspended || o.DecisionID == 0 || e.status(t, id) != assess.Suspended {
			t.Errorf("suspend: outcome %+v, stored %s", o, e.status(t, id))
		}
		wantActions("suspended", e.authA, assess.RestoreLabel, assess.RevokeLabel)
		is(t, "suspend twice", change(e.authA, assess.SuspendLabel, "again"), assess.ErrIllegal)
		is(t, "authority of another scheme restores", change(e.authB, assess.RestoreLabel, "x"), server.ErrDenied)
		is(t, "maker restores", change(e.mfr, assess.RestoreLabel, "fixed"), server.ErrDenied)
		o, err = s.ChangeLabel(ctx, e.authA, id, assess.RestoreLabel, "fixed in 1.0.1")
		ok(t, "restore", err)
		if o.Status != assess.Active {
			t.Errorf("restore: %+v", o)
		}
		o, err = s.ChangeLabel(ctx, e.authA, id, assess.RevokeLabel, "deadline missed")
		ok(t, "revoke", err)
		if o.Status != assess.Revoked || e.status(t, id) != assess.Revoked {
			t.Errorf("revoke: %+v", o)
		}
		// Revoked is final, for everyone.
		is(t, "restore a revoked label", change(e.authA, assess.RestoreLabel, "x"), assess.ErrIllegal)
		is(t, "suspend a revoked label", change(e.authA, assess.SuspendLabel, "x"), assess.ErrIllegal)
		is(t, "revoke a revoked label", change(e.authA, assess.RevokeLabel, "x"), assess.ErrIllegal)
		is(t, "surrender a revoked label", change(e.mfr, assess.SurrenderLabel, "x"), assess.ErrIllegal)
		for _, p := range []server.Principal{e.authA, e.mfr, auth.System} {
			wantActions("revoked", p)
		}
		_, events, err := s.Label(ctx, id)
		ok(t, "label history", err)
		var hist []string
		for _, ev := range events {
			hist = append(hist, ev.Action+":"+string(ev.To)+":"+ev.Reason)
		}
		wantHist := []string{"issue:active:all met", "suspend:suspended:exploited vulnerability", "restore:active:fixed in 1.0.1", "revoke:revoked:deadline missed"}
		if !slices.Equal(hist, wantHist) {
			t.Errorf("history %v, want %v", hist, wantHist)
		}

		// Surrender: the maker only; then final too.
		l2 := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		_, err = s.ChangeLabel(ctx, e.mfr2, l2.ID, assess.SurrenderLabel, "x")
		is(t, "other maker surrenders", err, store.ErrNotFound)
		o, err = s.ChangeLabel(ctx, e.mfr, l2.ID, assess.SurrenderLabel, "withdrawn from sale")
		ok(t, "surrender", err)
		if o.Status != assess.Surrendered || e.status(t, l2.ID) != assess.Surrendered {
			t.Errorf("surrender: %+v", o)
		}
		for _, a := range []assess.LabelAction{assess.RestoreLabel, assess.SuspendLabel, assess.RevokeLabel} {
			_, err = s.ChangeLabel(ctx, e.authA, l2.ID, a, "x")
			is(t, string(a)+" a surrendered label", err, assess.ErrIllegal)
		}
		_, err = s.ChangeLabel(ctx, e.mfr, l2.ID, assess.SurrenderLabel, "x")
		is(t, "surrender twice", err, assess.ErrIllegal)

		e.settle(t, id, l2.ID)
		if got, want := e.decisionKinds(t, id), []string{tlog.KindLabelIssued, tlog.KindLabelSuspended, tlog.KindLabelRestored, tlog.KindLabelRevoked}; !slices.Equal(got, want) {
			t.Errorf("decisions %v, want %v", got, want)
		}
		if got, want := e.decisionKinds(t, l2.ID), []string{tlog.KindLabelIssued, tlog.KindLabelSurrendered}; !slices.Equal(got, want) {
			t.Errorf("decisions %v, want %v", got, want)
		}
	})
}

func TestDecideBatch(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a1 := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		a2 := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
		a3 := e.label(t, e.mfr2, e.authA, schemeA+"@"+levelA)
		b1 := e.label(t, e.mfr, e.authB, schemeB+"@"+levelB)
		b2 := e.label(t, e.mfr2, e.authB, schemeB+"@"+levelB)
		reqs := []server.Request{
			{Label: a1.ID, Action: assess.SuspendLabel, Reason: "batch"},
			{Label: b1.ID, Action: assess.SuspendLabel, Reason: "batch"}, // another authority's
			{Label: a2.ID, Action: assess.RevokeLabel, Reason: "batch"},
			{Label: a2.ID, Action: assess.SuspendLabel, Reason: "named twice"},
			{Label: "HM-ZZZZ-ZZZZ", Action: assess.SuspendLabel, Reason: "batch"},
			{Label: b2.ID, Action: assess.RevokeLabel, Reason: "batch"}, // another authority's
			{Label: a3.ID, Action: assess.SuspendLabel, Reason: ""},     // no reason
			{Label: a1.ID + "x", App: 1, Action: assess.SuspendLabel, Reason: "both"},
		}
		out, err := e.srv.Decide(ctx, e.authA, reqs...)
		ok(t, "decide", err)
		if len(out) != len(reqs) {
			t.Fatalf("%d outcomes for %d requests", len(out), len(reqs))
		}
		decided := func(i int, want assess.LabelStatus) {
			t.Helper()
			if out[i].Err != nil || out[i].Status != want || out[i].DecisionID == 0 {
				t.Errorf("request %d (%s %s): outcome %+v, want %s with a decision", i, reqs[i].Action, reqs[i].Label, out[i], want)
			}
		}
		refused := func(i int, want error) {
			t.Helper()
			if !errors.Is(out[i].Err, want) || out[i].DecisionID != 0 || out[i].Status != "" {
				t.Errorf("request %d (%s %s): outcome %+v, want refused with %v", i, reqs[i].Action, reqs[i].Label, out[i], want)
			}
		}
		decided(0, assess.Suspended)
		refused(1, server.ErrDenied)
		decided(2, assess.Revoked)
		refused(3, server.ErrInvalid)
		refused(4, store.ErrNotFound)
		refused(5, server.ErrDenied)
		refused(6, server.ErrInvalid)
		refused(7, server.ErrInvalid)
		for id, want := range map[string]assess.LabelStatus{a1.ID: assess.Suspended, a2.ID: assess.Revoked, a3.ID: assess.Active, b1.ID: assess.Active, b2.ID: assess.Active} {
			if got := e.status(t, id); got != want {
				t.Errorf("label %s is %s, want %s", id, got, want)
			}
		}
		if out[0].DecisionID == out[2].DecisionID {
			t.Errorf("two decisions share row %d", out[0].DecisionID)
		}
		e.settle(t, a1.ID, a2.ID, a3.ID, b1.ID, b2.ID)
		for id, want := range map[string][]string{
			a1.ID: {tlog.KindLabelIssued, tlog.KindLabelSuspended},
			a2.ID: {tlog.KindLabelIssued, tlog.KindLabelRevoked}, // one decision although named twice
			a3.ID: {tlog.KindLabelIssued},
			b1.ID: {tlog.KindLabelIssued},
			b2.ID: {tlog.KindLabelIssued},
		} {
			if got := e.decisionKinds(t, id); !slices.Equal(got, want) {
				t.Errorf("decisions about %s: %v, want %v", id, got, want)
			}
		}
		// Authority B's own batch on its labels goes through.
		out, err = e.srv.Decide(ctx, e.authB, server.Request{Label: b1.ID, Action: assess.SuspendLabel, Reason: "b"},
			server.Request{Label: a3.ID, Action: assess.SuspendLabel, Reason: "b"})
		ok(t, "decide B", err)
		decided(0, assess.Suspended)
		if !errors.Is(out[1].Err, server.ErrDenied) {
			t.Errorf("B suspends A's label: %v", out[1].Err)
		}
		// An empty request is refused, not a failure.
		out, err = e.srv.Decide(ctx, e.authA, server.Request{})
		if err != nil || !errors.Is(out[0].Err, server.ErrInvalid) {
			t.Errorf("empty request: %v, %v", out, err)
		}
	})
}

func TestExpireDue(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ctx := context.Background()
	active := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
	suspended := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
	revoked := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
	_, err := e.srv.ChangeLabel(ctx, e.authA, suspended.ID, assess.SuspendLabel, "x")
	ok(t, "suspend", err)
	_, err = e.srv.ChangeLabel(ctx, e.authA, revoked.ID, assess.RevokeLabel, "x")
	ok(t, "revoke", err)
	if active.ValidUntil.IsZero() || !active.ValidUntil.After(e.clock.now()) {
		t.Fatalf("label valid until %v, now %v", active.ValidUntil, e.clock.now())
	}
	// Nobody but the system expires a label.
	_, err = e.srv.ChangeLabel(ctx, e.authA, active.ID, assess.ExpireLabel, "x")
	is(t, "authority expires", err, server.ErrDenied)
	_, err = e.srv.ChangeLabel(ctx, e.mfr, active.ID, assess.ExpireLabel, "x")
	is(t, "maker expires", err, server.ErrDenied)

	n, err := e.srv.ExpireDue(ctx)
	if err != nil || n != 0 {
		t.Fatalf("before the end of validity ExpireDue = %d, %v", n, err)
	}
	// Expiry is found late (the server was down): the decision is still
	// dated at the end of validity, not when it was noticed.
	e.clock.set(active.ValidUntil.Add(72 * time.Hour))
	n, err = e.srv.ExpireDue(ctx)
	if err != nil || n != 2 {
		t.Fatalf("ExpireDue = %d, %v; want the active and the suspended label", n, err)
	}
	for _, l := range []registry.Label{active, suspended} {
		if got := e.status(t, l.ID); got != assess.Expired {
			t.Errorf("label %s is %s after expiry", l.ID, got)
		}
		_, events, err := e.srv.Label(ctx, l.ID)
		ok(t, "history", err)
		last := events[len(events)-1]
		if last.Action != string(assess.ExpireLabel) || !last.At.Equal(l.ValidUntil) || last.UserID != 0 {
			t.Errorf("expiry event %+v, want dated %v with no user", last, l.ValidUntil)
		}
		ds, err := e.srv.Receipts(ctx, l.ID)
		ok(t, "decisions", err)
		d := ds[len(ds)-1]
		if d.Kind != tlog.KindLabelExpired || !d.At.Equal(l.ValidUntil) || d.Status != string(assess.Expired) {
			t.Errorf("expiry decision %+v, want %s dated %v", d, tlog.KindLabelExpired, l.ValidUntil)
		}
	}
	if got := e.status(t, revoked.ID); got != assess.Revoked {
		t.Errorf("a revoked label became %s", got)
	}
	if n, err := e.srv.ExpireDue(ctx); err != nil || n != 0 {
		t.Errorf("a second ExpireDue = %d, %v", n, err)
	}
	_, err = e.srv.ChangeLabel(ctx, e.authA, active.ID, assess.RestoreLabel, "x")
	is(t, "restore an expired label", err, assess.ErrIllegal)
	e.settle(t, active.ID, suspended.ID, revoked.ID)
}

// Two authorities' users suspend the same label at the same moment: one
// wins, the other is told it lost, and exactly one decision is recorded.
func TestRacingSuspensions(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			ctx := context.Background()
			conflicts := 0
			const rounds = 4
			var ids []string
			for range rounds {
				l := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)
				ids = append(ids, l.ID)
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make([]error, 2)
				for i := range errs {
					wg.Go(func() {
						<-start
						_, errs[i] = e.srv.ChangeLabel(ctx, e.authA, l.ID, assess.SuspendLabel, "race")
					})
				}
				close(start)
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case errors.Is(err, store.ErrConflict):
						conflicts++
					case errors.Is(err, assess.ErrIllegal):
						// The loser read the label after the winner
						// committed: "already suspended", also a loss.
					default:
						t.Errorf("racing suspension: %v", err)
					}
				}
				if won != 1 {
					t.Errorf("%d of 2 racing suspensions won: %v", won, errs)
				}
				if got, want := e.decisionKinds(t, l.ID), []string{tlog.KindLabelIssued, tlog.KindLabelSuspended}; !slices.Equal(got, want) {
					t.Errorf("decisions %v, want %v", got, want)
				}
				_, events, err := e.srv.Label(ctx, l.ID)
				ok(t, "history", err)
				if len(events) != 2 {
					t.Errorf("%d events after one suspension: %+v", len(events), events)
				}
			}
			t.Logf("%d of %d losers lost on the write (conflict), the rest on the read", conflicts, rounds)
			e.settle(t, ids...)
		})
	}
}

// A level that asks for evidence is not approved on an application with
// none attached, and nothing is issued; attaching it is not possible once
// assessed, so the authority returns it.
func TestApprovalNeedsEvidence(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		app := e.assessedWith(t, e.mfr, e.authA, schemeA+"@"+levelA, false)
		_, err := e.srv.Step(ctx, e.authA, app, assess.Approve, "all met", 0)
		is(t, "approve without evidence", err, server.ErrInvalid)
		if err == nil || !strings.Contains(err.Error(), "asks for evidence") {
			t.Errorf("the refusal says %v, want it to name the evidence the level asks for", err)
		}
		if a, _ := e.srv.Application(ctx, e.mfr, app); a.State != assess.Assessed || a.LabelID != "" {
			t.Fatalf("after the refused approval: %s, label %q", a.State, a.LabelID)
		}
		_, err = e.srv.Step(ctx, e.authA, app, assess.Return, "attach the test report", 0)
		ok(t, "return", err)
		_, err = e.srv.AddEvidence(ctx, e.mfr, app, "report.txt", "text/plain", strings.NewReader("report"))
		ok(t, "attach evidence while back in assessment", err)
		_, err = e.srv.Step(ctx, e.lab, app, assess.Complete, "", 0)
		ok(t, "complete again", err)
		o, err := e.srv.Step(ctx, e.authA, app, assess.Approve, "all met", 0)
		ok(t, "approve with evidence", err)
		if o.Label.ID == "" {
			t.Error("no label issued once the evidence was attached")
		}
	})
}
