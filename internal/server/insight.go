package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
	"github.com/hallmark-iot/hallmark/internal/watch"
)

// Evidence for policy: the market indicators read is built from the store
// (and the log's checkpoint) and kept, since a million products take
// seconds to read; every answer cites the checkpoint of the market it was
// computed on, so a market a few seconds old is still an exact, checkable
// answer. The rules live in package insight.

// insightCache holds the last market built.
type insightCache struct {
	mu       sync.Mutex
	market   *insight.Market
	gen      uint64        // the label generation it was built at
	builtAt  time.Time     // wall clock
	took     time.Duration // how long it took to build
	building bool          // a rebuild runs in the background
	buildMu  sync.Mutex    // one build at a time
	// figures computed on market, by question: a figure of a million
	// labels takes seconds, and the dashboard asks the same ones.
	figMarket *insight.Market
	figs      map[string]insight.Figure
}

// maxCachedFigures bounds the figures kept per market.
const maxCachedFigures = 512

const (
	// marketMaxAge bounds how long a market is served without a rebuild
	// (registrations and assessments change it without a label decision).
	marketMaxAge = 2 * time.Minute
	// marketSyncBuild: a market that built faster than this is rebuilt
	// while the request waits; a slower one is served as it is while a
	// fresh one builds behind.
	marketSyncBuild = 2 * time.Second
)

// ErrNoLog is the answer when figures are asked of an instance whose log
// has no checkpoint yet.
var ErrNoLog = errors.New("the transparency log has no checkpoint yet")

// Checkpoint is the log's latest published checkpoint, verified.
func (s *Server) Checkpoint(ctx context.Context) (insight.Checkpoint, error) {
	var raw []byte
	var err error
	if s.dlog() != nil {
		raw, err = s.dlog().log.Checkpoint(ctx)
	} else {
		// A command-line tool reads the checkpoint a server published.
		raw, err = os.ReadFile(filepath.Join(s.cfg.DataDir, "log", "checkpoint"))
	}
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(raw) == 0) {
		return insight.Checkpoint{}, ErrNoLog
	}
	if err != nil {
		return insight.Checkpoint{}, fmt.Errorf("read the log's checkpoint: %w", err)
	}
	vs, _, err := tlog.Verifiers(filepath.Join(s.cfg.DataDir, "logkeys"))
	if err != nil {
		return insight.Checkpoint{}, err
	}
	c, err := tlog.VerifyCheckpoint(raw, vs)
	if err != nil {
		return insight.Checkpoint{}, fmt.Errorf("the log's checkpoint: %w", err)
	}
	return insight.Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.RootBase64()}, nil
}

// Market is the market as of the latest checkpoint (or a moment before,
// while a fresh one builds behind: see marketSyncBuild).
func (s *Server) Market(ctx context.Context) (*insight.Market, error) {
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	c := &s.insight
	gen := s.LabelGeneration()
	c.mu.Lock()
	m := c.market
	if m != nil && m.Checkpoint.Size == cp.Size && c.gen == gen && time.Since(c.builtAt) < marketMaxAge {
		c.mu.Unlock()
		return m, nil
	}
	if m != nil && c.took > marketSyncBuild {
		if !c.building {
			c.building = true
			go func() {
				bctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
				defer cancel()
				if _, err := s.rebuildMarket(bctx); err != nil {
					slog.Warn("rebuilding the indicators' market", "err", err)
				}
				c.mu.Lock()
				c.building = false
				c.mu.Unlock()
			}()
		}
		c.mu.Unlock()
		return m, nil
	}
	c.mu.Unlock()
	return s.rebuildMarket(ctx)
}

// RefreshMarket rebuilds the market now (tests, and after a bulk load).
func (s *Server) RefreshMarket(ctx context.Context) (*insight.Market, error) {
	return s.rebuildMarket(ctx)
}

