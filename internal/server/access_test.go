package server_test

// Access that can be taken back (issue 10, item 5), authorities seeing
// only what they oversee (item 8) and input parity between the databases
// (item 9), at the application layer on both engines.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// tokenWorks reports whether a bearer token resolves to user id.
func tokenWorks(t *testing.T, s *server.Server, tok string, user int64) bool {
	t.Helper()
	p, err := s.TokenPrincipal(context.Background(), tok)
	switch {
	case errors.Is(err, server.ErrToken):
		return false
	case err != nil:
		t.Fatalf("token lookup failed (not refused): %v", err)
	}
	if p.UserID != user {
		t.Fatalf("token resolved to user %d, want %d", p.UserID, user)
	}
	return true
}

func TestTokenLifecycle(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		now := e.clock.now()

		// A token with an expiry works until then, and is listed (never
		// the token itself).
		tok, tk, err := s.CreateAPIToken(ctx, e.mfr, e.mfr.UserID, "release pipeline", now.Add(48*time.Hour))
		ok(t, "create token", err)
		if !tokenWorks(t, s, tok, e.mfr.UserID) {
			t.Fatal("a new token does not work")
		}
		list, err := s.APITokens(ctx, e.mfr, e.mfr.UserID)
		ok(t, "list tokens", err)
		if len(list) != 1 || list[0].ID != tk.ID || list[0].Name != "release pipeline" || list[0].State(now) != "active" ||
			!list[0].Expires.Equal(now.Add(48*time.Hour)) {
			t.Fatalf("tokens listed: %+v", list)
		}
		e.clock.advance(2 * time.Minute)
		if !tokenWorks(t, s, tok, e.mfr.UserID) {
			t.Fatal("token stopped before its expiry")
		}
		if l, _ := s.APITokens(ctx, e.mfr, e.mfr.UserID); l[0].LastUsed.IsZero() {
			t.Error("the token's use is not recorded")
		}
		e.clock.advance(48 * time.Hour)
		if tokenWorks(t, s, tok, e.mfr.UserID) {
			t.Error("an expired token still works")
		}
		if l, _ := s.APITokens(ctx, e.mfr, e.mfr.UserID); l[0].State(e.clock.now()) != "expired" {
			t.Errorf("an expired token is listed as %s", l[0].State(e.clock.now()))
		}

		// Lifetimes are bounded; names are checked.
		for _, d := range []time.Duration{0, 30 * time.Minute, 367 * 24 * time.Hour} {
			_, _, err := s.CreateAPIToken(ctx, e.mfr, e.mfr.UserID, "x", e.clock.now().Add(d))
			is(t, fmt.Sprintf("a token living %v", d), err, server.ErrInvalid)
		}
		_, _, err = s.CreateAPIToken(ctx, e.mfr, e.mfr.UserID, "ci\u202egnp", e.clock.now().Add(time.Hour*24))
		is(t, "a token name with a bidi override", err, input.ErrText)

		// Revoked: it stops at once. Another user can neither list, revoke
		// nor mint tokens for the owner.
		tok2, tk2, err := s.CreateAPIToken(ctx, e.mfr, e.mfr.UserID, "second", e.clock.now().Add(24*time.Hour))
		ok(t, "create second token", err)
		_, err = s.RevokeAPIToken(ctx, e.mfr2, tk2.ID)
		is(t, "another manufacturer revokes the token", err, store.ErrNotFound)
		_, err = s.APITokens(ctx, e.mfr2, e.mfr.UserID)
		is(t, "another manufacturer lists the tokens", err, store.ErrNotFound)
		_, _, err = s.CreateAPIToken(ctx, e.authA, e.mfr.UserID, "planted", e.clock.now().Add(24*time.Hour))
		is(t, "an authority mints a token for a manufacturer", err, store.ErrNotFound)
		if !tokenWorks(t, s, tok2, e.mfr.UserID) {
			t.Fatal("a refused revocation stopped the token")
		}
		rt, err := s.RevokeAPIToken(ctx, e.mfr, tk2.ID)
		ok(t, "revoke", err)
		if rt.State(e.clock.now()) != "revoked" || rt.Revoked.IsZero() {
			t.Errorf("revoked token %+v", rt)
		}
		if tokenWorks(t, s, tok2, e.mfr.UserID) {
			t.Error("a revoked token still works")
		}

		// The operator creates a token for a user (the CLI's path) and
		// revokes any.
		opTok, opTk, err := s.CreateAPIToken(ctx, auth.System, e.lab.UserID, "issued by the operator", e.clock.now().Add(24*time.Hour))
		ok(t, "operator creates a token", err)
		if !tokenWorks(t, s, opTok, e.lab.UserID) {
			t.Fatal("the operator's token does not work")
		}
		if l, err := s.APITokens(ctx, auth.System, e.lab.UserID); err != nil || len(l) != 1 || l[0].ID != opTk.ID {
			t.Errorf("operator lists %+v, %v", l, err)
		}
	})
}

