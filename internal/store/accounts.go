package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// timeFormat is how times are stored: UTC, fixed width, so text order is
// time order on both engines.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t
}

// isUnique reports whether err is a unique-constraint violation, on either
// engine, so callers can answer "already exists" rather than "failed".
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// ErrEmailTaken is a registration for an e-mail address that has an
// account already (a conflict; callers decide what they may say).
var ErrEmailTaken = fmt.Errorf("%w: an account with this e-mail address exists", ErrConflict)

// CreateOrganisation stores a new organisation and, for authorities, the
// schemes it administers.
func (s *Store) CreateOrganisation(ctx context.Context, o registry.Organisation, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO organisations (name, kind, country, website, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, o.Name, string(o.Kind), o.Country, o.Website, ts(now)).Scan(&id)
		if isUnique(err) {
			return fmt.Errorf("%w: an organisation named %q exists", ErrConflict, o.Name)
		}
		if err != nil {
			return err
		}
		for _, sc := range o.Schemes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO authority_schemes (org_id, scheme_id) VALUES ($1, $2)`, id, sc); err != nil {
				return fmt.Errorf("scheme %s: %w", sc, err)
			}
		}
		return nil
	})
	return id, err
}

const orgCols = `id, name, kind, country, website, created_at`

func scanOrg(r interface{ Scan(...any) error }) (registry.Organisation, error) {
	var o registry.Organisation
	var kind, created string
	err := r.Scan(&o.ID, &o.Name, &kind, &o.Country, &o.Website, &created)
	o.Kind, o.Created = registry.OrgKind(kind), parseTS(created)
	return o, err
}

// Organisation returns one organisation with its schemes.
func (s *Store) Organisation(ctx context.Context, id int64) (registry.Organisation, error) {
	o, err := scanOrg(s.db.QueryRowContext(ctx, `SELECT `+orgCols+` FROM organisations WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, err
	}
	o.Schemes, err = s.OrgSchemes(ctx, id)
	return o, err
}

// OrgSchemes lists the schemes an authority runs.
func (s *Store) OrgSchemes(ctx context.Context, orgID int64) ([]string, error) {
	var out []string
	err := s.each(ctx, `SELECT scheme_id FROM authority_schemes WHERE org_id = $1 ORDER BY scheme_id`, func(r *sql.Rows) error {
		var sc string
		if err := r.Scan(&sc); err != nil {
			return err
		}
		out = append(out, sc)
		return nil
	}, orgID)
	return out, err
}

// Organisations lists organisations of a kind (all kinds when empty).
func (s *Store) Organisations(ctx context.Context, kind registry.OrgKind) ([]registry.Organisation, error) {
	var out []registry.Organisation
	err := s.each(ctx, `SELECT `+orgCols+` FROM organisations WHERE $1 = '' OR kind = $1 ORDER BY name`, func(r *sql.Rows) error {
		o, err := scanOrg(r)
		out = append(out, o)
		return err
	}, string(kind))
	return out, err
}

// CreateUser stores a user with an already hashed password.
func (s *Store) CreateUser(ctx context.Context, u registry.User, passwordHash string, now time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO users (org_id, email, name, role, password_hash, disabled, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, u.OrgID, u.Email, u.Name, u.Role, passwordHash, false, ts(now)).Scan(&id)
	if isUnique(err) {
		return 0, fmt.Errorf("%w: an account for %s exists", ErrConflict, u.Email)
	}
	return id, err
}

// Register creates a manufacturer organisation and its first user in one
// transaction, so a failed sign-up leaves no organisation behind.
func (s *Store) Register(ctx context.Context, o registry.Organisation, u registry.User, passwordHash string, now time.Time) (orgID, userID int64, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO organisations (name, kind, country, website, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, o.Name, string(o.Kind), o.Country, o.Website, ts(now)).Scan(&orgID)
		if isUnique(err) {
			return fmt.Errorf("%w: an organisation named %q exists", ErrConflict, o.Name)
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO users (org_id, email, name, role, password_hash, disabled, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, orgID, u.Email, u.Name, u.Role, passwordHash, false, ts(now)).Scan(&userID)
		if isUnique(err) {
			return ErrEmailTaken
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, userID, orgID, "organisation.register", "organisation", fmt.Sprint(orgID), o.Name)
	})
	return orgID, userID, err
}

const userCols = `u.id, u.org_id, u.email, u.name, u.role, u.disabled, u.created_at, o.kind`

