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

// LoadSynthetic writes a synthetic market (demo.Synth) of n products
// straight into the tables, in bulk: organisations, products, versions,
// approved applications with their verdicts, labels with their events and
// their decisions, advisories and post-market findings. It is for the
// scale benchmarks only: it bypasses the decision gate, and no server code
// calls it (internal/auth's coverage test checks). Its decisions are
// written pending, as the gate leaves them: the caller's server appends
// them to its transparency log (Server.FlushDecisions), so the market has
// a real log that verifies. The secondary indexes of the tables it fills
// are dropped for the load and built again at the end: it is meant for a
// fresh database nobody else uses meanwhile. progress, if set, is called
// after each chunk of products. Each assessment records verdicts on at
// most SynthVerdicts of its level's requirements, which keeps a million
// labels to some millions of rows.
func (s *Store) LoadSynthetic(ctx context.Context, n int, seed uint64, now time.Time, levels []demo.SynthLevel, progress func(SynthReport)) (SynthReport, error) {
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
	var maxIdx sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(status_index) FROM labels`).Scan(&maxIdx); err != nil {
		return rep, err
	}
	at := ts(now)
	manus := demo.SynthManufacturers(n)
	orgID := func(m int) int64 { return base["organisations"] + 1 + int64(m) }
	userID := base["users"] + 1
	digest := strings.Repeat("ab", 32)
	// Organisations, their one user, the flaws.
	orgs := newRows("organisations", "id, name, kind, country, website, created_at")
	for m := 0; m < manus; m++ {
		orgs.add(orgID(m), fmt.Sprintf("Synthetic Maker %05d", m), "manufacturer", "DE", "", at)
	}
	users := newRows("users", "id, org_id, email, name, role, password_hash, disabled, created_at")
	users.add(userID, orgID(0), fmt.Sprintf("synthetic-%d@example.test", userID), "Synthetic", "manufacturer", "", true, at)
	advs := newRows("advisories", "id, flaw, format, doc_id, revision, doc_sha256, withdrawn, body, ingested_at")
	for _, f := range demo.SynthFlaws(now) {
		body, _ := json.Marshal(advisory.Advisory{ID: f.ID, Severity: advisory.Severity(f.Severity), Published: f.Published, Summary: "A synthetic flaw."})
		advs.add(f.ID, f.ID, "osv", f.ID, "1", digest, "", string(body), at)
	}
	if err := s.copyIn(ctx, orgs, users, advs); err != nil {
		return rep, err
	}
	rep.Manufacturers = manus
	// Products, a chunk per transaction, each table's rows of a chunk
	// written together (COPY on PostgreSQL, multi-row inserts on SQLite),
	// parents before children; the secondary indexes are dropped for the
	// load and built once at the end, which is what makes a million cheap.
	restore, err := s.dropIndexes(ctx, synthTables)
	if err != nil {
		return rep, err
	}
	defer func() {
		if restore != nil {
			restore(context.WithoutCancel(ctx))
		}
	}()
	const chunk = 10000
	var pending []demo.SynthProduct
	decID := base["decisions"] + 1
	write := func() error {
		prods := newRows("products", "id, manufacturer_id, name, brand, category, model_number, gtin, purl, cpe, published, created_at")
		vers := newRows("product_versions", "id, product_id, software_version, hardware_version, release_date, facts, sbom_format, sbom_digest, created_at")
		apps := newRows("applications", "id, product_version_id, scheme_id, scheme_version, level_id, state, assessor_org_id, created_by, created_at, updated_at, decision_reason")
		verdicts := newRows("findings", "application_id, requirement_id, verdict, rationale, evidence_ids, assessor_id, recorded_at")
		labels := newRows("labels", "id, application_id, product_version_id, scheme_id, scheme_version, level_id, status, status_index, issued_at, valid_until, credential, credential_hash, kid")
		events := newRows("label_events", "label_id, at, actor_user_id, action, from_status, to_status, reason")
		decs := newRows("decisions", "id, kind, subject, digest, status, status_index, reason_hash, at, state, log_index, receipt")
		finds := newRows("watch_findings", "version_id, advisory_id, basis, confidence, component, fixed, state, response, clocks, doc_sha256, first_seen, updated_at")
		for _, p := range pending {
			id := int64(p.Index) + 1
			pid, vid, aid := base["products"]+id, base["product_versions"]+id, base["applications"]+id
			prods.add(pid, orgID(p.Manufacturer), p.Product.Name, p.Product.Brand, p.Product.Category, p.Product.ModelNumber, "", "", "", true, at)
			facts, _ := json.Marshal(p.Version.Facts)
			sbom := ""
			if p.SBOM {
				sbom = "cyclonedx-json 1.6"
			}
			vers.add(vid, pid, p.Version.SoftwareVersion, "", p.Version.ReleaseDate, string(facts), sbom, "", at)
			rep.Products++
			seen := map[string]bool{} // one finding per flaw and version (the table's key)
			for _, f := range p.Findings {
				if seen[f.Flaw] {
					continue
				}
				seen[f.Flaw] = true
				finds.add(vid, f.Flaw, "purl-exact", 1.0, "pkg:generic/synthetic-lib@1.0.0", "1.0.1", f.State, "none", "", digest, ts(f.FirstSeen), ts(f.Updated))
				rep.Findings++
			}
			l := p.Label
			if l == nil {
				continue
			}
			issued := ts(l.Issued)
			apps.add(aid, vid, l.Level.Scheme, 1, l.Level.Level, "approved", nil, userID, issued, issued, "Synthetic.")
			for k, req := range l.Verdicts {
				if k >= SynthVerdicts {
					break
				}
				verdicts.add(aid, req, "pass", "", "", userID, issued)
			}
			lid := fmt.Sprintf("SY-%07d", p.Index)
			status := "active"
			if len(l.Events) > 0 {
				status = l.Events[len(l.Events)-1].Status
			}
			idx := maxIdx.Int64 + 1 + int64(p.Index)
			labels.add(lid, aid, vid, l.Level.Scheme, 1, l.Level.Level, status, idx, issued, "", "", digest, "synthetic")
			// Decisions wait for the log like any other (state pending):
			// the caller's server appends them (FlushDecisions), so the
			// market comes with a real log that verifies.
			dec := func(kind, st string, when time.Time) {
				decs.add(decID, kind, lid, digest, st, idx, "", ts(when), "pending", nil, "")
				decID++
				rep.Decisions++
			}
			events.add(lid, issued, nil, "issue", "", "active", "")
			dec("label.issued", "active", l.Issued)
			from := "active"
			for _, e := range l.Events {
				events.add(lid, ts(e.At), nil, e.Action, from, e.Status, "Synthetic.")
				kind := map[string]string{"suspend": "label.suspended", "restore": "label.restored", "revoke": "label.revoked",
					"surrender": "label.surrendered", "expire": "label.expired"}[e.Action]
				dec(kind, e.Status, e.At)
				from = e.Status
			}
			rep.Labels++
		}
		return s.copyIn(ctx, prods, vers, apps, verdicts, labels, events, decs, finds)
	}
	err = demo.Synth(n, seed, now, levels, func(p demo.SynthProduct) error {
		pending = append(pending, p)
		if len(pending) == chunk {
			if err := write(); err != nil {
				return err
			}
			pending = pending[:0]
			if progress != nil {
				rep.Took = time.Since(start)
				progress(rep)
			}
		}
		return nil
	})
	if err == nil && len(pending) > 0 {
		err = write()
	}
	if err != nil {
		return rep, err
	}
	t := time.Now()
	err, restore = restore(ctx), nil
	if err != nil {
		return rep, err
	}
	rep.Indexes = time.Since(t)
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
	Decisions                                 int           // written pending: the caller's server logs them
	Indexes                                   time.Duration // building the secondary indexes at the end
	Took                                      time.Duration
}

// synthTables are the tables LoadSynthetic fills in bulk.
var synthTables = []string{"products", "product_versions", "applications", "findings", "labels", "label_events", "decisions", "watch_findings"}
