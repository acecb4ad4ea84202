package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// Reads for indicators. Each streams its rows to a function rather than
// building a slice, so a market of a million products is read once, in
// one pass per table, without a second copy in memory.

// MarketVersion is a registered product version with what indicators read.
type MarketVersion struct {
	ID, ProductID, ManufacturerID int64
	Manufacturer, Category        string
	Created                       time.Time
	ReleaseDate                   string
	Facts                         registry.Facts
	SBOM                          bool // an SBOM was uploaded
}

// marketFacts is the part of the declared facts indicators read: decoding
// only these fields keeps a million rows quick.
type marketFacts struct {
	SupportEnd   string   `json:"support_end_date"`
	UpdateMode   string   `json:"update_mode"`
	PasswordType string   `json:"password_type"`
	Contact      string   `json:"security_contact"`
	Disclosure   string   `json:"disclosure_policy_url"`
	Sensors      []string `json:"sensors"`
	UniqueCap    *bool    `json:"unique_credentials_capable"`
}

// MarketVersions streams every registered product version, in id order.
func (s *Store) MarketVersions(ctx context.Context, fn func(MarketVersion) error) error {
	return s.each(ctx, `SELECT v.id, v.product_id, p.manufacturer_id, m.name, p.category, v.created_at, v.release_date, v.facts, v.sbom_format
		FROM product_versions v JOIN products p ON p.id = v.product_id JOIN organisations m ON m.id = p.manufacturer_id ORDER BY v.id`,
		func(r *sql.Rows) error {
			var v MarketVersion
			var created, facts, sbom string
			if err := r.Scan(&v.ID, &v.ProductID, &v.ManufacturerID, &v.Manufacturer, &v.Category, &created, &v.ReleaseDate, &facts, &sbom); err != nil {
				return err
			}
			var f marketFacts
			if facts != "" {
				if err := json.Unmarshal([]byte(facts), &f); err != nil {
					return fmt.Errorf("version %d: stored facts do not decode: %w", v.ID, err)
				}
			}
			v.Created, v.SBOM = parseTS(created), sbom != ""
			v.Facts = registry.Facts{SupportEnd: f.SupportEnd, UpdateMode: f.UpdateMode, PasswordType: f.PasswordType, SecurityContact: f.Contact,
				DisclosurePolicyURL: f.Disclosure, Sensors: f.Sensors, UniqueCredentialsCap: f.UniqueCap}
			return fn(v)
		})
}

// MarketLabels streams every label's identity: id, version, scheme, level.
func (s *Store) MarketLabels(ctx context.Context, fn func(id string, versionID int64, schemeID, level string) error) error {
	return s.each(ctx, `SELECT id, product_version_id, scheme_id, level_id FROM labels`, func(r *sql.Rows) error {
		var id, sc, lvl string
		var v int64
		if err := r.Scan(&id, &v, &sc, &lvl); err != nil {
			return err
		}
		return fn(id, v, sc, lvl)
	})
}

// LabelDecisions streams the label decisions among the log's first size
// entries (decision id, label id, status after it, when): exactly what the
// log itself says of labels at that checkpoint.
func (s *Store) LabelDecisions(ctx context.Context, size int64, fn func(id int64, subject, status string, at time.Time) error) error {
	return s.each(ctx, `SELECT id, subject, status, at FROM decisions WHERE state = 'logged' AND log_index < $1 AND kind LIKE 'label.%'`,
		func(r *sql.Rows) error {
			var id int64
			var subj, st, at string
			if err := r.Scan(&id, &subj, &st, &at); err != nil {
				return err
			}
			return fn(id, subj, st, parseTS(at))
		}, size)
}

// AssessmentVerdicts streams every assessor's verdict: the version
// assessed, the requirement, pass, fail or not-applicable.
func (s *Store) AssessmentVerdicts(ctx context.Context, fn func(versionID int64, requirement, verdict string) error) error {
	return s.each(ctx, `SELECT a.product_version_id, f.requirement_id, f.verdict FROM findings f JOIN applications a ON a.id = f.application_id`,
		func(r *sql.Rows) error {
			var v int64
			var req, verdict string
			if err := r.Scan(&v, &req, &verdict); err != nil {
				return err
			}
			return fn(v, req, verdict)
		})
}

// EachWatchFinding streams every post-market finding.
func (s *Store) EachWatchFinding(ctx context.Context, fn func(registry.Finding) error) error {
	return s.each(ctx, `SELECT `+findingCols+` FROM watch_findings`, func(r *sql.Rows) error {
		f, err := scanFinding(r)
		if err != nil {
			return err
		}
		return fn(f)
	})
}

// TargetRow is a declared target as stored: the declaration (JSON) and
// the digest its logged decision holds.
type TargetRow struct {
	ID           string
	OrgID        int64
	Body         []byte
	Digest       string
	Supersedes   string
	SupersededBy string
	DeclaredAt   time.Time
}

