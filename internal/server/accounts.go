package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// ErrDenied is returned when a principal may not do what it asked.
var ErrDenied = errors.New("not permitted")

// ErrLogin is the one answer to a failed login, whatever failed, so it
// does not reveal which accounts exist.
var ErrLogin = errors.New("the e-mail address or password is wrong")

// ErrInvalid wraps input the user must correct.
var ErrInvalid = errors.New("invalid")

// Principal is who is acting.
type Principal = auth.Principal

func principalOf(u registry.User, kind registry.OrgKind, schemes []string) Principal {
	return Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: kind, Role: auth.Role(u.Role), Email: u.Email, Schemes: schemes}
}

// principal is the principal of a signed-in user: an authority's comes
// with the schemes it runs, so permission checks need no further query.
func (s *Server) principal(ctx context.Context, u registry.User) (Principal, error) {
	var schemes []string
	if u.OrgKind == registry.Authority {
		var err error
		if schemes, err = s.store.OrgSchemes(ctx, u.OrgID); err != nil {
			return auth.Anonymous, err
		}
	}
	return principalOf(u, u.OrgKind, schemes), nil
}

// Register signs up a manufacturer: a new organisation and its first user.
// Authorities and assessor labs are created by an operator (CLI or demo).
func (s *Server) Register(ctx context.Context, orgName, country, userName, email, password string) (Principal, error) {
	email, err := registry.ValidateEmail(email)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	org := registry.Organisation{Name: orgName, Kind: registry.Manufacturer, Country: country}
	if err := registry.ValidateOrganisation(org); err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(userName) == 0 || len(userName) > 200 {
		return Principal{}, fmt.Errorf("%w: give your name (at most 200 characters)", ErrInvalid)
	}
	if err := checkText("name", userName, input.Name); err != nil {
		return Principal{}, err
	}
	if err := auth.ValidatePassword(password); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return Principal{}, err
	}
	u := registry.User{Email: email, Name: userName, Role: string(auth.RoleManufacturer)}
	orgID, userID, err := s.store.Register(ctx, org, u, hash, s.now())
	if err != nil {
		return Principal{}, err
	}
	u.ID, u.OrgID = userID, orgID
	return principalOf(u, registry.Manufacturer, nil), nil
}

// CreateAccount creates an organisation (if new) and a user in it; it is
// the operator's way to add authorities and assessor labs (p is the
// system principal: the operator's command line).
func (s *Server) CreateAccount(ctx context.Context, p Principal, org registry.Organisation, u registry.User, password string) (Principal, error) {
	if err := allow(p, auth.ActionUserManage, auth.Object{}); err != nil {
		return Principal{}, err
	}
	if err := registry.ValidateOrganisation(org); err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !auth.ValidRole(org.Kind, auth.Role(u.Role)) {
		return Principal{}, fmt.Errorf("%w: role %q does not belong to a %s", ErrInvalid, u.Role, org.Kind)
	}
	email, err := registry.ValidateEmail(u.Email)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	u.Email = email
	if len(u.Name) > 200 {
		return Principal{}, fmt.Errorf("%w: the user's name is longer than 200 characters", ErrInvalid)
	}
	if err := checkText("name", u.Name, input.Name); err != nil {
		return Principal{}, err
	}
	if err := auth.ValidatePassword(password); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return Principal{}, err
	}
	return s.createAccountHashed(ctx, org, u, hash)
}

func (s *Server) createAccountHashed(ctx context.Context, org registry.Organisation, u registry.User, hash string) (Principal, error) {
	orgID, err := s.store.CreateOrganisation(ctx, org, s.now())
	if err != nil {
		return Principal{}, err
	}
	u.OrgID = orgID
	u.ID, err = s.store.CreateUser(ctx, u, hash, s.now())
	if err != nil {
		return Principal{}, err
	}
	return principalOf(u, org.Kind, org.Schemes), nil
}

// SignIn is one sign-in attempt: the credentials, the client's address
// (auth.ClientIP) and the device cookie the browser sent, if any.
type SignIn struct {
	Email, Password, IP, Device string
}

// SignedIn is a successful sign-in: a new session (its id is new at every
// sign-in, so an id planted before is useless) and a fresh device token
// for the browser to keep (auth.DeviceCookie).
type SignedIn struct {
	SessionID string
	Principal Principal
	Device    string
}

// ThrottledError is a sign-in refused before the password was looked at,
// because this account, browser or address failed too often lately.
type ThrottledError struct {
	Wait time.Duration
	// Known: the browser held a device cookie for the account, so the
	// wait is its own; otherwise signing in from a browser used before is
	// the way past the wait.
	Known bool
}

