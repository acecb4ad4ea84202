package catalog

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// OSCAL models only the parts of NIST OSCAL 1.2 that Hallmark reads and
// writes: catalogs (the Hallmark catalogue, each framework, an authority's
// own requirements) and mapping-collections (requirement-to-item mappings).

// OSCALVersion is the OSCAL release the exports declare.
const OSCALVersion = "1.2.0"

// Hallmark's OSCAL namespace for props that OSCAL itself does not define.
const OSCALNamespace = "urn:hallmark:oscal"

// Version and Modified identify this release of the catalogue data in
// exports. Bump them when data/catalog changes in substance.
const (
	Version = "2026.11"
)

// Modified is when the catalogue data last changed in substance.
var Modified = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

type OSCALCatalogDoc struct {
	Catalog OSCALCatalog `json:"catalog"`
}

type OSCALCatalog struct {
	UUID       string           `json:"uuid"`
	Metadata   OSCALMetadata    `json:"metadata"`
	Groups     []OSCALGroup     `json:"groups,omitempty"`
	Controls   []OSCALControl   `json:"controls,omitempty"`
	BackMatter *OSCALBackMatter `json:"back-matter,omitempty"`
}

type OSCALMetadata struct {
	Title        string      `json:"title"`
	Published    string      `json:"published,omitempty"`
	LastModified string      `json:"last-modified"`
	Version      string      `json:"version"`
	OSCALVersion string      `json:"oscal-version"`
	Props        []OSCALProp `json:"props,omitempty"`
	Links        []OSCALLink `json:"links,omitempty"`
	Remarks      string      `json:"remarks,omitempty"`
}

type OSCALGroup struct {
	ID       string         `json:"id,omitempty"`
	Class    string         `json:"class,omitempty"`
	Title    string         `json:"title"`
	Parts    []OSCALPart    `json:"parts,omitempty"`
	Groups   []OSCALGroup   `json:"groups,omitempty"`
	Controls []OSCALControl `json:"controls,omitempty"`
}

type OSCALControl struct {
	ID       string         `json:"id"`
	Class    string         `json:"class,omitempty"`
	Title    string         `json:"title"`
	Props    []OSCALProp    `json:"props,omitempty"`
	Links    []OSCALLink    `json:"links,omitempty"`
	Parts    []OSCALPart    `json:"parts,omitempty"`
	Controls []OSCALControl `json:"controls,omitempty"`
}

type OSCALPart struct {
	ID    string      `json:"id,omitempty"`
	Name  string      `json:"name"`
	NS    string      `json:"ns,omitempty"`
	Title string      `json:"title,omitempty"`
	Props []OSCALProp `json:"props,omitempty"`
	Prose string      `json:"prose,omitempty"`
	Parts []OSCALPart `json:"parts,omitempty"`
}

type OSCALProp struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
	Class string `json:"class,omitempty"`
}

type OSCALLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel,omitempty"`
	Text string `json:"text,omitempty"`
}

type OSCALBackMatter struct {
	Resources []OSCALResource `json:"resources,omitempty"`
}

type OSCALResource struct {
	UUID   string      `json:"uuid"`
	Title  string      `json:"title,omitempty"`
	Props  []OSCALProp `json:"props,omitempty"`
	RLinks []OSCALLink `json:"rlinks,omitempty"`
}

type OSCALMappingDoc struct {
	MappingCollection OSCALMappingCollection `json:"mapping-collection"`
}

type OSCALMappingCollection struct {
	UUID       string           `json:"uuid"`
	Metadata   OSCALMetadata    `json:"metadata"`
	Provenance OSCALProvenance  `json:"provenance"`
	Mappings   []OSCALMapping   `json:"mappings"`
	BackMatter *OSCALBackMatter `json:"back-matter,omitempty"`
}

type OSCALProvenance struct {
	Method             string `json:"method"`
	MatchingRationale  string `json:"matching-rationale"`
	Status             string `json:"status"`
	MappingDescription string `json:"mapping-description"`
}

type OSCALMapping struct {
	UUID           string           `json:"uuid"`
	SourceResource OSCALResourceRef `json:"source-resource"`
	TargetResource OSCALResourceRef `json:"target-resource"`
	Maps           []OSCALMap       `json:"maps"`
	Remarks        string           `json:"remarks,omitempty"`
}

type OSCALResourceRef struct {
	Type string `json:"type"`
	Href string `json:"href"`
}