// WriteTarget stores a declared target with its decision, in one
// transaction; a target it supersedes is marked so, on condition it was
// not superseded already (two revisions of one target cannot both win).
func (s *Store) WriteTarget(ctx context.Context, t TargetRow, d registry.Decision, userID int64) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if t.Supersedes != "" {
			res, err := tx.ExecContext(ctx, `UPDATE targets SET superseded_by = $1 WHERE id = $2 AND org_id = $3 AND superseded_by = ''`, t.ID, t.Supersedes, t.OrgID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("%w: target %s is not one of yours, or was superseded already; revise the newest declaration", ErrConflict, t.Supersedes)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO targets (id, org_id, body, digest, supersedes, superseded_by, declared_at) VALUES ($1, $2, $3, $4, $5, '', $6)`,
			t.ID, t.OrgID, string(t.Body), t.Digest, t.Supersedes, ts(t.DeclaredAt)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("%w: a target %s exists already", ErrConflict, t.ID)
			}
			return err
		}
		var err error
		if id, err = insertDecision(ctx, tx, d); err != nil {
			return err
		}
		return audit(ctx, tx, t.DeclaredAt, userID, t.OrgID, "target.declare", "target", t.ID, t.Digest)
	})
	return id, err
}

const targetCols = `id, org_id, body, digest, supersedes, superseded_by, declared_at`

func scanTarget(r interface{ Scan(...any) error }) (TargetRow, error) {
	var t TargetRow
	var body, at string
	err := r.Scan(&t.ID, &t.OrgID, &body, &t.Digest, &t.Supersedes, &t.SupersededBy, &at)
	t.Body, t.DeclaredAt = []byte(body), parseTS(at)
	return t, err
}

// Target returns one declared target.
func (s *Store) Target(ctx context.Context, id string) (TargetRow, error) {
	t, err := scanTarget(s.db.QueryRowContext(ctx, `SELECT `+targetCols+` FROM targets WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// Targets lists declared targets, of one organisation when orgID is
// non-zero, oldest first, at most limit.
func (s *Store) Targets(ctx context.Context, orgID int64, limit int) ([]TargetRow, error) {
	var out []TargetRow
	err := s.each(ctx, `SELECT `+targetCols+` FROM targets WHERE ($1 = 0 OR org_id = $1) ORDER BY declared_at, id LIMIT $2`, func(r *sql.Rows) error {
		t, err := scanTarget(r)
		out = append(out, t)
		return err
	}, orgID, limit)
	return out, err
}

// ReportRow is a published transparency report.
type ReportRow struct {
	ID          string
	OrgID       int64
	Period      string // YYYY-MM
	Body        []byte
	Digest      string
	PublishedAt time.Time
}

// WriteReport stores a published report with its decision; a period is
// published once.
func (s *Store) WriteReport(ctx context.Context, rep ReportRow, d registry.Decision, userID int64) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO transparency_reports (id, org_id, period, body, digest, published_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			rep.ID, rep.OrgID, rep.Period, string(rep.Body), rep.Digest, ts(rep.PublishedAt)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("%w: the report for %s is published already; a published report is not replaced", ErrConflict, rep.Period)
			}
			return err
		}
		var err error
		if id, err = insertDecision(ctx, tx, d); err != nil {
			return err
		}
		return audit(ctx, tx, rep.PublishedAt, userID, rep.OrgID, "report.publish", "report", rep.ID, rep.Digest)
	})
	return id, err
}

const reportCols = `id, org_id, period, body, digest, published_at`

func scanReport(r interface{ Scan(...any) error }) (ReportRow, error) {
	var rep ReportRow
	var body, at string
	err := r.Scan(&rep.ID, &rep.OrgID, &rep.Period, &body, &rep.Digest, &at)
	rep.Body, rep.PublishedAt = []byte(body), parseTS(at)
	return rep, err
}

// Report returns one published report.
func (s *Store) Report(ctx context.Context, id string) (ReportRow, error) {
	rep, err := scanReport(s.db.QueryRowContext(ctx, `SELECT `+reportCols+` FROM transparency_reports WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return rep, ErrNotFound
	}
	return rep, err
}

// Reports lists an organisation's published reports, newest first.
func (s *Store) Reports(ctx context.Context, orgID int64, limit int) ([]ReportRow, error) {
	var out []ReportRow
	err := s.each(ctx, `SELECT `+reportCols+` FROM transparency_reports WHERE org_id = $1 ORDER BY period DESC LIMIT $2`, func(r *sql.Rows) error {
		rep, err := scanReport(r)
		out = append(out, rep)
		return err
	}, orgID, limit)
	return out, err
}
