// Package insight turns the registry and the transparency log into evidence
// for policy: a catalogue of indicators with versioned definitions, their
// figures cut by scheme, jurisdiction, category and manufacturer and
// tracked month by month, the what-if of a proposed requirement on the real
// market, the counterfactual replay of a proposed post-market rule, and
// declared targets with their progress. It computes on a Market the
// application layer reads from the store; it knows nothing of HTTP or SQL.
//
// Every figure names the log checkpoint (size and root hash) whose label
// decisions it was computed from, and the definition version, so anyone with
// a mirror of the log and the registry can compute it again.
package insight

import (
	"slices"
	"sort"
	"time"
)

// Checkpoint is the point of the transparency log a figure was computed at:
// label statuses come from the decisions among the log's first Size entries.
type Checkpoint struct {
	Origin string `json:"origin"`
	Size   uint64 `json:"size"`
	Root   string `json:"root_hash"` // base64, as the checkpoint writes it
}

// Status is a label's status, compactly.
type Status uint8

// The label statuses, in the log's words.
const (
	NoStatus Status = iota
	Active
	Suspended
	Revoked
	Surrendered
	Expired
)

var statusNames = [...]string{"", "active", "suspended", "revoked", "surrendered", "expired"}

// StatusNames lists the statuses in display order.
var StatusNames = statusNames[1:]

func (s Status) String() string { return statusNames[s] }

// ParseStatus reads a status word ("" and unknown words are NoStatus).
func ParseStatus(s string) Status {
	for i, n := range statusNames {
		if i > 0 && n == s {
			return Status(i)
		}
	}
	return NoStatus
}

// Live reports whether a label in this status has not ended: active or
// suspended. "Labelled products" are those holding a live label.
func (s Status) Live() bool { return s == Active || s == Suspended }

// Dict interns strings as small integers, so a market of a million products
// holds each category, scheme and manufacturer name once.
type Dict struct {
	names []string
	index map[string]int32
}

// ID returns s's number, adding it if new.
func (d *Dict) ID(s string) int32 {
	if d.index == nil {
		d.index = map[string]int32{}
	}
	if i, ok := d.index[s]; ok {
		return i
	}
	i := int32(len(d.names))
	d.names = append(d.names, s)
	d.index[s] = i
	return i
}

// Find returns s's number, or -1.
func (d *Dict) Find(s string) int32 {
	if i, ok := d.index[s]; ok {
		return i
	}
	return -1
}

// Name is the string of number i.
func (d *Dict) Name(i int32) string {
	if i < 0 || int(i) >= len(d.names) {
		return ""
	}
	return d.names[i]
}

// Len is how many strings the dictionary holds.
func (d *Dict) Len() int { return len(d.names) }

// Tri is a declared yes/no that may be missing.
type Tri int8

const (
	Unknown Tri = 0
	Yes     Tri = 1
	No      Tri = -1
)

// Version is a registered product version with the facts indicators read.
type Version struct {
	ID           int64
	Product      int64
	Manufacturer int32 // in Market.Manufacturers
	Category     int32 // in Market.Categories
	Release      time.Time
	SupportEnd   time.Time
	UpdateMode   string
	PasswordType string
	UniqueCreds  Tri
	SBOM         bool      // an SBOM was uploaded for it
	Disclosure   bool      // a vulnerability disclosure policy is declared
	Contact      bool      // a security contact is declared
	Sensors      bool      // the sensors are declared
	Newest       bool      // the product's most recently registered version
	FirstLabel   time.Time // when it was first labelled, as logged; zero if never
	findFirst    int32
	findCount    int32
}

// Unsecurable says whether the version cannot be made secure from its
// declared facts: no update path, or no capacity for unique credentials
// (registry.Facts.Derive, which the store passes through).
func (v *Version) Unsecurable() (noUpdate, noUnique bool) {
	return v.UpdateMode == "none", v.PasswordType == "shared-default" || v.UniqueCreds == No
}

// SupportYears is the declared support period in years: from the release
// (or, undeclared, the first label) to the support end. ok is false when no
// support end is declared.
func (v *Version) SupportYears() (float64, bool) {
	if v.SupportEnd.IsZero() {
		return 0, false
	}
	from := v.Release
	if from.IsZero() {
		from = v.FirstLabel
	}
	if from.IsZero() {
		return 0, false
	}
	return v.SupportEnd.Sub(from).Hours() / 24 / 365.25, true
}

// Label is a label whose issue is in the log by the market's checkpoint.
type Label struct {
	ID      string
	Version int32 // in Market.Versions
	Scheme  int32 // in Market.Schemes
	Level   string
	Issued  time.Time
	first   int32 // its events in Market.Events
	count   int32
}

