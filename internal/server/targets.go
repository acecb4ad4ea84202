package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// Declared targets and transparency reports. A target is an
// organisation's logged decision: declared through the gate, its
// declaration's SHA-256 in the transparency log, never changed afterwards
// (a revision is a new target that supersedes it, logged too).

// TargetDeclaration is what an organisation declares. RefValue, when
// nil, is read from the data at the reference month.
type TargetDeclaration struct {
	Target   insight.Target
	RefValue *float64
}

// ReportRequest publishes an organisation's transparency report for a
// month already over.
type ReportRequest struct {
	Org    int64
	Period string // YYYY-MM
}

// MaxTargets bounds the targets one organisation keeps (superseded ones
// included), and the targets one list shows.
const MaxTargets = 200

// newTargetID is T- and eight characters, like a label id.
func newTargetID() string { return "T" + strings.TrimPrefix(newLabelID(), "HM") }

// decideTarget declares one target.
func (s *Server) decideTarget(ctx context.Context, p Principal, r Request) (Outcome, error) {
	d := *r.Target
	t := d.Target
	t.Organisation = p.OrgID
	if err := allow(p, auth.ActionTargetDeclare, auth.Object{Owner: t.Organisation}); err != nil {
		return Outcome{}, err
	}
	def, err := insight.Lookup(t.Indicator, 0)
	if err != nil {
		return Outcome{}, insightErr(err)
	}
	at := s.at(r)
	if err := t.Normalise(def, at); err != nil {
		return Outcome{}, insightErr(err)
	}
	if d.RefValue != nil {
		t.RefValue = *d.RefValue
		if math.IsNaN(t.RefValue) || t.RefValue < 0 || (def.Unit == insight.Share && t.RefValue > 1) {
			return Outcome{}, fmt.Errorf("%w: reference_value: a share from 0 to 1, or a number of %s of 0 or more", ErrInvalid, def.Unit)
		}
	} else {
		v, err := s.valueAt(ctx, def, t.Scope, t.RefMonth)
		if err != nil {
			return Outcome{}, err
		}
		t.RefValue = v
	}
	org, err := s.store.Organisation(ctx, t.Organisation)
	if err != nil {
		return Outcome{}, err
	}
	t.OrgName = org.Name
	if t.Supersedes != "" {
		old, err := s.store.Target(ctx, t.Supersedes)
		if err != nil || old.OrgID != t.Organisation {
			return Outcome{}, fmt.Errorf("%w: supersedes: no target %s of yours", store.ErrNotFound, t.Supersedes)
		}
	}
	if have, err := s.store.Targets(ctx, t.Organisation, MaxTargets+1); err != nil {
		return Outcome{}, err
	} else if len(have) >= MaxTargets {
		return Outcome{}, fmt.Errorf("%w: an organisation keeps at most %d targets", ErrInvalid, MaxTargets)
	}
	t.ID, t.DeclaredAt, t.SupersededBy = newTargetID(), at.UTC().Truncate(time.Second), ""
	body, err := json.Marshal(t)
	if err != nil {
		return Outcome{}, err
	}
	digest := t.Digest()
	// The row keeps the exact time (the declaration, to the second as the
	// log does), so two declarations of one second list in order.
	id, err := s.store.WriteTarget(ctx, store.TargetRow{ID: t.ID, OrgID: t.Organisation, Body: body, Digest: digest, Supersedes: t.Supersedes, DeclaredAt: at},
		registry.Decision{Kind: tlog.KindTargetDeclared, Subject: "target:" + t.ID, Digest: digest, StatusIndex: -1, At: t.DeclaredAt}, p.UserID)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{DecisionID: id, Target: t}, nil
}

// valueAt is an indicator's total at the end of a month.
func (s *Server) valueAt(ctx context.Context, def *insight.Definition, scope insight.Query, month string) (float64, error) {
	m, err := s.Market(ctx)
	if err != nil {
		return 0, err
	}
	q := scope
	q.From, q.To = month, month
	f, err := insight.Compute(m, def, q)
	if err != nil {
		return 0, insightErr(err)
	}
	if len(f.Series) == 0 || !f.Series[0].Value.Defined() {
		return 0, fmt.Errorf("%w: the data give no value for %s in %s; give reference_value", ErrInvalid, def.ID, month)
	}
	return float64(f.Series[0].Value), nil
}

// DeclareTarget declares a target for the principal's organisation.
func (s *Server) DeclareTarget(ctx context.Context, p Principal, d TargetDeclaration) (insight.Target, error) {
	o, err := s.decideOne(ctx, p, Request{Target: &d})
	return o.Target, err
}

// TargetView is a target with its progress and its place in the log.
type TargetView struct {
	Target     insight.Target
	Definition *insight.Definition
	Progress   insight.Progress
	Checkpoint insight.Checkpoint
	// Logged is the target's logged decision (zero Kind if none yet).
	Logged registry.Decision
	// Intact: the stored declaration hashes to the digest its logged
	// decision holds. A false here means the row was changed behind the log.
	Intact bool
}