func scanUser(r interface{ Scan(...any) error }, extra ...any) (registry.User, error) {
	var u registry.User
	var created, kind string
	err := r.Scan(append([]any{&u.ID, &u.OrgID, &u.Email, &u.Name, &u.Role, &u.Disabled, &created, &kind}, extra...)...)
	u.Created, u.OrgKind = parseTS(created), registry.OrgKind(kind)
	return u, err
}

// UserByEmail returns a user and the stored password hash.
func (s *Store) UserByEmail(ctx context.Context, email string) (registry.User, string, error) {
	var hash string
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+`, u.password_hash FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.email = $1`, email), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", ErrNotFound
	}
	return u, hash, err
}

// Users lists the users of an organisation.
func (s *Store) Users(ctx context.Context, orgID int64) ([]registry.User, error) {
	var out []registry.User
	err := s.each(ctx, `SELECT `+userCols+` FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.org_id = $1 ORDER BY u.email`, func(r *sql.Rows) error {
		u, err := scanUser(r)
		out = append(out, u)
		return err
	}, orgID)
	return out, err
}

// SetPasswordHash replaces a user's password hash (on rehash after login).
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
	return err
}

// CreateSession stores a session by the hash of its id.
func (s *Store) CreateSession(ctx context.Context, idHash string, userID int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen) VALUES ($1, $2, $3, $3)`, idHash, userID, ts(now))
	return err
}

// Session returns the user behind a session and when it began and was last used.
func (s *Store) Session(ctx context.Context, idHash string) (registry.User, time.Time, time.Time, error) {
	var created, seen string
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+`, s.created_at, s.last_seen
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id WHERE s.id_hash = $1`, idHash), &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return u, time.Time{}, time.Time{}, ErrNotFound
	}
	return u, parseTS(created), parseTS(seen), err
}

// TouchSession records use of a session.
func (s *Store) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = $1 WHERE id_hash = $2`, ts(now), idHash)
	return err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return err
}

// CreateAPIToken stores the hash of a new API token, which expires at
// expires, with its audit line; actor is who made it (0: the operator).
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, name, tokenHash string, now, expires time.Time, actor, actorOrg int64) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			userID, name, tokenHash, ts(now), ts(expires)).Scan(&id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, actorOrg, "token.create", "user", fmt.Sprint(userID), fmt.Sprintf("token %d %q, expires %s", id, name, ts(expires)))
	})
	return id, err
}

const tokenCols = `t.id, t.user_id, t.name, t.created_at, COALESCE(t.expires_at, ''), COALESCE(t.last_used_at, ''), COALESCE(t.revoked_at, '')`

func scanToken(r interface{ Scan(...any) error }, extra ...any) (registry.APIToken, error) {
	var t registry.APIToken
	var created, expires, used, revoked string
	err := r.Scan(append([]any{&t.ID, &t.UserID, &t.Name, &created, &expires, &used, &revoked}, extra...)...)
	t.Created, t.Expires, t.LastUsed, t.Revoked = parseTS(created), parseTS(expires), parseTS(used), parseTS(revoked)
	return t, err
}

// TokenByHash returns an API token, whatever its state, and its user. An
// Expires of zero means the token predates expiry (migration 00009).
func (s *Store) TokenByHash(ctx context.Context, tokenHash string) (registry.User, registry.APIToken, error) {
	var t registry.APIToken
	var created, expires, used, revoked string
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+`, `+tokenCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id
		JOIN organisations o ON o.id = u.org_id WHERE t.token_hash = $1`, tokenHash), &t.ID, &t.UserID, &t.Name, &created, &expires, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return u, t, ErrNotFound
	}
	t.Created, t.Expires, t.LastUsed, t.Revoked = parseTS(created), parseTS(expires), parseTS(used), parseTS(revoked)
	return u, t, err
}

// TouchToken records use of a token.
func (s *Store) TouchToken(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, ts(now), id)
	return err
}

// APITokens lists a user's tokens, newest first, revoked and expired ones
// included (they show when access ended).
func (s *Store) APITokens(ctx context.Context, userID int64) ([]registry.APIToken, error) {
	var out []registry.APIToken
	err := s.each(ctx, `SELECT `+tokenCols+` FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id DESC`, func(r *sql.Rows) error {
		t, err := scanToken(r)
		out = append(out, t)
		return err
	}, userID)
	return out, err
}

// APIToken returns one token by id.
func (s *Store) APIToken(ctx context.Context, id int64) (registry.APIToken, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens t WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// RevokeAPIToken revokes a token at now, with its audit line. Revoking a
// revoked token changes nothing (its first revocation time stands).
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, now time.Time, actor, actorOrg int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var userID int64
		err := tx.QueryRowContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING user_id`, ts(now), id).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, actorOrg, "token.revoke", "user", fmt.Sprint(userID), fmt.Sprintf("token %d", id))
	})
}

