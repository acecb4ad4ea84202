package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/watch"
)

// The post-market watch: advisories, exploitation data and VEX are stored
// as read; every labelled product version is matched against them
// (package watch); each scheme's rules propose what follows (package
// watch); the label actions go through the decision gate as the system,
// with reasons naming the finding, the rule and the source document.

// IngestOptions adjust one ingest.
type IngestOptions struct {
	// Confirm applies label changes even when they exceed the hold share: an
	// authority has looked at what the feed would do.
	Confirm bool
	// versions, when set, limits the judging to these product versions (a
	// manufacturer's answer or VEX concerns one version only).
	versions map[int64]bool
}

// DefaultHoldShare is the share of all labels one ingest may change on its
// own (Config.WatchHoldShare); past it the changes are held for an
// authority to confirm. Upstream feeds are not trusted blindly.
const DefaultHoldShare = 0.05

// DefaultHoldMin is the fewest label changes ever held: a small registry
// is not held on every advisory.
const DefaultHoldMin = 10

func (s *Server) holdMin() int {
	if s.cfg.WatchHoldMin > 0 {
		return s.cfg.WatchHoldMin
	}
	return DefaultHoldMin
}

func (s *Server) holdShare() float64 {
	if s.cfg.WatchHoldShare > 0 {
		return s.cfg.WatchHoldShare
	}
	return DefaultHoldShare
}

// IngestReport says what one ingest did.
type IngestReport struct {
	Document   string `json:"document"`
	Format     string `json:"format"`
	SHA256     string `json:"sha256"`
	Advisories int    `json:"advisories"` // stored new or replacing an older revision
	Unchanged  int    `json:"unchanged"`  // the same revision was stored already
	Older      int    `json:"older"`      // an older revision than the stored one: ignored
	Exploited  int    `json:"exploited"`
	Statements int    `json:"statements"` // VEX statements matched to registered versions
	WatchRun
}

// WatchRun is what one pass of matching and rules did.
type WatchRun struct {
	Findings  int    `json:"findings"`     // findings touched by this pass
	Review    int    `json:"needs_review"` // fuzzy matches waiting for a person
	Notified  int    `json:"notified"`
	Deadlines int    `json:"deadlines"`
	Suspended int    `json:"suspended"`
	Restored  int    `json:"restored"`
	Revoked   int    `json:"revoked"`
	Expired   int    `json:"expired"`
	Held      bool   `json:"held,omitempty"`
	Why       string `json:"held_reason,omitempty"`
}

// CheckIngest says whether the principal may feed the watch, before a
// document is even parsed on its behalf.
func (s *Server) CheckIngest(p Principal) error {
	return allow(p, auth.ActionAdvisoryIngest, auth.Object{})
}

// Add sums two reports (a feed's batches, a directory's documents).
func (a IngestReport) Add(b IngestReport) IngestReport {
	a.Advisories += b.Advisories
	a.Unchanged += b.Unchanged
	a.Older += b.Older
	a.Exploited += b.Exploited
	a.Statements += b.Statements
	a.WatchRun = a.WatchRun.add(b.WatchRun)
	return a
}

func (a WatchRun) add(b WatchRun) WatchRun {
	a.Findings += b.Findings
	a.Review += b.Review
	a.Notified += b.Notified
	a.Deadlines += b.Deadlines
	a.Suspended += b.Suspended
	a.Restored += b.Restored
	a.Revoked += b.Revoked
	a.Expired += b.Expired
	if b.Held {
		a.Held, a.Why = true, b.Why
	}
	return a
}

// Ingest stores parsed documents and then acts on them in one watch pass.
// Ingesting the same documents twice changes nothing the second time.
func (s *Server) Ingest(ctx context.Context, p Principal, docs []*advisory.Document, opts IngestOptions) (IngestReport, error) {
	if err := s.CheckIngest(p); err != nil {
		return IngestReport{}, err
	}
	return s.ingestAt(ctx, docs, opts, s.now())
}

