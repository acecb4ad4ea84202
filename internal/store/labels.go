package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
)

// Label is an issued label as stored.
type Label struct {
	ID             string
	ApplicationID  int64
	VersionID      int64
	SchemeID       string
	SchemeVersion  int
	LevelID        string
	Status         assess.LabelStatus
	StatusIndex    int
	Issued         time.Time
	ValidUntil     time.Time // zero: no fixed end
	Credential     string
	CredentialHash string
	KID            string
	// Joined for display and search.
	ProductID       int64
	ProductName     string
	ModelNumber     string
	Category        string
	Manufacturer    string
	ManufacturerID  int64
	SoftwareVersion string
	TestingLab      string // the lab that assessed it
}

// StatusListSize is the number of entries in one status list: the
// Bitstring Status List minimum, so one list hides each label among many.
const StatusListSize = 131072

// freeStatusIndex picks an unused status-list index at random within the
// list being filled, as the Bitstring Status List spec advises: an index
// given out in order would tell a verifier when a label was issued.
func freeStatusIndex(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM labels`).Scan(&n); err != nil {
		return 0, err
	}
	// Fill a list to three quarters before opening the next, so random
	// picks rarely collide.
	base := n / (StatusListSize * 3 / 4) * StatusListSize
	for {
		idx := base + rand.IntN(StatusListSize)
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM labels WHERE status_index = $1`, idx).Scan(&used); err != nil {
			return 0, err
		}
		if used == 0 {
			return idx, nil
		}
	}
}

// LabelEvent is one lifecycle step of a label.
type LabelEvent struct {
	At       time.Time
	UserID   int64
	Action   string
	From, To assess.LabelStatus
	Reason   string
}

// IssueLabel approves an assessed application and stores its label in one
// transaction. build receives the label's status-list index (allocated
// here, so it is unique) and returns the signed label; if it fails nothing
// is stored.
func (s *Store) IssueLabel(ctx context.Context, appID int64, actor, org int64, reason string, now time.Time, build func(statusIndex int) (Label, error)) (Label, error) {
	var out Label
	err := s.tx(ctx, func(tx *sql.Tx) error {
		idx, err := freeStatusIndex(ctx, tx)
		if err != nil {
			return err
		}
		l, err := build(idx)
		if err != nil {
			return err
		}
		if err := transition(ctx, tx, appID, assess.Assessed, assess.Approved, assess.Approve, actor, org, reason, 0, now); err != nil {
			return err
		}
		validUntil := ""
		if !l.ValidUntil.IsZero() {
			validUntil = ts(l.ValidUntil)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO labels (id, application_id, product_version_id, scheme_id, scheme_version, level_id, status,
			status_index, issued_at, valid_until, credential, credential_hash, kid)
			VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11, $12)`,
			l.ID, appID, l.VersionID, l.SchemeID, l.SchemeVersion, l.LevelID, idx, ts(l.Issued), validUntil, l.Credential, l.CredentialHash, l.KID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO label_events (label_id, at, actor_user_id, action, from_status, to_status, reason)
			VALUES ($1, $2, $3, 'issue', '', 'active', $4)`, l.ID, ts(now), nullID(actor), reason); err != nil {
			return err
		}
		out = l
		out.Status, out.StatusIndex = assess.Active, idx
		if err := insertDecision(ctx, tx, Decision{Kind: "label.issued", Subject: l.ID, Digest: l.CredentialHash, Status: string(assess.Active),
			StatusIndex: idx, ReasonHash: hashText(reason), At: now}); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, org, "label.issue", "label", l.ID, fmt.Sprintf("application %d", appID))
	})
	return out, err
}

const labelCols = `l.id, l.application_id, l.product_version_id, l.scheme_id, l.scheme_version, l.level_id, l.status, l.status_index, l.issued_at,
	l.valid_until, l.credential, l.credential_hash, l.kid, p.id, p.name, p.model_number, p.category, m.name, m.id, v.software_version,
	COALESCE(lab.name, '')`

const labelFrom = ` FROM labels l
	JOIN product_versions v ON v.id = l.product_version_id
	JOIN products p ON p.id = v.product_id
	JOIN organisations m ON m.id = p.manufacturer_id
	JOIN applications ap ON ap.id = l.application_id
	LEFT JOIN organisations lab ON lab.id = ap.assessor_org_id`

func scanLabel(r interface{ Scan(...any) error }) (Label, error) {
	var l Label
	var status, issued, until string
	err := r.Scan(&l.ID, &l.ApplicationID, &l.VersionID, &l.SchemeID, &l.SchemeVersion, &l.LevelID, &status, &l.StatusIndex, &issued, &until,
		&l.Credential, &l.CredentialHash, &l.KID, &l.ProductID, &l.ProductName, &l.ModelNumber, &l.Category, &l.Manufacturer, &l.ManufacturerID, &l.SoftwareVersion, &l.TestingLab)
	l.Status, l.Issued = assess.LabelStatus(status), parseTS(issued)
	if until != "" {
		l.ValidUntil = parseTS(until)
	}
	return l, err
}