type OSCALMap struct {
	UUID         string             `json:"uuid"`
	Relationship string             `json:"relationship"`
	Sources      []OSCALMappingItem `json:"sources"`
	Targets      []OSCALMappingItem `json:"targets"`
	Remarks      string             `json:"remarks,omitempty"`
}

type OSCALMappingItem struct {
	Type  string `json:"type"`
	IDRef string `json:"id-ref"`
}

// uuidNS roots Hallmark's name-based UUIDs, so exports are stable across runs.
var uuidNS = [16]byte{0x6b, 0x1f, 0x3e, 0x0c, 0x52, 0x8a, 0x4d, 0x1e, 0x9c, 0x3a, 0x11, 0x7e, 0x5b, 0x20, 0x44, 0x90}

// nameUUID returns an RFC 9562 version-5 UUID for name.
func NameUUID(name string) string {
	h := sha1.New()
	h.Write(uuidNS[:])
	h.Write([]byte(name))
	s := h.Sum(nil)
	s[6] = (s[6] & 0x0f) | 0x50
	s[8] = (s[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// ControlID turns an item or requirement id into an OSCAL token, which must
// start with a letter and hold only letters, digits, '.', '-' and '_'.
func ControlID(id string) string {
	var b strings.Builder
	b.WriteString("item-")
	for _, r := range strings.ToLower(id) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == '(':
			b.WriteRune('.')
		case r == ')':
		default:
			b.WriteRune('_')
		}
	}
	return strings.ReplaceAll(b.String(), "-.", "-")
}

func requirementControlID(id string) string { return strings.ToLower(id) }

func slug(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	out := strings.Trim(b.String(), "-.")
	if out == "" || !(out[0] >= 'a' && out[0] <= 'z') {
		out = "g-" + out
	}
	return out
}

func meta(title, version string) OSCALMetadata {
	return OSCALMetadata{
		Title:        title,
		LastModified: Modified.Format(time.RFC3339),
		Version:      version,
		OSCALVersion: OSCALVersion,
	}
}

// OSCAL renders the Hallmark catalogue as an OSCAL catalog: one group per
// topic, one control per requirement.
func (c *Catalog) OSCAL() OSCALCatalogDoc {
	doc := OSCALCatalogDoc{Catalog: OSCALCatalog{
		UUID:     NameUUID("catalog:hallmark"),
		Metadata: meta("Hallmark catalogue of consumer IoT security requirements", Version),
	}}
	doc.Catalog.Metadata.Remarks = "Requirements in Hallmark's own words, for policy readers (statement) and engineers (guidance). Mappings to frameworks are published as an OSCAL mapping-collection."
	for _, t := range c.Topics {
		g := OSCALGroup{ID: slug(t.ID), Class: "topic", Title: t.Name}
		if t.Description != "" {
			g.Parts = []OSCALPart{{ID: slug(t.ID) + "_ovw", Name: "overview", Prose: t.Description}}
		}
		for _, r := range c.Requirements {
			if r.Topic != t.ID {
				continue
			}
			id := requirementControlID(r.ID)
			ctl := OSCALControl{
				ID: id, Class: "requirement", Title: r.Title,
				Props: []OSCALProp{{Name: "label", Value: r.ID}},
			}
			for _, m := range r.Verification {
				ctl.Props = append(ctl.Props, OSCALProp{Name: "verification-method", NS: OSCALNamespace, Value: string(m)})
			}
			ctl.Props = append(ctl.Props, OSCALProp{Name: "unsecurable", NS: OSCALNamespace, Value: fmt.Sprint(r.Unsecurable)})
			ctl.Parts = []OSCALPart{
				{ID: id + "_smt", Name: "statement", Prose: r.Summary},
				{ID: id + "_gdn", Name: "guidance", Prose: r.Technical},
				{ID: id + "_why", Name: "rationale", NS: OSCALNamespace, Prose: r.Why},
			}
			if r.UnsecurableNote != "" {
				ctl.Parts = append(ctl.Parts, OSCALPart{ID: id + "_uns", Name: "unsecurable", NS: OSCALNamespace, Prose: r.UnsecurableNote})
			}
			g.Controls = append(g.Controls, ctl)
		}
		doc.Catalog.Groups = append(doc.Catalog.Groups, g)
	}
	return doc
}

// FrameworkOSCAL renders one framework as an OSCAL catalog: one group per
// clause, one control per item, titles in Hallmark's words.
func (c *Catalog) FrameworkOSCAL(id string) (OSCALCatalogDoc, error) {
	f, ok := c.Framework(id)
	if !ok {
		return OSCALCatalogDoc{}, fmt.Errorf("unknown framework %q", id)
	}
	md := meta(f.Title, f.Version)
	if md.Version == "" {
		md.Version = "unversioned"
	}
	md.Props = []OSCALProp{{Name: "framework-id", NS: OSCALNamespace, Value: f.ID}}
	if f.URL != "" {
		md.Links = []OSCALLink{{Href: f.URL, Rel: "canonical", Text: f.Publisher}}
	}
	md.Remarks = "Item titles are Hallmark's short descriptions, not the framework's own text."
	doc := OSCALCatalogDoc{Catalog: OSCALCatalog{UUID: NameUUID("catalog:" + f.ID), Metadata: md}}
	for _, cl := range f.Clauses() {
		title := cl.Title
		if title == "" {
			title = cl.ID
		}
		g := OSCALGroup{ID: slug("clause-" + cl.ID), Class: "clause", Title: title}
		for _, it := range cl.Items {
			ctl := OSCALControl{ID: ControlID(it.ID), Class: "item", Title: it.Title,
				Props: []OSCALProp{{Name: "label", Value: it.ID}}}
			if it.Status != "" {
				ctl.Props = append(ctl.Props, OSCALProp{Name: "status", NS: OSCALNamespace, Value: string(it.Status)})
			}
			if it.Condition != "" {
				ctl.Parts = append(ctl.Parts, OSCALPart{ID: ControlID(it.ID) + "_cnd", Name: "condition", NS: OSCALNamespace, Prose: it.Condition})
			}
			g.Controls = append(g.Controls, ctl)
		}
		doc.Catalog.Groups = append(doc.Catalog.Groups, g)
	}
	return doc, nil
}

var oscalRel = map[Relationship]string{
	Equivalent:     "equivalent-to",
	SubsetOf:       "subset-of",
	SupersetOf:     "superset-of",
	IntersectsWith: "intersects-with",
}

// OSCALMappings renders the mappings from Hallmark requirements to the items
// of the given frameworks (all when none are named) as an OSCAL 1.2
// mapping-collection, one mapping per framework.
func (c *Catalog) OSCALMappings(frameworks ...string) (OSCALMappingDoc, error) {
	if len(frameworks) == 0 {
		for _, f := range c.Frameworks {
			frameworks = append(frameworks, f.ID)
		}
	}
	hm := OSCALResource{UUID: NameUUID("resource:hallmark"), Title: "Hallmark catalogue",
		RLinks: []OSCALLink{{Href: "catalog.json"}}}
	mc := OSCALMappingCollection{
		UUID:     NameUUID("mapping-collection:" + strings.Join(frameworks, ",")),
		Metadata: meta("Hallmark requirements mapped to "+strings.Join(frameworks, ", "), Version),
		Provenance: OSCALProvenance{
			Method: "human", MatchingRationale: "semantic", Status: "complete",
			MappingDescription: "Each Hallmark requirement (source) is related to the framework items (targets) it covers, using NIST IR 8477 set relationships, with a one-line rationale as remarks.",
		},
		BackMatter: &OSCALBackMatter{Resources: []OSCALResource{hm}},
	}
	for _, fid := range frameworks {
		f, ok := c.Framework(fid)
		if !ok {
			return OSCALMappingDoc{}, fmt.Errorf("unknown framework %q", fid)
		}
		res := OSCALResource{UUID: NameUUID("resource:" + f.ID), Title: f.Title,
			RLinks: []OSCALLink{{Href: "frameworks/" + f.ID + ".json"}}}
		mc.BackMatter.Resources = append(mc.BackMatter.Resources, res)
		m := OSCALMapping{
			UUID:           NameUUID("mapping:" + f.ID),
			SourceResource: OSCALResourceRef{Type: "catalog", Href: "#" + hm.UUID},
			TargetResource: OSCALResourceRef{Type: "catalog", Href: "#" + res.UUID},
		}
		for _, r := range c.Requirements {
			for _, mp := range r.Mappings {
				if mp.Framework != f.ID {
					continue
				}
				m.Maps = append(m.Maps, OSCALMap{
					UUID:         NameUUID("map:" + r.ID + ">" + mp.Ref()),
					Relationship: oscalRel[mp.Rel],
					Sources:      []OSCALMappingItem{{Type: "control", IDRef: requirementControlID(r.ID)}},
					Targets:      []OSCALMappingItem{{Type: "control", IDRef: ControlID(mp.Item)}},
					Remarks:      mp.Note,
				})
			}
		}
		if len(m.Maps) == 0 {
			// OSCAL requires at least one map per mapping; an unmapped
			// framework (for example a fresh import) is simply left out.
			continue
		}
		mc.Mappings = append(mc.Mappings, m)
	}
	if len(mc.Mappings) == 0 {
		return OSCALMappingDoc{}, errors.New("no requirement maps to the frameworks asked for")
	}
	return OSCALMappingDoc{MappingCollection: mc}, nil
}

// MaxImportSize bounds an imported OSCAL catalog.
const MaxImportSize = 8 << 20

var (
	tokenRE = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}.\-_]*$`)
	uuidRE  = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$`)
)