func (s *Server) ingestAt(ctx context.Context, docs []*advisory.Document, opts IngestOptions, now time.Time) (IngestReport, error) {
	var rep IngestReport
	for _, doc := range docs { // all or nothing: refuse before storing any
		if err := checkDocument(doc); err != nil {
			return rep, err
		}
	}
	if len(docs) == 1 {
		rep.Document, rep.Format, rep.SHA256 = docs[0].ID, string(docs[0].Format), docs[0].SHA256
	}
	stored, err := s.store.AdvisoryRevisions(ctx)
	if err != nil {
		return rep, err
	}
	var put []registry.StoredAdvisory
	var touched []string
	cves, ransom := map[string]time.Time{}, map[string]bool{}
	var kevSHA string
	for _, doc := range docs {
		for _, a := range doc.Advisories {
			if have, ok := stored[a.ID]; ok {
				switch c := compareRevision(doc.Revision, have[0]); {
				case have[1] == doc.SHA256 || c == 0:
					rep.Unchanged++
					continue
				case c < 0:
					rep.Older++
					continue
				}
			}
			body, err := json.Marshal(a)
			if err != nil {
				return rep, err
			}
			put = append(put, registry.StoredAdvisory{ID: a.ID, Format: string(doc.Format), DocID: doc.ID, Revision: doc.Revision,
				DocSHA256: doc.SHA256, Withdrawn: !a.Withdrawn.IsZero(), Body: body})
			stored[a.ID] = [2]string{doc.Revision, doc.SHA256}
			touched = append(touched, a.ID)
		}
		for _, e := range doc.Exploited {
			cves[e.CVE], ransom[e.CVE], kevSHA = e.DateAdded, e.Ransomware, doc.SHA256
		}
		if len(doc.Statements) > 0 {
			n, err := s.putStatements(ctx, doc, 0)
			if err != nil {
				return rep, err
			}
			rep.Statements += n
		}
	}
	if err := s.assignFlaws(ctx, put); err != nil {
		return rep, err
	}
	for start := 0; start < len(put); start += 500 { // no write holds the database for long
		if err := s.store.PutAdvisories(ctx, put[start:min(start+500, len(put))], now); err != nil {
			return rep, err
		}
	}
	rep.Advisories = len(put)
	if len(cves) > 0 {
		if err := s.store.PutExploited(ctx, cves, ransom, kevSHA); err != nil {
			return rep, err
		}
		rep.Exploited = len(cves)
	}
	if touched == nil {
		touched = []string{} // nothing new to match; still judge every finding
	}
	run, err := s.runWatchAt(ctx, touched, opts, now)
	rep.WatchRun = run
	return rep, err
}

// assignFlaws gives each new advisory its flaw key, grouping it with every
// stored advisory it shares an id or alias with (aliases are symmetric;
// upstream ids are not aliases), and moves stored advisories whose group
// the new ones joined to the group's key.
func (s *Server) assignFlaws(ctx context.Context, put []registry.StoredAdvisory) error {
	if len(put) == 0 {
		return nil
	}
	stored, err := s.store.Advisories(ctx)
	if err != nil {
		return err
	}
	var al advisory.Aliases
	old := map[string]string{}
	for _, sa := range stored {
		var a advisory.Advisory
		if err := json.Unmarshal(sa.Body, &a); err != nil {
			return fmt.Errorf("stored advisory %s: %w", sa.ID, err)
		}
		al.Add(a)
		old[sa.ID] = sa.Flaw
	}
	for _, p := range put {
		var a advisory.Advisory
		if err := json.Unmarshal(p.Body, &a); err != nil {
			return err
		}
		al.Add(a)
	}
	for i := range put {
		put[i].Flaw = al.Key(put[i].ID)
	}
	moved := map[string]string{}
	for id, f := range old {
		if k := al.Key(id); k != f {
			moved[id] = k
		}
	}
	return s.store.SetFlaws(ctx, moved)
}

// compareRevision orders revisions: numeric dotted versions (CSAF
// tracking.version) by number, anything else (OSV modified timestamps) as text.
func compareRevision(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xn, e1 := strconv.Atoi(x)
		yn, e2 := strconv.Atoi(y)
		if e1 != nil || e2 != nil {
			return strings.Compare(a, b)
		}
		if xn != yn {
			return xn - yn
		}
	}
	return 0
}

// putStatements resolves VEX statements to registered product versions
// (onlyVersion, when non-zero, is the version a manufacturer uploaded the
// VEX for) and stores them.
func (s *Server) putStatements(ctx context.Context, doc *advisory.Document, onlyVersion int64) (int, error) {
	targets, err := s.store.WatchTargets(ctx)
	if err != nil {
		return 0, err
	}
	var out []registry.VEXStatement
	for _, st := range doc.Statements {
		for _, t := range targets {
			if onlyVersion != 0 && t.VersionID != onlyVersion {
				continue
			}
			if onlyVersion == 0 && !vexNames(st.Product, t) {
				continue
			}
			at := st.Timestamp
			if at.IsZero() {
				at = s.now()
			}
			for _, id := range append([]string{st.Vulnerability}, st.Aliases...) {
				out = append(out, registry.VEXStatement{Vulnerability: id, VersionID: t.VersionID, Component: st.Component,
					Status: string(st.Status), Justification: st.Justification, DocSHA256: doc.SHA256, At: at})
			}
		}
	}
	return len(out), s.store.PutVEX(ctx, out)
}

// vexNames reports whether a VEX statement's product is this labelled
// version: by the registered product purl or CPE, or the model number,
// with the version when the statement gives one.
func vexNames(ref advisory.ProductRef, t registry.WatchTarget) bool {
	versionOK := ref.Version == "" || strings.TrimPrefix(ref.Version, "v") == strings.TrimPrefix(t.SoftwareVersion, "v")
	if ref.PURL != "" && t.PURL != "" {
		base, ver, _ := strings.Cut(ref.PURL, "@")
		if ver != "" {
			versionOK = strings.TrimPrefix(ver, "v") == strings.TrimPrefix(t.SoftwareVersion, "v")
		}
		if strings.EqualFold(base, strings.Split(t.PURL, "@")[0]) {
			return versionOK
		}
	}
	if ref.CPE != "" && t.CPE != "" {
		a, err1 := watch.ParseCPE(ref.CPE)
		b, err2 := watch.ParseCPE(t.CPE)
		if err1 == nil && err2 == nil && a.Vendor == b.Vendor && a.Product == b.Product {
			return versionOK
		}
	}
	return slices.ContainsFunc(ref.ModelNumbers, func(m string) bool { return strings.EqualFold(m, t.ModelNumber) }) && versionOK
}