// Target returns one target with its progress.
func (s *Server) Target(ctx context.Context, id string) (TargetView, error) {
	row, err := s.store.Target(ctx, id)
	if err != nil {
		return TargetView{}, err
	}
	return s.targetView(ctx, row, "")
}

// Targets lists targets, of one organisation when org is non-zero.
func (s *Server) Targets(ctx context.Context, org int64) ([]TargetView, error) {
	rows, err := s.store.Targets(ctx, org, MaxTargets)
	if err != nil {
		return nil, err
	}
	out := make([]TargetView, 0, len(rows))
	for _, r := range rows {
		v, err := s.targetView(ctx, r, "")
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// targetView measures a target; upTo, when set (YYYY-MM), ends its series
// at that month (a report's period).
func (s *Server) targetView(ctx context.Context, row store.TargetRow, upTo string) (TargetView, error) {
	var v TargetView
	if err := json.Unmarshal(row.Body, &v.Target); err != nil {
		return v, fmt.Errorf("stored target %s: %w", row.ID, err)
	}
	v.Target.SupersededBy = row.SupersededBy
	ds, err := s.store.Decisions(ctx, "target:"+row.ID)
	if err != nil {
		return v, err
	}
	for _, d := range ds {
		if d.Kind == tlog.KindTargetDeclared {
			v.Logged = d
		}
	}
	v.Intact = v.Logged.Digest != "" && v.Logged.Digest == v.Target.Digest() && row.Digest == v.Logged.Digest
	def, err := insight.Lookup(v.Target.Indicator, v.Target.Version)
	if err != nil {
		return v, err
	}
	v.Definition = def
	m, err := s.Market(ctx)
	if errors.Is(err, ErrNoLog) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.Checkpoint = m.Checkpoint
	q := v.Target.Scope
	q.From = v.Target.RefMonth
	end := m.At.Format("2006-01")
	if v.Target.Due < end {
		end = v.Target.Due
	}
	if upTo != "" && upTo < end {
		end = upTo
	}
	q.To = end
	if q.From > q.To {
		v.Progress = insight.Assess(v.Target, def, nil)
		return v, nil
	}
	f, err := insight.Compute(m, def, q)
	if err != nil {
		// A scope that no longer resolves (a scheme withdrawn) says so
		// rather than failing the whole list.
		v.Progress = insight.Assess(v.Target, def, nil)
		v.Progress.Summary = "Progress cannot be computed: " + insightErr(err).Error()
		return v, nil
	}
	v.Progress = insight.Assess(v.Target, def, f.Series)
	return v, nil
}

// Report is an organisation's transparency report for a month: each of
// its targets standing at the month's end, measured to it.
type Report struct {
	ID           string             `json:"id,omitempty"`
	Organisation int64              `json:"organisation_id"`
	OrgName      string             `json:"organisation"`
	Period       string             `json:"period"`
	Checkpoint   insight.Checkpoint `json:"checkpoint"`
	ComputedAt   time.Time          `json:"computed_at"`
	Targets      []ReportTarget     `json:"targets"`
	Summary      string             `json:"summary"`
	Published    time.Time          `json:"published_at,omitzero"`
	Digest       string             `json:"digest,omitempty"`
}

// ReportTarget is one target's line in a report.
type ReportTarget struct {
	Target   insight.Target   `json:"target"`
	Progress insight.Progress `json:"progress"`
}

// TransparencyReport computes an organisation's report for a period
// (YYYY-MM), without publishing it.
func (s *Server) TransparencyReport(ctx context.Context, org int64, period string) (Report, error) {
	p, err := time.Parse("2006-01", period)
	if err != nil {
		return Report{}, fmt.Errorf("%w: period: a month as YYYY-MM", ErrInvalid)
	}
	if p.After(s.now()) {
		return Report{}, fmt.Errorf("%w: period %s has not begun", ErrInvalid, period)
	}
	o, err := s.store.Organisation(ctx, org)
	if err != nil {
		return Report{}, err
	}
	rows, err := s.store.Targets(ctx, org, MaxTargets)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Organisation: org, OrgName: o.Name, Period: period, ComputedAt: s.now().UTC().Truncate(time.Second)}
	end := p.AddDate(0, 1, 0)
	classes := map[insight.Class]int{}
	for _, r := range rows {
		// A target counts in the periods it stood in: declared before the
		// period ended, not superseded before it began.
		if !r.DeclaredAt.Before(end) {
			continue
		}
		v, err := s.targetView(ctx, r, period)
		if err != nil {
			return Report{}, err
		}
		if v.Target.SupersededBy != "" {
			if next, err := s.store.Target(ctx, v.Target.SupersededBy); err == nil && next.DeclaredAt.Before(p) {
				continue
			}
		}
		rep.Checkpoint = v.Checkpoint
		rep.Targets = append(rep.Targets, ReportTarget{Target: v.Target, Progress: v.Progress})
		classes[v.Progress.Class]++
	}
	if rep.Checkpoint.Size == 0 {
		if cp, err := s.Checkpoint(ctx); err == nil {
			rep.Checkpoint = cp
		}
	}
	if len(rep.Targets) == 0 {
		rep.Summary = fmt.Sprintf("%s had no declared targets in %s.", o.Name, period)
	} else {
		var parts []string
		for _, c := range []insight.Class{insight.OnTrack, insight.Moderate, insight.Insufficient, insight.MovingAway, insight.NoData} {
			if classes[c] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", classes[c], c))
			}
		}
		rep.Summary = fmt.Sprintf("%s's %d target(s) at the end of %s: %s.", o.Name, len(rep.Targets), period, strings.Join(parts, ", "))
	}
	return rep, nil
}

