package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// MirrorLabel is a peer's label as this instance's mirror last saw it.
type MirrorLabel struct {
	Peer           string
	LabelID        string
	Status         string
	CredentialSHA  string
	DisagreesSince time.Time // zero while the registry agrees with the log
	SeenAt         time.Time
	// The product as the peer's registry names it (for linking).
	Manufacturer, ModelNumber, GTIN, PURL string
}

// Propagation is one status change of a peer's label reaching the mirror:
// decided (logged) at the peer at DecidedAt, seen here at SeenAt.
type Propagation struct {
	Peer      string
	LabelID   string
	Status    string
	DecidedAt time.Time
	SeenAt    time.Time
}

// Alarm is a disagreement found in a peer: its registry against its log,
// or two views of its log. Public, with the evidence.
type Alarm struct {
	ID         int64
	Peer       string
	Kind       string
	Subject    string
	Summary    string
	Evidence   string
	FirstSeen  time.Time
	LastSeen   time.Time
	ResolvedAt time.Time // zero while open
}

// MirrorLabels are a peer's mirrored labels by id.
func (s *Store) MirrorLabels(ctx context.Context, peer string) (map[string]MirrorLabel, error) {
	out := map[string]MirrorLabel{}
	err := s.each(ctx, `SELECT label_id, status, credential_sha256, disagrees_since, seen_at, manufacturer, model_number, gtin, purl FROM mirror_labels WHERE peer = $1`, func(r *sql.Rows) error {
		m := MirrorLabel{Peer: peer}
		var since, seen string
		err := r.Scan(&m.LabelID, &m.Status, &m.CredentialSHA, &since, &seen, &m.Manufacturer, &m.ModelNumber, &m.GTIN, &m.PURL)
		m.DisagreesSince, m.SeenAt = parseTS(since), parseTS(seen)
		out[m.LabelID] = m
		return err
	}, peer)
	return out, err
}

// MirrorLabel is one mirrored label of any peer (ErrNotFound if none).
func (s *Store) MirrorLabel(ctx context.Context, labelID string) (MirrorLabel, error) {
	m := MirrorLabel{LabelID: labelID}
	var since, seen string
	err := s.db.QueryRowContext(ctx, `SELECT peer, status, credential_sha256, disagrees_since, seen_at FROM mirror_labels WHERE label_id = $1 ORDER BY seen_at DESC LIMIT 1`,
		labelID).Scan(&m.Peer, &m.Status, &m.CredentialSHA, &since, &seen)
	if err == sql.ErrNoRows {
		return m, ErrNotFound
	}
	m.DisagreesSince, m.SeenAt = parseTS(since), parseTS(seen)
	return m, err
}

