package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/registry"
)

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

const labelCols = `l.id, l.application_id, l.product_version_id, l.scheme_id, l.scheme_version, l.level_id, l.status, l.status_index, l.issued_at,
	l.valid_until, l.credential, l.credential_hash, l.kid, p.id, p.name, p.model_number, p.category, m.name, m.id, v.software_version,
	COALESCE(lab.name, ''), p.gtin, p.purl`

const labelFrom = ` FROM labels l
	JOIN product_versions v ON v.id = l.product_version_id
	JOIN products p ON p.id = v.product_id
	JOIN organisations m ON m.id = p.manufacturer_id
	JOIN applications ap ON ap.id = l.application_id
	LEFT JOIN organisations lab ON lab.id = ap.assessor_org_id`

func scanLabel(r interface{ Scan(...any) error }) (registry.Label, error) {
	var l registry.Label
	var status, issued, until string
	err := r.Scan(&l.ID, &l.ApplicationID, &l.VersionID, &l.SchemeID, &l.SchemeVersion, &l.LevelID, &status, &l.StatusIndex, &issued, &until,
		&l.Credential, &l.CredentialHash, &l.KID, &l.ProductID, &l.ProductName, &l.ModelNumber, &l.Category, &l.Manufacturer, &l.ManufacturerID, &l.SoftwareVersion, &l.TestingLab, &l.GTIN, &l.PURL)
	l.Status, l.Issued = assess.LabelStatus(status), parseTS(issued)
	if until != "" {
		l.ValidUntil = parseTS(until)
	}
	return l, err
}

// Label returns one label.
func (s *Store) Label(ctx context.Context, id string) (registry.Label, error) {
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
	// After continues a listing after this label (keyset paging: the cost
	// of a page does not grow with how deep it is); Offset is then unused.
	After LabelKey
	// Before lists the Limit labels just before this one (the previous
	// page, by key), still newest first.
	Before LabelKey
	// Oldest asks for the last page: the oldest labels, still listed
	// newest first.
	Oldest bool
	// NoTotal skips counting every match (the caller keeps the count).
	NoTotal bool
	// Fresh reads past the server's listing cache (an auditor asked with
	// Cache-Control: no-cache); the store itself never caches.
	Fresh bool
}

// LabelKey is a label's place in the registry's order (newest first).
type LabelKey struct {
	Issued time.Time
	ID     string
}

// KeyOf is l's place in the registry's order.
func KeyOf(l registry.Label) LabelKey { return LabelKey{Issued: l.Issued, ID: l.ID} }

// IsZero reports whether k names no place (the start).
func (k LabelKey) IsZero() bool { return k.ID == "" }

// Encode makes k an opaque cursor for a URL.
func (k LabelKey) Encode() string { return encodeCursor(ts(k.Issued), k.ID) }

// ParseLabelKey reads a cursor Encode made; anything else is refused.
func ParseLabelKey(c string) (LabelKey, error) {
	f, err := decodeCursor(c, 2)
	if err != nil {
		return LabelKey{}, err
	}
	t, terr := time.Parse(timeFormat, f[0])
	id := f[1]
	if terr != nil || id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) {
		return LabelKey{}, errCursor
	}
	return LabelKey{Issued: t, ID: id}, nil
}

