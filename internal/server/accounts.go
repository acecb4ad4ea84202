package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
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
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
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

// Login checks a password and starts a session. The session id returned is
// new at every login, so a session id planted before login is useless.
func (s *Server) Login(ctx context.Context, email, password, ip string) (sessionID string, p Principal, err error) {
	now := s.now()
	email, _ = registry.ValidateEmail(email)
	if ok, wait := s.limiter.Allow(email, ip, now); !ok {
		return "", Principal{}, fmt.Errorf("%w: too many failed attempts; try again in %s", ErrDenied, wait.Round(time.Second))
	}
	u, hash, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.CheckDummy(password) // same time whether or not the account exists
		s.limiter.Fail(email, ip, now)
		return "", Principal{}, ErrLogin
	}
	if err != nil {
		return "", Principal{}, err
	}
	ok, rehash, err := s.hasher.Check(hash, password)
	if err != nil || !ok || u.Disabled {
		s.limiter.Fail(email, ip, now)
		return "", Principal{}, ErrLogin
	}
	s.limiter.Succeed(email)
	if rehash {
		if h, err := s.hasher.Hash(password); err == nil {
			s.store.SetPasswordHash(ctx, u.ID, h)
		}
	}
	id, idHash := auth.NewSessionID()
	if err := s.store.CreateSession(ctx, idHash, u.ID, now); err != nil {
		return "", Principal{}, err
	}
	s.store.Audit(ctx, registry.AuditEntry{At: now, UserID: u.ID, OrgID: u.OrgID, Action: "user.login", ObjectType: "user", ObjectID: fmt.Sprint(u.ID)})
	p, err = s.principal(ctx, u)
	return id, p, err
}

// SessionPrincipal resolves a session cookie; an unknown or expired
// session is anonymous.
func (s *Server) SessionPrincipal(ctx context.Context, sessionID string) (Principal, bool) {
	if sessionID == "" {
		return auth.Anonymous, false
	}
	h := auth.HashToken(sessionID)
	u, created, seen, err := s.store.Session(ctx, h)
	if err != nil || u.Disabled {
		return auth.Anonymous, false
	}
	now := s.now()
	if auth.SessionExpired(created, seen, now) {
		s.store.DeleteSession(ctx, h)
		return auth.Anonymous, false
	}
	if auth.SessionNeedsTouch(seen, now) { // spare a write per request
		s.store.TouchSession(ctx, h, now)
	}
	p, err := s.principal(ctx, u)
	return p, err == nil
}

// Logout ends a session.
func (s *Server) Logout(ctx context.Context, sessionID string) error {
	return s.store.DeleteSession(ctx, auth.HashToken(sessionID))
}

// NewAPIToken issues an API token for the principal; only its hash is kept.
func (s *Server) NewAPIToken(ctx context.Context, p Principal, name string) (string, error) {
	if p.IsAnonymous() {
		return "", ErrDenied
	}
	plain, hash := auth.NewToken(auth.PrefixAPIToken)
	if _, err := s.store.CreateAPIToken(ctx, p.UserID, name, hash, s.now()); err != nil {
		return "", err
	}
	return plain, nil
}

// TokenPrincipal resolves an API bearer token.
func (s *Server) TokenPrincipal(ctx context.Context, token string) (Principal, bool) {
	u, err := s.store.UserByToken(ctx, auth.HashToken(token))
	if err != nil || u.Disabled {
		return auth.Anonymous, false
	}
	p, err := s.principal(ctx, u)
	return p, err == nil
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

// AuditTrail returns the newest audit entries (who did what, when), for
// authorities; objType and objID narrow it to one object.
func (s *Server) AuditTrail(ctx context.Context, p Principal, objType, objID string, limit int) ([]registry.AuditEntry, error) {
	if err := allow(p, auth.ActionAuditRead, auth.Object{}); err != nil {
		return nil, err
	}
	return s.store.AuditTrail(ctx, objType, objID, limit)
}