// SaveMirror records one mirror pass of a peer's registry in one
// transaction: the labels as seen, and the status changes that reached
// the mirror in it.
func (s *Store) SaveMirror(ctx context.Context, peer string, labels []MirrorLabel, props []Propagation) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		up, err := tx.PrepareContext(ctx, `INSERT INTO mirror_labels (peer, label_id, status, credential_sha256, disagrees_since, seen_at, manufacturer, model_number, gtin, purl)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (peer, label_id) DO UPDATE SET status = excluded.status, credential_sha256 = excluded.credential_sha256,
			disagrees_since = excluded.disagrees_since, seen_at = excluded.seen_at, manufacturer = excluded.manufacturer,
			model_number = excluded.model_number, gtin = excluded.gtin, purl = excluded.purl`)
		if err != nil {
			return err
		}
		defer up.Close()
		for _, l := range labels {
			since := ""
			if !l.DisagreesSince.IsZero() {
				since = ts(l.DisagreesSince)
			}
			if _, err := up.ExecContext(ctx, peer, l.LabelID, l.Status, l.CredentialSHA, since, ts(l.SeenAt), l.Manufacturer, l.ModelNumber, l.GTIN, l.PURL); err != nil {
				return err
			}
		}
		for _, p := range props {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mirror_propagation (peer, label_id, status, decided_at, seen_at) VALUES ($1, $2, $3, $4, $5)`,
				peer, p.LabelID, p.Status, ts(p.DecidedAt), ts(p.SeenAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Propagations are the latest status changes seen through mirrors,
// newest first.
func (s *Store) Propagations(ctx context.Context, limit int) ([]Propagation, error) {
	var out []Propagation
	err := s.each(ctx, `SELECT peer, label_id, status, decided_at, seen_at FROM mirror_propagation ORDER BY id DESC LIMIT $1`, func(r *sql.Rows) error {
		var p Propagation
		var d, seen string
		err := r.Scan(&p.Peer, &p.LabelID, &p.Status, &d, &seen)
		p.DecidedAt, p.SeenAt = parseTS(d), parseTS(seen)
		out = append(out, p)
		return err
	}, limit)
	return out, err
}

// RaiseAlarm records an alarm, or refreshes the open or resolved one of
// the same peer, kind and subject (reopening it). It reports whether the
// alarm is new or reopened.
func (s *Store) RaiseAlarm(ctx context.Context, a Alarm, now time.Time) (bool, error) {
	raised := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var resolved string
		err := tx.QueryRowContext(ctx, `SELECT resolved_at FROM federation_alarms WHERE peer = $1 AND kind = $2 AND subject = $3`, a.Peer, a.Kind, a.Subject).Scan(&resolved)
		switch {
		case err == sql.ErrNoRows:
			raised = true
			_, err = tx.ExecContext(ctx, `INSERT INTO federation_alarms (peer, kind, subject, summary, evidence, first_seen, last_seen, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $6, '')`,
				a.Peer, a.Kind, a.Subject, a.Summary, a.Evidence, ts(now))
			return err
		case err != nil:
			return err
		}
		raised = resolved != ""
		_, err = tx.ExecContext(ctx, `UPDATE federation_alarms SET summary = $4, evidence = $5, last_seen = $6, resolved_at = '' WHERE peer = $1 AND kind = $2 AND subject = $3`,
			a.Peer, a.Kind, a.Subject, a.Summary, a.Evidence, ts(now))
		return err
	})
	return raised, err
}

// ResolveAlarms marks resolved the open alarms of a peer and kind whose
// subject is not in still (the disagreement is gone); the record stays.
func (s *Store) ResolveAlarms(ctx context.Context, peer, kind string, still map[string]bool, now time.Time) error {
	var open []string
	err := s.each(ctx, `SELECT subject FROM federation_alarms WHERE peer = $1 AND kind = $2 AND resolved_at = ''`, func(r *sql.Rows) error {
		var sub string
		err := r.Scan(&sub)
		open = append(open, sub)
		return err
	}, peer, kind)
	if err != nil {
		return err
	}
	for _, sub := range open {
		if still[sub] {
			continue
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE federation_alarms SET resolved_at = $4 WHERE peer = $1 AND kind = $2 AND subject = $3`, peer, kind, sub, ts(now)); err != nil {
			return err
		}
	}
	return nil
}

// Alarms are the federation alarms, open ones first, newest first.
func (s *Store) Alarms(ctx context.Context, limit int) ([]Alarm, error) {
	var out []Alarm
	err := s.each(ctx, `SELECT id, peer, kind, subject, summary, evidence, first_seen, last_seen, resolved_at FROM federation_alarms
		ORDER BY CASE WHEN resolved_at = '' THEN 0 ELSE 1 END, last_seen DESC, id DESC LIMIT $1`, func(r *sql.Rows) error {
		var a Alarm
		var f, l, res string
		err := r.Scan(&a.ID, &a.Peer, &a.Kind, &a.Subject, &a.Summary, &a.Evidence, &f, &l, &res)
		a.FirstSeen, a.LastSeen, a.ResolvedAt = parseTS(f), parseTS(l), parseTS(res)
		out = append(out, a)
		return err
	}, limit)
	return out, err
}

// FederationAgreement is a recorded agreement with its drift flag.
type FederationAgreement struct {
	ID         string
	Document   []byte
	Digest     string
	RecordedAt time.Time
	CheckedAt  time.Time
	Flag       string // the changes as JSON; "" while it holds
	FlaggedAt  time.Time
}