// decideReport publishes one report.
func (s *Server) decideReport(ctx context.Context, p Principal, r Request) (Outcome, error) {
	req := *r.Report
	if !p.IsSystem() {
		req.Org = p.OrgID
	}
	if err := allow(p, auth.ActionReportPublish, auth.Object{Owner: req.Org}); err != nil {
		return Outcome{}, err
	}
	pm, err := time.Parse("2006-01", req.Period)
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: period: a month as YYYY-MM", ErrInvalid)
	}
	at := s.at(r)
	if !pm.AddDate(0, 1, 0).Before(at) {
		return Outcome{}, fmt.Errorf("%w: the report for %s can be published once the month is over", ErrInvalid, req.Period)
	}
	rep, err := s.TransparencyReport(ctx, req.Org, req.Period)
	if err != nil {
		return Outcome{}, err
	}
	rep.ID = "R-" + fmt.Sprint(req.Org) + "-" + req.Period
	rep.Published = at.UTC().Truncate(time.Second)
	body, err := json.Marshal(rep)
	if err != nil {
		return Outcome{}, err
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	id, err := s.store.WriteReport(ctx, store.ReportRow{ID: rep.ID, OrgID: req.Org, Period: req.Period, Body: body, Digest: digest, PublishedAt: rep.Published},
		registry.Decision{Kind: tlog.KindReportPublished, Subject: "report:" + rep.ID, Digest: digest, StatusIndex: -1, At: rep.Published}, p.UserID)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{DecisionID: id, Report: rep.ID}, nil
}

// PublishReport publishes the principal's organisation's report for a period.
func (s *Server) PublishReport(ctx context.Context, p Principal, period string) (string, error) {
	o, err := s.decideOne(ctx, p, Request{Report: &ReportRequest{Org: p.OrgID, Period: period}})
	return o.Report, err
}

// PublishedReport returns a published report as it was published, and
// whether it still matches its logged digest.
func (s *Server) PublishedReport(ctx context.Context, id string) (Report, bool, error) {
	row, err := s.store.Report(ctx, id)
	if err != nil {
		return Report{}, false, err
	}
	var rep Report
	if err := json.Unmarshal(row.Body, &rep); err != nil {
		return Report{}, false, fmt.Errorf("stored report %s: %w", id, err)
	}
	sum := sha256.Sum256(row.Body)
	ds, err := s.store.Decisions(ctx, "report:"+id)
	if err != nil {
		return Report{}, false, err
	}
	intact := false
	for _, d := range ds {
		intact = intact || d.Kind == tlog.KindReportPublished && d.Digest == hex.EncodeToString(sum[:]) && d.Digest == row.Digest
	}
	rep.Digest = row.Digest
	return rep, intact, nil
}

// ReportAsPublished returns a published report's exact bytes: what its
// logged digest is the SHA-256 of, so an auditor can check it.
func (s *Server) ReportAsPublished(ctx context.Context, id string) ([]byte, error) {
	row, err := s.store.Report(ctx, id)
	if err != nil {
		return nil, err
	}
	return row.Body, nil
}

// Reports lists an organisation's published reports, newest first.
func (s *Server) Reports(ctx context.Context, org int64) ([]store.ReportRow, error) {
	return s.store.Reports(ctx, org, 120)
}

// publishDueReports publishes, as Hallmark, last month's report of every
// organisation with targets that has not published it: the periodic
// transparency report.
func (s *Server) publishDueReports(ctx context.Context) {
	rows, err := s.store.Targets(ctx, 0, 100000)
	if err != nil {
		slog.Warn("transparency reports", "err", err)
		return
	}
	last := s.now().AddDate(0, -1, 0).Format("2006-01")
	done := map[int64]bool{}
	for _, r := range rows {
		if done[r.OrgID] || r.DeclaredAt.Format("2006-01") > last {
			continue
		}
		done[r.OrgID] = true
		if _, err := s.store.Report(ctx, "R-"+fmt.Sprint(r.OrgID)+"-"+last); err == nil {
			continue
		}
		if _, err := s.decideOne(ctx, auth.System, Request{Report: &ReportRequest{Org: r.OrgID, Period: last}}); err != nil && !errors.Is(err, store.ErrConflict) {
			slog.Warn("transparency report", "organisation", r.OrgID, "period", last, "err", err)
		}
	}
}
