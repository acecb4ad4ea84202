// Package catalog is Hallmark's common language: requirements written once in
// plain words and in precise words, the items of the world's frameworks, and
// the mappings between them. It knows nothing of HTTP or SQL; the store
// persists a Catalog and the web and API layers render one.
package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Status is how binding a framework item is, where the framework says so.
type Status string

const (
	Mandatory   Status = "mandatory"
	Recommended Status = "recommended"
	Conditional Status = "conditional"
)

// Relationship reads "the Hallmark requirement <Relationship> the framework
// item". The values follow NIST IR 8477 set-theory relationships, which OSCAL
// mapping-collections also use.
type Relationship string

const (
	Equivalent     Relationship = "equivalent"
	SubsetOf       Relationship = "subset-of"
	SupersetOf     Relationship = "superset-of"
	IntersectsWith Relationship = "intersects-with"
)

// Method is a way a requirement can be verified, from cheapest to strongest.
type Method string

const (
	SelfDeclaration Method = "self-declaration"
	DocumentReview  Method = "document-review"
	FunctionalTest  Method = "functional-test"
	LabTest         Method = "lab-test"
)

// Methods lists every verification method in order of assurance.
var Methods = []Method{SelfDeclaration, DocumentReview, FunctionalTest, LabTest}

// Source says where a framework came from.
const (
	SourceBuiltin  = "builtin"  // shipped in data/catalog, reviewed with the code
	SourceImported = "imported" // an authority's own OSCAL catalog
)

// Topic groups requirements for browsing.
type Topic struct {
	ID          string `yaml:"id" json:"id"`
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	pos         pos
}

// Requirement is one Hallmark requirement in the project's own words.
type Requirement struct {
	ID              string    `yaml:"id" json:"id"`
	Topic           string    `yaml:"-" json:"topic"`
	Title           string    `yaml:"title" json:"title"`
	Summary         string    `yaml:"summary" json:"summary"`
	Technical       string    `yaml:"technical" json:"technical"`
	Why             string    `yaml:"why" json:"why"`
	Incident        string    `yaml:"incident,omitempty" json:"incident,omitempty"`
	Verification    []Method  `yaml:"verification" json:"verification"`
	Unsecurable     bool      `yaml:"unsecurable" json:"unsecurable"`
	UnsecurableNote string    `yaml:"unsecurable_note,omitempty" json:"unsecurable_note,omitempty"`
	Mappings        []Mapping `yaml:"-" json:"mappings"`
	pos             pos
}

// Mapping relates a requirement to one framework item.
type Mapping struct {
	Framework string       `json:"framework"`
	Item      string       `json:"item"`
	Rel       Relationship `json:"relationship"`
	Note      string       `json:"rationale"`
	pos       pos
}

// Ref is the "framework#item" form used in data files and URLs.
func (m Mapping) Ref() string { return m.Framework + "#" + m.Item }

// Framework is a published set of items (provisions, outcomes, requirements).
type Framework struct {
	ID          string `yaml:"id" json:"id"`
	Title       string `yaml:"title" json:"title"`
	Short       string `yaml:"short" json:"short"`
	Publisher   string `yaml:"publisher" json:"publisher"`
	Version     string `yaml:"version" json:"version"`
	Published   string `yaml:"published" json:"published"`
	URL         string `yaml:"url" json:"url"`
	Description string `yaml:"description" json:"description"`
	Source      string `yaml:"-" json:"source"`
	// Sources are where the framework's facts were checked, and when.
	Sources []Source `yaml:"sources,omitempty" json:"sources,omitempty"`
	// Unverified lists facts (the item list, statuses, a date) that could
	// not be confirmed against a source; pages show them as unverified.
	Unverified []Unverified `yaml:"unverified,omitempty" json:"unverified,omitempty"`
	Items      []Item       `yaml:"items" json:"items"`
	pos        pos
}

// Source is one document a set of facts was checked against: its
// identifier or title, where to read it, the day it was checked and which
// facts it supports.
type Source struct {
	Ref     string `yaml:"ref" json:"ref"`
	URL     string `yaml:"url,omitempty" json:"url,omitempty"`
	Checked string `yaml:"checked" json:"checked"`
	Covers  string `yaml:"covers,omitempty" json:"covers,omitempty"`
	// Secondary marks a summary by someone other than the author of the
	// document, used where the primary text could not be read.
	Secondary bool `yaml:"secondary,omitempty" json:"secondary,omitempty"`
}

// Unverified is a fact that could not be confirmed, and why.
type Unverified struct {
	Fact string `yaml:"fact" json:"fact"`
	Note string `yaml:"note" json:"note"`
}

// MaxSources bounds the provenance of one record; real records cite a few.
const MaxSources = 32