// target is a labelled version as the rules see it.
type target struct {
	registry.WatchTarget
	rules []scheme.Rule
}

// RunWatch matches every stored advisory against every labelled product
// version and applies the schemes' rules: the full re-match, and the
// periodic pass that notices remediation clocks running out.
func (s *Server) RunWatch(ctx context.Context, p Principal, opts IngestOptions) (WatchRun, error) {
	if err := allow(p, auth.ActionAdvisoryIngest, auth.Object{}); err != nil {
		return WatchRun{}, err
	}
	return s.runWatch(ctx, nil, opts)
}

// runWatch matches the advisories named (every stored one when nil) and
// then judges every finding by its scheme's rules.
func (s *Server) runWatch(ctx context.Context, only []string, opts IngestOptions) (WatchRun, error) {
	return s.runWatchAt(ctx, only, opts, s.now())
}

// runWatchAt is runWatch as of a time: the demo loader plays the watch over
// a past month, as it plays the workflow.
func (s *Server) runWatchAt(ctx context.Context, only []string, opts IngestOptions, now time.Time) (WatchRun, error) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	var run WatchRun
	targets, err := s.store.WatchTargets(ctx)
	if err != nil {
		return run, err
	}
	// A version may carry labels of several schemes: it is indexed once,
	// and judged once per label, by that label's scheme.
	idx := watch.NewIndex()
	byVersion := map[int64][]target{}
	for _, t := range targets {
		tg := target{WatchTarget: t}
		if sc, err := s.schemeVersion(ctx, t.Label.SchemeID, t.Label.SchemeVersion); err == nil {
			tg.rules = sc.Rules
		}
		if _, indexed := byVersion[t.VersionID]; indexed {
			byVersion[t.VersionID] = append(byVersion[t.VersionID], tg)
			continue
		}
		byVersion[t.VersionID] = []target{tg}
		if only != nil && len(only) == 0 {
			continue // nothing to match this pass: only judging
		}
		comps := make([]watch.Component, len(t.Components))
		for i, c := range t.Components {
			comps[i] = watch.Component{Name: c.Name, Version: c.Version, PURL: c.PURL, CPE: c.CPE, Ecosystem: c.Ecosystem}
		}
		ids := watch.ProductIDs{Vendor: t.Manufacturer, Product: t.ProductName, Version: t.SoftwareVersion}
		if t.CPE != "" {
			ids.CPEs = []string{t.CPE}
		}
		if t.ModelNumber != "" {
			ids.ModelNumbers = []string{t.ModelNumber}
		}
		if t.GTIN != "" {
			ids.GTINs = []string{t.GTIN}
		}
		for _, h := range t.FirmwareHashes {
			if alg, hexv, ok := strings.Cut(h, ":"); ok {
				ids.Hashes = append(ids.Hashes, advisory.Hash{Algorithm: alg, Value: hexv})
			}
		}
		idx.Add(t.VersionID, comps, ids)
	}
	stored, err := s.store.Advisories(ctx)
	if err != nil {
		return run, err
	}
	// Advisories by flaw: one representative (the one with the flaw's own
	// id when stored), every id the flaw goes by, and whether every source
	// withdrew it.
	advs := map[string]advisory.Advisory{}
	flawIDs := map[string][]string{}
	live := map[string]bool{}
	onlySet := map[string]bool{}
	for _, id := range only {
		onlySet[id] = true
	}
	type matched struct {
		version    int64
		flaw, comp string
	}
	seen := map[matched]bool{}
	for _, sa := range stored {
		var a advisory.Advisory
		if err := json.Unmarshal(sa.Body, &a); err != nil {
			return run, fmt.Errorf("stored advisory %s: %w", sa.ID, err)
		}
		flaw := sa.Flaw
		rep, ok := advs[flaw]
		advs[flaw] = addSource(flaw, rep, ok, a)
		for _, id := range append([]string{a.ID}, a.Aliases...) {
			if !slices.Contains(flawIDs[flaw], id) {
				flawIDs[flaw] = append(flawIDs[flaw], id)
			}
		}
		live[flaw] = live[flaw] || a.Withdrawn.IsZero()
		if only != nil && !onlySet[sa.ID] {
			continue
		}
		for _, f := range idx.Match(a) {
			if _, ok := byVersion[f.VersionID]; !ok || f.Status == watch.StatusNotAffected {
				continue
			}
			comp := f.Component
			if comp == "" {
				comp = f.Product
			}
			// One flaw reached through several advisories acts once.
			if k := (matched{f.VersionID, flaw, comp}); seen[k] {
				continue
			} else {
				seen[k] = true
			}
			state := registry.FindingOpen
			if !f.Automatic() {
				state = registry.FindingReview // only exact bases act on their own
			}
			if _, err := s.store.PutFinding(ctx, registry.Finding{VersionID: f.VersionID, AdvisoryID: flaw, Basis: string(f.Basis), Confidence: f.Confidence,
				Component: comp, Fixed: f.Fixed, State: state, Response: "none", DocSHA256: sa.DocSHA256}, now); err != nil {
				return run, err
			}
			run.Findings++
		}
	}
	exploited, err := s.store.Exploited(ctx)
	if err != nil {
		return run, err
	}
	vex, err := s.store.VEX(ctx)
	if err != nil {
		return run, err
	}
	findings, err := s.store.WatchFindings(ctx, 0)
	if err != nil {
		return run, err
	}
	// Judge each finding; gather the proposals per label.
	type labelPlan struct {
		t         target
		proposals []watch.Proposal
		causes    map[string][]registry.Finding // by rule id: the findings each rule acted on
		holding   int                           // open findings with a clock of this label's scheme: what a watch suspension stands on
		cleared   []registry.Finding            // findings with such a clock that no longer apply
	}
	plans := map[string]*labelPlan{} // by label id
	for _, f := range findings {
		ts, ok := byVersion[f.VersionID]
		if !ok || (opts.versions != nil && !opts.versions[f.VersionID]) {
			continue
		}
		a, ids := advs[f.AdvisoryID], flawIDs[f.AdvisoryID]
		before := f
		nClocks := len(f.Clocks)
		f.State = judgeState(f, !live[f.AdvisoryID], ids, vex)
		if f.State == registry.FindingReview {
			run.Review++
		}
		for _, t := range ts {
			pl := plans[t.Label.ID]
			if pl == nil {
				pl = &labelPlan{t: t}
				plans[t.Label.ID] = pl
			}
			if f.State != registry.FindingOpen && f.State != registry.FindingFixed {
				if len(schemeClocks(f.Clocks, t.Label.SchemeID)) > 0 {
					pl.cleared = append(pl.cleared, f)
				}
				continue
			}
			sf := schemeFinding(f, a, ids, exploited, t, now)
			// Clocks are kept per scheme and rule: two schemes' rules of
			// the same name may give different days.
			ps := watch.Evaluate(t.rules, sf, schemeClocks(f.Clocks, t.Label.SchemeID), now)
			for _, p := range ps {
				switch p.Action {
				case scheme.Notify:
					msg := fmt.Sprintf("%s %s affects %s %s (%s). %s", a.ID, plainSeverity(sf), t.ProductName, t.SoftwareVersion, f.Basis, p.Reason)
					if isNew, err := s.store.Notify(ctx, t.ManufacturerID, f.ID, t.Label.SchemeID+"/"+p.RuleID, msg, now); err != nil {
						return run, err
					} else if isNew {
						run.Notified++
						s.wakeSender()
					}
				case scheme.Deadline:
					if f.Clocks == nil {
						f.Clocks = map[string]time.Time{}
					}
					f.Clocks[t.Label.SchemeID+"/"+p.RuleID] = p.Deadline
					run.Deadlines++
				}
			}
			pl.proposals = append(pl.proposals, ps...)
			for _, p := range ps {
				if pl.causes == nil {
					pl.causes = map[string][]registry.Finding{}
				}
				if c := pl.causes[p.RuleID]; len(c) == 0 || c[len(c)-1].ID != f.ID {
					pl.causes[p.RuleID] = append(c, f)
				}
			}
			if len(schemeClocks(f.Clocks, t.Label.SchemeID)) > 0 {
				pl.holding++
			}
		}
		if f.State != before.State || len(f.Clocks) != nClocks {
			if err := s.store.UpdateFinding(ctx, f, now); err != nil {
				return run, err
			}
		}
	}
	// Rules about the label rather than a vulnerability (support ended:
	// expire) hold whether or not the version has findings.
	for _, ts := range byVersion {
		for _, t := range ts {
			if !supportEnded(t, now) {
				continue
			}
			ps := watch.EvaluateLabel(t.rules, scheme.Finding{SupportEnded: true})
			if len(ps) == 0 {
				continue
			}
			pl := plans[t.Label.ID]
			if pl == nil {
				pl = &labelPlan{t: t}
				plans[t.Label.ID] = pl
			}
			pl.proposals = append(pl.proposals, ps...)
		}
	}
	// What the rules ask of each label, through the gate as the system.
	var reqs []Request
	for _, pl := range plans {
		l := pl.t.Label
		act, p, ok := watch.LabelActions(pl.proposals)
		if !ok && l.Status == assess.Suspended && pl.holding == 0 {
			// Every finding a suspension by the watch stood on is cleared
			// (VEX, withdrawal, a rejected match): the label stands again.
			// Other open findings, which no rule acts on, do not hold it.
			if by, err := s.suspendedByWatch(ctx, l.ID); err != nil {
				return run, err
			} else if by {
				act, p, ok = scheme.Restore, watch.Proposal{Action: scheme.Restore, RuleID: "cleared", Reason: "Every vulnerability that caused the suspension no longer applies."}, true
			}
		}
		if !ok {
			continue
		}
		var la assess.LabelAction
		switch {
		case act == scheme.Suspend && l.Status == assess.Active:
			la = assess.SuspendLabel
		case act == scheme.Revoke && (l.Status == assess.Active || l.Status == assess.Suspended):
			la = assess.RevokeLabel
		case act == scheme.Expire && (l.Status == assess.Active || l.Status == assess.Suspended):
			la = assess.ExpireLabel
		case act == scheme.Restore && l.Status == assess.Suspended:
			if by, err := s.suspendedByWatch(ctx, l.ID); err != nil || !by {
				continue // an authority's own suspension is the authority's to lift
			}
			la = assess.RestoreLabel
		default:
			continue
		}
		causes := pl.causes[p.RuleID]
		switch {
		case p.RuleID == "cleared":
			causes = pl.cleared
		case act == scheme.Expire:
			causes = nil // the support period ended: no vulnerability is the cause
		}
		reqs = append(reqs, Request{Label: l.ID, Action: la, Reason: watchReason(p, causes), At: now})
	}
	// Label pages show findings: what they derive from has changed.
	if run.Findings > 0 || run.Deadlines > 0 || run.Notified > 0 {
		defer s.labelsChanged()
	}
	if len(reqs) == 0 {
		return run, nil
	}
	if total := len(targets); !opts.Confirm && len(reqs) >= s.holdMin() && float64(len(reqs)) > s.holdShare()*float64(total) {
		run.Held = true
		run.Why = fmt.Sprintf("this would change %d of %d labels (more than %.0f%%) at once; an authority must confirm it (hallmark ingest --confirm, or ?confirm=true)",
			len(reqs), total, s.holdShare()*100)
		return run, nil
	}
	out, err := s.Decide(ctx, auth.System, reqs...)
	if err != nil {
		return run, err
	}
	for i, o := range out {
		if o.Err != nil {
			slog.Warn("post-market watch: a label action was refused", "label", reqs[i].Label, "action", reqs[i].Action, "err", o.Err)
			continue
		}
		switch reqs[i].Action {
		case assess.SuspendLabel:
			run.Suspended++
		case assess.RestoreLabel:
			run.Restored++
		case assess.RevokeLabel:
			run.Revoked++
		case assess.ExpireLabel:
			run.Expired++
		}
	}
	return run, nil
}