func TestDisableAndPasswords(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		const email = "ann@acme.example"
		sid1, _, err := s.Login(ctx, email, password, "192.0.2.10")
		ok(t, "login 1", err)
		sid2, _, err := s.Login(ctx, email, password, "192.0.2.11")
		ok(t, "login 2", err)
		tok, err := s.NewAPIToken(ctx, e.mfr, "ci")
		ok(t, "token", err)

		// A password change needs the current password, ends the other
		// sessions, keeps this one and the API tokens.
		p1, _ := s.SessionPrincipal(ctx, sid1)
		is(t, "wrong current password", s.ChangePassword(ctx, p1, sid1, "not the password", "a brand new password 2026"), server.ErrCurrentPassword)
		is(t, "a weak new password", s.ChangePassword(ctx, p1, sid1, password, "short"), server.ErrInvalid)
		is(t, "a password change without an account", s.ChangePassword(ctx, auth.Anonymous, "", password, "a brand new password 2026"), server.ErrDenied)
		if _, found := s.SessionPrincipal(ctx, sid2); !found {
			t.Fatal("a refused change ended a session")
		}
		ok(t, "change password", s.ChangePassword(ctx, p1, sid1, password, "a brand new password 2026"))
		if _, found := s.SessionPrincipal(ctx, sid1); !found {
			t.Error("the session that changed the password ended")
		}
		if _, found := s.SessionPrincipal(ctx, sid2); found {
			t.Error("another session survived the password change")
		}
		if !tokenWorks(t, s, tok, e.mfr.UserID) {
			t.Error("the password change revoked an API token")
		}
		_, _, err = s.Login(ctx, email, password, "192.0.2.12")
		is(t, "the old password", err, server.ErrLogin)
		sid3, _, err := s.Login(ctx, email, "a brand new password 2026", "192.0.2.12")
		ok(t, "the new password", err)

		// Disabled: every session and token stops at once, and sign-in
		// is refused with the same answer as a wrong password.
		ok(t, "disable", s.SetUserDisabled(ctx, auth.System, e.mfr.UserID, true))
		for _, sid := range []string{sid1, sid3} {
			if _, found := s.SessionPrincipal(ctx, sid); found {
				t.Error("a disabled user's session still resolves")
			}
		}
		if tokenWorks(t, s, tok, e.mfr.UserID) {
			t.Error("a disabled user's token still works")
		}
		_, _, err = s.Login(ctx, email, "a brand new password 2026", "192.0.2.13")
		is(t, "a disabled user signs in", err, server.ErrLogin)
		is(t, "an authority disables a user", s.SetUserDisabled(ctx, e.authA, e.mfr2.UserID, true), server.ErrDenied)
		// Enabled again: signing in works; what disabling ended stays ended.
		ok(t, "enable", s.SetUserDisabled(ctx, auth.System, e.mfr.UserID, false))
		if tokenWorks(t, s, tok, e.mfr.UserID) {
			t.Error("enabling the user brought a revoked token back")
		}
		_, _, err = s.Login(ctx, email, "a brand new password 2026", "192.0.2.13")
		ok(t, "sign in after enabling", err)

		// The operator resets a password: every session ends.
		sid4, _, _ := s.Login(ctx, email, "a brand new password 2026", "192.0.2.14")
		ok(t, "reset", s.ResetPassword(ctx, auth.System, e.mfr.UserID, "the operator's reset password"))
		if _, found := s.SessionPrincipal(ctx, sid4); found {
			t.Error("a session survived the operator's reset")
		}
		_, _, err = s.Login(ctx, email, "the operator's reset password", "192.0.2.14")
		ok(t, "sign in with the reset password", err)

		// All of it is in the audit trail of the user's own organisation.
		trail, err := e.st.AuditTrail(ctx, store.AuditQuery{ObjectType: "user", ObjectID: fmt.Sprint(e.mfr.UserID), Limit: 100})
		ok(t, "audit", err)
		var actions []string
		for _, a := range trail {
			actions = append(actions, a.Action)
		}
		for _, want := range []string{"token.create", "user.password", "user.disable", "user.enable"} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit trail lacks %s: %v", want, actions)
			}
		}
	})
}

