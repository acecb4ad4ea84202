package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/registry"
)

// PutAdvisories stores flaws, replacing earlier revisions of the same ids,
// in one transaction.
func (s *Store) PutAdvisories(ctx context.Context, as []registry.StoredAdvisory, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO advisories (id, flaw, format, doc_id, revision, doc_sha256, withdrawn, body, ingested_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO UPDATE SET flaw = excluded.flaw, format = excluded.format, doc_id = excluded.doc_id, revision = excluded.revision,
				doc_sha256 = excluded.doc_sha256, withdrawn = excluded.withdrawn, body = excluded.body, ingested_at = excluded.ingested_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, a := range as {
			w := ""
			if a.Withdrawn {
				w = "withdrawn"
			}
			if _, err := stmt.ExecContext(ctx, a.ID, a.Flaw, a.Format, a.DocID, a.Revision, a.DocSHA256, w, string(a.Body), ts(now)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Advisories returns every stored flaw.
func (s *Store) Advisories(ctx context.Context) ([]registry.StoredAdvisory, error) {
	var out []registry.StoredAdvisory
	err := s.each(ctx, `SELECT id, flaw, format, doc_id, revision, doc_sha256, withdrawn, body FROM advisories ORDER BY id`, func(r *sql.Rows) error {
		var a registry.StoredAdvisory
		var w, body string
		err := r.Scan(&a.ID, &a.Flaw, &a.Format, &a.DocID, &a.Revision, &a.DocSHA256, &w, &body)
		a.Withdrawn, a.Body = w != "", []byte(body)
		out = append(out, a)
		return err
	})
	return out, err
}

// SetFlaws records new flaw keys (id → key) after a group grew.
func (s *Store) SetFlaws(ctx context.Context, keys map[string]string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for id, k := range keys {
			if _, err := tx.ExecContext(ctx, `UPDATE advisories SET flaw = $1 WHERE id = $2`, k, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// AdvisoryRevisions returns the stored revision and document hash of each
// stored advisory id.
func (s *Store) AdvisoryRevisions(ctx context.Context) (map[string][2]string, error) {
	out := map[string][2]string{}
	err := s.each(ctx, `SELECT id, revision, doc_sha256 FROM advisories`, func(r *sql.Rows) error {
		var id, rev, sum string
		err := r.Scan(&id, &rev, &sum)
		out[id] = [2]string{rev, sum}
		return err
	})
	return out, err
}

// PutExploited records that CVEs are known to be exploited.
func (s *Store) PutExploited(ctx context.Context, cves map[string]time.Time, ransomware map[string]bool, docSHA string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO exploited (cve, date_added, ransomware, doc_sha256) VALUES ($1, $2, $3, $4)
			ON CONFLICT (cve) DO UPDATE SET date_added = excluded.date_added, ransomware = excluded.ransomware, doc_sha256 = excluded.doc_sha256`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for cve, at := range cves {
			if _, err := stmt.ExecContext(ctx, cve, ts(at), ransomware[cve], docSHA); err != nil {
				return err
			}
		}
		return nil
	})
}

// Exploited returns every CVE known to be exploited, with when that became known.
func (s *Store) Exploited(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.each(ctx, `SELECT cve, date_added FROM exploited`, func(r *sql.Rows) error {
		var cve, at string
		err := r.Scan(&cve, &at)
		out[cve] = parseTS(at)
		return err
	})
	return out, err
}

// PutVEX stores VEX statements, a newer statement on the same
// (vulnerability, version, component) replacing the older.
func (s *Store) PutVEX(ctx context.Context, vs []registry.VEXStatement) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO vex_statements (vulnerability, version_id, component, status, justification, doc_sha256, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (vulnerability, version_id, component) DO UPDATE SET status = excluded.status, justification = excluded.justification,
				doc_sha256 = excluded.doc_sha256, at = excluded.at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, v := range vs {
			if _, err := stmt.ExecContext(ctx, v.Vulnerability, v.VersionID, v.Component, v.Status, v.Justification, v.DocSHA256, ts(v.At)); err != nil {
				return err
			}
		}
		return nil
	})
}

// VEX returns every stored VEX statement.
func (s *Store) VEX(ctx context.Context) ([]registry.VEXStatement, error) {
	var out []registry.VEXStatement
	err := s.each(ctx, `SELECT vulnerability, version_id, component, status, justification, doc_sha256, at FROM vex_statements`, func(r *sql.Rows) error {
		var v registry.VEXStatement
		var at string
		err := r.Scan(&v.Vulnerability, &v.VersionID, &v.Component, &v.Status, &v.Justification, &v.DocSHA256, &at)
		v.At = parseTS(at)
		out = append(out, v)
		return err
	})
	return out, err
}

const findingCols = `id, version_id, advisory_id, basis, confidence, component, fixed, state, response, clocks, doc_sha256, first_seen, updated_at`

func scanFinding(r interface{ Scan(...any) error }) (registry.Finding, error) {
	var f registry.Finding
	var fixed, clocks, first, updated string
	err := r.Scan(&f.ID, &f.VersionID, &f.AdvisoryID, &f.Basis, &f.Confidence, &f.Component, &fixed, &f.State, &f.Response, &clocks, &f.DocSHA256, &first, &updated)
	if fixed != "" {
		f.Fixed = strings.Split(fixed, ",")
	}
	if clocks != "" {
		json.Unmarshal([]byte(clocks), &f.Clocks)
	}
	f.FirstSeen, f.Updated = parseTS(first), parseTS(updated)
	return f, err
}

// PutFinding inserts a finding, or refreshes the match of one already
// recorded (basis, fix, source) keeping its state, answer and clocks.
func (s *Store) PutFinding(ctx context.Context, f registry.Finding, now time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO watch_findings (version_id, advisory_id, basis, confidence, component, fixed, state, response, clocks, doc_sha256, first_seen, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10, $10)
		ON CONFLICT (version_id, advisory_id, component) DO UPDATE SET basis = excluded.basis, confidence = excluded.confidence,
			fixed = excluded.fixed, doc_sha256 = excluded.doc_sha256, updated_at = excluded.updated_at
		RETURNING id`, f.VersionID, f.AdvisoryID, f.Basis, f.Confidence, f.Component, strings.Join(f.Fixed, ","), f.State, f.Response, f.DocSHA256, ts(now)).Scan(&id)
	return id, err
}

// UpdateFinding records a finding's state, the manufacturer's answer and
// its clocks.
func (s *Store) UpdateFinding(ctx context.Context, f registry.Finding, now time.Time) error {
	clocks := ""
	if len(f.Clocks) > 0 {
		b, _ := json.Marshal(f.Clocks)
		clocks = string(b)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE watch_findings SET state = $1, response = $2, clocks = $3, updated_at = $4 WHERE id = $5`,
		f.State, f.Response, clocks, ts(now), f.ID)
	return err
}

// WatchFindings lists post-market findings, of one version when versionID is non-zero.
func (s *Store) WatchFindings(ctx context.Context, versionID int64) ([]registry.Finding, error) {
	var out []registry.Finding
	// Two statements, not "$1 = 0 OR version_id = $1": SQLite plans that
	// as a scan of every finding, and every label page asks this.
	q, args := `SELECT `+findingCols+` FROM watch_findings ORDER BY id`, []any{}
	if versionID != 0 {
		q, args = `SELECT `+findingCols+` FROM watch_findings WHERE version_id = $1 ORDER BY id`, []any{versionID}
	}
	err := s.each(ctx, q, func(r *sql.Rows) error {
		f, err := scanFinding(r)
		out = append(out, f)
		return err
	}, args...)
	return out, err
}

// Finding returns one finding.
func (s *Store) Finding(ctx context.Context, id int64) (registry.Finding, error) {
	f, err := scanFinding(s.db.QueryRowContext(ctx, `SELECT `+findingCols+` FROM watch_findings WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return f, ErrNotFound
	}
	return f, err
}

// Notify stores a notification for an organisation once per finding and
// rule, queued for the organisation's webhooks; it reports whether it was
// new.
func (s *Store) Notify(ctx context.Context, orgID, findingID int64, ruleID, message string, now time.Time) (bool, error) {
	isNew := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO notifications (org_id, finding_id, rule_id, message, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (finding_id, rule_id) DO NOTHING RETURNING id`, orgID, findingID, ruleID, message, ts(now)).Scan(&id)
		if err == sql.ErrNoRows {
			return nil // notified before
		}
		if err != nil {
			return err
		}
		isNew = true
		return queueDeliveries(ctx, tx, id, orgID, now)
	})
	return isNew && err == nil, err
}

// WatchTargets returns every product version with an active or suspended
// label, with the label and the version's components.
func (s *Store) WatchTargets(ctx context.Context) ([]registry.WatchTarget, error) {
	var out []registry.WatchTarget
	byVersion := map[int64]int{}
	err := s.each(ctx, `SELECT `+labelCols+`, p.gtin, p.cpe, p.purl, v.facts`+labelFrom+` WHERE l.status IN ('active', 'suspended') ORDER BY l.id`, func(r *sql.Rows) error {
		var t registry.WatchTarget
		var facts string
		l, err := scanLabel(scanExtra{r, []any{&t.GTIN, &t.CPE, &t.PURL, &facts}})
		if err != nil {
			return err
		}
		var fs registry.Facts
		json.Unmarshal([]byte(facts), &fs)
		t.VersionID, t.ProductID, t.ManufacturerID, t.Manufacturer = l.VersionID, l.ProductID, l.ManufacturerID, l.Manufacturer
		t.ProductName, t.ModelNumber, t.SoftwareVersion, t.SupportEnd, t.Label = l.ProductName, l.ModelNumber, l.SoftwareVersion, fs.SupportEnd, l
		t.FirmwareHashes = fs.FirmwareHashes
		byVersion[t.VersionID] = len(out)
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT v.id, c.name, c.version, c.purl, c.cpe, c.ecosystem FROM components c
		JOIN product_versions v ON v.sbom_upload_id = c.upload_id
		JOIN labels l ON l.product_version_id = v.id WHERE l.status IN ('active', 'suspended') ORDER BY v.id, c.position`, func(r *sql.Rows) error {
		var vid int64
		var c registry.Component
		if err := r.Scan(&vid, &c.Name, &c.Version, &c.PURL, &c.CPE, &c.Ecosystem); err != nil {
			return err
		}
		if i, ok := byVersion[vid]; ok {
			out[i].Components = append(out[i].Components, c)
		}
		return nil
	})
	return out, err
}

// scanExtra scans a label row followed by more columns.
type scanExtra struct {
	r     interface{ Scan(...any) error }
	extra []any
}

func (s scanExtra) Scan(dest ...any) error { return s.r.Scan(append(dest, s.extra...)...) }

// Advisory returns a stored advisory of a flaw, decoded: the one with the
// flaw's own id when stored, else the first of its ids.
func (s *Store) Advisory(ctx context.Context, flaw string) (advisory.Advisory, error) {
	var a advisory.Advisory
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT body FROM advisories WHERE flaw = $1 ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END, id LIMIT 1`, flaw).Scan(&body)
	if err == sql.ErrNoRows {
		return a, ErrNotFound
	}
	if err != nil {
		return a, err
	}
	return a, json.Unmarshal([]byte(body), &a)
}

// AdvisoriesOf returns every stored record of each flaw named, by flaw, in
// one query per 500 flaws (a label page lists up to hundreds).
func (s *Store) AdvisoriesOf(ctx context.Context, flaws []string) (map[string][]advisory.Advisory, error) {
	out := map[string][]advisory.Advisory{}
	for start := 0; start < len(flaws); start += 500 {
		chunk := flaws[start:min(start+500, len(flaws))]
		marks := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, f := range chunk {
			marks[i], args[i] = "$"+strconv.Itoa(i+1), f
		}
		err := s.each(ctx, `SELECT flaw, body FROM advisories WHERE flaw IN (`+strings.Join(marks, ", ")+`) ORDER BY flaw, id`, func(r *sql.Rows) error {
			var flaw, body string
			if err := r.Scan(&flaw, &body); err != nil {
				return err
			}
			var a advisory.Advisory
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				return fmt.Errorf("stored advisory of %s: %w", flaw, err)
			}
			out[flaw] = append(out[flaw], a)
			return nil
		}, args...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FindingQuery filters findings for the console: a manufacturer's own, or
// those on labels of the schemes an authority runs.
type FindingQuery struct {
	ManufacturerID int64
	Schemes        []string
	State          string
	Limit, Offset  int
}

// FindingRow is a finding with what the console shows beside it.
type FindingRow struct {
	registry.Finding
	ProductName     string
	SoftwareVersion string
	ManufacturerID  int64
	LabelID         string
	SchemeID        string
}

// FindingsFor lists findings matching q, newest first, with the total.
func (s *Store) FindingsFor(ctx context.Context, q FindingQuery) ([]FindingRow, int, error) {
	var conds []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.ManufacturerID != 0 {
		conds = append(conds, "p.manufacturer_id = "+arg(q.ManufacturerID))
	}
	if q.Schemes != nil {
		if len(q.Schemes) == 0 {
			return nil, 0, nil
		}
		var ph []string
		for _, sc := range q.Schemes {
			ph = append(ph, arg(sc))
		}
		conds = append(conds, "l.scheme_id IN ("+strings.Join(ph, ", ")+")")
	}
	if q.State != "" {
		conds = append(conds, "f.state = "+arg(q.State))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	from := ` FROM watch_findings f JOIN product_versions v ON v.id = f.version_id JOIN products p ON p.id = v.product_id
		LEFT JOIN labels l ON l.product_version_id = v.id AND l.status IN ('active', 'suspended')`
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+from+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	cols := "f." + strings.ReplaceAll(findingCols, ", ", ", f.")
	var out []FindingRow
	err := s.each(ctx, `SELECT `+cols+`, p.name, v.software_version, p.manufacturer_id, COALESCE(l.id, ''), COALESCE(l.scheme_id, '')`+from+where+
		` ORDER BY f.id DESC LIMIT `+arg(q.Limit)+` OFFSET `+arg(q.Offset), func(r *sql.Rows) error {
		var row FindingRow
		f, err := scanFinding(scanExtra{r, []any{&row.ProductName, &row.SoftwareVersion, &row.ManufacturerID, &row.LabelID, &row.SchemeID}})
		row.Finding = f
		out = append(out, row)
		return err
	}, args...)
	return out, total, err
}

// FindingOwner returns who a finding concerns: the manufacturer of its
// product and the scheme of its version's label ("" when unlabelled).
func (s *Store) FindingOwner(ctx context.Context, id int64) (manufacturer int64, schemeID string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT p.manufacturer_id, COALESCE(MAX(l.scheme_id), '') FROM watch_findings f
		JOIN product_versions v ON v.id = f.version_id JOIN products p ON p.id = v.product_id
		LEFT JOIN labels l ON l.product_version_id = v.id WHERE f.id = $1 GROUP BY p.manufacturer_id`, id).Scan(&manufacturer, &schemeID)
	if err == sql.ErrNoRows {
		return 0, "", ErrNotFound
	}
	return manufacturer, schemeID, err
}

// Notifications lists an organisation's newest notifications.
func (s *Store) Notifications(ctx context.Context, orgID int64, limit int) ([]registry.Notification, error) {
	var out []registry.Notification
	err := s.each(ctx, `SELECT id, finding_id, rule_id, message, created_at FROM notifications WHERE org_id = $1 ORDER BY id DESC LIMIT $2`, func(r *sql.Rows) error {
		var n registry.Notification
		var at string
		err := r.Scan(&n.ID, &n.FindingID, &n.RuleID, &n.Message, &at)
		n.At = parseTS(at)
		out = append(out, n)
		return err
	}, orgID, limit)
	return out, err
}