// addSource adds one record of a flaw to its representative so far (ok
// says there is one): the flaw's own record represents it, with the best
// facts of all.
func addSource(flaw string, rep advisory.Advisory, ok bool, a advisory.Advisory) advisory.Advisory {
	switch {
	case !ok:
		return a
	case a.ID == flaw && rep.ID != flaw:
		return mergeFacts(a, rep)
	}
	return mergeFacts(rep, a)
}

// flawFacts is the representative of a flaw's records, as the watch judges
// it.
func flawFacts(flaw string, recs []advisory.Advisory) (advisory.Advisory, bool) {
	var rep advisory.Advisory
	for i, a := range recs {
		rep = addSource(flaw, rep, i > 0, a)
	}
	return rep, len(recs) > 0
}

// mergeFacts gives the flaw's representative record what another source
// of the same flaw knows better: the earliest publication date (a record
// with none, like many in the Go database's files, says nothing about age)
// and the highest rating.
func mergeFacts(rep, other advisory.Advisory) advisory.Advisory {
	if !other.Published.IsZero() && (rep.Published.IsZero() || other.Published.Before(rep.Published)) {
		rep.Published = other.Published
	}
	if other.Severity.Rank() > rep.Severity.Rank() || other.Severity == rep.Severity && other.CVSS > rep.CVSS {
		rep.Severity, rep.CVSS = other.Severity, other.CVSS
	}
	return rep
}