func (s *Server) rebuildMarket(ctx context.Context) (*insight.Market, error) {
	c := &s.insight
	c.buildMu.Lock()
	defer c.buildMu.Unlock()
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	gen := s.LabelGeneration()
	c.mu.Lock()
	if m := c.market; m != nil && m.Checkpoint.Size == cp.Size && c.gen == gen && time.Since(c.builtAt) < time.Second {
		c.mu.Unlock()
		return m, nil // built while this one waited
	}
	c.mu.Unlock()
	start := time.Now()
	m, err := s.BuildMarket(ctx, cp, s.now(), nil)
	if err != nil {
		return nil, err
	}
	took := time.Since(start)
	c.mu.Lock()
	c.market, c.gen, c.builtAt, c.took = m, gen, time.Now(), took
	c.mu.Unlock()
	if took > marketSyncBuild {
		slog.Info("indicators' market built", "versions", len(m.Versions), "labels", len(m.Labels), "findings", len(m.Findings), "took", took.Round(time.Millisecond))
	}
	return m, nil
}

// LabelEvent is one logged label decision, as a market is built from it:
// Seq is the decision's id (the log entry's ref).
type LabelEvent struct {
	Label, Status string
	At            time.Time
	Seq           int64
}

// BuildMarket reads the market as of cp: label histories from the
// decisions among the log's first cp.Size entries (or, given events, from
// those: the log's own entries when a figure is verified), everything else
// from the registry as it is, with findings known by at.
func (s *Server) BuildMarket(ctx context.Context, cp insight.Checkpoint, at time.Time, events []LabelEvent) (*insight.Market, error) {
	var schemes []insight.SchemeInfo
	for _, sc := range s.Schemes().Sorted() {
		rules, _ := json.Marshal(sc.Rules)
		sum := sha256.Sum256(rules)
		schemes = append(schemes, insight.SchemeInfo{ID: sc.ID, Name: sc.Name, Jurisdiction: sc.Jurisdiction, Kind: string(sc.Kind),
			Rules: hex.EncodeToString(sum[:8])})
	}
	var reqs []string
	for _, r := range s.Catalog().Requirements {
		reqs = append(reqs, r.ID)
	}
	b := insight.NewBuilder(at, cp, schemes, reqs)
	err := s.store.MarketVersions(ctx, func(v store.MarketVersion) error {
		row := insight.VersionRow{ID: v.ID, Product: v.ProductID, ManufacturerID: v.ManufacturerID, Manufacturer: v.Manufacturer, Category: v.Category,
			Created: v.Created, UpdateMode: v.Facts.UpdateMode, PasswordType: v.Facts.PasswordType, SBOM: v.SBOM,
			Disclosure: v.Facts.DisclosurePolicyURL != "", Contact: v.Facts.SecurityContact != "", Sensors: len(v.Facts.Sensors) > 0}
		row.Release, _ = time.Parse(time.DateOnly, v.ReleaseDate)
		row.SupportEnd, _ = time.Parse(time.DateOnly, v.Facts.SupportEnd)
		if c := v.Facts.UniqueCredentialsCap; c != nil {
			row.UniqueCreds = insight.No
			if *c {
				row.UniqueCreds = insight.Yes
			}
		}
		b.AddVersion(row)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the registry's versions: %w", err)
	}
	if err := s.store.MarketLabels(ctx, func(id string, v int64, sc, lvl string) error { b.AddLabel(id, v, sc, lvl); return nil }); err != nil {
		return nil, fmt.Errorf("read the labels: %w", err)
	}
	if events != nil {
		for _, e := range events {
			b.AddEvent(e.Label, e.At, e.Status, e.Seq)
		}
	} else if err := s.store.LabelDecisions(ctx, int64(cp.Size), func(id int64, subj, st string, t time.Time) error { b.AddEvent(subj, t, st, id); return nil }); err != nil {
		return nil, fmt.Errorf("read the logged label decisions: %w", err)
	}
	if err := s.addFindings(ctx, b, at); err != nil {
		return nil, err
	}
	if err := s.store.AssessmentVerdicts(ctx, func(v int64, req, verdict string) error { b.AddVerdict(v, req, verdict); return nil }); err != nil {
		return nil, fmt.Errorf("read the assessments: %w", err)
	}
	return b.Market(), nil
}

// addFindings adds the post-market findings known by at, with their
// flaws' facts as the watch judges them (severity, publication, known
// exploitation) and the manufacturers' VEX statements.
func (s *Server) addFindings(ctx context.Context, b *insight.Builder, at time.Time) error {
	stored, err := s.store.Advisories(ctx)
	if err != nil {
		return err
	}
	advs := map[string]advisory.Advisory{}
	ids := map[string][]string{}
	for _, sa := range stored {
		var a advisory.Advisory
		if err := json.Unmarshal(sa.Body, &a); err != nil {
			return fmt.Errorf("stored advisory %s: %w", sa.ID, err)
		}
		rep, ok := advs[sa.Flaw]
		advs[sa.Flaw] = addSource(sa.Flaw, rep, ok, a)
		for _, id := range append([]string{a.ID}, a.Aliases...) {
			if !slices.Contains(ids[sa.Flaw], id) {
				ids[sa.Flaw] = append(ids[sa.Flaw], id)
			}
		}
	}
	exploited, err := s.store.Exploited(ctx)
	if err != nil {
		return err
	}
	vex, err := s.store.VEX(ctx)
	if err != nil {
		return err
	}
	type vexKey struct {
		version int64
		vuln    string
	}
	vexAt := map[vexKey]time.Time{}
	for _, v := range vex {
		if v.Status != "not_affected" && v.Status != "fixed" || v.At.After(at) {
			continue
		}
		k := vexKey{v.VersionID, v.Vulnerability}
		if old, ok := vexAt[k]; !ok || v.At.Before(old) {
			vexAt[k] = v.At
		}
	}
	return s.store.EachWatchFinding(ctx, func(f registry.Finding) error {
		if f.FirstSeen.After(at) {
			return nil
		}
		a := advs[f.AdvisoryID]
		row := insight.FindingRow{VersionID: f.VersionID, Flaw: f.AdvisoryID, Severity: string(a.Severity), CVSS: a.CVSS, State: f.State,
			Published: a.Published, FirstSeen: f.FirstSeen, Updated: f.Updated, Upstream: len(f.Fixed) > 0, Response: f.Response, Clocks: f.Clocks}
		if row.Severity == "" && a.CVSS > 0 {
			row.Severity = string(advisory.SeverityFromScore(a.CVSS))
		}
		// Counted: matched exactly, or confirmed by a person since.
		row.Counts = watch.Basis(f.Basis).Automatic() && f.Confidence >= 1 ||
			f.State == registry.FindingOpen || f.State == registry.FindingFixed || f.State == registry.FindingNotAffected
		for _, id := range append([]string{f.AdvisoryID}, ids[f.AdvisoryID]...) {
			if d, ok := exploited[id]; ok && (row.Exploited.IsZero() || d.Before(row.Exploited)) {
				row.Exploited = d
			}
			if t, ok := vexAt[vexKey{f.VersionID, id}]; ok && (row.VEXAt.IsZero() || t.Before(row.VEXAt)) {
				row.VEXAt = t
			}
		}
		b.AddFinding(row)
		return nil
	})
}

// Indicators lists the indicator catalogue: each current definition.
func (s *Server) Indicators() []*insight.Definition { return insight.Definitions() }

// Indicator computes one indicator on the current market.
func (s *Server) Indicator(ctx context.Context, id string, version int, q insight.Query) (insight.Figure, *insight.Definition, error) {
	def, err := insight.Lookup(id, version)
	if err != nil {
		return insight.Figure{}, nil, insightErr(err)
	}
	m, err := s.Market(ctx)
	if err != nil {
		return insight.Figure{}, def, err
	}
	key := fmt.Sprintf("%s/%d?%s&limit=%d", def.ID, def.Version, q.Values().Encode(), q.Limit)
	c := &s.insight
	c.mu.Lock()
	if c.figMarket == m {
		if f, ok := c.figs[key]; ok {
			c.mu.Unlock()
			return f, def, nil
		}
	}
	c.mu.Unlock()
	f, err := insight.Compute(m, def, q)
	if err != nil {
		return f, def, insightErr(err)
	}
	c.mu.Lock()
	if c.figMarket != m {
		c.figMarket, c.figs = m, map[string]insight.Figure{}
	}
	if len(c.figs) < maxCachedFigures {
		c.figs[key] = f
	}
	c.mu.Unlock()
	return f, def, nil
}

// insightErr turns the insight package's refusals into the server's.
func insightErr(err error) error {
	if errors.Is(err, insight.ErrInvalid) {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), insight.ErrInvalid.Error()+": "))
	}
	return err
}