func (e *ThrottledError) Error() string {
	msg := fmt.Sprintf("too many failed sign-ins; try again in %s", max(e.Wait.Round(time.Second), time.Second))
	if !e.Known {
		msg += ", or sign in from a browser you have signed in with before"
	}
	return msg
}

// Unwrap makes a throttled sign-in a refusal (ErrDenied).
func (e *ThrottledError) Unwrap() error { return ErrDenied }

// Login checks a password and starts a session; see SignIn.
func (s *Server) Login(ctx context.Context, email, password, ip string) (sessionID string, p Principal, err error) {
	out, err := s.SignIn(ctx, SignIn{Email: email, Password: password, IP: ip})
	return out.SessionID, out.Principal, err
}

// SignIn checks a password and starts a session. Failures slow down the
// account from that address, the account from browsers without its device
// cookie, and the address (auth.LoginLimiter); none locks the owner out.
func (s *Server) SignIn(ctx context.Context, in SignIn) (SignedIn, error) {
	now := s.now()
	email, badEmail := registry.ValidateEmail(in.Email)
	if badEmail != nil {
		email = in.Email // still counted, under what was typed
	}
	att := auth.Attempt{Account: email, IP: in.IP}
	if id, ok := auth.CheckDevice(s.csrfSecret, in.Device, email, now); ok {
		att.Device = id
	}
	if ok, wait := s.limiter.Allow(att, now); !ok {
		return SignedIn{}, &ThrottledError{Wait: wait, Known: att.Device != ""}
	}
	var u registry.User
	var hash string
	err := store.ErrNotFound // no account has an address that is not one
	if badEmail == nil {
		u, hash, err = s.store.UserByEmail(ctx, email)
	}
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.CheckDummy(in.Password) // same time whether or not the account exists
		s.limiter.Fail(att, now)
		return SignedIn{}, ErrLogin
	}
	if err != nil {
		return SignedIn{}, err
	}
	ok, rehash, err := s.hasher.Check(hash, in.Password)
	if err != nil || !ok || u.Disabled {
		s.limiter.Fail(att, now)
		return SignedIn{}, ErrLogin
	}
	s.limiter.Succeed(att)
	if rehash {
		if h, err := s.hasher.Hash(in.Password); err == nil {
			s.store.SetPasswordHash(ctx, u.ID, h)
		}
	}
	id, idHash := auth.NewSessionID()
	if err := s.store.CreateSession(ctx, idHash, u.ID, now); err != nil {
		return SignedIn{}, err
	}
	s.store.Audit(ctx, registry.AuditEntry{At: now, UserID: u.ID, OrgID: u.OrgID, Action: "user.login", ObjectType: "user", ObjectID: fmt.Sprint(u.ID)})
	p, err := s.principal(ctx, u)
	return SignedIn{SessionID: id, Principal: p, Device: auth.NewDevice(s.csrfSecret, email, now)}, err
}

// ErrNoSession is a session cookie that names no live session.
var ErrNoSession = errors.New("no such session")

// SessionPrincipal resolves a session cookie; an unknown or expired
// session is anonymous.
func (s *Server) SessionPrincipal(ctx context.Context, sessionID string) (Principal, bool) {
	p, err := s.ResolveSession(ctx, sessionID)
	return p, err == nil
}

// ResolveSession resolves a session cookie: ErrNoSession when it names no
// live session of an enabled user, another error when the database could
// not say (a 503, not a silent sign-out).
func (s *Server) ResolveSession(ctx context.Context, sessionID string) (Principal, error) {
	if sessionID == "" {
		return auth.Anonymous, ErrNoSession
	}
	h := auth.HashToken(sessionID)
	u, created, seen, err := s.store.Session(ctx, h)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return auth.Anonymous, ErrNoSession
	case err != nil:
		return auth.Anonymous, fmt.Errorf("look up the session: %w", err)
	case u.Disabled:
		return auth.Anonymous, ErrNoSession
	}
	now := s.now()
	if auth.SessionExpired(created, seen, now) {
		s.store.DeleteSession(ctx, h)
		return auth.Anonymous, ErrNoSession
	}
	if auth.SessionNeedsTouch(seen, now) { // spare a write per request
		if err := s.store.TouchSession(ctx, h, now); err != nil {
			slog.Warn("session not touched", "err", err) // reading on is still right
		}
	}
	p, err := s.principal(ctx, u)
	if err != nil {
		return auth.Anonymous, fmt.Errorf("read the session's principal: %w", err)
	}
	return p, nil
}