// An authority reads the audit trail of what it oversees only: not other
// organisations' sign-ins, nor another authority's applications.
func TestAuditScopedToOversight(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		// An application for A's scheme only, on an unpublished product.
		pid, vid := e.product(t, e.mfr)
		app, err := s.Apply(ctx, e.mfr, vid, schemeA+"@"+levelA)
		ok(t, "apply", err)
		_, err = s.Step(ctx, e.mfr, app, assess.Submit, "", 0)
		ok(t, "submit", err)
		// Sign-ins of each authority and the manufacturer.
		for _, email := range []string{"authority-a@example.org", "authority-b@example.org", "ann@acme.example"} {
			_, _, err := s.Login(ctx, email, password, "192.0.2.20")
			ok(t, "login "+email, err)
		}
		read := func(p server.Principal) []registry.AuditEntry {
			t.Helper()
			trail, err := s.AuditTrail(ctx, p, "", "", 1000)
			ok(t, "audit trail", err)
			return trail
		}
		has := func(trail []registry.AuditEntry, f func(registry.AuditEntry) bool) bool {
			return slices.ContainsFunc(trail, f)
		}
		loginOf := func(user int64) func(registry.AuditEntry) bool {
			return func(a registry.AuditEntry) bool { return a.Action == "user.login" && a.UserID == user }
		}
		about := func(typ string, id int64) func(registry.AuditEntry) bool {
			return func(a registry.AuditEntry) bool { return a.ObjectType == typ && a.ObjectID == fmt.Sprint(id) }
		}

		b := read(e.authB)
		if !has(b, loginOf(e.authB.UserID)) {
			t.Error("authority B does not see its own sign-in")
		}
		for what, f := range map[string]func(registry.AuditEntry) bool{
			"authority A's sign-in":              loginOf(e.authA.UserID),
			"the manufacturer's sign-in":         loginOf(e.mfr.UserID),
			"A's application":                    about("application", app),
			"the product applied to A only":      about("product", pid),
			"the version applied to A only":      about("version", vid),
			"another manufacturer's sign-up":     func(a registry.AuditEntry) bool { return a.Action == "organisation.register" },
			"anything by the other manufacturer": func(a registry.AuditEntry) bool { return a.OrgID == e.mfr2.OrgID },
		} {
			if has(b, f) {
				t.Errorf("authority B sees %s", what)
			}
		}
		a := read(e.authA)
		for what, f := range map[string]func(registry.AuditEntry) bool{
			"its own sign-in":     loginOf(e.authA.UserID),
			"its application":     about("application", app),
			"the product applied": about("product", pid),
			"the version applied": about("version", vid),
		} {
			if !has(a, f) {
				t.Errorf("authority A does not see %s", what)
			}
		}
		if has(a, loginOf(e.mfr.UserID)) || has(a, loginOf(e.authB.UserID)) {
			t.Error("authority A sees other organisations' sign-ins")
		}
		// Narrowed to one object it oversees not: nothing.
		if trail, _ := s.AuditTrail(ctx, e.authB, "application", fmt.Sprint(app), 10); len(trail) != 0 {
			t.Errorf("authority B reads %d entries about A's application", len(trail))
		}
		// And the unpublished product itself stays hidden from B.
		_, err = s.Product(ctx, e.authB, pid)
		is(t, "authority B reads the product applied to A only", err, store.ErrNotFound)
		_, err = s.ProductView(ctx, e.authB, pid)
		is(t, "authority B opens the product applied to A only", err, store.ErrNotFound)
	})
}