// watchReasonPrefix starts the reason of every decision the watch takes,
// so its own suspensions can be told from an authority's.
const watchReasonPrefix = "Post-market watch: "

func (s *Server) suspendedByWatch(ctx context.Context, labelID string) (bool, error) {
	ev, err := s.store.LabelEvents(ctx, labelID)
	if err != nil || len(ev) == 0 {
		return false, err
	}
	last := ev[len(ev)-1]
	return last.Action == string(assess.SuspendLabel) && last.UserID == 0 && strings.HasPrefix(last.Reason, watchReasonPrefix), nil
}

// watchReason is the public reason of a watch decision, with its inputs:
// which findings, which rule, which source documents.
func watchReason(p watch.Proposal, causes []registry.Finding) string {
	var ids, docs []string
	for _, f := range causes {
		if !slices.Contains(ids, f.AdvisoryID) {
			ids = append(ids, f.AdvisoryID)
		}
		if d := f.DocSHA256; len(d) >= 12 && !slices.Contains(docs, d[:12]) {
			docs = append(docs, d[:12])
		}
	}
	if len(ids) > 5 {
		ids = append(ids[:5], fmt.Sprintf("and %d more", len(ids)-5))
	}
	if len(docs) > 5 {
		docs = append(docs[:5], fmt.Sprintf("and %d more", len(docs)-5))
	}
	inputs := []string{"rule " + p.RuleID}
	if len(ids) > 0 {
		inputs = append(inputs, strings.Join(ids, ", "))
	}
	if len(docs) > 0 {
		inputs = append(inputs, "source sha256 "+strings.Join(docs, ", "))
	}
	r := fmt.Sprintf("%s%s (%s)", watchReasonPrefix, strings.TrimSpace(p.Reason), strings.Join(inputs, "; "))
	if len(r) > maxReason {
		r = r[:maxReason]
	}
	return r
}

