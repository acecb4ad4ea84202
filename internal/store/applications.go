package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/registry"
)

// CreateApplication opens a draft application.
func (s *Store) CreateApplication(ctx context.Context, versionID int64, schemeID string, schemeVersion int, level string, actor, org int64, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO applications (product_version_id, scheme_id, scheme_version, level_id, state, created_by, created_at, updated_at, decision_reason)
			VALUES ($1, $2, $3, $4, 'draft', $5, $6, $6, '') RETURNING id`, versionID, schemeID, schemeVersion, level, actor, ts(now)).Scan(&id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, org, "application.create", "application", fmt.Sprint(id), schemeID+"@"+level)
	})
	return id, err
}

const appCols = `a.id, a.product_version_id, p.id, p.name, p.manufacturer_id, m.name, v.software_version, a.scheme_id, a.scheme_version, a.level_id,
	a.state, COALESCE(a.assessor_org_id, 0), COALESCE(l.name, ''), a.created_by, a.created_at, a.updated_at, a.decision_reason, COALESCE(lb.id, '')`

const appFrom = ` FROM applications a
	JOIN product_versions v ON v.id = a.product_version_id
	JOIN products p ON p.id = v.product_id
	JOIN organisations m ON m.id = p.manufacturer_id
	LEFT JOIN organisations l ON l.id = a.assessor_org_id
	LEFT JOIN labels lb ON lb.application_id = a.id`

func scanApp(r interface{ Scan(...any) error }) (registry.Application, error) {
	var a registry.Application
	var state, created, updated string
	err := r.Scan(&a.ID, &a.VersionID, &a.ProductID, &a.ProductName, &a.ManufacturerID, &a.Manufacturer, &a.SoftwareVersion, &a.SchemeID,
		&a.SchemeVersion, &a.LevelID, &state, &a.AssessorOrgID, &a.AssessorOrg, &a.CreatedBy, &created, &updated, &a.DecisionReason, &a.LabelID)
	a.State, a.Created, a.Updated = assess.State(state), parseTS(created), parseTS(updated)
	return a, err
}

// Application returns one application.
func (s *Store) Application(ctx context.Context, id int64) (registry.Application, error) {
	a, err := scanApp(s.db.QueryRowContext(ctx, `SELECT `+appCols+appFrom+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// AppQuery filters applications: by manufacturer, by assessor lab, by the
// schemes an authority administers, by state.
type AppQuery struct {
	ManufacturerID int64
	AssessorOrgID  int64
	Schemes        []string
	States         []assess.State
	Limit, Offset  int
}

// Applications lists applications matching q, newest first, with the total.
func (s *Store) Applications(ctx context.Context, q AppQuery) ([]registry.Application, int, error) {
	var conds []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.ManufacturerID != 0 {
		conds = append(conds, "p.manufacturer_id = "+arg(q.ManufacturerID))
	}
	if q.AssessorOrgID != 0 {
		conds = append(conds, "a.assessor_org_id = "+arg(q.AssessorOrgID))
	}
	if q.Schemes != nil {
		if len(q.Schemes) == 0 {
			return nil, 0, nil
		}
		var ph []string
		for _, sc := range q.Schemes {
			ph = append(ph, arg(sc))
		}
		conds = append(conds, "a.scheme_id IN ("+strings.Join(ph, ", ")+")")
	}
	if len(q.States) > 0 {
		var ph []string
		for _, st := range q.States {
			ph = append(ph, arg(string(st)))
		}
		conds = append(conds, "a.state IN ("+strings.Join(ph, ", ")+")")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+appFrom+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	limit, offset := arg(q.Limit), arg(q.Offset)
	var out []registry.Application
	err := s.each(ctx, `SELECT `+appCols+appFrom+where+` ORDER BY a.updated_at DESC, a.id DESC LIMIT `+limit+` OFFSET `+offset, func(r *sql.Rows) error {
		a, err := scanApp(r)
		out = append(out, a)
		return err
	}, args...)
	return out, total, err
}

func transition(ctx context.Context, tx *sql.Tx, c AppChange) error {
	id, from, to, step, actor, org, note, assessorOrg, now := c.AppID, c.From, c.To, c.Step, c.UserID, c.OrgID, c.Note, c.Lab, c.At
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	set := "state = " + arg(string(to)) + ", updated_at = " + arg(ts(now))
	if step == assess.Approve || step == assess.Reject {
		// The reason for a decision stays on the application itself.
		set += ", decision_reason = " + arg(note)
	}
	if assessorOrg != 0 && step == assess.Assign {
		set += ", assessor_org_id = " + arg(assessorOrg)
	}
	res, err := tx.ExecContext(ctx, "UPDATE applications SET "+set+" WHERE id = "+arg(id)+" AND state = "+arg(string(from)), args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: the application changed meanwhile; reload it", ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO application_events (application_id, at, actor_user_id, step, from_state, to_state, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, ts(now), nullID(actor), string(step), string(from), string(to), note); err != nil {
		return err
	}
	return audit(ctx, tx, now, actor, org, "application."+string(step), "application", fmt.Sprint(id), note)
}

// AppEvents returns an application's history, oldest first.
func (s *Store) AppEvents(ctx context.Context, id int64) ([]registry.AppEvent, error) {
	var out []registry.AppEvent
	err := s.each(ctx, `SELECT e.at, COALESCE(e.actor_user_id, 0), COALESCE(u.name, ''), e.step, e.from_state, e.to_state, e.note
		FROM application_events e LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.application_id = $1 ORDER BY e.id`, func(r *sql.Rows) error {
		var e registry.AppEvent
		var at, from, to string
		if err := r.Scan(&at, &e.UserID, &e.UserName, &e.Step, &from, &to, &e.Note); err != nil {
			return err
		}
		e.At, e.From, e.To = parseTS(at), assess.State(from), assess.State(to)
		out = append(out, e)
		return nil
	}, id)
	return out, err
}

// AddEvidence records an evidence file already written to the evidence store.
func (s *Store) AddEvidence(ctx context.Context, e registry.Evidence, org int64, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO evidence (application_id, uploaded_by, name, content_type, size, sha256, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, e.ApplicationID, e.UploadedBy, e.Name, e.ContentType, e.Size, e.SHA256, ts(now)).Scan(&id); err != nil {
			return err
		}
		if _, err := insertUpload(ctx, tx, org, "evidence", e.Size, 1, "stored", now); err != nil { // the quotas' ledger
			return err
		}
		return audit(ctx, tx, now, e.UploadedBy, org, "evidence.add", "application", fmt.Sprint(e.ApplicationID), e.Name+" "+e.SHA256)
	})
	return id, err
}

// EvidenceList lists an application's evidence.
func (s *Store) EvidenceList(ctx context.Context, appID int64) ([]registry.Evidence, error) {
	var out []registry.Evidence
	err := s.each(ctx, `SELECT id, application_id, name, content_type, size, sha256, uploaded_by, created_at FROM evidence WHERE application_id = $1 ORDER BY id`,
		func(r *sql.Rows) error {
			var e registry.Evidence
			var at string
			err := r.Scan(&e.ID, &e.ApplicationID, &e.Name, &e.ContentType, &e.Size, &e.SHA256, &e.UploadedBy, &at)
			e.Created = parseTS(at)
			out = append(out, e)
			return err
		}, appID)
	return out, err
}

// RecordFinding stores (or replaces) the verdict on one requirement while
// the application is in assessment.
func (s *Store) RecordFinding(ctx context.Context, appID int64, f assess.Finding, assessor, org int64, now time.Time) error {
	var ev []string
	for _, id := range f.Evidence {
		ev = append(ev, strconv.FormatInt(id, 10))
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM applications WHERE id = $1`, appID).Scan(&state); err != nil {
			return err
		}
		if assess.State(state) != assess.InAssessment {
			return fmt.Errorf("%w: findings are recorded while the application is in assessment, not %s", assess.ErrIllegal, state)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM findings WHERE application_id = $1 AND requirement_id = $2`, appID, f.Requirement); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO findings (application_id, requirement_id, verdict, rationale, evidence_ids, assessor_id, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, appID, f.Requirement, string(f.Verdict), f.Rationale, strings.Join(ev, ","), assessor, ts(now)); err != nil {
			return err
		}
		return audit(ctx, tx, now, assessor, org, "finding.record", "application", fmt.Sprint(appID), f.Requirement+" "+string(f.Verdict))
	})
}

// Findings lists an application's findings.
func (s *Store) Findings(ctx context.Context, appID int64) ([]assess.Finding, error) {
	var out []assess.Finding
	err := s.each(ctx, `SELECT f.requirement_id, f.verdict, f.rationale, f.evidence_ids, u.name, f.recorded_at
		FROM findings f JOIN users u ON u.id = f.assessor_id WHERE f.application_id = $1 ORDER BY f.requirement_id`, func(r *sql.Rows) error {
		var f assess.Finding
		var verdict, ev string
		if err := r.Scan(&f.Requirement, &verdict, &f.Rationale, &ev, &f.Assessor, &f.RecordedAt); err != nil {
			return err
		}
		f.Verdict = assess.Verdict(verdict)
		for _, s := range strings.Split(ev, ",") {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				f.Evidence = append(f.Evidence, id)
			}
		}
		out = append(out, f)
		return nil
	}, appID)
	return out, err
}

// RecordFindings stores many verdicts at once (the demo, bulk imports),
// with the same rule as RecordFinding: only while in assessment.
func (s *Store) RecordFindings(ctx context.Context, appID int64, fs []assess.Finding, assessor, org int64, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM applications WHERE id = $1`, appID).Scan(&state); err != nil {
			return err
		}
		if assess.State(state) != assess.InAssessment {
			return fmt.Errorf("%w: findings are recorded while the application is in assessment, not %s", assess.ErrIllegal, state)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO findings (application_id, requirement_id, verdict, rationale, evidence_ids, assessor_id, recorded_at)
			VALUES ($1, $2, $3, $4, '', $5, $6)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, f := range fs {
			if _, err := stmt.ExecContext(ctx, appID, f.Requirement, string(f.Verdict), f.Rationale, assessor, ts(now)); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, assessor, org, "finding.record", "application", fmt.Sprint(appID), fmt.Sprintf("%d findings", len(fs)))
	})
}

// ProductApplications returns the labs assigned to, and the schemes of,
// every application for any version of a product: who may see the
// product before it is published.
func (s *Store) ProductApplications(ctx context.Context, productID int64) (labs []int64, schemes []string, err error) {
	err = s.each(ctx, `SELECT DISTINCT COALESCE(a.assessor_org_id, 0), a.scheme_id FROM applications a
		JOIN product_versions v ON v.id = a.product_version_id WHERE v.product_id = $1`, func(r *sql.Rows) error {
		var lab int64
		var sc string
		if err := r.Scan(&lab, &sc); err != nil {
			return err
		}
		if lab != 0 && !slices.Contains(labs, lab) {
			labs = append(labs, lab)
		}
		if !slices.Contains(schemes, sc) {
			schemes = append(schemes, sc)
		}
		return nil
	}, productID)
	return labs, schemes, err
}