// Text that PostgreSQL cannot store (NUL, invalid UTF-8) and text Hallmark
// refuses anyway (control characters, bidirectional overrides in names)
// is refused the same on both engines, naming the field, storing nothing.
func TestInputParity(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.srv
		pid, vid := e.product(t, e.mfr)
		app, err := s.Apply(ctx, e.mfr, vid, schemeA+"@"+levelA)
		ok(t, "apply", err)
		l := e.label(t, e.mfr, e.authA, schemeA+"@"+levelA)

		refused := func(what, field string, err error) {
			t.Helper()
			if !errors.Is(err, input.ErrText) || !errors.Is(err, server.ErrInvalid) {
				t.Errorf("%s: %v, want a text refusal", what, err)
			} else if !strings.Contains(err.Error(), field) {
				t.Errorf("%s: %q does not name %q", what, err, field)
			}
		}
		_, err = s.CreateProduct(ctx, e.mfr, registry.Product{Name: "Cam\x00era", Category: "camera", ModelNumber: "NUL-1"})
		refused("product name with NUL", "name", err)
		_, err = s.CreateProduct(ctx, e.mfr, registry.Product{Name: "Camera \u202egnp.exe", Category: "camera", ModelNumber: "BIDI-1"})
		refused("product name with a bidi override", "name", err)
		_, err = s.CreateVersion(ctx, e.mfr, registry.Version{ProductID: pid, SoftwareVersion: "2.0\xff"}, nil)
		refused("version with invalid UTF-8", "software_version", err)
		_, err = s.CreateVersion(ctx, e.mfr, registry.Version{ProductID: pid, SoftwareVersion: "2.0", Facts: registry.Facts{HowToSecure: "Step 1\x1b[31m"}}, nil)
		refused("facts with an escape", "how_to_secure", err)

		_, err = server.ParseSBOM([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"zlib\u0000","version":"1.3"}]}`))
		refused("SBOM component name with NUL", "SBOM component 1 name", err)

		_, err = s.AddEvidence(ctx, e.mfr, app, "report\x00.pdf", "application/pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
		refused("evidence name with NUL", "evidence name", err)
		_, err = s.AddEvidence(ctx, e.mfr, app, "report\u202efdp.exe", "application/pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
		refused("evidence name with a bidi override", "evidence name", err)

		_, err = s.Step(ctx, e.mfr, app, assess.Submit, "please\x00", 0)
		refused("note with NUL", "note", err)
		if e.appState(t, app) != assess.Draft {
			t.Error("a refused note still submitted the application")
		}
		_, err = s.ChangeLabel(ctx, e.authA, l.ID, assess.SuspendLabel, "investigating\x07")
		refused("reason with a bell", "reason", err)
		if e.status(t, l.ID) != assess.Active {
			t.Error("a refused reason still suspended the label")
		}
		_, _, err = s.Labels(ctx, store.LabelQuery{Text: "cam\x00", Limit: 10})
		refused("label search with NUL", "search text", err)
		_, _, err = s.Products(ctx, e.mfr, store.ProductQuery{Text: "\xc3", Limit: 10})
		refused("product search with invalid UTF-8", "search text", err)

		// Free text keeps its tabs and newlines (a textarea's CRLF too).
		_, err = s.ChangeLabel(ctx, e.authA, l.ID, assess.SuspendLabel, "Investigating:\r\n\t- the advisory\n\t- the fix")
		ok(t, "a reason with tabs and newlines", err)
		if ev, err := e.st.LabelEvents(ctx, l.ID); err != nil || !strings.Contains(ev[len(ev)-1].Reason, "\t- the fix") {
			t.Errorf("multi-line reason not stored as given: %v %v", ev, err)
		}
		if evs, _ := e.st.EvidenceList(ctx, app); len(evs) != 0 {
			t.Errorf("refused evidence stored %d rows", len(evs))
		}
		if list, _, _ := s.Products(ctx, e.mfr, store.ProductQuery{OnlyOrg: e.mfr.OrgID, Limit: 100}); len(list) != 2 {
			t.Errorf("refused products stored: %d products", len(list))
		}
	})
}