// ValidateProvenance checks sources and unverified notes; where says what
// they belong to, for the messages.
func ValidateProvenance(where string, sources []Source, unverified []Unverified) []string {
	var out []string
	if len(sources) > MaxSources || len(unverified) > MaxSources {
		out = append(out, fmt.Sprintf("%s: at most %d sources and %d unverified facts", where, MaxSources, MaxSources))
	}
	for i, s := range sources {
		if strings.TrimSpace(s.Ref) == "" {
			out = append(out, fmt.Sprintf("%s: source %d needs a ref (a document id or title)", where, i+1))
		}
		if !ValidDate(s.Checked) {
			out = append(out, fmt.Sprintf("%s: source %q needs the date it was checked, as YYYY-MM-DD (got %q)", where, s.Ref, s.Checked))
		}
		if s.URL != "" && !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://") {
			out = append(out, fmt.Sprintf("%s: source %q has a URL that is not http(s)", where, s.Ref))
		}
	}
	for _, u := range unverified {
		if strings.TrimSpace(u.Fact) == "" || strings.TrimSpace(u.Note) == "" {
			out = append(out, fmt.Sprintf("%s: an unverified fact needs both the fact and a note saying what is uncertain", where))
		}
	}
	return out
}

// ValidDate accepts a calendar date written YYYY-MM-DD.
func ValidDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Item is one provision of a framework.
type Item struct {
	ID          string `yaml:"id" json:"id"`
	Clause      string `yaml:"clause" json:"clause"`
	ClauseTitle string `yaml:"clause_title,omitempty" json:"clause_title,omitempty"`
	Status      Status `yaml:"status,omitempty" json:"status,omitempty"`
	Condition   string `yaml:"condition,omitempty" json:"condition,omitempty"`
	Title       string `yaml:"title" json:"title"`
	// Unverified says what about this item (its existence, number, status
	// or wording) could not be confirmed against a source.
	Unverified string `yaml:"unverified,omitempty" json:"unverified,omitempty"`
	// DeemedBy lists items of another framework that, by law, count as
	// meeting this one when all are met (UK PSTI Schedule 2 names EN 303 645
	// provisions): a legal route, whatever the contents compare to.
	DeemedBy []string `yaml:"deemed_by,omitempty" json:"deemed_by,omitempty"`
	// Gap is the reason no Hallmark requirement captures this item (none
	// maps to it, or only ones that overlap it).
	Gap    string `yaml:"-" json:"gap,omitempty"`
	pos    pos
	gapPos pos
}

// Term is a glossary entry for policy readers.
type Term struct {
	Term       string   `yaml:"term" json:"term"`
	Expansion  string   `yaml:"expansion,omitempty" json:"expansion,omitempty"`
	Definition string   `yaml:"definition" json:"definition"`
	See        []string `yaml:"see,omitempty" json:"see,omitempty"`
	pos        pos
}

// Catalog is the whole common language, validated and indexed. Build one with
// New; it is immutable afterwards and safe for concurrent readers.
type Catalog struct {
	Topics       []Topic
	Requirements []Requirement
	Frameworks   []Framework
	Glossary     []Term

	reqByID   map[string]int
	fwByID    map[string]int
	itemIndex map[string]map[string]int // framework -> item -> position
	// itemReqs lists, per "framework#item", the requirements that reach it.
	itemReqs map[string][]Link
}

// Link is one requirement reaching a framework item.
type Link struct {
	Requirement string       `json:"requirement"`
	Rel         Relationship `json:"relationship"`
}

// pos places a record in its data file, for error messages.
type pos struct {
	file string
	line int
}

