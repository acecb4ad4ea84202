package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// Scheme sources: built-in schemes come from data/schemes and change only
// with the binary; authority schemes are created through the API.
const (
	SchemeBuiltin   = "builtin"
	SchemeAuthority = "authority"
)

// SchemeVersion is one stored version of a scheme.
type SchemeVersion struct {
	SchemeID  string
	Version   int
	Label     string // the scheme's own version string
	Status    scheme.Status
	Digest    string
	CreatedAt time.Time
	Source    string
	Scheme    *scheme.Scheme
}

// PutScheme stores s as the newest version of its scheme, unless it equals
// the current version. It reports the version number and whether it is new.
// A built-in scheme cannot be changed by an authority, and an authority
// scheme cannot take a built-in id.
func (s *Store) PutScheme(ctx context.Context, sc *scheme.Scheme, source string, now time.Time) (int, bool, error) {
	return s.PutOwnedScheme(ctx, sc, source, 0, now)
}

// PutOwnedScheme is PutScheme for an authority's own scheme: when it is
// created, the authority (owner, an organisation id) runs it, in the same
// transaction.
func (s *Store) PutOwnedScheme(ctx context.Context, sc *scheme.Scheme, source string, owner int64, now time.Time) (int, bool, error) {
	doc, err := json.Marshal(sc)
	if err != nil {
		return 0, false, err
	}
	sum := sha256.Sum256(doc)
	digest := hex.EncodeToString(sum[:])
	var version int
	var created bool
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var cur int
		var src string
		err := tx.QueryRowContext(ctx, `SELECT current_version, source FROM schemes WHERE id = $1`, sc.ID).Scan(&cur, &src)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO schemes (id, source, current_version) VALUES ($1, $2, 1)`, sc.ID, source); err != nil {
				return err
			}
			if owner != 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO authority_schemes (org_id, scheme_id) VALUES ($1, $2)`, owner, sc.ID); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		case src != source:
			return fmt.Errorf("%w: scheme %s is %s and cannot be changed as %s", ErrConflict, sc.ID, src, source)
		default:
			var last string
			if err := tx.QueryRowContext(ctx, `SELECT digest FROM scheme_versions WHERE scheme_id = $1 AND version = $2`, sc.ID, cur).Scan(&last); err != nil {
				return err
			}
			if last == digest {
				version = cur
				return nil
			}
			if _, err := tx.ExecContext(ctx, `UPDATE schemes SET current_version = $1 WHERE id = $2`, cur+1, sc.ID); err != nil {
				return err
			}
		}
		version, created = cur+1, true
		if _, err := insertDecision(ctx, tx, registry.Decision{Kind: tlog.KindSchemePublished, Subject: fmt.Sprintf("%s@%d", sc.ID, version), Digest: digest,
			StatusIndex: -1, At: now}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO scheme_versions (scheme_id, version, label, status, document, digest, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, sc.ID, version, sc.Version, string(sc.Status), string(doc), digest, now.UTC().Format(time.RFC3339))
		return err
	})
	return version, created, err
}

// CurrentSchemes returns the current version of every scheme, by id.
func (s *Store) CurrentSchemes(ctx context.Context) ([]SchemeVersion, error) {
	return s.schemeVersions(ctx, `SELECT v.scheme_id, v.version, v.label, v.status, v.digest, v.created_at, s.source, v.document
		FROM scheme_versions v JOIN schemes s ON s.id = v.scheme_id AND s.current_version = v.version
		ORDER BY v.scheme_id`)
}

// SchemeHistory returns every version of one scheme, newest first.
func (s *Store) SchemeHistory(ctx context.Context, id string) ([]SchemeVersion, error) {
	vs, err := s.schemeVersions(ctx, `SELECT v.scheme_id, v.version, v.label, v.status, v.digest, v.created_at, s.source, v.document
		FROM scheme_versions v JOIN schemes s ON s.id = v.scheme_id
		WHERE v.scheme_id = $1 ORDER BY v.version DESC`, id)
	if err == nil && len(vs) == 0 {
		return nil, ErrNotFound
	}
	return vs, err
}

func (s *Store) schemeVersions(ctx context.Context, q string, args ...any) ([]SchemeVersion, error) {
	var out []SchemeVersion
	err := s.each(ctx, q, func(r *sql.Rows) error {
		var v SchemeVersion
		var status, created, doc string
		if err := r.Scan(&v.SchemeID, &v.Version, &v.Label, &status, &v.Digest, &created, &v.Source, &doc); err != nil {
			return err
		}
		v.Status = scheme.Status(status)
		v.CreatedAt, _ = time.Parse(time.RFC3339, created)
		v.Scheme = new(scheme.Scheme)
		if err := json.Unmarshal([]byte(doc), v.Scheme); err != nil {
			return fmt.Errorf("scheme %s version %d: %w", v.SchemeID, v.Version, err)
		}
		out = append(out, v)
		return nil
	}, args...)
	return out, err
}

// SyncAgreements replaces the recorded agreements with as.
func (s *Store) SyncAgreements(ctx context.Context, as []scheme.Agreement) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		known := map[string]string{}
		if err := eachTx(ctx, tx, `SELECT id, document FROM agreements`, func(r *sql.Rows) error {
			var id, doc string
			err := r.Scan(&id, &doc)
			known[id] = doc
			return err
		}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM agreements`); err != nil {
			return err
		}
		for i, a := range as {
			doc, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if known[a.ID] != string(doc) {
				sum := sha256.Sum256(doc)
				if _, err := insertDecision(ctx, tx, registry.Decision{Kind: tlog.KindAgreementRecorded, Subject: a.ID, Digest: hex.EncodeToString(sum[:]),
					StatusIndex: -1, At: time.Now().UTC()}); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO agreements (id, position, document) VALUES ($1, $2, $3)`, a.ID, i, string(doc)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Agreements returns the recorded agreements in order.
func (s *Store) Agreements(ctx context.Context) ([]scheme.Agreement, error) {
	var out []scheme.Agreement
	err := s.each(ctx, `SELECT document FROM agreements ORDER BY position`, func(r *sql.Rows) error {
		var doc string
		if err := r.Scan(&doc); err != nil {
			return err
		}
		var a scheme.Agreement
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}
