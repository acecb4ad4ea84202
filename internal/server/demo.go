package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"golang.org/x/mod/semver"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// LoadDemo adds the demo dataset on first start and leaves it alone after:
// an example authority's own requirements imported from OSCAL
// (data/demo/*.oscal.json, the file name giving the framework id), and a
// market of the given size (see LoadMarket).
func (s *Server) LoadDemo(ctx context.Context, size demo.Size) error {
	if err := s.loadDemoFrameworks(ctx); err != nil {
		return err
	}
	return s.LoadMarket(ctx, size)
}

func (s *Server) loadDemoFrameworks(ctx context.Context) error {
	names, err := fs.Glob(data.FS, "demo/*.oscal.json")
	if err != nil {
		return err
	}
	for _, name := range names {
		id := strings.TrimSuffix(path.Base(name), ".oscal.json")
		if _, ok := s.Catalog().Framework(id); ok {
			continue
		}
		b, err := fs.ReadFile(data.FS, name)
		if err != nil {
			return err
		}
		f, err := catalog.ImportOSCAL(id, bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := s.ImportFramework(ctx, f, false); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		slog.Info("demo framework imported", "id", id, "items", len(f.Items))
	}
	return nil
}

// LoadMarket plays the planned demo market through the store as its
// actors would have, back-dated: organisations and accounts, products,
// versions with SBOMs, applications stopping in every state, labels issued,
// then suspended, revoked, surrendered or left to expire. It runs once: an
// instance that has manufacturers already is left alone.
func (s *Server) LoadMarket(ctx context.Context, size demo.Size) error {
	if size.Products == 0 {
		return nil
	}
	existing, err := s.store.Organisations(ctx, registry.Manufacturer)
	if err != nil || len(existing) > 0 {
		return err
	}
	b, err := fs.ReadFile(data.FS, "demo/components.csv")
	if err != nil {
		return err
	}
	pool, err := demo.ParsePool(b)
	if err != nil {
		return err
	}
	now := s.now()
	m := demo.Plan(size, 1, pool, now)
	// One hash for every demo account: the password is public anyway, and
	// hashing it per account would cost seconds of argon2 for nothing.
	hash, err := s.hasher.Hash(demo.Password)
	if err != nil {
		return err
	}
	start := time.Now()
	authorities := map[string]Principal{} // scheme -> its authority's account
	for _, a := range m.Authorities {
		p, err := s.createAccountHashed(ctx, a.Org, a.User, hash)
		if err != nil {
			return fmt.Errorf("demo authority %s: %w", a.Org.Name, err)
		}
		for _, sc := range a.Org.Schemes {
			authorities[sc] = p
		}
	}
	var labs []Principal
	for _, l := range m.Labs {
		p, err := s.createAccountHashed(ctx, l.Org, l.User, hash)
		if err != nil {
			return fmt.Errorf("demo lab %s: %w", l.Org.Name, err)
		}
		labs = append(labs, p)
	}
	var products, labels int
	var evidence registry.Evidence // the demo's one evidence file, shared
	for i, mf := range m.Manufacturers {
		mp, err := s.createAccountHashed(ctx, mf.Org.Org, mf.User, hash)
		if err != nil {
			return fmt.Errorf("demo manufacturer %s: %w", mf.Org.Org.Name, err)
		}
		for _, pp := range mf.Products {
			prod := pp.Product
			prod.ManufacturerID = mp.OrgID
			pid, err := s.store.CreateProduct(ctx, prod, mp.UserID, now)
			if err != nil {
				return fmt.Errorf("demo product %s: %w", prod.Name, err)
			}
			products++
			for _, pv := range pp.Versions {
				v := pv.Version
				v.ProductID = pid
				var comps []registry.Component
				for _, c := range pv.Components {
					comps = append(comps, registry.Component{Name: c.Name, Version: c.Version, PURL: c.PURL, Ecosystem: c.Ecosystem, Type: "library"})
				}
				var sb *store.SBOM
				if len(comps) > 0 {
					sb = &store.SBOM{Format: "cyclonedx-json 1.6", Digest: fmt.Sprintf("demo-%d-%s", pid, v.SoftwareVersion), Components: comps}
				}
				vid, err := s.store.CreateVersion(ctx, v, sb, mp.UserID, mp.OrgID, now)
				if err != nil {
					return fmt.Errorf("demo version %s %s: %w", prod.Name, v.SoftwareVersion, err)
				}
				if pv.Apply == nil {
					continue
				}
				ok, err := s.playApplication(ctx, *pv.Apply, vid, mp, authorities[pv.Apply.Scheme], labs[(int(vid)+i)%len(labs)], now, &evidence)
				if err != nil {
					return fmt.Errorf("demo application for %s %s: %w", prod.Name, v.SoftwareVersion, err)
				}
				if ok {
					labels++
				}
			}
		}
		if (i+1)%20 == 0 || i+1 == len(m.Manufacturers) {
			slog.Info("loading the demo market", "manufacturers", i+1, "of", len(m.Manufacturers), "products", products, "labels", labels, "elapsed", time.Since(start).Round(time.Millisecond))
		}
	}
	expired, err := s.ExpireDue(ctx)
	if err != nil {
		return err
	}
	if err := s.loadDemoAdvisories(ctx, now); err != nil {
		return fmt.Errorf("demo advisories: %w", err)
	}
	slog.Info("demo market loaded", "manufacturers", len(m.Manufacturers), "products", products, "labels", labels, "expired", expired,
		"took", time.Since(start).Round(time.Millisecond), "password", demo.Password)
	return nil
}

// playApplication walks one application to where the plan stops it,
// back-dated to the plan's decision day. It reports whether a label was issued.
func (s *Server) playApplication(ctx context.Context, a demo.Application, versionID int64, mfr, authority, lab Principal, now time.Time, evidence *registry.Evidence) (bool, error) {
	day := now.AddDate(0, 0, -a.DaysAgo)
	at := func(hours int) time.Time { return day.Add(time.Duration(hours) * time.Hour) }
	res, err := s.Schemes().ResolveRef(s.Catalog(), a.Scheme+"@"+a.Level)
	if err != nil {
		return false, err
	}
	_, version := s.SchemeInfo(a.Scheme)
	id, err := s.store.CreateApplication(ctx, versionID, a.Scheme, version, a.Level, mfr.UserID, mfr.OrgID, at(-240))
	if err != nil {
		return false, err
	}
	// Every step goes through the decision gate as the actor who took it,
	// back-dated: the demo's history is made the way a real one is.
	do := func(who Principal, r Request) error {
		r.App = id
		_, err := s.decideOne(ctx, who, r)
		return err
	}
	// Every demo application carries its evidence, as a real one must
	// before it can be approved: one shared file, stored once.
	if err := s.attachDemoEvidence(ctx, evidence, id, mfr, at(-220)); err != nil {
		return false, err
	}
	if a.Stop == "draft" {
		return false, nil
	}
	if a.Stop == "withdrawn" {
		return false, do(mfr, Request{Step: assess.Withdraw, At: at(-200)})
	}
	if err := do(mfr, Request{Step: assess.Submit, At: at(-200)}); err != nil {
		return false, err
	}
	if a.Stop == "submitted" {
		return false, nil
	}
	if err := do(authority, Request{Step: assess.Assign, Lab: lab.OrgID, At: at(-150)}); err != nil {
		return false, err
	}
	if a.Stop == "in-assessment" {
		return false, nil
	}
	var findings []assess.Finding
	for i, n := range res.Needs {
		f := assess.Finding{Requirement: n.Requirement.ID, Verdict: assess.Pass}
		if a.Stop == "rejected" && i == len(res.Needs)/2 {
			f = assess.Finding{Requirement: n.Requirement.ID, Verdict: assess.Fail, Rationale: "The evidence did not show this requirement is met."}
		}
		findings = append(findings, f)
	}
	if err := s.store.RecordFindings(ctx, id, findings, lab.UserID, lab.OrgID, at(-100)); err != nil {
		return false, err
	}
	if err := do(lab, Request{Step: assess.Complete, At: at(-48)}); err != nil {
		return false, err
	}
	switch a.Stop {
	case "assessed":
		return false, nil
	case "rejected":
		return false, do(authority, Request{Step: assess.Reject, Reason: "A required requirement failed the assessment.", At: day})
	}
	o, err := s.decideOne(ctx, authority, Request{App: id, Step: assess.Approve, Reason: "All required requirements met.", At: day})
	if err != nil {
		return false, err
	}
	later := day.AddDate(0, 0, a.DaysAgo/2)
	fate := map[string]struct {
		who    Principal
		action assess.LabelAction
		reason string
	}{
		"suspended":   {authority, assess.SuspendLabel, "An actively exploited vulnerability in a component is not yet fixed."},
		"revoked":     {authority, assess.RevokeLabel, "The manufacturer did not fix a critical vulnerability within the deadline."},
		"surrendered": {mfr, assess.SurrenderLabel, "The product was withdrawn from sale."},
	}
	if f, ok := fate[a.Fate]; ok {
		_, err = s.decideOne(ctx, f.who, Request{Label: o.Label.ID, Action: f.action, Reason: f.reason, At: later})
	}
	return true, err
}

// attachDemoEvidence records the demo's one evidence file on an
// application; the file is written to the evidence store the first time.
func (s *Server) attachDemoEvidence(ctx context.Context, shared *registry.Evidence, app int64, mfr Principal, at time.Time) error {
	if shared.SHA256 == "" {
		sum, size, err := s.putBlob(strings.NewReader("Demo test report: every requirement of the level was assessed and met.\n"), MaxEvidenceSize)
		if err != nil {
			return err
		}
		*shared = registry.Evidence{Name: "demo-test-report.txt", ContentType: "text/plain", Size: size, SHA256: sum}
	}
	e := *shared
	e.ApplicationID, e.UploadedBy = app, mfr.UserID
	_, err := s.store.AddEvidence(ctx, e, mfr.OrgID, at)
	return err
}

// demoAdvisoryName is data/demo/advisories/NN-Dd-name.json.tmpl: ingested D days ago.
var demoAdvisoryName = regexp.MustCompile(`^\d+-(\d+)d-[a-z0-9.-]+\.json\.tmpl$`)

// demoProduct is a labelled demo product an advisory is written about.
type demoProduct struct {
	Vendor, Product, Model, CPE, PURL, GTIN, Version string
	FixedIn                                          string // the first version past the flaw: the next major version
	Hash                                             string // the hex SHA-256 of the version's firmware image
}

// demoPicks chooses, from the market just loaded, the products the demo's
// advisories are about (the market's names come from its plan, so the
// advisories are templates): labelled CLS or ETSI-baseline products
// with identifiers (and a fourth with a GTIN), and the Go module most SBOMs carry.
func (s *Server) demoPicks(ctx context.Context) (map[string]any, error) {
	ts, err := s.store.WatchTargets(ctx)
	if err != nil {
		return nil, err
	}
	var cands, bsi []registry.WatchTarget
	goUse := map[string]int{}
	goVer := map[string]string{}
	for _, t := range ts {
		for _, c := range t.Components {
			if mod, ver, ok := strings.Cut(strings.TrimPrefix(c.PURL, "pkg:golang/"), "@"); ok && strings.HasPrefix(c.PURL, "pkg:golang/") {
				goUse[mod]++
				// The newest version carried, so the advisory's fix is past
				// every one (label ids are random: "the last seen" is not
				// the same from one load to the next).
				if old, ok := goVer[mod]; !ok || semver.Compare(ver, old) > 0 {
					goVer[mod] = ver
				}
			}
		}
		if (t.Label.SchemeID == "sg-cls" || t.Label.SchemeID == "etsi-baseline") && t.Label.Status == assess.Active && t.PURL != "" && t.CPE != "" && t.ModelNumber != "" {
			cands = append(cands, t)
		}
		if t.Label.SchemeID == "de-bsi-label" && t.Label.Status == assess.Active && len(t.FirmwareHashes) > 0 {
			bsi = append(bsi, t)
		}
	}
	if len(cands) < 4 || len(goUse) == 0 {
		return nil, fmt.Errorf("the demo market has %d labelled products with identifiers and %d Go modules; the advisories need 4 and 1", len(cands), len(goUse))
	}
	slices.SortFunc(cands, func(a, b registry.WatchTarget) int { return strings.Compare(a.ModelNumber, b.ModelNumber) })
	pick := func(t registry.WatchTarget) demoProduct {
		major, _, _ := strings.Cut(strings.TrimPrefix(t.SoftwareVersion, "v"), ".")
		n, _ := strconv.Atoi(major)
		p := demoProduct{Vendor: t.Manufacturer, Product: t.ProductName, Model: t.ModelNumber, CPE: t.CPE, PURL: t.PURL, GTIN: t.GTIN,
			Version: t.SoftwareVersion, FixedIn: fmt.Sprintf("%d.0.0", n+1)}
		if len(t.FirmwareHashes) > 0 {
			p.Hash = strings.TrimPrefix(t.FirmwareHashes[0], "sha256:")
		}
		return p
	}
	if len(bsi) == 0 {
		return nil, fmt.Errorf("the demo market has no active BSI label on a version with a firmware digest")
	}
	slices.SortFunc(bsi, func(a, b registry.WatchTarget) int { return strings.Compare(a.ModelNumber, b.ModelNumber) })
	mods := slices.Sorted(maps.Keys(goUse))
	slices.SortStableFunc(mods, func(a, b string) int { return goUse[b] - goUse[a] })
	mod := mods[0]
	fixed := goVer[mod]
	if parts := strings.Split(strings.TrimPrefix(fixed, "v"), "."); len(parts) >= 2 {
		minor, _ := strconv.Atoi(parts[1])
		fixed = fmt.Sprintf("%s.%d.0", parts[0], minor+1)
	}
	var sku demoProduct
	for _, c := range cands[3:] {
		if c.GTIN != "" {
			sku = pick(c)
			break
		}
	}
	if sku.GTIN == "" {
		return nil, fmt.Errorf("the demo market has no fourth labelled product with a GTIN")
	}
	return map[string]any{"Exact": pick(cands[0]), "Cleared": pick(cands[1]), "Fuzzy": pick(cands[2]), "Sku": sku, "Hash": pick(bsi[0]),
		"Go": map[string]string{"Module": mod, "Fixed": fixed}}, nil
}

// loadDemoAdvisories plays the demo's own advisories (data/demo/advisories)
// through the post-market watch as it would have met them: each group on
// its day, the watch running on each of those days and today, so clocks
// open, run out, suspend, and a manufacturer's VEX restores.
func (s *Server) loadDemoAdvisories(ctx context.Context, now time.Time) error {
	names, err := fs.Glob(data.FS, "demo/advisories/*.json.tmpl")
	if err != nil {
		return err
	}
	picks, err := s.demoPicks(ctx)
	if err != nil {
		return err
	}
	funcs := template.FuncMap{"json": func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err }}
	byDay := map[int][]*advisory.Document{}
	for _, name := range names {
		m := demoAdvisoryName.FindStringSubmatch(path.Base(name))
		if m == nil {
			return fmt.Errorf("%s: name it NN-Dd-name.json.tmpl (ingested D days ago)", name)
		}
		days, _ := strconv.Atoi(m[1])
		src, err := fs.ReadFile(data.FS, name)
		if err != nil {
			return err
		}
		tmpl, err := template.New(path.Base(name)).Funcs(funcs).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, picks); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		doc, err := advisory.Parse(b.Bytes())
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		byDay[days] = append(byDay[days], doc)
	}
	days := slices.Sorted(maps.Keys(byDay))
	slices.Reverse(days)
	var total IngestReport
	for _, d := range days {
		at := now.AddDate(0, 0, -d)
		run, err := s.runWatchAt(ctx, []string{}, IngestOptions{}, at) // clocks that ran out by then
		if err != nil {
			return err
		}
		total.WatchRun = total.WatchRun.add(run)
		rep, err := s.ingestAt(ctx, byDay[d], IngestOptions{}, at)
		if err != nil {
			return err
		}
		total = total.Add(rep)
	}
	run, err := s.runWatchAt(ctx, []string{}, IngestOptions{}, now)
	if err != nil {
		return err
	}
	total.WatchRun = total.WatchRun.add(run)
	slog.Info("demo advisories played through the post-market watch", "documents", len(names), "findings", total.Findings, "review", total.Review,
		"notified", total.Notified, "suspended", total.Suspended, "restored", total.Restored)
	return nil
}
