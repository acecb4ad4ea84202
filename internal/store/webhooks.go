package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Webhook is an organisation's endpoint, without its secret: the secret is
// shown once, when the endpoint is created, and read again only to sign.
type Webhook struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"organisation"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookAttempt is one line of an endpoint's delivery log.
type WebhookAttempt struct {
	DeliveryID     int64     `json:"delivery_id"`
	NotificationID int64     `json:"notification_id"`
	State          string    `json:"state"` // the delivery's: pending, delivered, failed
	Attempt        int       `json:"attempt"`
	At             time.Time `json:"at"`
	StatusCode     int       `json:"status_code,omitempty"`
	Error          string    `json:"error,omitempty"`
	NextAttempt    time.Time `json:"next_attempt_at,omitzero"`
}

// Delivery is a claimed delivery: what the sender needs to make one attempt.
type Delivery struct {
	ID       int64
	Attempts int // made so far
	URL      string
	Secret   string
	// The notification.
	NotificationID, OrgID, FindingID int64
	RuleID, Message                  string
	CreatedAt                        time.Time
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// CreateWebhook stores an organisation's endpoint unless it has max
// already.
func (s *Store) CreateWebhook(ctx context.Context, orgID int64, url, secret string, max int, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Touching the organisation's row locks it until commit, so two
		// concurrent registrations cannot both see room for one more
		// (SQLite's immediate transactions serialise them anyway).
		res, err := tx.ExecContext(ctx, `UPDATE organisations SET id = id WHERE id = $1`, orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = $1`, orgID).Scan(&have); err != nil {
			return err
		}
		if have >= max {
			return fmt.Errorf("%w: an organisation has at most %d webhook endpoints; delete one first", ErrConflict, max)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (org_id, url, secret, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			orgID, url, secret, ts(now)).Scan(&id)
	})
	return id, err
}

// Webhook returns one endpoint.
func (s *Store) Webhook(ctx context.Context, id int64) (Webhook, error) {
	var w Webhook
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT id, org_id, url, created_at FROM webhook_endpoints WHERE id = $1`, id).Scan(&w.ID, &w.OrgID, &w.URL, &at)
	if err == sql.ErrNoRows {
		return w, ErrNotFound
	}
	w.CreatedAt = parseTS(at)
	return w, err
}

// Webhooks lists an organisation's endpoints, oldest first.
func (s *Store) Webhooks(ctx context.Context, orgID int64) ([]Webhook, error) {
	var out []Webhook
	err := s.each(ctx, `SELECT id, org_id, url, created_at FROM webhook_endpoints WHERE org_id = $1 ORDER BY id`, func(r *sql.Rows) error {
		var w Webhook
		var at string
		err := r.Scan(&w.ID, &w.OrgID, &w.URL, &at)
		w.CreatedAt = parseTS(at)
		out = append(out, w)
		return err
	}, orgID)
	return out, err
}

// DeleteWebhook removes an endpoint with its deliveries and their log:
// nothing more is sent to it.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)`,
			`DELETE FROM webhook_deliveries WHERE endpoint_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// WebhookAttempts is an endpoint's delivery log, newest first, with the
// deliveries not yet attempted as attempt 0.
func (s *Store) WebhookAttempts(ctx context.Context, endpointID int64, limit int) ([]WebhookAttempt, error) {
	var out []WebhookAttempt
	err := s.each(ctx, `SELECT d.id, d.notification_id, d.state, COALESCE(a.attempt, 0), COALESCE(a.at, d.created_at), COALESCE(a.status_code, 0),
			COALESCE(a.error, ''), COALESCE(a.next_attempt_at, d.next_attempt_at)
		FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
		WHERE d.endpoint_id = $1 ORDER BY d.id DESC, COALESCE(a.attempt, 0) DESC LIMIT $2`, func(r *sql.Rows) error {
		var a WebhookAttempt
		var at, next string
		err := r.Scan(&a.DeliveryID, &a.NotificationID, &a.State, &a.Attempt, &at, &a.StatusCode, &a.Error, &next)
		a.At, a.NextAttempt = parseTS(at), parseTS(next)
		out = append(out, a)
		return err
	}, endpointID, limit)
	return out, err
}

// queueDeliveries queues a new notification for every endpoint of its
// organisation, in the transaction that stored it: a notification is
// never stored without its deliveries.
func queueDeliveries(ctx context.Context, tx *sql.Tx, notificationID, orgID int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, notification_id, state, attempts, next_attempt_at, created_at)
		SELECT id, $1, 'pending', 0, $2, $2 FROM webhook_endpoints WHERE org_id = $3`, notificationID, ts(now), orgID)
	return err
}

// ClaimDeliveries takes up to limit pending deliveries due at now and
// leases them until lease: another sender (a second instance, or this one
// after a restart) takes them again only once the lease has passed, so a
// sender that dies mid-attempt delays a delivery but never loses it.
func (s *Store) ClaimDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// The outer condition is evaluated again on a row another
		// transaction has just leased (PostgreSQL), so no row is claimed
		// twice.
		var ids []any
		if err := eachTx(ctx, tx, `UPDATE webhook_deliveries SET next_attempt_at = $1
			WHERE state = 'pending' AND next_attempt_at <= $2 AND id IN (
				SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3)
			RETURNING id`, func(r *sql.Rows) error {
			var id int64
			err := r.Scan(&id)
			ids = append(ids, id)
			return err
		}, ts(lease), ts(now), limit); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		ph := make([]string, len(ids))
		for i := range ids {
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		return eachTx(ctx, tx, `SELECT d.id, d.attempts, e.url, e.secret, n.id, n.org_id, n.finding_id, n.rule_id, n.message, n.created_at
			FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN notifications n ON n.id = d.notification_id
			WHERE d.id IN (`+strings.Join(ph, ", ")+`) ORDER BY d.id`, func(r *sql.Rows) error {
			var d Delivery
			var at string
			err := r.Scan(&d.ID, &d.Attempts, &d.URL, &d.Secret, &d.NotificationID, &d.OrgID, &d.FindingID, &d.RuleID, &d.Message, &at)
			d.CreatedAt = parseTS(at)
			out = append(out, d)
			return err
		}, ids...)
	})
	return out, err
}

// AttemptResult is what one attempt came to.
type AttemptResult struct {
	DeliveryID int64
	Attempt    int
	At         time.Time
	StatusCode int    // 0: no answer
	Error      string // why it failed, if it did without a status
	State      string // the delivery's state after it
	Next       time.Time
}

// RecordAttempt logs an attempt and moves its delivery on. An endpoint
// deleted meanwhile has no delivery to record against: nothing is stored.
func (s *Store) RecordAttempt(ctx context.Context, a AttemptResult) error {
	next := ""
	if a.State == DeliveryPending {
		next = ts(a.Next)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3 WHERE id = $4`,
			a.State, a.Attempt, next, a.DeliveryID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.DeliveryID, a.Attempt, ts(a.At), a.StatusCode, a.Error, next)
		return err
	})
}

// NextDeliveryDue is when the earliest pending delivery is due (or leased
// until); false when none is pending.
func (s *Store) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&at); err != nil {
		return time.Time{}, false, err
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return parseTS(at.String), true, nil
}