// Labels searches labels, newest first, with the total.
func (s *Store) Labels(ctx context.Context, q LabelQuery) ([]registry.Label, int, error) {
	// Only the filters asked for are in the statement. Written as "$1 is
	// empty OR ...", the plan PostgreSQL keeps for any arguments (a
	// prepared statement's generic plan) kept the search too, and counting
	// a million labels took 15 s instead of 2.6 s.
	var conds []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.SchemeID != "" {
		conds = append(conds, "l.scheme_id = "+arg(q.SchemeID))
	}
	if q.Status != "" {
		conds = append(conds, "l.status = "+arg(string(q.Status)))
	}
	if q.Category != "" {
		conds = append(conds, "p.category = "+arg(q.Category))
	}
	if q.Text != "" {
		// The text is matched in label_search (migration 00017), a
		// trigram index over the label id, product name, model number and
		// manufacturer: the same substring match as LIKE on each, from an index.
		pat := arg("%" + likeEscape(q.Text) + "%")
		if s.dialect == Postgres {
			conds = append(conds, `l.id IN (SELECT label_id FROM label_search WHERE body LIKE `+pat+`)`)
		} else {
			conds = append(conds, `l.rowid IN (SELECT rowid FROM label_search WHERE body LIKE `+pat+`)`)
		}
	}
	if q.ManufacturerID != 0 {
		conds = append(conds, "m.id = "+arg(q.ManufacturerID))
	}
	where := func() string {
		if len(conds) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(conds, " AND ")
	}
	total := -1
	if !q.NoTotal {
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+labelFrom+where(), args...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	order, offset := ` ORDER BY l.issued_at DESC, l.id`, q.Offset
	switch {
	case q.Oldest:
		order, offset = ` ORDER BY l.issued_at, l.id DESC`, 0
	case !q.Before.IsZero():
		// The reverse order from the key, turned back below: the index
		// serves it as it serves After.
		at, id := arg(ts(q.Before.Issued)), arg(q.Before.ID)
		conds = append(conds, `l.issued_at >= `+at+` AND (l.issued_at > `+at+` OR l.id < `+id+`)`)
		order, offset = ` ORDER BY l.issued_at, l.id DESC`, 0
	case !q.After.IsZero():
		// The first conjunct is a range the (issued_at, id) index serves.
		at, id := arg(ts(q.After.Issued)), arg(q.After.ID)
		conds = append(conds, `l.issued_at <= `+at+` AND (l.issued_at < `+at+` OR l.id > `+id+`)`)
		offset = 0
	}
	page := ` LIMIT ` + arg(q.Limit) + ` OFFSET ` + arg(offset)
	var out []registry.Label
	err := s.each(ctx, `SELECT `+labelCols+labelFrom+where()+order+page, func(r *sql.Rows) error {
		l, err := scanLabel(r)
		out = append(out, l)
		return err
	}, args...)
	if q.Oldest || !q.Before.IsZero() {
		slices.Reverse(out)
	}
	return out, total, err
}

// LabelState is where a label sits in the status lists and its status.
type LabelState struct {
	ID     string
	Index  int
	Status assess.LabelStatus
}

// LabelStates reads the status-list place and status of the given labels.
func (s *Store) LabelStates(ctx context.Context, ids []string) ([]LabelState, error) {
	var out []LabelState
	for len(ids) > 0 {
		n := min(len(ids), 500)
		ph := make([]string, n)
		args := make([]any, n)
		for i, id := range ids[:n] {
			ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
		}
		if err := s.each(ctx, `SELECT id, status_index, status FROM labels WHERE id IN (`+strings.Join(ph, ", ")+`)`, func(r *sql.Rows) error {
			var st LabelState
			err := r.Scan(&st.ID, &st.Index, &st.Status)
			out = append(out, st)
			return err
		}, args...); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// StatusesIn reads the labels not active in status-list indexes [from,
// to): one list's worth, through the status_index index.
func (s *Store) StatusesIn(ctx context.Context, from, to int) (map[int]assess.LabelStatus, error) {
	out := map[int]assess.LabelStatus{}
	err := s.each(ctx, `SELECT status_index, status FROM labels WHERE status_index >= $1 AND status_index < $2 AND status <> 'active'`,
		func(r *sql.Rows) error {
			var i int
			var st string
			err := r.Scan(&i, &st)
			out[i] = assess.LabelStatus(st)
			return err
		}, from, to)
	return out, err
}

// LabelEvents returns a label's history, oldest first.
func (s *Store) LabelEvents(ctx context.Context, id string) ([]registry.LabelEvent, error) {
	var out []registry.LabelEvent
	err := s.each(ctx, `SELECT at, COALESCE(actor_user_id, 0), action, from_status, to_status, reason FROM label_events WHERE label_id = $1 ORDER BY id`,
		func(r *sql.Rows) error {
			var e registry.LabelEvent
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
func (s *Store) DueForExpiry(ctx context.Context, now time.Time) ([]registry.Label, error) {
	var out []registry.Label
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

// LabelsByID returns the labels with the given ids that exist, in no
// particular order (a batch decision reads its labels in one query).
func (s *Store) LabelsByID(ctx context.Context, ids []string) ([]registry.Label, error) {
	var out []registry.Label
	for len(ids) > 0 {
		n := min(len(ids), 500) // well under every engine's parameter limit
		ph := make([]string, n)
		args := make([]any, n)
		for i, id := range ids[:n] {
			ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
		}
		if err := s.each(ctx, `SELECT `+labelCols+labelFrom+` WHERE l.id IN (`+strings.Join(ph, ", ")+`)`, func(r *sql.Rows) error {
			l, err := scanLabel(r)
			out = append(out, l)
			return err
		}, args...); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}
