package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/demo"
)

// LoadSynthetic writes a synthetic market (demo.Synth) straight into the
// tables, in bulk: organisations, products, versions, approved
// applications with their verdicts, labels with their events and logged
// decisions, advisories and post-market findings. It is for the scale
// benchmarks only: it bypasses the decision gate (nothing it writes is
// decided), its decisions are marked logged at made-up log indexes with no
// log behind them, and no server code calls it (internal/auth's coverage
// test checks). Each assessment records verdicts on at most
// SynthVerdicts of its level's requirements, which keeps a million labels
// to some millions of rows.
func (s *Store) LoadSynthetic(ctx context.Context, n int, seed uint64, now time.Time, levels []demo.SynthLevel) (SynthReport, error) {
	var rep SynthReport
	start := time.Now()
	base := map[string]int64{}
	for _, t := range []string{"organisations", "users", "products", "product_versions", "applications", "decisions"} {
		var max sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT MAX(id) FROM `+t).Scan(&max); err != nil {
			return rep, err
		}
		base[t] = max.Int64
	}
	var maxIdx, maxLog sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(status_index) FROM labels`).Scan(&maxIdx); err != nil {
		return rep, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(log_index) FROM decisions`).Scan(&maxLog); err != nil {
		return rep, err
	}
	at := ts(now)
	manus := demo.SynthManufacturers(n)
	orgID := func(m int) int64 { return base["organisations"] + 1 + int64(m) }
	userID := base["users"] + 1
	digest := strings.Repeat("ab", 32)
	// Organisations, their one user, the flaws.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		b := newBulk(tx, "organisations", "id, name, kind, country, website, created_at")
		for m := 0; m < manus; m++ {
			if err := b.add(ctx, orgID(m), fmt.Sprintf("Synthetic Maker %05d", m), "manufacturer", "DE", "", at); err != nil {
				return err
			}
		}
		if err := b.flush(ctx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, org_id, email, name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, 'manufacturer', '', $5, $6)`,
			userID, orgID(0), fmt.Sprintf("synthetic-%d@example.test", userID), "Synthetic", true, at); err != nil {
			return err
		}
		ab := newBulk(tx, "advisories", "id, flaw, format, doc_id, revision, doc_sha256, withdrawn, body, ingested_at")
		for _, f := range demo.SynthFlaws(now) {
			body, _ := json.Marshal(advisory.Advisory{ID: f.ID, Severity: advisory.Severity(f.Severity), Published: f.Published, Summary: "A synthetic flaw."})
			if err := ab.add(ctx, f.ID, f.ID, "osv", f.ID, "1", digest, "", string(body), at); err != nil {
				return err
			}
		}
		return ab.flush(ctx)
	})
	if err != nil {
		return rep, err
	}
	rep.Manufacturers = manus
	// Products, a chunk per transaction.
	const chunk = 5000
	var pending []demo.SynthProduct
	logIdx := maxLog.Int64 + 1
	decID := base["decisions"] + 1
	write := func() error {
		return s.tx(ctx, func(tx *sql.Tx) error {
			prods := newBulk(tx, "products", "id, manufacturer_id, name, brand, category, model_number, gtin, purl, cpe, published, created_at")
			vers := newBulk(tx, "product_versions", "id, product_id, software_version, hardware_version, release_date, facts, sbom_format, sbom_digest, created_at")
			apps := newBulk(tx, "applications", "id, product_version_id, scheme_id, scheme_version, level_id, state, assessor_org_id, created_by, created_at, updated_at, decision_reason")
			verdicts := newBulk(tx, "findings", "application_id, requirement_id, verdict, rationale, evidence_ids, assessor_id, recorded_at")
			labels := newBulk(tx, "labels", "id, application_id, product_version_id, scheme_id, scheme_version, level_id, status, status_index, issued_at, valid_until, credential, credential_hash, kid")
			events := newBulk(tx, "label_events", "label_id, at, actor_user_id, action, from_status, to_status, reason")
			decs := newBulk(tx, "decisions", "id, kind, subject, digest, status, status_index, reason_hash, at, state, log_index, receipt")
			finds := newBulk(tx, "watch_findings", "version_id, advisory_id, basis, confidence, component, fixed, state, response, clocks, doc_sha256, first_seen, updated_at")
			// A child's rows go in after its parents' (foreign keys).
			vers.parents = []*bulk{prods}
			apps.parents = []*bulk{vers}
			verdicts.parents = []*bulk{apps}
			labels.parents = []*bulk{apps}
			events.parents = []*bulk{labels}
			finds.parents = []*bulk{vers}
			for _, p := range pending {
				id := int64(p.Index) + 1
				pid, vid, aid := base["products"]+id, base["product_versions"]+id, base["applications"]+id
				if err := prods.add(ctx, pid, orgID(p.Manufacturer), p.Product.Name, p.Product.Brand, p.Product.Category, p.Product.ModelNumber, "", "", "", true, at); err != nil {
					return err
				}
				facts, _ := json.Marshal(p.Version.Facts)
				sbom := ""
				if p.SBOM {
					sbom = "cyclonedx-json 1.6"
				}
				if err := vers.add(ctx, vid, pid, p.Version.SoftwareVersion, "", p.Version.ReleaseDate, string(facts), sbom, "", at); err != nil {
					return err
				}
				rep.Products++
				for _, f := range p.Findings {
					if err := finds.add(ctx, vid, f.Flaw, "purl-exact", 1.0, "pkg:generic/synthetic-lib@1.0.0", "1.0.1", f.State, "none", "", digest, ts(f.FirstSeen), ts(f.Updated)); err != nil {
						return err
					}
					rep.Findings++
				}
				l := p.Label
				if l == nil {
					continue
				}
				issued := ts(l.Issued)
				if err := apps.add(ctx, aid, vid, l.Level.Scheme, 1, l.Level.Level, "approved", nil, userID, issued, issued, "Synthetic."); err != nil {
					return err
				}
				for k, req := range l.Verdicts {
					if k >= SynthVerdicts {
						break
					}
					if err := verdicts.add(ctx, aid, req, "pass", "", "", userID, issued); err != nil {
						return err
					}
				}
				lid := fmt.Sprintf("SY-%07d", p.Index)
				status := "active"
				if len(l.Events) > 0 {
					status = l.Events[len(l.Events)-1].Status
				}
				idx := maxIdx.Int64 + 1 + int64(p.Index)
				if err := labels.add(ctx, lid, aid, vid, l.Level.Scheme, 1, l.Level.Level, status, idx, issued, "", "", digest, "synthetic"); err != nil {
					return err
				}
				dec := func(kind, st string, when time.Time) error {
					err := decs.add(ctx, decID, kind, lid, digest, st, idx, "", ts(when), "logged", logIdx, "")
					decID++
					logIdx++
					return err
				}
				if err := events.add(ctx, lid, issued, nil, "issue", "", "active", ""); err != nil {
					return err
				}
				if err := dec("label.issued", "active", l.Issued); err != nil {
					return err
				}
				from := "active"
				for _, e := range l.Events {
					if err := events.add(ctx, lid, ts(e.At), nil, e.Action, from, e.Status, "Synthetic."); err != nil {
						return err
					}
					kind := map[string]string{"suspend": "label.suspended", "restore": "label.restored", "revoke": "label.revoked",
						"surrender": "label.surrendered", "expire": "label.expired"}[e.Action]
					if err := dec(kind, e.Status, e.At); err != nil {
						return err
					}
					from = e.Status
				}
				rep.Labels++
			}
			for _, b := range []*bulk{prods, vers, apps, verdicts, labels, events, decs, finds} {
				if err := b.flush(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err = demo.Synth(n, seed, now, levels, func(p demo.SynthProduct) error {
		pending = append(pending, p)
		if len(pending) == chunk {
			if err := write(); err != nil {
				return err
			}
			pending = pending[:0]
		}
		return nil
	})
	if err == nil && len(pending) > 0 {
		err = write()
	}
	if err != nil {
		return rep, err
	}
	rep.LogSize = logIdx
	if s.dialect == Postgres {
		// Explicit ids leave the identity sequences behind.
		for _, t := range []string{"organisations", "users", "products", "product_versions", "applications", "decisions", "label_events", "watch_findings"} {
			if _, err := s.db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
				return rep, err
			}
		}
		if _, err := s.db.ExecContext(ctx, `ANALYZE`); err != nil {
			return rep, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// SynthVerdicts bounds the verdicts recorded per synthetic assessment.
const SynthVerdicts = 8

// SynthReport says what LoadSynthetic wrote.
type SynthReport struct {
	Manufacturers, Products, Labels, Findings int
	LogSize                                   int64 // the made-up log's size: every synthetic decision is below it
	Took                                      time.Duration
}

// bulk inserts rows many at a time: one statement per 200 rows.
type bulk struct {
	tx    *sql.Tx
	table string
	cols  string
	ncol  int
	args  []any
	rows  int
	// parents are flushed first: their rows are what this one's refer to.
	parents []*bulk
	full    *sql.Stmt // the statement of a full batch, prepared once
}

const bulkRows = 200

func newBulk(tx *sql.Tx, table, cols string) *bulk {
	return &bulk{tx: tx, table: table, cols: cols, ncol: strings.Count(cols, ",") + 1}
}

func (b *bulk) add(ctx context.Context, vals ...any) error {
	if len(vals) != b.ncol {
		return fmt.Errorf("bulk %s: %d values for %d columns", b.table, len(vals), b.ncol)
	}
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows == bulkRows {
		return b.flush(ctx)
	}
	return nil
}

func (b *bulk) flush(ctx context.Context) error {
	for _, p := range b.parents {
		if err := p.flush(ctx); err != nil {
			return err
		}
	}
	if b.rows == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString("INSERT INTO " + b.table + " (" + b.cols + ") VALUES ")
	for r := 0; r < b.rows; r++ {
		if r > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		for c := 0; c < b.ncol; c++ {
			if c > 0 {
				q.WriteByte(',')
			}
			fmt.Fprintf(&q, "$%d", r*b.ncol+c+1)
		}
		q.WriteByte(')')
	}
	if b.table == "watch_findings" {
		q.WriteString(" ON CONFLICT DO NOTHING")
	}
	var err error
	if b.rows == bulkRows {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(ctx, q.String()); err != nil {
				return err
			}
		}
		_, err = b.full.ExecContext(ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(ctx, q.String(), b.args...)
	}
	b.args, b.rows = b.args[:0], 0
	return err
}