// WriteFederationAgreement stores an agreement and its decision in one
// transaction; recording it again (a new check) replaces the document and
// clears the flag, and is a new decision.
func (s *Store) WriteFederationAgreement(ctx context.Context, a FederationAgreement, d registry.Decision, userID int64) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO federation_agreements (id, document, digest, recorded_at, checked_at, flag, flagged_at) VALUES ($1, $2, $3, $4, $4, '', '')
			ON CONFLICT (id) DO UPDATE SET document = excluded.document, digest = excluded.digest, recorded_at = excluded.recorded_at,
			checked_at = excluded.checked_at, flag = '', flagged_at = ''`, a.ID, string(a.Document), a.Digest, ts(a.RecordedAt)); err != nil {
			return err
		}
		var err error
		if id, err = insertDecision(ctx, tx, d); err != nil {
			return err
		}
		return audit(ctx, tx, a.RecordedAt, userID, 0, "agreement.record", "agreement", a.ID, a.Digest)
	})
	return id, err
}

// FederationAgreements are the recorded agreements, by id.
func (s *Store) FederationAgreements(ctx context.Context) ([]FederationAgreement, error) {
	var out []FederationAgreement
	err := s.each(ctx, `SELECT id, document, digest, recorded_at, checked_at, flag, flagged_at FROM federation_agreements ORDER BY id`, func(r *sql.Rows) error {
		var a FederationAgreement
		var doc, rec, chk, fl string
		err := r.Scan(&a.ID, &doc, &a.Digest, &rec, &chk, &a.Flag, &fl)
		a.Document, a.RecordedAt, a.CheckedAt, a.FlaggedAt = []byte(doc), parseTS(rec), parseTS(chk), parseTS(fl)
		out = append(out, a)
		return err
	})
	return out, err
}

// FlagFederationAgreement records a recheck: flag "" clears it; a flag
// keeps the time it was first raised while it stays raised.
func (s *Store) FlagFederationAgreement(ctx context.Context, id, flag string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE federation_agreements SET checked_at = $2, flag = $3,
		flagged_at = CASE WHEN $3 = '' THEN '' WHEN flagged_at = '' THEN $2 ELSE flagged_at END WHERE id = $1`, id, ts(now), flag)
	return err
}

// LinkedMirrorLabels are the mirrored labels of peers for the same product
// as the given identifiers: the same GTIN, the same PURL, or the same
// manufacturer and model number (each only when given). At most limit.
func (s *Store) LinkedMirrorLabels(ctx context.Context, manufacturer, model, gtin, purl string, limit int) ([]MirrorLabel, error) {
	var out []MirrorLabel
	err := s.each(ctx, `SELECT peer, label_id, status, credential_sha256, disagrees_since, seen_at, manufacturer, model_number, gtin, purl FROM mirror_labels
		WHERE ($1 <> '' AND gtin = $1) OR ($2 <> '' AND purl = $2) OR ($3 <> '' AND model_number = $3 AND manufacturer = $4)
		ORDER BY peer, label_id LIMIT $5`, func(r *sql.Rows) error {
		var m MirrorLabel
		var since, seen string
		err := r.Scan(&m.Peer, &m.LabelID, &m.Status, &m.CredentialSHA, &since, &seen, &m.Manufacturer, &m.ModelNumber, &m.GTIN, &m.PURL)
		m.DisagreesSince, m.SeenAt = parseTS(since), parseTS(seen)
		out = append(out, m)
		return err
	}, gtin, purl, model, manufacturer, limit)
	return out, err
}

// LinkedSuspension is a label here whose product is suspended or revoked
// at a peer.
type LinkedSuspension struct {
	LabelID     string // ours
	Status      string // ours
	Product     string
	Peer        string
	PeerLabelID string
	PeerStatus  string
	SeenAt      time.Time
}

// LinkedSuspensions are this instance's labels whose product a peer has
// suspended or revoked, as the mirrors last saw it, newest first.
func (s *Store) LinkedSuspensions(ctx context.Context, limit int) ([]LinkedSuspension, error) {
	var out []LinkedSuspension
	err := s.each(ctx, `SELECT l.id, l.status, p.name, ml.peer, ml.label_id, ml.status, ml.seen_at
		FROM labels l JOIN product_versions v ON v.id = l.product_version_id JOIN products p ON p.id = v.product_id
		JOIN organisations m ON m.id = p.manufacturer_id
		JOIN mirror_labels ml ON (p.gtin <> '' AND ml.gtin = p.gtin) OR (p.purl <> '' AND ml.purl = p.purl)
			OR (p.model_number <> '' AND ml.model_number = p.model_number AND ml.manufacturer = m.name)
		WHERE ml.status IN ('suspended', 'revoked') ORDER BY ml.seen_at DESC, l.id LIMIT $1`, func(r *sql.Rows) error {
		var x LinkedSuspension
		var seen string
		err := r.Scan(&x.LabelID, &x.Status, &x.Product, &x.Peer, &x.PeerLabelID, &x.PeerStatus, &seen)
		x.SeenAt = parseTS(seen)
		out = append(out, x)
		return err
	}, limit)
	return out, err
}