// ImportOSCAL reads an authority's OSCAL catalog (JSON) as a framework with
// the given id. Every control, at any depth, becomes an item; its group (or
// parent control) becomes its clause. Errors name the place in the document
// (a JSON path, or the line and column of a syntax error). Nothing is
// returned unless the whole document is acceptable.
func ImportOSCAL(id string, r io.Reader) (Framework, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxImportSize+1))
	if err != nil {
		return Framework{}, err
	}
	if len(b) > MaxImportSize {
		return Framework{}, fmt.Errorf("the OSCAL file is larger than %d MiB", MaxImportSize>>20)
	}
	if !validID(id) {
		return Framework{}, fmt.Errorf("framework id %q: use letters, digits, dots and dashes", id)
	}
	var doc struct {
		Catalog *OSCALCatalog `json:"catalog"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return Framework{}, jsonError(b, err)
	}
	if dec.More() {
		return Framework{}, errors.New("the file holds more than one JSON value; an OSCAL catalog is one object")
	}
	if doc.Catalog == nil {
		return Framework{}, errors.New(`this is not an OSCAL catalog: the top-level "catalog" object is missing`)
	}
	if errs := ValidateCatalog(doc.Catalog); len(errs) > 0 {
		return Framework{}, errs
	}
	cat := doc.Catalog
	f := Framework{ID: id, Title: cat.Metadata.Title, Short: cat.Metadata.Title, Version: cat.Metadata.Version,
		Published: cat.Metadata.Published, Description: cat.Metadata.Remarks, Source: SourceImported}
	if len(f.Short) > 40 {
		f.Short = id
	}
	for _, l := range cat.Metadata.Links {
		if l.Rel == "canonical" || f.URL == "" {
			f.URL = l.Href
		}
	}
	var walk func(clause, clauseTitle string, ctls []OSCALControl)
	walk = func(clause, clauseTitle string, ctls []OSCALControl) {
		for _, ctl := range ctls {
			it := Item{ID: ctl.ID, Clause: clause, ClauseTitle: clauseTitle, Title: ctl.Title}
			for _, p := range ctl.Props {
				switch p.Name {
				case "label":
					if !strings.ContainsAny(p.Value, "# \t\n/?&%") {
						it.ID = p.Value
					}
				case "status":
					switch s := Status(strings.ToLower(p.Value)); s {
					case Mandatory, Recommended, Conditional:
						it.Status = s
					}
				}
			}
			f.Items = append(f.Items, it)
			walk(ctl.ID, ctl.Title, ctl.Controls)
		}
	}
	var walkGroups func(gs []OSCALGroup)
	walkGroups = func(gs []OSCALGroup) {
		for _, g := range gs {
			walk(g.ID, g.Title, g.Controls)
			walkGroups(g.Groups)
		}
	}
	walk("", "", cat.Controls)
	walkGroups(cat.Groups)
	if len(f.Items) == 0 {
		return Framework{}, errors.New("the catalog has no controls to import")
	}
	// Re-run the catalogue's own item checks (duplicates after labels apply).
	if _, err := New(nil, nil, []Framework{f}, nil); err != nil {
		return Framework{}, err
	}
	return f, nil
}

// ValidateCatalog checks the constraints of the OSCAL catalog model that
// Hallmark relies on: required fields, identifier and UUID syntax, unique
// control ids, and a bounded depth.
func ValidateCatalog(cat *OSCALCatalog) Errors {
	var errs Errors
	bad := func(path, format string, args ...any) {
		if len(errs) < 50 {
			errs = append(errs, Error{Msg: path + ": " + fmt.Sprintf(format, args...)})
		}
	}
	if !uuidRE.MatchString(cat.UUID) {
		bad("catalog.uuid", "%q is not a version 4 or 5 UUID", cat.UUID)
	}
	validateMetadata("catalog.metadata", cat.Metadata, bad)
	seen := map[string]string{}
	var ctl func(path string, c OSCALControl, depth int)
	ctl = func(path string, c OSCALControl, depth int) {
		if depth > 8 {
			bad(path, "controls are nested more than 8 deep")
			return
		}
		if !tokenRE.MatchString(c.ID) {
			bad(path+".id", "%q is not an OSCAL token (a letter or _ first, then letters, digits, '.', '-', '_')", c.ID)
		} else if prev, dup := seen[c.ID]; dup {
			bad(path+".id", "%q is used again (first at %s)", c.ID, prev)
		} else {
			seen[c.ID] = path
		}
		if strings.TrimSpace(c.Title) == "" {
			bad(path+".title", "a control needs a title")
		}
		for i, p := range c.Props {
			if !tokenRE.MatchString(p.Name) {
				bad(fmt.Sprintf("%s.props[%d].name", path, i), "%q is not an OSCAL token", p.Name)
			}
		}
		for i, sub := range c.Controls {
			ctl(fmt.Sprintf("%s.controls[%d]", path, i), sub, depth+1)
		}
	}
	var grp func(path string, g OSCALGroup, depth int)
	grp = func(path string, g OSCALGroup, depth int) {
		if depth > 8 {
			bad(path, "groups are nested more than 8 deep")
			return
		}
		if g.ID != "" && !tokenRE.MatchString(g.ID) {
			bad(path+".id", "%q is not an OSCAL token", g.ID)
		}
		if strings.TrimSpace(g.Title) == "" {
			bad(path+".title", "a group needs a title")
		}
		for i, c := range g.Controls {
			ctl(fmt.Sprintf("%s.controls[%d]", path, i), c, 0)
		}
		for i, sub := range g.Groups {
			grp(fmt.Sprintf("%s.groups[%d]", path, i), sub, depth+1)
		}
	}
	for i, c := range cat.Controls {
		ctl(fmt.Sprintf("catalog.controls[%d]", i), c, 0)
	}
	for i, g := range cat.Groups {
		grp(fmt.Sprintf("catalog.groups[%d]", i), g, 0)
	}
	return errs
}

// ValidateMappings checks a mapping-collection against the OSCAL 1.2 model:
// required fields and allowed values, and that every map's sources and
// targets are controls of the given source and target catalogs.
func ValidateMappings(doc OSCALMappingDoc, source OSCALCatalogDoc, targets map[string]OSCALCatalogDoc) Errors {
	var errs Errors
	bad := func(path, format string, args ...any) {
		if len(errs) < 50 {
			errs = append(errs, Error{Msg: path + ": " + fmt.Sprintf(format, args...)})
		}
	}
	mc := doc.MappingCollection
	if !uuidRE.MatchString(mc.UUID) {
		bad("mapping-collection.uuid", "%q is not a UUID", mc.UUID)
	}
	validateMetadata("mapping-collection.metadata", mc.Metadata, bad)
	p := mc.Provenance
	if !oneOf(p.Method, "human", "automation", "hybrid") {
		bad("provenance.method", "%q is not human, automation or hybrid", p.Method)
	}
	if !oneOf(p.MatchingRationale, "syntactic", "semantic", "functional") {
		bad("provenance.matching-rationale", "%q is not syntactic, semantic or functional", p.MatchingRationale)
	}
	if !oneOf(p.Status, "complete", "not-complete", "draft", "deprecated", "superseded") {
		bad("provenance.status", "%q is not an allowed status", p.Status)
	}
	if strings.TrimSpace(p.MappingDescription) == "" {
		bad("provenance.mapping-description", "is required")
	}
	if len(mc.Mappings) == 0 {
		bad("mapping-collection.mappings", "at least one mapping is required")
	}
	resources := map[string]bool{}
	if mc.BackMatter != nil {
		for _, r := range mc.BackMatter.Resources {
			resources["#"+r.UUID] = true
		}
	}
	srcIDs := controlIDs(source.Catalog)
	seenUUID := map[string]bool{}
	for i, m := range mc.Mappings {
		path := fmt.Sprintf("mappings[%d]", i)
		if !uuidRE.MatchString(m.UUID) || seenUUID[m.UUID] {
			bad(path+".uuid", "%q is not a unique UUID", m.UUID)
		}
		seenUUID[m.UUID] = true
		for _, ref := range []struct {
			name string
			r    OSCALResourceRef
		}{{"source-resource", m.SourceResource}, {"target-resource", m.TargetResource}} {
			if ref.r.Type == "" || !tokenRE.MatchString(ref.r.Type) {
				bad(path+"."+ref.name+".type", "%q is not a token", ref.r.Type)
			}
			if !resources[ref.r.Href] {
				bad(path+"."+ref.name+".href", "%q does not name a back-matter resource", ref.r.Href)
			}
		}
		tgt, ok := targets[m.TargetResource.Href]
		if !ok {
			bad(path+".target-resource", "no target catalog given for %s", m.TargetResource.Href)
			continue
		}
		tgtIDs := controlIDs(tgt.Catalog)
		if len(m.Maps) == 0 {
			bad(path+".maps", "at least one map is required")
		}
		for j, mp := range m.Maps {
			mpath := fmt.Sprintf("%s.maps[%d]", path, j)
			if !uuidRE.MatchString(mp.UUID) || seenUUID[mp.UUID] {
				bad(mpath+".uuid", "%q is not a unique UUID", mp.UUID)
			}
			seenUUID[mp.UUID] = true
			if !oneOf(mp.Relationship, "equivalent-to", "equal-to", "subset-of", "superset-of", "intersects-with", "no-relationship") {
				bad(mpath+".relationship", "%q is not an OSCAL relationship", mp.Relationship)
			}
			if len(mp.Sources) == 0 || len(mp.Targets) == 0 {
				bad(mpath, "sources and targets are both required")
			}
			for _, s := range mp.Sources {
				if s.Type != "control" && s.Type != "statement" || !srcIDs[s.IDRef] {
					bad(mpath+".sources", "%s %q is not in the source catalog", s.Type, s.IDRef)
				}
			}
			for _, t := range mp.Targets {
				if t.Type != "control" && t.Type != "statement" || !tgtIDs[t.IDRef] {
					bad(mpath+".targets", "%s %q is not in the target catalog", t.Type, t.IDRef)
				}
			}
		}
	}
	return errs
}

func validateMetadata(path string, m OSCALMetadata, bad func(string, string, ...any)) {
	if strings.TrimSpace(m.Title) == "" {
		bad(path+".title", "is required")
	}
	if _, err := time.Parse(time.RFC3339, m.LastModified); err != nil {
		bad(path+".last-modified", "%q is not a date-time with a time zone, such as 2026-01-31T12:00:00Z", m.LastModified)
	}
	if strings.TrimSpace(m.Version) == "" {
		bad(path+".version", "is required")
	}
	if !regexp.MustCompile(`^1\.\d+\.\d+`).MatchString(m.OSCALVersion) {
		bad(path+".oscal-version", "%q is not an OSCAL 1.x version", m.OSCALVersion)
	}
}

func controlIDs(cat OSCALCatalog) map[string]bool {
	ids := map[string]bool{}
	var walk func([]OSCALControl)
	walk = func(cs []OSCALControl) {
		for _, c := range cs {
			ids[c.ID] = true
			walk(c.Controls)
		}
	}
	var walkG func([]OSCALGroup)
	walkG = func(gs []OSCALGroup) {
		for _, g := range gs {
			walk(g.Controls)
			walkG(g.Groups)
		}
	}
	walk(cat.Controls)
	walkG(cat.Groups)
	return ids
}

func oneOf(s string, vals ...string) bool {
	for _, v := range vals {
		if s == v {
			return true
		}
	}
	return false
}

// jsonError places a decoding error at a line and column of the input.
func jsonError(b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		err = fmt.Errorf("%s must be %s, not %s", te.Field, te.Type, te.Value)
	}
	if off < 0 {
		return fmt.Errorf("cannot read the JSON: %v", err)
	}
	line, col := 1, 1
	for _, c := range b[:min(int(off), len(b))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d, column %d: %v", line, col, err)
}