// judgeState applies what is known beside the match: a flaw every source
// withdrew retracts, a VEX statement on the version (or the component) clears or
// fixes, and a person's verdict on a fuzzy match stands.
func judgeState(f registry.Finding, withdrawn bool, ids []string, vex []registry.VEXStatement) string {
	switch f.State {
	case registry.FindingDisputed, registry.FindingRetracted:
		if f.Response == "rejected" {
			return f.State
		}
	}
	if withdrawn {
		return registry.FindingRetracted
	}
	var newest *registry.VEXStatement
	for i, v := range vex {
		if v.VersionID != f.VersionID || !slices.Contains(ids, v.Vulnerability) {
			continue
		}
		if v.Component != "" && !strings.EqualFold(strings.Split(v.Component, "@")[0], strings.Split(f.Component, "@")[0]) {
			continue
		}
		if newest == nil || v.At.After(newest.At) {
			newest = &vex[i]
		}
	}
	if newest != nil {
		switch advisory.VEXStatus(newest.Status) {
		case advisory.StatusNotAffected:
			return registry.FindingNotAffected
		case advisory.StatusFixed:
			return registry.FindingFixed
		case advisory.StatusAffected:
			return registry.FindingOpen
		}
	}
	if f.State == registry.FindingReview || f.State == registry.FindingDisputed {
		return f.State
	}
	if f.Response == "fixed" {
		return registry.FindingFixed
	}
	return registry.FindingOpen
}

// schemeFinding is a finding as the scheme's rule conditions see it.
func schemeFinding(f registry.Finding, a advisory.Advisory, ids []string, exploited map[string]time.Time, t target, now time.Time) scheme.Finding {
	sf := scheme.Finding{Severity: string(a.Severity), CVSS: a.CVSS, UpstreamFix: len(f.Fixed) > 0,
		FixAvailable: f.State == registry.FindingFixed || f.Response == "fixed", ManufacturerResponse: f.Response}
	if sf.Severity == "" && a.CVSS > 0 {
		sf.Severity = string(advisory.SeverityFromScore(a.CVSS))
	}
	if f.State == registry.FindingFixed {
		sf.ManufacturerResponse = "fixed"
	}
	for _, id := range ids {
		if _, ok := exploited[id]; ok {
			sf.ActivelyExploited = true
		}
	}
	if !a.Published.IsZero() {
		sf.DaysSincePublished = int(now.Sub(a.Published).Hours() / 24)
	}
	sf.SupportEnded = supportEnded(t, now)
	return sf
}

// supportEnded says whether the product version's declared support period
// is over: its support end date has passed.
func supportEnded(t target, now time.Time) bool {
	end, err := time.Parse(time.DateOnly, t.SupportEnd)
	return err == nil && !now.Before(end.AddDate(0, 0, 1))
}

func plainSeverity(f scheme.Finding) string {
	s := f.Severity
	if s == "" {
		s = "unrated"
	}
	if f.ActivelyExploited {
		s += ", actively exploited"
	}
	return "(" + s + ")"
}

// PublicFinding is what a label's public page says about one known
// vulnerability of its product version.
type PublicFinding struct {
	Advisory  string
	Aliases   []string
	Summary   string
	Severity  string
	Exploited bool
	Fixed     []string
	Deadline  time.Time // the earliest open remediation clock
	Overdue   bool      // the deadline passed
	State     string    // open, review, fixed, not-affected, disputed
	Since     time.Time
	Basis     string
}