// SetUserDisabled disables or enables a user. Disabling ends every session
// and revokes every token of the user in the same transaction: access
// stops at once, and enabling the user again brings none of it back.
func (s *Store) SetUserDisabled(ctx context.Context, userID int64, disabled bool, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = $1 WHERE id = $2`, disabled, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, ts(now), userID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, 0, 0, action, "user", fmt.Sprint(userID), "")
	})
}

// SetPassword replaces a user's password hash and ends every session of
// the user but keepSession (the hash of the session that made the change;
// "" ends them all), with its audit line. API tokens are kept: they are
// credentials of their own, listed and revoked on their own.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash, keepSession string, now time.Time, actor, actorOrg int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, keepSession); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, actorOrg, "user.password", "user", fmt.Sprint(userID), "")
	})
}

// PasswordHash returns a user's stored password hash.
func (s *Store) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return h, err
}

// Sessions counts a user's sessions (for tests and the console).
func (s *Store) Sessions(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = $1`, userID).Scan(&n)
	return n, err
}

func audit(ctx context.Context, tx *sql.Tx, now time.Time, userID, orgID int64, action, objType, objID, detail string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor_user_id, actor_org_id, action, object_type, object_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, ts(now), nullID(userID), nullID(orgID), action, objType, objID, detail)
	return err
}

// Audit records who did what, outside a larger transaction.
func (s *Store) Audit(ctx context.Context, e registry.AuditEntry) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		return audit(ctx, tx, e.At, e.UserID, e.OrgID, e.Action, e.ObjectType, e.ObjectID, e.Detail)
	})
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	// ObjectType and ObjectID narrow it to one object.
	ObjectType, ObjectID string
	// Overseer, when not 0, is the authority (an organisation id) reading:
	// only its own organisation's entries and those about the
	// applications, labels, products and versions of the schemes it runs
	// are returned (the listing form of auth.Allow's audit.read rule).
	Overseer int64
	Limit    int
}

// overseenAudit is the Overseer condition; $4 is the authority.
const overseenAudit = ` AND ($4 = 0 OR actor_org_id = $4
	OR (object_type = 'label' AND object_id IN (SELECT l.id FROM labels l
		JOIN authority_schemes au ON au.scheme_id = l.scheme_id WHERE au.org_id = $4))
	OR (object_type = 'application' AND object_id IN (SELECT CAST(a.id AS TEXT) FROM applications a
		JOIN authority_schemes au ON au.scheme_id = a.scheme_id WHERE au.org_id = $4))
	OR (object_type = 'version' AND object_id IN (SELECT CAST(a.product_version_id AS TEXT) FROM applications a
		JOIN authority_schemes au ON au.scheme_id = a.scheme_id WHERE au.org_id = $4))
	OR (object_type = 'product' AND object_id IN (SELECT CAST(v.product_id AS TEXT) FROM applications a
		JOIN product_versions v ON v.id = a.product_version_id
		JOIN authority_schemes au ON au.scheme_id = a.scheme_id WHERE au.org_id = $4)))`

// AuditTrail returns the newest audit entries matching q.
func (s *Store) AuditTrail(ctx context.Context, q AuditQuery) ([]registry.AuditEntry, error) {
	var out []registry.AuditEntry
	err := s.each(ctx, `SELECT at, COALESCE(actor_user_id, 0), COALESCE(actor_org_id, 0), action, object_type, object_id, detail
		FROM audit_log WHERE ($1 = '' OR (object_type = $1 AND object_id = $2))`+overseenAudit+` ORDER BY id DESC LIMIT $3`, func(r *sql.Rows) error {
		var e registry.AuditEntry
		var at string
		if err := r.Scan(&at, &e.UserID, &e.OrgID, &e.Action, &e.ObjectType, &e.ObjectID, &e.Detail); err != nil {
			return err
		}
		e.At = parseTS(at)
		out = append(out, e)
		return nil
	}, q.ObjectType, q.ObjectID, q.Limit, q.Overseer)
	return out, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