// Event is one logged status change of a label (its issue included).
type Event struct {
	At     time.Time
	Status Status
	seq    int64 // the decision's order, for two in the same second
}

// Finding is one post-market finding on a product version: one flaw.
type Finding struct {
	Version   int32
	Flaw      string
	Severity  string // critical, high, medium, low, or "" when unrated
	CVSS      float64
	Published time.Time // the advisory's publication; zero when unknown
	Exploited time.Time // when known to be exploited (KEV); zero if never
	FirstSeen time.Time
	Updated   time.Time
	State     string // the watch's finding state now
	Counts    bool   // acted on: an exact match, or one an authority confirmed
	Upstream  bool   // the component's maintainers named a fixed version
	Response  string // the manufacturer's answer
	VEXAt     time.Time
	Clocks    []Clock
}

// Clock is a remediation clock a scheme's rule opened on a finding.
type Clock struct {
	Scheme int32 // in Market.Schemes (-1 when the scheme is unknown)
	Rule   string
	Due    time.Time
}

// cleared reports whether the finding no longer stands: fixed, or shown
// not to apply.
func (f *Finding) cleared() bool {
	return f.State == "fixed" || f.State == "not-affected" || f.State == "retracted"
}

// unfixedAt reports whether the finding was a known, unfixed vulnerability
// at t. The watch keeps a finding's present state, not its history: one
// cleared after t counts as unfixed at t (it was known and not yet
// cleared); one waiting for review or disputed never counts.
func (f *Finding) unfixedAt(t time.Time) bool {
	if !f.Counts || f.FirstSeen.After(t) {
		return false
	}
	switch f.State {
	case "open":
		return true
	case "review", "disputed":
		return false
	}
	return f.Updated.After(t)
}

// fixedAt is when the manufacturer's fix cleared the finding, if it did by t.
func (f *Finding) fixedAt(t time.Time) (time.Time, bool) {
	if f.State != "fixed" || f.Updated.After(t) || !f.Counts {
		return time.Time{}, false
	}
	return f.Updated, true
}

// since is when the flaw became public: its publication, else when the
// watch first saw it.
func (f *Finding) since() time.Time {
	if !f.Published.IsZero() && f.Published.Before(f.FirstSeen) {
		return f.Published
	}
	if f.Published.IsZero() {
		return f.FirstSeen
	}
	return f.Published
}

// SchemeInfo is what indicators need to know of a scheme.
type SchemeInfo struct {
	ID           string
	Name         string
	Jurisdiction string
	Kind         string
	// Rules summarises the scheme's post-market rules; two schemes whose
	// summaries differ do not judge findings alike.
	Rules string
}

// Verdict is what the evidence says of a version and a requirement.
type Verdict uint8

const (
	NoEvidence Verdict = iota
	Meets
	Fails
)

// Market is what indicators read: the registered versions with their
// facts, the labels and their status history as logged up to Checkpoint,
// the post-market findings known at At, and the assessments' verdicts.
type Market struct {
	At            time.Time
	Checkpoint    Checkpoint
	Categories    Dict
	Manufacturers Dict
	Schemes       []SchemeInfo
	Jurisdictions Dict
	Versions      []Version
	Labels        []Label // sorted by version
	Events        []Event
	Findings      []Finding // sorted by version
	// Requirements are the catalogue's requirement ids; the assessments'
	// verdicts on requirement i are sets of version indexes (a million
	// versions cost 125 KB per requirement and verdict).
	Requirements []string
	assessedPass []bitset
	assessedFail []bitset
	// ManufacturerIDs are the organisation ids behind Manufacturers.
	ManufacturerIDs []int64

	schemeJur []int32
	schemeIdx map[string]int32
	reqIdx    map[string]int
}

// SchemeIndex returns the number of the scheme with id, or -1.
func (m *Market) SchemeIndex(id string) int32 {
	if i, ok := m.schemeIdx[id]; ok {
		return i
	}
	return -1
}

// RequirementIndex returns the number of requirement id, or -1.
func (m *Market) RequirementIndex(id string) int {
	if i, ok := m.reqIdx[id]; ok {
		return i
	}
	return -1
}

// LabelEvents are the logged status changes of label i, oldest first.
func (m *Market) LabelEvents(i int) []Event {
	l := &m.Labels[i]
	return m.Events[l.first : l.first+l.count]
}

// StatusAt is label i's status at t (NoStatus before its issue).
func (m *Market) StatusAt(i int, t time.Time) Status {
	evs := m.LabelEvents(i)
	// The last event at or before t.
	k := sort.Search(len(evs), func(j int) bool { return evs[j].At.After(t) })
	if k == 0 {
		return NoStatus
	}
	return evs[k-1].Status
}