func (p pos) errorf(format string, args ...any) Error {
	return Error{File: p.file, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

// Error is a validation problem, placed in a file and line where known.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// Errors collects every problem found, so an author fixes them in one pass.
type Errors []Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Requirement returns the requirement with the given id.
func (c *Catalog) Requirement(id string) (Requirement, bool) {
	i, ok := c.reqByID[id]
	if !ok {
		return Requirement{}, false
	}
	return c.Requirements[i], true
}

// Framework returns the framework with the given id.
func (c *Catalog) Framework(id string) (Framework, bool) {
	i, ok := c.fwByID[id]
	if !ok {
		return Framework{}, false
	}
	return c.Frameworks[i], true
}

// Item returns one item of a framework.
func (c *Catalog) Item(framework, item string) (Item, bool) {
	fi, ok := c.fwByID[framework]
	if !ok {
		return Item{}, false
	}
	ii, ok := c.itemIndex[framework][item]
	if !ok {
		return Item{}, false
	}
	return c.Frameworks[fi].Items[ii], true
}

// Topic returns the topic with the given id.
func (c *Catalog) Topic(id string) (Topic, bool) {
	for _, t := range c.Topics {
		if t.ID == id {
			return t, true
		}
	}
	return Topic{}, false
}

// Search returns requirements whose words contain every term of q (case
// folded), optionally limited to one topic. An empty q matches everything.
func (c *Catalog) Search(q, topic string) []Requirement {
	terms := strings.Fields(strings.ToLower(q))
	var out []Requirement
	for _, r := range c.Requirements {
		if topic != "" && !strings.EqualFold(r.Topic, topic) {
			continue
		}
		hay := strings.ToLower(strings.Join([]string{r.ID, r.Title, r.Summary, r.Technical, r.Why, r.Incident}, " "))
		match := true
		for _, t := range terms {
			if !strings.Contains(hay, t) {
				match = false
				break
			}
		}
		if match {
			out = append(out, r)
		}
	}
	return out
}

// MappedBy returns the requirements that map to a framework item, with how.
func (c *Catalog) MappedBy(framework, item string) []Link {
	return c.itemReqs[framework+"#"+item]
}

// Captured reports whether some requirement captures the item, in whole or
// in part: mapped to it as equivalent, subset-of or superset-of. An item
// reached only by requirements that intersect with it is not captured.
func (c *Catalog) Captured(framework, item string) bool {
	for _, l := range c.itemReqs[framework+"#"+item] {
		if l.Rel != IntersectsWith {
			return true
		}
	}
	return false
}

// Unmapped returns the items of a framework that no requirement maps to.
func (c *Catalog) Unmapped(framework string) []Item {
	fw, ok := c.Framework(framework)
	if !ok {
		return nil
	}
	var out []Item
	for _, it := range fw.Items {
		if len(c.itemReqs[framework+"#"+it.ID]) == 0 {
			out = append(out, it)
		}
	}
	return out
}

// DeemedFramework is the framework whose items, by law, count as meeting
// this item, or "" when there is no such route.
func (it Item) DeemedFramework() string {
	if len(it.DeemedBy) == 0 {
		return ""
	}
	fw, _, _ := strings.Cut(it.DeemedBy[0], "#")
	return fw
}

// Clauses returns a framework's items grouped by clause, in document order.
func (f Framework) Clauses() []Clause {
	var out []Clause
	for _, it := range f.Items {
		if n := len(out); n == 0 || out[n-1].ID != it.Clause {
			out = append(out, Clause{ID: it.Clause, Title: it.ClauseTitle})
		}
		out[len(out)-1].Items = append(out[len(out)-1].Items, it)
	}
	return out
}

// Clause is a group of framework items.
type Clause struct {
	ID    string
	Title string
	Items []Item
}

// New validates the parts and builds an indexed Catalog. Every problem found
// is returned together as Errors, placed in its file and line when the parts
// came from Load; nothing partial is returned.
func New(topics []Topic, reqs []Requirement, fws []Framework, glossary []Term) (*Catalog, error) {
	c := &Catalog{
		Topics:       topics,
		Requirements: reqs,
		Frameworks:   fws,
		Glossary:     glossary,
		reqByID:      map[string]int{},
		fwByID:       map[string]int{},
		itemIndex:    map[string]map[string]int{},
		itemReqs:     map[string][]Link{},
	}
	var errs Errors
	bad := func(p pos, format string, args ...any) { errs = append(errs, p.errorf(format, args...)) }

	topicIDs := map[string]bool{}
	for _, t := range topics {
		if !validID(t.ID) || t.Name == "" {
			bad(t.pos, "topic %q: needs an id of letters, digits and dashes, and a name", t.ID)
		}
		if topicIDs[t.ID] {
			bad(t.pos, "topic %q is defined twice", t.ID)
		}
		topicIDs[t.ID] = true
	}
	for i, f := range fws {
		if !validID(f.ID) {
			bad(f.pos, "framework %q: the id must be letters, digits, dots and dashes", f.ID)
			continue
		}
		if _, dup := c.fwByID[f.ID]; dup {
			bad(f.pos, "framework %q is defined twice", f.ID)
			continue
		}
		if strings.TrimSpace(f.Title) == "" {
			bad(f.pos, "framework %q has no title", f.ID)
		}
		if len(f.Items) == 0 {
			bad(f.pos, "framework %q has no items", f.ID)
		}
		for _, msg := range ValidateProvenance("framework "+f.ID, f.Sources, f.Unverified) {
			bad(f.pos, "%s", msg)
		}
		c.fwByID[f.ID] = i
		idx := map[string]int{}
		for j, it := range f.Items {
			if strings.TrimSpace(it.ID) == "" || strings.TrimSpace(it.Title) == "" {
				bad(it.pos, "framework %q item %d: needs an id and a title", f.ID, j+1)
				continue
			}
			if len(it.ID) > 64 || strings.ContainsAny(it.ID, "# \t\n\r/?&%") {
				bad(it.pos, "framework %q item %q: an item id is at most 64 characters, without spaces or any of # / ? & %%", f.ID, it.ID)
			}
			if _, dup := idx[it.ID]; dup {
				bad(it.pos, "framework %q item %q is listed twice", f.ID, it.ID)
			}
			if len(it.DeemedBy) > 8 {
				bad(it.pos, "framework %q item %q: at most 8 deemed-compliance items", f.ID, it.ID)
			}
			switch it.Status {
			case "", Mandatory, Recommended, Conditional:
			default:
				bad(it.pos, "framework %q item %q: status %q is not mandatory, recommended or conditional", f.ID, it.ID, it.Status)
			}
			idx[it.ID] = j
		}
		c.itemIndex[f.ID] = idx
	}
	for i, r := range reqs {
		if !validID(r.ID) {
			bad(r.pos, "requirement %q: the id must be letters, digits and dashes, like HM-UPD-2", r.ID)
			continue
		}
		if _, dup := c.reqByID[r.ID]; dup {
			bad(r.pos, "requirement %s is defined twice", r.ID)
			continue
		}
		c.reqByID[r.ID] = i
		if !topicIDs[r.Topic] {
			bad(r.pos, "requirement %s: topic %q is not in the topic list", r.ID, r.Topic)
		}
		for _, f := range []struct{ name, v string }{{"title", r.Title}, {"summary", r.Summary}, {"technical", r.Technical}, {"why", r.Why}} {
			if strings.TrimSpace(f.v) == "" {
				bad(r.pos, "requirement %s: %s is empty", r.ID, f.name)
			}
		}
		if len(r.Verification) == 0 {
			bad(r.pos, "requirement %s: list at least one verification method", r.ID)
		}
		for _, m := range r.Verification {
			if !slices.Contains(Methods, m) {
				bad(r.pos, "requirement %s: verification method %q is not one of %v", r.ID, m, Methods)
			}
		}
		seen := map[string]bool{}
		for _, m := range r.Mappings {
			if _, ok := c.itemIndex[m.Framework][m.Item]; !ok {
				bad(m.pos, "requirement %s: maps to %q, which is not an item of a known framework", r.ID, m.Ref())
				continue
			}
			switch m.Rel {
			case Equivalent, SubsetOf, SupersetOf, IntersectsWith:
			default:
				bad(m.pos, "requirement %s: relationship %q to %s is not equivalent, subset-of, superset-of or intersects-with", r.ID, m.Rel, m.Ref())
				continue
			}
			if seen[m.Ref()] {
				bad(m.pos, "requirement %s maps to %s twice", r.ID, m.Ref())
				continue
			}
			seen[m.Ref()] = true
			c.itemReqs[m.Ref()] = append(c.itemReqs[m.Ref()], Link{Requirement: r.ID, Rel: m.Rel})
		}
	}
	// A deemed-compliance route must name items of one other framework.
	for _, f := range fws {
		for _, it := range f.Items {
			var route string
			for _, ref := range it.DeemedBy {
				fw, item, _ := strings.Cut(ref, "#")
				if _, ok := c.itemIndex[fw][item]; !ok || fw == f.ID {
					bad(it.pos, "%s#%s is deemed met by %q, which is not an item of another known framework", f.ID, it.ID, ref)
					continue
				}
				if route != "" && fw != route {
					bad(it.pos, "%s#%s: its deemed-compliance items must all belong to one framework", f.ID, it.ID)
				}
				route = fw
			}
		}
	}
	// A gap explains why no requirement captures an item; one on an item a
	// requirement captures is stale.
	for _, f := range fws {
		for _, it := range f.Items {
			if it.Gap != "" && c.Captured(f.ID, it.ID) {
				bad(it.gapPos, "%s#%s is listed as a gap but a requirement captures it (equivalent, subset-of or superset-of); remove the gap", f.ID, it.ID)
			}
		}
	}
	terms := map[string]bool{}
	for _, t := range glossary {
		if strings.TrimSpace(t.Term) == "" || strings.TrimSpace(t.Definition) == "" {
			bad(t.pos, "glossary term %q needs a definition", t.Term)
		}
		if terms[strings.ToLower(t.Term)] {
			bad(t.pos, "glossary term %q is defined twice", t.Term)
		}
		terms[strings.ToLower(t.Term)] = true
	}
	for _, t := range glossary {
		for _, s := range t.See {
			if !terms[strings.ToLower(s)] {
				bad(t.pos, "glossary term %q refers to %q, which is not in the glossary", t.Term, s)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sort.SliceStable(c.Glossary, func(i, j int) bool {
		return strings.ToLower(c.Glossary[i].Term) < strings.ToLower(c.Glossary[j].Term)
	})
	return c, nil
}

// validID accepts the identifiers Hallmark mints and the framework ids.
func validID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}