// MarketWhatIf asks what adding conditions to a scheme level would do to
// the products it labels now. ref is scheme@level (the level may be left
// out of a single-level scheme); each condition a requirement id, a
// framework item (resolved to the requirements that capture it),
// support>=N or sbom.
func (s *Server) MarketWhatIf(ctx context.Context, ref string, add []string, list int) (insight.WhatIfResult, error) {
	return s.MarketWhatIfOn(ctx, nil, ref, add, list)
}

// MarketWhatIfOn is MarketWhatIf on a given market (nil: the current one),
// for benchmarks that time the what-if apart from reading the market.
func (s *Server) MarketWhatIfOn(ctx context.Context, m *insight.Market, ref string, add []string, list int) (insight.WhatIfResult, error) {
	res, err := s.Schemes().ResolveRef(s.Catalog(), ref)
	if err != nil {
		return insight.WhatIfResult{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(add) > insight.MaxConditions {
		return insight.WhatIfResult{}, fmt.Errorf("%w: at most %d conditions at once", ErrInvalid, insight.MaxConditions)
	}
	var conds []insight.Condition
	seen := map[string]bool{}
	for _, a := range add {
		for _, part := range strings.Split(a, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			cs, err := s.conditions(part)
			if err != nil {
				return insight.WhatIfResult{}, err
			}
			for _, c := range cs {
				if !seen[c.String()] {
					seen[c.String()] = true
					conds = append(conds, c)
				}
			}
		}
	}
	if m == nil {
		var err error
		if m, err = s.Market(ctx); err != nil {
			return insight.WhatIfResult{}, err
		}
	}
	var needs []string
	for _, n := range res.Needs {
		needs = append(needs, n.Requirement.ID)
	}
	cat := s.Catalog()
	out, err := insight.RunWhatIf(m, insight.WhatIf{Scheme: res.Scheme.ID, SchemeName: res.Name(), Level: res.Level.ID, LevelName: res.Level.Name,
		Needs: needs, Add: conds, List: list, Title: func(id string) string {
			if r, ok := cat.Requirement(id); ok {
				return r.Title
			}
			return ""
		}})
	return out, insightErr(err)
}

// conditions reads one condition; a framework item stands for the
// requirements that capture it.
func (s *Server) conditions(text string) ([]insight.Condition, error) {
	if strings.Contains(text, "#") {
		ids, err := scheme.ResolveItem(s.Catalog(), text)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		var out []insight.Condition
		for _, id := range ids {
			out = append(out, insight.Condition{Kind: insight.CondRequirement, Requirement: id})
		}
		return out, nil
	}
	c, err := insight.ParseCondition(text)
	if err != nil {
		return nil, insightErr(err)
	}
	if c.Kind == insight.CondRequirement {
		if _, ok := s.Catalog().Requirement(c.Requirement); !ok {
			return nil, fmt.Errorf("%w: no requirement %q in the catalogue", ErrInvalid, c.Requirement)
		}
	}
	return []insight.Condition{c}, nil
}

// MaxRuleBytes bounds a proposed rule sent for replay.
const MaxRuleBytes = 16 << 10

// Replay runs a proposed post-market rule over the logged history.
func (s *Server) Replay(ctx context.Context, rule scheme.Rule, schemeID string, list int) (insight.ReplayResult, error) {
	if schemeID != "" {
		if _, ok := s.Schemes()[schemeID]; !ok {
			return insight.ReplayResult{}, fmt.Errorf("%w: no scheme %q", ErrInvalid, schemeID)
		}
	}
	m, err := s.Market(ctx)
	if err != nil {
		return insight.ReplayResult{}, err
	}
	r, err := insight.RunReplay(m, insight.Replay{Rule: rule, Scheme: schemeID, List: list})
	return r, insightErr(err)
}