// labelRange is the index range of version v's labels (labels are
// sorted by version).
func (m *Market) labelRange(v int32) (int, int) {
	lo := sort.Search(len(m.Labels), func(i int) bool { return m.Labels[i].Version >= v })
	hi := lo
	for hi < len(m.Labels) && m.Labels[hi].Version == v {
		hi++
	}
	return lo, hi
}

// VersionFindings are the findings of version v.
func (m *Market) VersionFindings(v int32) []Finding {
	ver := &m.Versions[v]
	return m.Findings[ver.findFirst : ver.findFirst+ver.findCount]
}

// Builder assembles a Market from the rows the store reads, in any order.
type Builder struct {
	m        Market
	versions map[int64]int32
	labels   map[string]int32
	events   map[int32][]Event
	findings []Finding
	newest   map[int64]int32 // product -> its newest version index
	words    map[string]string
}

// NewBuilder starts a market as of at, with label history up to cp.
func NewBuilder(at time.Time, cp Checkpoint, schemes []SchemeInfo, requirements []string) *Builder {
	b := &Builder{versions: map[int64]int32{}, labels: map[string]int32{}, events: map[int32][]Event{}, newest: map[int64]int32{}, words: map[string]string{}}
	b.m.At, b.m.Checkpoint = at, cp
	b.m.schemeIdx = map[string]int32{}
	for _, s := range schemes {
		b.addScheme(s)
	}
	b.m.Requirements = slices.Clone(requirements)
	b.m.reqIdx = map[string]int{}
	for i, r := range requirements {
		b.m.reqIdx[r] = i
	}
	b.m.assessedPass = make([]bitset, len(requirements))
	b.m.assessedFail = make([]bitset, len(requirements))
	return b
}

func (b *Builder) addScheme(s SchemeInfo) int32 {
	if i, ok := b.m.schemeIdx[s.ID]; ok {
		return i
	}
	i := int32(len(b.m.Schemes))
	if s.Name == "" {
		s.Name = s.ID
	}
	b.m.Schemes = append(b.m.Schemes, s)
	b.m.schemeIdx[s.ID] = i
	b.m.schemeJur = append(b.m.schemeJur, b.m.Jurisdictions.ID(s.Jurisdiction))
	return i
}

// VersionRow is one registered product version as the store reads it.
type VersionRow struct {
	ID, Product, ManufacturerID int64
	Manufacturer, Category      string
	Created                     time.Time
	Release, SupportEnd         time.Time
	UpdateMode, PasswordType    string
	UniqueCreds                 Tri
	SBOM, Disclosure, Contact   bool
	Sensors                     bool
}

// AddVersion adds a product version.
func (b *Builder) AddVersion(r VersionRow) {
	if _, dup := b.versions[r.ID]; dup {
		return
	}
	mi := b.m.Manufacturers.ID(r.Manufacturer)
	if int(mi) == len(b.m.ManufacturerIDs) {
		b.m.ManufacturerIDs = append(b.m.ManufacturerIDs, r.ManufacturerID)
	}
	v := Version{ID: r.ID, Product: r.Product, Manufacturer: mi, Category: b.m.Categories.ID(r.Category),
		Release: r.Release, SupportEnd: r.SupportEnd, UpdateMode: b.intern(r.UpdateMode), PasswordType: b.intern(r.PasswordType),
		UniqueCreds: r.UniqueCreds, SBOM: r.SBOM, Disclosure: r.Disclosure, Contact: r.Contact, Sensors: r.Sensors}
	i := int32(len(b.m.Versions))
	b.m.Versions = append(b.m.Versions, v)
	b.versions[r.ID] = i
	// The newest version of a product is the one registered last (ids
	// grow with registration).
	if old, ok := b.newest[r.Product]; !ok || b.m.Versions[old].ID < r.ID {
		b.newest[r.Product] = i
	}
}

// intern shares the few values a fact takes (update modes, states), so a
// million rows do not hold a million copies.
func (b *Builder) intern(s string) string {
	if w, ok := b.words[s]; ok {
		return w
	}
	if len(b.words) < 256 {
		b.words[s] = s
	}
	return s
}

// AddLabel adds a label of a version already added; a label of an unknown
// version or scheme is ignored (it cannot be cut or judged).
func (b *Builder) AddLabel(id string, versionID int64, schemeID, level string) {
	v, ok := b.versions[versionID]
	if !ok {
		return
	}
	si, ok := b.m.schemeIdx[schemeID]
	if !ok {
		si = b.addScheme(SchemeInfo{ID: schemeID})
	}
	b.labels[id] = int32(len(b.m.Labels))
	b.m.Labels = append(b.m.Labels, Label{ID: id, Version: v, Scheme: si, Level: level})
}