// Logout ends a session. API tokens are not sessions: they live until
// they expire or are revoked.
func (s *Server) Logout(ctx context.Context, sessionID string) error {
	return s.store.DeleteSession(ctx, auth.HashToken(sessionID))
}

// ErrToken is a bearer token that is unknown, expired or revoked, or whose
// user is disabled: a 401. Any other error from TokenPrincipal means the
// token could not be checked (a 503), never that it is bad.
var ErrToken = errors.New("the API token is unknown, expired or revoked")

// withExpiry gives a token made before tokens expired (migration 00009)
// the default lifetime from its creation.
func withExpiry(t registry.APIToken) registry.APIToken {
	if t.Expires.IsZero() {
		t.Expires = t.Created.Add(auth.DefaultTokenLifetime)
	}
	return t
}

// TokenPrincipal resolves an API bearer token.
func (s *Server) TokenPrincipal(ctx context.Context, token string) (Principal, error) {
	if !auth.WellFormedToken(token, auth.PrefixAPIToken) {
		return auth.Anonymous, ErrToken
	}
	u, t, err := s.store.TokenByHash(ctx, auth.HashToken(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return auth.Anonymous, ErrToken
	case err != nil:
		return auth.Anonymous, fmt.Errorf("look up the API token: %w", err)
	}
	now := s.now()
	if u.Disabled || withExpiry(t).State(now) != "active" {
		return auth.Anonymous, ErrToken
	}
	if now.Sub(t.LastUsed) >= auth.TouchInterval {
		if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
			slog.Warn("token use not recorded", "err", err)
		}
	}
	p, err := s.principal(ctx, u)
	if err != nil {
		return auth.Anonymous, fmt.Errorf("read the token's principal: %w", err)
	}
	return p, nil
}

// maxTokenName bounds a token's name.
const maxTokenName = 100

// NewAPIToken issues an API token for the principal with the default
// lifetime; only its hash is kept.
func (s *Server) NewAPIToken(ctx context.Context, p Principal, name string) (string, error) {
	plain, _, err := s.CreateAPIToken(ctx, p, p.UserID, name, s.now().Add(auth.DefaultTokenLifetime))
	return plain, err
}

