package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/registry"
)

// The store writes what the decision gate (internal/server) decided and
// decides nothing itself: every write below names the state the record
// must still be in, so of two racing decisions only one is written.

// AppChange is an application step the gate decided.
type AppChange struct {
	AppID         int64
	From, To      assess.State
	Step          assess.Step
	Note          string
	Lab           int64 // Assign: the lab given the application
	UserID, OrgID int64
	At            time.Time
}

// LabelChange is a label status change the gate decided, with the
// decision to log.
type LabelChange struct {
	LabelID       string
	From, To      assess.LabelStatus
	Action        assess.LabelAction
	Reason        string
	UserID, OrgID int64
	Decision      registry.Decision
}

// WriteAppChange writes one application step.
func (s *Store) WriteAppChange(ctx context.Context, c AppChange) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return transition(ctx, tx, c) })
}

// WriteLabelChanges writes a batch of label changes in one transaction
// with their decisions. A label no longer in the status the gate saw is
// skipped: its entry in the returned slice is an ErrConflict and nothing
// of it is written. Any other error writes nothing at all. ids holds the
// decision row of each change written (0 for a skipped one).
func (s *Store) WriteLabelChanges(ctx context.Context, cs []LabelChange) (ids []int64, skipped []error, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		ids, skipped = make([]int64, len(cs)), make([]error, len(cs))
		for i, c := range cs {
			res, err := tx.ExecContext(ctx, `UPDATE labels SET status = $1 WHERE id = $2 AND status = $3`, string(c.To), c.LabelID, string(c.From))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				skipped[i] = fmt.Errorf("%w: label %s is no longer %s; reload it", ErrConflict, c.LabelID, c.From)
				continue
			}
			at := c.Decision.At
			if _, err := tx.ExecContext(ctx, `INSERT INTO label_events (label_id, at, actor_user_id, action, from_status, to_status, reason)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.LabelID, ts(at), nullID(c.UserID), string(c.Action), string(c.From), string(c.To), c.Reason); err != nil {
				return err
			}
			if ids[i], err = insertDecision(ctx, tx, c.Decision); err != nil {
				return err
			}
			if err := audit(ctx, tx, at, c.UserID, c.OrgID, "label."+string(c.Action), "label", c.LabelID, c.Reason); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return ids, skipped, nil
}

// WriteIssue writes an approval and the label it issues in one
// transaction. build receives the label's status-list index (allocated
// here, so it is unique) and returns the signed label and its decision;
// if it fails nothing is written.
func (s *Store) WriteIssue(ctx context.Context, c AppChange, build func(statusIndex int) (registry.Label, registry.Decision, error)) (registry.Label, int64, error) {
	var out registry.Label
	var decisionID int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		idx, err := freeStatusIndex(ctx, tx)
		if err != nil {
			return err
		}
		l, d, err := build(idx)
		if err != nil {
			return err
		}
		if err := transition(ctx, tx, c); err != nil {
			return err
		}
		validUntil := ""
		if !l.ValidUntil.IsZero() {
			validUntil = ts(l.ValidUntil)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO labels (id, application_id, product_version_id, scheme_id, scheme_version, level_id, status,
			status_index, issued_at, valid_until, credential, credential_hash, kid)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			l.ID, c.AppID, l.VersionID, l.SchemeID, l.SchemeVersion, l.LevelID, string(l.Status), idx, ts(l.Issued), validUntil, l.Credential, l.CredentialHash, l.KID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO label_events (label_id, at, actor_user_id, action, from_status, to_status, reason)
			VALUES ($1, $2, $3, 'issue', '', $4, $5)`, l.ID, ts(c.At), nullID(c.UserID), string(l.Status), c.Note); err != nil {
			return err
		}
		out = l
		out.StatusIndex = idx
		if decisionID, err = insertDecision(ctx, tx, d); err != nil {
			return err
		}
		return audit(ctx, tx, c.At, c.UserID, c.OrgID, "label.issue", "label", l.ID, fmt.Sprintf("application %d", c.AppID))
	})
	return out, decisionID, err
}