// AddEvent adds one logged status change of a label (status after it).
// Times are taken to the second, as the log holds them; seq orders two
// decisions of one second (the decision's id, which the log entry carries
// as its ref).
func (b *Builder) AddEvent(labelID string, at time.Time, status string, seq int64) {
	i, ok := b.labels[labelID]
	st := ParseStatus(status)
	if !ok || st == NoStatus {
		return
	}
	b.events[i] = append(b.events[i], Event{At: at.UTC().Truncate(time.Second), Status: st, seq: seq})
}

// FindingRow is one post-market finding as the application layer has
// judged its facts (severity, exploitation, publication).
type FindingRow struct {
	VersionID                 int64
	Flaw, Severity, State     string
	CVSS                      float64
	Published, Exploited      time.Time
	FirstSeen, Updated, VEXAt time.Time
	Counts, Upstream          bool
	Response                  string
	Clocks                    map[string]time.Time // "scheme/rule" -> due
}

// AddFinding adds a finding on a version already added.
func (b *Builder) AddFinding(r FindingRow) {
	v, ok := b.versions[r.VersionID]
	if !ok {
		return
	}
	f := Finding{Version: v, Flaw: r.Flaw, Severity: b.intern(r.Severity), CVSS: r.CVSS, Published: r.Published, Exploited: r.Exploited,
		FirstSeen: r.FirstSeen, Updated: r.Updated, State: b.intern(r.State), Counts: r.Counts, Upstream: r.Upstream,
		Response: b.intern(r.Response), VEXAt: r.VEXAt}
	for k, due := range r.Clocks {
		sc, rule, _ := cutSlash(k)
		si, ok := b.m.schemeIdx[sc]
		if !ok {
			si = -1
		}
		f.Clocks = append(f.Clocks, Clock{Scheme: si, Rule: rule, Due: due})
	}
	slices.SortFunc(f.Clocks, func(a, b Clock) int { return a.Due.Compare(b.Due) })
	b.findings = append(b.findings, f)
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// AddVerdict records an assessment's verdict on a requirement for a
// version: a pass or "not applicable" meets it, a fail fails it. A fail
// outweighs a pass from another assessment.
func (b *Builder) AddVerdict(versionID int64, requirement, verdict string) {
	v, ok := b.versions[versionID]
	ri, rok := b.m.reqIdx[requirement]
	if !ok || !rok {
		return
	}
	switch verdict {
	case "pass", "not-applicable":
		b.m.assessedPass[ri].set(v)
	case "fail":
		b.m.assessedFail[ri].set(v)
	}
}

// Market finishes the market: labels and findings sorted by version,
// events by time, labels without a logged issue dropped.
func (b *Builder) Market() *Market {
	m := &b.m
	for _, i := range b.newest {
		m.Versions[i].Newest = true
	}
	type keyed struct {
		l   Label
		evs []Event
	}
	ls := make([]keyed, 0, len(m.Labels))
	for i, l := range m.Labels {
		evs := b.events[int32(i)]
		if len(evs) == 0 {
			continue // not yet in the log at this checkpoint
		}
		slices.SortFunc(evs, func(a, b Event) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return int(a.seq - b.seq)
		})
		l.Issued = evs[0].At
		ls = append(ls, keyed{l, evs})
	}
	slices.SortStableFunc(ls, func(a, b keyed) int {
		if a.l.Version != b.l.Version {
			return int(a.l.Version - b.l.Version)
		}
		return a.l.Issued.Compare(b.l.Issued)
	})
	m.Labels = make([]Label, len(ls))
	m.Events = make([]Event, 0, len(ls)+len(ls)/2)
	for i, k := range ls {
		k.l.first, k.l.count = int32(len(m.Events)), int32(len(k.evs))
		m.Events = append(m.Events, k.evs...)
		m.Labels[i] = k.l
		if v := &m.Versions[k.l.Version]; v.FirstLabel.IsZero() || k.l.Issued.Before(v.FirstLabel) {
			v.FirstLabel = k.l.Issued
		}
	}
	slices.SortStableFunc(b.findings, func(a, b Finding) int { return int(a.Version - b.Version) })
	m.Findings = b.findings
	for i := 0; i < len(m.Findings); {
		j := i
		for j < len(m.Findings) && m.Findings[j].Version == m.Findings[i].Version {
			j++
		}
		v := &m.Versions[m.Findings[i].Version]
		v.findFirst, v.findCount = int32(i), int32(j-i)
		i = j
	}
	b.events, b.labels = nil, nil
	return m
}