// Sentence says it in plain words, for the public.
func (f PublicFinding) Sentence() string {
	var b strings.Builder
	b.WriteString(f.Advisory)
	if f.Severity != "" {
		b.WriteString(", " + f.Severity)
	}
	if f.Exploited {
		b.WriteString(", actively exploited")
	}
	switch f.State {
	case registry.FindingReview:
		fmt.Fprintf(&b, ": a possible match by product name, under review since %s", f.Since.Format("2 January 2006"))
		return b.String() + "."
	case registry.FindingDisputed:
		return b.String() + ": the manufacturer disputes that it applies; under review."
	case registry.FindingNotAffected:
		return b.String() + ": the manufacturer states this product version is not affected."
	case registry.FindingFixed:
		return b.String() + ": fixed by the manufacturer."
	}
	if len(f.Fixed) > 0 {
		b.WriteString("; fixed in " + strings.Join(f.Fixed, ", "))
	} else {
		b.WriteString("; no fix published yet")
	}
	switch {
	case f.Overdue:
		fmt.Fprintf(&b, "; the manufacturer's deadline to ship a fix, %s, has passed", f.Deadline.Format("2 January 2006"))
	case !f.Deadline.IsZero():
		fmt.Fprintf(&b, "; the manufacturer has until %s to ship the fix", f.Deadline.Format("2 January 2006"))
	}
	return b.String() + "."
}

// maxPublicFindings bounds what one label page lists.
const maxPublicFindings = 50

// LabelFindings lists the known vulnerabilities of a label's product
// version that are still relevant (retracted ones are left out), the ones
// that act first, and the total.
func (s *Server) LabelFindings(ctx context.Context, l registry.Label) ([]PublicFinding, int, error) {
	fs, err := s.store.WatchFindings(ctx, l.VersionID)
	if err != nil || len(fs) == 0 {
		return nil, 0, err
	}
	exploited, err := s.store.Exploited(ctx)
	if err != nil {
		return nil, 0, err
	}
	var flaws []string
	for _, f := range fs {
		flaws = append(flaws, f.AdvisoryID)
	}
	recs, err := s.store.AdvisoriesOf(ctx, flaws)
	if err != nil {
		return nil, 0, err
	}
	var out []PublicFinding
	for _, f := range fs {
		if f.State == registry.FindingRetracted {
			continue
		}
		pf := PublicFinding{Advisory: f.AdvisoryID, Fixed: f.Fixed, State: f.State, Since: f.FirstSeen, Basis: f.Basis}
		if a, ok := flawFacts(f.AdvisoryID, recs[f.AdvisoryID]); ok {
			pf.Aliases, pf.Summary, pf.Severity = a.Aliases, a.Summary, string(a.Severity)
			if pf.Severity == "" && a.CVSS > 0 {
				pf.Severity = string(advisory.SeverityFromScore(a.CVSS))
			}
			for _, id := range append([]string{f.AdvisoryID, a.ID}, a.Aliases...) {
				if _, ok := exploited[id]; ok {
					pf.Exploited = true
				}
			}
		}
		for _, d := range f.Clocks {
			if pf.Deadline.IsZero() || d.Before(pf.Deadline) {
				pf.Deadline = d
			}
		}
		pf.Overdue = !pf.Deadline.IsZero() && !s.now().Before(pf.Deadline)
		out = append(out, pf)
	}
	// What acts first: exploited, then open, then by severity.
	rank := func(f PublicFinding) int {
		r := map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1}[f.Severity]
		if f.State == registry.FindingOpen {
			r += 10
		}
		if f.Exploited {
			r += 20
		}
		return r
	}
	slices.SortStableFunc(out, func(a, b PublicFinding) int { return rank(b) - rank(a) })
	total := len(out)
	if len(out) > maxPublicFindings {
		out = out[:maxPublicFindings]
	}
	return out, total, nil
}

// Findings lists the post-market findings the principal works on: a
// manufacturer's own products', or those on labels of the schemes an
// authority runs.
func (s *Server) Findings(ctx context.Context, p Principal, state string, limit, offset int) ([]store.FindingRow, int, error) {
	q := store.FindingQuery{State: state, Limit: limit, Offset: offset}
	switch {
	case p.IsAnonymous():
		return nil, 0, ErrDenied
	case p.Role == auth.RoleManufacturer:
		q.ManufacturerID = p.OrgID
	case p.Role == auth.RoleAuthorityAdmin:
		q.Schemes = append([]string{}, p.Schemes...)
	default:
		return nil, 0, fmt.Errorf("%w: findings are for manufacturers and authorities", ErrDenied)
	}
	return s.store.FindingsFor(ctx, q)
}

