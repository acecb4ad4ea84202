package store

import (
	"context"
	"database/sql"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

func insertDecision(ctx context.Context, tx *sql.Tx, d registry.Decision) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO decisions (kind, subject, digest, status, status_index, reason_hash, at, state, receipt)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', '') RETURNING id`, d.Kind, d.Subject, d.Digest, d.Status, d.StatusIndex, d.ReasonHash, ts(d.At)).Scan(&id)
	return id, err
}

// RecordDecision writes a decision to the outbox on its own (for decisions
// whose data lives outside the database, such as a new signing key).
func (s *Store) RecordDecision(ctx context.Context, d registry.Decision) error {
	return s.tx(ctx, func(tx *sql.Tx) error { _, err := insertDecision(ctx, tx, d); return err })
}

const decisionCols = `id, kind, subject, digest, status, status_index, reason_hash, at, state, COALESCE(log_index, -1), receipt`

func scanDecision(r interface{ Scan(...any) error }) (registry.Decision, error) {
	var d registry.Decision
	var at, state string
	err := r.Scan(&d.ID, &d.Kind, &d.Subject, &d.Digest, &d.Status, &d.StatusIndex, &d.ReasonHash, &at, &state, &d.LogIndex, &d.Receipt)
	d.At, d.Logged = parseTS(at), state == "logged"
	return d, err
}

// PendingDecisions returns decisions not yet in the log, oldest first.
func (s *Store) PendingDecisions(ctx context.Context, limit int) ([]registry.Decision, error) {
	var out []registry.Decision
	err := s.each(ctx, `SELECT `+decisionCols+` FROM decisions WHERE state = 'pending' ORDER BY id LIMIT $1`, func(r *sql.Rows) error {
		d, err := scanDecision(r)
		out = append(out, d)
		return err
	}, limit)
	return out, err
}

// Logged is a decision's place in the log and its receipt.
type Logged struct {
	ID, Index int64
	Receipt   string
}

// MarkLogged records the log index and receipt of decisions, in one
// transaction.
func (s *Store) MarkLogged(ctx context.Context, ls []Logged) error {
	if len(ls) == 0 {
		return nil
	}
	if s.dialect == Postgres {
		// One statement for the batch: a round trip per row is what a
		// backlog of thousands (a restart after an outage) would cost.
		ids, idx, rcpt := make([]int64, len(ls)), make([]int64, len(ls)), make([]string, len(ls))
		for i, l := range ls {
			ids[i], idx[i], rcpt[i] = l.ID, l.Index, l.Receipt
		}
		_, err := s.db.ExecContext(ctx, `UPDATE decisions d SET state = 'logged', log_index = v.idx, receipt = v.receipt
			FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::bigint[]) AS idx, unnest($3::text[]) AS receipt) v WHERE d.id = v.id`, ids, idx, rcpt)
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE decisions SET state = 'logged', log_index = $1, receipt = $2 WHERE id = $3`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, l := range ls {
			if _, err := stmt.ExecContext(ctx, l.Index, l.Receipt, l.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// PendingCount is how many decisions wait for the log.
func (s *Store) PendingCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM decisions WHERE state = 'pending'`).Scan(&n)
	return n, err
}

// Decisions lists the decisions about one subject, oldest first.
func (s *Store) Decisions(ctx context.Context, subject string) ([]registry.Decision, error) {
	var out []registry.Decision
	err := s.each(ctx, `SELECT `+decisionCols+` FROM decisions WHERE subject = $1 ORDER BY id`, func(r *sql.Rows) error {
		d, err := scanDecision(r)
		out = append(out, d)
		return err
	}, subject)
	return out, err
}