// CreateAPIToken issues a token for user userID (the principal's own, or
// anyone's for the operator) expiring at expires, and returns it once;
// only its hash is kept.
func (s *Server) CreateAPIToken(ctx context.Context, p Principal, userID int64, name string, expires time.Time) (string, registry.APIToken, error) {
	if p.IsAnonymous() && !p.IsSystem() {
		return "", registry.APIToken{}, fmt.Errorf("%w: sign in first", ErrDenied)
	}
	if err := allow(p, auth.ActionTokenManage, auth.Object{User: userID}); err != nil {
		return "", registry.APIToken{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxTokenName {
		return "", registry.APIToken{}, fmt.Errorf("%w: name the token (at most %d characters), for example after the system that will use it", ErrInvalid, maxTokenName)
	}
	if err := checkText("name", name, input.Name); err != nil {
		return "", registry.APIToken{}, err
	}
	now := s.now()
	if d := expires.Sub(now); d < auth.MinTokenLifetime || d > auth.MaxTokenLifetime {
		return "", registry.APIToken{}, fmt.Errorf("%w: a token lives from an hour to 366 days", ErrInvalid)
	}
	plain, hash := auth.NewToken(auth.PrefixAPIToken)
	id, err := s.store.CreateAPIToken(ctx, userID, name, hash, now, expires, p.UserID, p.OrgID)
	if err != nil {
		return "", registry.APIToken{}, err
	}
	return plain, registry.APIToken{ID: id, UserID: userID, Name: name, Created: now, Expires: expires.UTC()}, nil
}

// APITokens lists a user's tokens (the principal's own, or anyone's for
// the operator), revoked and expired ones included, newest first.
func (s *Server) APITokens(ctx context.Context, p Principal, userID int64) ([]registry.APIToken, error) {
	if err := allow(p, auth.ActionTokenManage, auth.Object{User: userID}); err != nil {
		return nil, err
	}
	ts, err := s.store.APITokens(ctx, userID)
	for i := range ts {
		ts[i] = withExpiry(ts[i])
	}
	return ts, err
}

// RevokeAPIToken revokes a token at once: the next request with it is a
// 401. Another user's token is not found.
func (s *Server) RevokeAPIToken(ctx context.Context, p Principal, id int64) (registry.APIToken, error) {
	t, err := s.store.APIToken(ctx, id)
	if err != nil {
		return t, err
	}
	if err := allow(p, auth.ActionTokenManage, auth.Object{User: t.UserID}); err != nil {
		return registry.APIToken{}, err
	}
	if err := s.store.RevokeAPIToken(ctx, id, s.now(), p.UserID, p.OrgID); err != nil {
		return registry.APIToken{}, err
	}
	t, err = s.store.APIToken(ctx, id)
	return withExpiry(t), err
}

// User finds a user by e-mail address, for the operator's commands.
func (s *Server) User(ctx context.Context, p Principal, email string) (registry.User, error) {
	if err := allow(p, auth.ActionUserManage, auth.Object{}); err != nil {
		return registry.User{}, err
	}
	e, err := registry.ValidateEmail(email)
	if err != nil {
		return registry.User{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	u, _, err := s.store.UserByEmail(ctx, e)
	return u, err
}

// SetUserDisabled disables (or enables) a user: the operator's. A disabled
// user's sessions end and tokens are revoked at once, in one transaction.
func (s *Server) SetUserDisabled(ctx context.Context, p Principal, userID int64, disabled bool) error {
	if err := allow(p, auth.ActionUserManage, auth.Object{User: userID}); err != nil {
		return err
	}
	return s.store.SetUserDisabled(ctx, userID, disabled, s.now())
}

// ResetPassword sets a user's password: the operator's. Every session of
// the user ends.
func (s *Server) ResetPassword(ctx context.Context, p Principal, userID int64, password string) error {
	if err := allow(p, auth.ActionUserManage, auth.Object{User: userID}); err != nil {
		return err
	}
	if err := auth.ValidatePassword(password); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	h, err := s.hasher.Hash(password)
	if err != nil {
		return err
	}
	return s.store.SetPassword(ctx, userID, h, "", s.now(), 0, 0)
}

// ErrCurrentPassword is a password change with the wrong current password.
var ErrCurrentPassword = fmt.Errorf("%w: the current password is wrong", ErrInvalid)

// ChangePassword changes the principal's own password, given the current
// one. Every other session of the user ends; the session that made the
// change (sessionID) goes on. Wrong current passwords are throttled like
// sign-ins, so a borrowed session cannot guess its way in.
func (s *Server) ChangePassword(ctx context.Context, p Principal, sessionID, current, next string) error {
	if err := allow(p, auth.ActionPasswordChange, auth.Object{User: p.UserID}); err != nil {
		return err
	}
	now := s.now()
	att := auth.Attempt{Account: p.Email, Device: fmt.Sprintf("password-change:%d", p.UserID)}
	if ok, wait := s.limiter.Allow(att, now); !ok {
		return &ThrottledError{Wait: wait, Known: true}
	}
	hash, err := s.store.PasswordHash(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Check(hash, current)
	if err != nil || !ok {
		s.limiter.Fail(att, now)
		return ErrCurrentPassword
	}
	s.limiter.Succeed(att)
	if err := auth.ValidatePassword(next); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if next == current {
		return fmt.Errorf("%w: the new password is the old one", ErrInvalid)
	}
	h, err := s.hasher.Hash(next)
	if err != nil {
		return err
	}
	keep := ""
	if sessionID != "" {
		keep = auth.HashToken(sessionID)
	}
	return s.store.SetPassword(ctx, p.UserID, h, keep, now, p.UserID, p.OrgID)
}

// CSRFToken is the form token for a session.
func (s *Server) CSRFToken(sessionID string) string { return auth.CSRFToken(s.csrfSecret, sessionID) }

// CheckCSRF verifies a form token against the session.
func (s *Server) CheckCSRF(sessionID, token string) bool {
	return auth.CheckCSRF(s.csrfSecret, sessionID, token)
}

// loadSecret reads a random secret from path, creating it (0600) at first start.
func loadSecret(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= n {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b = make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// AuditTrail returns the newest audit entries (who did what, when) an
// authority oversees: its own organisation's, and those about the
// applications, labels, products and versions of the schemes it runs; not
// other organisations' sign-ins and registrations. objType and objID
// narrow it to one object.
func (s *Server) AuditTrail(ctx context.Context, p Principal, objType, objID string, limit int) ([]registry.AuditEntry, error) {
	if err := allow(p, auth.ActionAuditRead, auth.Object{}); err != nil {
		return nil, err
	}
	if err := checkFields(input.Field{Name: "type", Value: objType, Kind: input.Line}, input.Field{Name: "id", Value: objID, Kind: input.Line}); err != nil {
		return nil, err
	}
	q := store.AuditQuery{ObjectType: objType, ObjectID: objID, Limit: limit}
	if !p.IsSystem() {
		q.Overseer = p.OrgID
		if q.Overseer == 0 { // never "everything" by accident
			return nil, ErrDenied
		}
	}
	return s.store.AuditTrail(ctx, q)
}