// RespondFinding records a manufacturer's answer or an authority's review
// of a finding, then runs the rules again (a confirmed match now acts, a
// rejected one clears).
func (s *Server) RespondFinding(ctx context.Context, p Principal, id int64, response string) (WatchRun, error) {
	perm, ok := findingResponses[response]
	if !ok {
		return WatchRun{}, fmt.Errorf("%w: answer acknowledged, fix-planned or disputed (manufacturers), confirmed or rejected (authorities)", ErrInvalid)
	}
	mfr, schemeID, err := s.store.FindingOwner(ctx, id)
	if err != nil {
		return WatchRun{}, err
	}
	o := auth.Object{Manufacturer: mfr}
	if schemeID != "" {
		o.Schemes = []string{schemeID}
	}
	if err := allow(p, perm, o); err != nil {
		return WatchRun{}, err
	}
	f, err := s.store.Finding(ctx, id)
	if err != nil {
		return WatchRun{}, err
	}
	switch response {
	case "disputed":
		if f.State != registry.FindingReview && f.State != registry.FindingOpen {
			return WatchRun{}, fmt.Errorf("%w: a %s finding cannot be disputed", ErrInvalid, f.State)
		}
		if f.Basis != string(watch.BasisNameFuzzy) {
			return WatchRun{}, fmt.Errorf("%w: only a match by name can be disputed; for an exact match submit a VEX statement saying why the version is not affected", ErrInvalid)
		}
		f.State = registry.FindingDisputed
	case "confirmed":
		if f.State != registry.FindingReview && f.State != registry.FindingDisputed {
			return WatchRun{}, fmt.Errorf("%w: only a match waiting for review can be confirmed", ErrInvalid)
		}
		f.State = registry.FindingOpen
	case "rejected":
		if f.State != registry.FindingReview && f.State != registry.FindingDisputed {
			return WatchRun{}, fmt.Errorf("%w: only a match waiting for review can be rejected", ErrInvalid)
		}
		f.State = registry.FindingRetracted
	}
	f.Response = response
	if err := s.store.UpdateFinding(ctx, f, s.now()); err != nil {
		return WatchRun{}, err
	}
	return s.runWatch(ctx, []string{}, IngestOptions{versions: map[int64]bool{f.VersionID: true}})
}

// UploadVEX takes a manufacturer's VEX document for one of its product
// versions: its statements apply to that version, then the rules run.
func (s *Server) UploadVEX(ctx context.Context, p Principal, versionID int64, doc *advisory.Document) (IngestReport, error) {
	v, err := s.store.Version(ctx, versionID)
	if err != nil {
		return IngestReport{}, err
	}
	prod, err := s.store.Product(ctx, v.ProductID)
	if err != nil {
		return IngestReport{}, err
	}
	if err := allow(p, auth.ActionFindingRespond, auth.Object{Manufacturer: prod.ManufacturerID}); err != nil {
		return IngestReport{}, err
	}
	if err := checkDocument(doc); err != nil {
		return IngestReport{}, err
	}
	if len(doc.Statements) == 0 || len(doc.Advisories) > 0 || len(doc.Exploited) > 0 {
		return IngestReport{}, fmt.Errorf("%w: send a VEX document (OpenVEX, CSAF VEX or CycloneDX VEX) with at least one statement", ErrInvalid)
	}
	rep := IngestReport{Document: doc.ID, Format: string(doc.Format), SHA256: doc.SHA256}
	if rep.Statements, err = s.putStatements(ctx, doc, versionID); err != nil {
		return rep, err
	}
	rep.WatchRun, err = s.runWatch(ctx, []string{}, IngestOptions{versions: map[int64]bool{versionID: true}})
	return rep, err
}

// Notifications lists the newest notifications of the principal's organisation.
func (s *Server) Notifications(ctx context.Context, p Principal, limit int) ([]registry.Notification, error) {
	if p.IsAnonymous() {
		return nil, ErrDenied
	}
	return s.store.Notifications(ctx, p.OrgID, limit)
}

// noteFixes treats a new version of a product whose SBOM no longer carries
// a flaw found in the product's other versions as that flaw's fix: the
// findings become fixed (the manufacturer shipped it), and the rules run,
// so a label suspended over the flaw can be restored. Only component
// (purl) findings can be judged this way.
func (s *Server) noteFixes(ctx context.Context, productID, versionID int64, comps []registry.Component) error {
	versions, err := s.store.Versions(ctx, productID)
	if err != nil {
		return err
	}
	wc := make([]watch.Component, len(comps))
	for i, c := range comps {
		wc[i] = watch.Component{Name: c.Name, Version: c.Version, PURL: c.PURL, CPE: c.CPE, Ecosystem: c.Ecosystem}
	}
	changed := map[int64]bool{}
	for _, v := range versions {
		if v.ID == versionID {
			continue
		}
		fs, err := s.store.WatchFindings(ctx, v.ID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.State != registry.FindingOpen || f.Basis != string(watch.BasisPURL) {
				continue
			}
			a, err := s.store.Advisory(ctx, f.AdvisoryID)
			if err != nil {
				return err
			}
			if len(watch.MatchComponents(wc, []advisory.Advisory{a})) > 0 {
				continue // still there in the new version
			}
			f.State, f.Response = registry.FindingFixed, "fixed"
			if err := s.store.UpdateFinding(ctx, f, s.now()); err != nil {
				return err
			}
			changed[v.ID] = true
		}
	}
	if len(changed) == 0 {
		return nil
	}
	_, err = s.runWatch(ctx, []string{}, IngestOptions{versions: changed})
	return err
}

// schemeClocks is the part of a finding's clocks that one scheme opened,
// by rule id (they are stored as "scheme/rule").
func schemeClocks(all map[string]time.Time, schemeID string) map[string]time.Time {
	out := map[string]time.Time{}
	for k, v := range all {
		if sc, rule, ok := strings.Cut(k, "/"); ok && sc == schemeID {
			out[rule] = v
		}
	}
	return out
}
