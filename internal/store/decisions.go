package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"time"
)

// Decision is one row of the log outbox.
type Decision struct {
	ID          int64
	Kind        string // label.issued, label.suspended, ..., scheme.published, agreement.recorded, key.added
	Subject     string // label id, scheme@version, agreement id, key id
	Digest      string // hex SHA-256 of what was decided on
	Status      string
	StatusIndex int // -1 when not a label
	ReasonHash  string
	At          time.Time
	Logged      bool
	LogIndex    int64
	Receipt     string
}

// hashText is the SHA-256 of a free-text reason: the log records that a
// reason was given and can prove which, without publishing it.
func hashText(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func insertDecision(ctx context.Context, tx *sql.Tx, d Decision) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO decisions (kind, subject, digest, status, status_index, reason_hash, at, state, receipt)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', '')`, d.Kind, d.Subject, d.Digest, d.Status, d.StatusIndex, d.ReasonHash, ts(d.At))
	return err
}

// RecordDecision writes a decision to the outbox on its own (for decisions
// whose data lives outside the database, such as a new signing key).
func (s *Store) RecordDecision(ctx context.Context, d Decision) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return insertDecision(ctx, tx, d) })
}

const decisionCols = `id, kind, subject, digest, status, status_index, reason_hash, at, state, COALESCE(log_index, -1), receipt`

func scanDecision(r interface{ Scan(...any) error }) (Decision, error) {
	var d Decision
	var at, state string
	err := r.Scan(&d.ID, &d.Kind, &d.Subject, &d.Digest, &d.Status, &d.StatusIndex, &d.ReasonHash, &at, &state, &d.LogIndex, &d.Receipt)
	d.At, d.Logged = parseTS(at), state == "logged"
	return d, err
}

// PendingDecisions returns decisions not yet in the log, oldest first.
func (s *Store) PendingDecisions(ctx context.Context, limit int) ([]Decision, error) {
	var out []Decision
	err := s.each(ctx, `SELECT `+decisionCols+` FROM decisions WHERE state = 'pending' ORDER BY id LIMIT $1`, func(r *sql.Rows) error {
		d, err := scanDecision(r)
		out = append(out, d)
		return err
	}, limit)
	return out, err
}

// MarkLogged records a decision's log index and receipt.
func (s *Store) MarkLogged(ctx context.Context, id, index int64, receipt string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE decisions SET state = 'logged', log_index = $1, receipt = $2 WHERE id = $3`, index, receipt, id)
	return err
}

// Decisions lists the decisions about one subject, oldest first.
func (s *Store) Decisions(ctx context.Context, subject string) ([]Decision, error) {
	var out []Decision
	err := s.each(ctx, `SELECT `+decisionCols+` FROM decisions WHERE subject = $1 ORDER BY id`, func(r *sql.Rows) error {
		d, err := scanDecision(r)
		out = append(out, d)
		return err
	}, subject)
	return out, err
}