// Label returns one label.
func (s *Store) Label(ctx context.Context, id string) (Label, error) {
	l, err := scanLabel(s.db.QueryRowContext(ctx, `SELECT `+labelCols+labelFrom+` WHERE l.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	return l, err
}

// LabelQuery filters the public registry search.
type LabelQuery struct {
	Text           string
	SchemeID       string
	Status         assess.LabelStatus
	Category       string
	ManufacturerID int64
	Limit, Offset  int
}

// Labels searches labels, newest first, with the total.
func (s *Store) Labels(ctx context.Context, q LabelQuery) ([]Label, int, error) {
	pat := ""
	if q.Text != "" {
		pat = "%" + likeEscape(q.Text) + "%"
	}
	where := ` WHERE ($1 = '' OR l.scheme_id = $1) AND ($2 = '' OR l.status = $2) AND ($3 = '' OR p.category = $3)
		AND ($4 = '' OR LOWER(p.name) LIKE $4 OR LOWER(p.model_number) LIKE $4 OR LOWER(m.name) LIKE $4 OR LOWER(l.id) LIKE $4)
		AND ($5 = 0 OR m.id = $5)`
	args := []any{q.SchemeID, string(q.Status), q.Category, pat, q.ManufacturerID}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+labelFrom+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	var out []Label
	err := s.each(ctx, `SELECT `+labelCols+labelFrom+where+` ORDER BY l.issued_at DESC, l.id LIMIT $6 OFFSET $7`, func(r *sql.Rows) error {
		l, err := scanLabel(r)
		out = append(out, l)
		return err
	}, append(args, q.Limit, q.Offset)...)
	return out, total, err
}

// ChangeLabel moves a label to a new status if it is still in the status
// the caller saw, and records the event with actor, reason and time.
func (s *Store) ChangeLabel(ctx context.Context, id string, from, to assess.LabelStatus, action assess.LabelAction, actor, org int64, reason string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var idx int
		var hash string
		if err := tx.QueryRowContext(ctx, `SELECT status_index, credential_hash FROM labels WHERE id = $1`, id).Scan(&idx, &hash); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if err := insertDecision(ctx, tx, Decision{Kind: "label." + decisionVerb(action), Subject: id, Digest: hash, Status: string(to),
			StatusIndex: idx, ReasonHash: hashText(reason), At: now}); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE labels SET status = $1 WHERE id = $2 AND status = $3`, string(to), id, string(from))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: the label changed meanwhile; reload it", ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO label_events (label_id, at, actor_user_id, action, from_status, to_status, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, ts(now), nullID(actor), string(action), string(from), string(to), reason); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, org, "label."+string(action), "label", id, reason)
	})
}

// decisionVerb names a label action in the past tense, as log entries do.
func decisionVerb(a assess.LabelAction) string {
	switch a {
	case assess.SuspendLabel:
		return "suspended"
	case assess.RestoreLabel:
		return "restored"
	case assess.RevokeLabel:
		return "revoked"
	case assess.SurrenderLabel:
		return "surrendered"
	case assess.ExpireLabel:
		return "expired"
	}
	return string(a)
}

// LabelEvents returns a label's history, oldest first.
func (s *Store) LabelEvents(ctx context.Context, id string) ([]LabelEvent, error) {
	var out []LabelEvent
	err := s.each(ctx, `SELECT at, COALESCE(actor_user_id, 0), action, from_status, to_status, reason FROM label_events WHERE label_id = $1 ORDER BY id`,
		func(r *sql.Rows) error {
			var e LabelEvent
			var at, from, to string
			if err := r.Scan(&at, &e.UserID, &e.Action, &from, &to, &e.Reason); err != nil {
				return err
			}
			e.At, e.From, e.To = parseTS(at), assess.LabelStatus(from), assess.LabelStatus(to)
			out = append(out, e)
			return nil
		}, id)
	return out, err
}

// StatusIndexes returns the status-list indexes of labels in the given
// statuses: the bits to set in a status list, derived from the labels.
func (s *Store) StatusIndexes(ctx context.Context, statuses ...assess.LabelStatus) ([]int, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	var ph []string
	var args []any
	for i, st := range statuses {
		ph = append(ph, fmt.Sprintf("$%d", i+1))
		args = append(args, string(st))
	}
	var out []int
	err := s.each(ctx, `SELECT status_index FROM labels WHERE status IN (`+strings.Join(ph, ", ")+`) ORDER BY status_index`, func(r *sql.Rows) error {
		var i int
		err := r.Scan(&i)
		out = append(out, i)
		return err
	}, args...)
	return out, err
}

// DueForExpiry lists active or suspended labels whose validity has ended.
func (s *Store) DueForExpiry(ctx context.Context, now time.Time) ([]Label, error) {
	var out []Label
	err := s.each(ctx, `SELECT `+labelCols+labelFrom+` WHERE l.status IN ('active', 'suspended') AND l.valid_until <> '' AND l.valid_until <= $1`,
		func(r *sql.Rows) error {
			l, err := scanLabel(r)
			out = append(out, l)
			return err
		}, ts(now))
	return out, err
}

// MaxStatusIndex is the highest status-list index given out, or -1.
func (s *Store) MaxStatusIndex(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(status_index), -1) FROM labels`).Scan(&n)
	return n, err
}
