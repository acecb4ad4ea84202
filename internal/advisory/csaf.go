package advisory

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gocsaf/csaf/v3/csaf"
)

// The CSAF 2.0 document, as far as the model reads it. It is decoded into
// these structs after the schema check (gocsaf's embedded CSAF 2.0 schema)
// rather than into gocsaf's own types: those make every field a pointer,
// and the checks below need only the ids and names.
type csafDoc struct {
	Document struct {
		Category    string `json:"category"`
		CSAFVersion string `json:"csaf_version"`
		Title       string `json:"title"`
		Publisher   struct {
			Name string `json:"name"`
		} `json:"publisher"`
		Tracking struct {
			ID                 string `json:"id"`
			Version            string `json:"version"`
			InitialReleaseDate string `json:"initial_release_date"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
	} `json:"document"`
	ProductTree struct {
		Branches         []csafBranch  `json:"branches"`
		FullProductNames []csafProduct `json:"full_product_names"`
		Relationships    []struct {
			Category         string      `json:"category"`
			FullProductName  csafProduct `json:"full_product_name"`
			ProductReference string      `json:"product_reference"`
			RelatesTo        string      `json:"relates_to_product_reference"`
		} `json:"relationships"`
		ProductGroups []struct {
			GroupID    string   `json:"group_id"`
			ProductIDs []string `json:"product_ids"`
		} `json:"product_groups"`
	} `json:"product_tree"`
	Vulnerabilities []csafVulnerability `json:"vulnerabilities"`
}

type csafBranch struct {
	Category string       `json:"category"`
	Name     string       `json:"name"`
	Product  *csafProduct `json:"product"`
	Branches []csafBranch `json:"branches"`
}

type csafProduct struct {
	Name      string `json:"name"`
	ProductID string `json:"product_id"`
	Helper    *struct {
		CPE           string   `json:"cpe"`
		PURL          string   `json:"purl"`
		ModelNumbers  []string `json:"model_numbers"`
		SKUs          []string `json:"skus"`
		SerialNumbers []string `json:"serial_numbers"`
		Hashes        []struct {
			FileHashes []struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"value"`
			} `json:"file_hashes"`
			FileName string `json:"filename"`
		} `json:"hashes"`
	} `json:"product_identification_helper"`
}

// scoped is any part of a vulnerability that applies to products and
// product groups: remediations, flags, threats.
type scoped struct {
	Category   string   `json:"category"`
	Label      string   `json:"label"`
	Details    string   `json:"details"`
	URL        string   `json:"url"`
	ProductIDs []string `json:"product_ids"`
	GroupIDs   []string `json:"group_ids"`
}

type csafVulnerability struct {
	CVE   string `json:"cve"`
	Title string `json:"title"`
	IDs   []struct {
		SystemName string `json:"system_name"`
		Text       string `json:"text"`
	} `json:"ids"`
	Notes []struct {
		Category string `json:"category"`
		Text     string `json:"text"`
	} `json:"notes"`
	ReleaseDate   string              `json:"release_date"`
	ProductStatus map[string][]string `json:"product_status"`
	Remediations  []scoped            `json:"remediations"`
	Flags         []scoped            `json:"flags"`
	Threats       []scoped            `json:"threats"`
	Scores        []struct {
		CVSSv3 *struct {
			BaseScore    float64 `json:"baseScore"`
			VectorString string  `json:"vectorString"`
		} `json:"cvss_v3"`
		CVSSv2 *struct {
			BaseScore    float64 `json:"baseScore"`
			VectorString string  `json:"vectorString"`
		} `json:"cvss_v2"`
		Products []string `json:"products"`
	} `json:"scores"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

// csafStatuses are the product_status groups in the order they are
// reported, with the status each maps to. "recommended" says nothing about
// whether a product is affected, so it is not read.
var csafStatuses = []struct {
	key    string
	status VEXStatus
}{
	{"first_affected", StatusAffected},
	{"known_affected", StatusAffected},
	{"last_affected", StatusAffected},
	{"first_fixed", StatusFixed},
	{"fixed", StatusFixed},
	{"known_not_affected", StatusNotAffected},
	{"under_investigation", StatusUnderInvestigation},
}

// ParseCSAF reads a CSAF 2.0 document. It is checked against the CSAF 2.0
// JSON schema, then against the mandatory tests that reading depends on:
// every product id and group id it uses is defined once (6.1.1, 6.1.2,
// 6.1.4, 6.1.5), no relationship defines a product through itself
// (6.1.3), and no product has contradicting statuses in one vulnerability
// (6.1.6).
//
// A csaf_vex document gives Statements for every status. Any other
// category gives one Advisory per vulnerability, whose Affected entries are
// the first/known/last_affected products resolved through the product
// tree, and Statements for the fixed, not affected and under
// investigation ones.
func ParseCSAF(b []byte) (*Document, error) {
	if err := checkSize(b, MaxDocumentSize, "CSAF document"); err != nil {
		return nil, err
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	// The schema comes first: its errors name the place in the document's
	// own terms, where a decoding error would name Go types.
	v, err := decodeForSchema(b)
	if err != nil {
		return nil, err
	}
	name := clip(trackingID(v))
	msgs, err := csaf.ValidateCSAF(v)
	if err != nil {
		return nil, &Error{Doc: name, Msg: "CSAF schema validation failed", Err: err}
	}
	if len(msgs) > 0 {
		return nil, violations(name, pointerMessages(msgs))
	}
	var d csafDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, named(jsonError(b, err), name)
	}
	r := csafReader{name: name, doc: &d}
	if err := r.read(); err != nil {
		return nil, err
	}
	t := d.Document.Tracking
	out := r.out
	out.ID, out.Revision, out.Publisher, out.SHA256 = t.ID, t.Version, d.Document.Publisher.Name, sum256(b)
	// The schema has checked both dates as date-times.
	out.Published, _ = time.Parse(time.RFC3339Nano, t.InitialReleaseDate)
	out.Modified, _ = time.Parse(time.RFC3339Nano, t.CurrentReleaseDate)
	return &out, nil
}

// resolved is a product id resolved through the product tree.
type resolved struct {
	ref    ProductRef
	path   string      // where the product id is defined
	partOf *ProductRef // for a relationship: the product the component belongs to
	// a relationship's two references, resolved once all are known
	component, platform string
}

type csafReader struct {
	name     string
	doc      *csafDoc
	products map[string]*resolved
	groups   map[string][]string
	affected int // Affected entries over all vulnerabilities, bounded with the statements
	out      Document
}

func (r *csafReader) fail(path, format string, args ...any) error {
	return errorf(r.name, path, format, args...)
}

func (r *csafReader) read() error {
	d := r.doc
	if len(d.Vulnerabilities) > maxVulnerabilities {
		return r.fail("vulnerabilities", "%d vulnerabilities, over the limit of %d", len(d.Vulnerabilities), maxVulnerabilities)
	}
	if err := r.readProductTree(); err != nil {
		return err
	}
	vex := d.Document.Category == "csaf_vex"
	r.out.Format = FormatCSAF
	if vex {
		r.out.Format = FormatCSAFVEX
	}
	for i := range d.Vulnerabilities {
		if err := r.readVulnerability(i, vex); err != nil {
			return err
		}
	}
	return nil
}

// readProductTree defines every product id: from branches (walked with an
// explicit stack, at most maxBranchDepth deep), full_product_names and
// relationships; and every product group.
func (r *csafReader) readProductTree() error {
	pt := &r.doc.ProductTree
	r.products = map[string]*resolved{}
	r.groups = map[string][]string{}
	define := func(p *csafProduct, ref ProductRef, path string) error {
		if p.ProductID == "" {
			return r.fail(path+".product_id", "missing")
		}
		if prev, ok := r.products[p.ProductID]; ok {
			return r.fail(path+".product_id", "product id %q is defined twice (first at %s)", clip(p.ProductID), prev.path)
		}
		if len(r.products) >= maxProducts {
			return r.fail(path, "more than %d products", maxProducts)
		}
		ref.ID = p.ProductID
		if ref.Name == "" {
			ref.Name = p.Name
		}
		helper(p, &ref)
		r.products[p.ProductID] = &resolved{ref: ref, path: path}
		return nil
	}

	// Each frame carries what the branches above it said.
	type frame struct {
		b     *csafBranch
		ctx   ProductRef
		path  string
		depth int
	}
	var stack []frame
	for i := len(pt.Branches) - 1; i >= 0; i-- {
		stack = append(stack, frame{&pt.Branches[i], ProductRef{}, fmt.Sprintf("product_tree.branches[%d]", i), 1})
	}
	family := map[string]bool{} // product names that came from product_family only
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.depth > maxBranchDepth {
			return r.fail(f.path, "branches nested deeper than %d", maxBranchDepth)
		}
		ctx := f.ctx
		switch f.b.Category {
		case "vendor":
			ctx.Vendor = f.b.Name
		case "product_name":
			ctx.Name = f.b.Name
		case "product_family":
			if ctx.Name == "" || family[ctx.Name] {
				ctx.Name = f.b.Name
				family[f.b.Name] = true
			}
		case "product_version":
			ctx.Version = f.b.Name
		case "product_version_range":
			ctx.VersionRange = f.b.Name
		}
		if f.b.Product != nil {
			if err := define(f.b.Product, ctx, f.path+".product"); err != nil {
				return err
			}
		}
		for i := len(f.b.Branches) - 1; i >= 0; i-- {
			stack = append(stack, frame{&f.b.Branches[i], ctx, fmt.Sprintf("%s.branches[%d]", f.path, i), f.depth + 1})
		}
	}
	for i := range pt.FullProductNames {
		if err := define(&pt.FullProductNames[i], ProductRef{}, fmt.Sprintf("product_tree.full_product_names[%d]", i)); err != nil {
			return err
		}
	}
	for i := range pt.Relationships {
		rel := &pt.Relationships[i]
		path := fmt.Sprintf("product_tree.relationships[%d]", i)
		if err := define(&rel.FullProductName, ProductRef{}, path+".full_product_name"); err != nil {
			return err
		}
		p := r.products[rel.FullProductName.ProductID]
		p.component, p.platform = rel.ProductReference, rel.RelatesTo
	}
	if err := r.checkCycles(); err != nil {
		return err
	}
	// Relationships may name products defined after them, and other
	// relationships: resolve once all are defined.
	for i := range pt.Relationships {
		rel := &pt.Relationships[i]
		path := fmt.Sprintf("product_tree.relationships[%d]", i)
		p := r.products[rel.FullProductName.ProductID]
		comp, err := r.follow(rel.ProductReference, path+".product_reference")
		if err != nil {
			return err
		}
		plat, err := r.follow(rel.RelatesTo, path+".relates_to_product_reference")
		if err != nil {
			return err
		}
		// The relationship's product is the component (what is vulnerable)
		// inside the platform (what is installed or certified).
		name := p.ref.Name
		p.ref = comp.ref
		p.ref.ID = rel.FullProductName.ProductID
		if name != "" {
			p.ref.Name = name
		}
		platform := plat.ref
		p.partOf = &platform
	}
	for i, g := range pt.ProductGroups {
		path := fmt.Sprintf("product_tree.product_groups[%d]", i)
		if _, ok := r.groups[g.GroupID]; ok {
			return r.fail(path+".group_id", "group id %q is defined twice", clip(g.GroupID))
		}
		for j, id := range g.ProductIDs {
			if _, ok := r.products[id]; !ok {
				return r.undefined(id, fmt.Sprintf("%s.product_ids[%d]", path, j))
			}
		}
		r.groups[g.GroupID] = g.ProductIDs
	}
	return nil
}

// checkCycles refuses a relationship that defines its product through
// itself, directly or through other relationships (mandatory test 6.1.3).
// It is one iterative depth-first search over the relationships, so its
// cost is linear and its stack is on the heap.
func (r *csafReader) checkCycles() error {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	type step struct {
		id   string
		next int // which of component, platform to visit next
	}
	for _, rel := range r.doc.ProductTree.Relationships {
		root := rel.FullProductName.ProductID
		if state[root] != unseen {
			continue
		}
		stack := []step{{id: root}}
		state[root] = open
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			p := r.products[top.id]
			if top.next == 2 {
				state[top.id] = done
				stack = stack[:len(stack)-1]
				continue
			}
			ref := p.component
			if top.next == 1 {
				ref = p.platform
			}
			top.next++
			q, ok := r.products[ref]
			if !ok || q.component == "" {
				continue // undefined ids are reported where they are resolved
			}
			switch state[ref] {
			case open:
				return r.fail(p.path, "product id %q is defined through itself", clip(top.id))
			case unseen:
				state[ref] = open
				stack = append(stack, step{id: ref})
			}
		}
	}
	return nil
}

// follow resolves a relationship's reference down to a product defined by
// a branch or full_product_name; checkCycles has made sure it ends.
func (r *csafReader) follow(id, path string) (*resolved, error) {
	for {
		p, ok := r.products[id]
		if !ok {
			return nil, r.undefined(id, path)
		}
		if p.component == "" {
			return p, nil
		}
		id = p.component
	}
}

func (r *csafReader) undefined(id, path string) error {
	return r.fail(path, "product id %q is not defined in the product_tree", clip(id))
}

// helper copies a product_identification_helper into ref.
func helper(p *csafProduct, ref *ProductRef) {
	h := p.Helper
	if h == nil {
		return
	}
	ref.CPE, ref.PURL = h.CPE, h.PURL
	ref.ModelNumbers = nonEmpty(h.ModelNumbers)
	ref.SKUs = nonEmpty(h.SKUs)
	ref.SerialNumbers = nonEmpty(h.SerialNumbers)
	for _, fh := range h.Hashes {
		for _, x := range fh.FileHashes {
			ref.Hashes = append(ref.Hashes, Hash{Algorithm: strings.ToLower(x.Algorithm), Value: strings.ToLower(x.Value), FileName: fh.FileName})
		}
	}
}

// ids returns the product ids a remediation, flag or threat applies to,
// its groups expanded, checking that each is defined.
func (r *csafReader) ids(s *scoped, path string) (map[string]bool, error) {
	out := map[string]bool{}
	for i, id := range s.ProductIDs {
		if _, ok := r.products[id]; !ok {
			return nil, r.undefined(id, fmt.Sprintf("%s.product_ids[%d]", path, i))
		}
		out[id] = true
	}
	for i, g := range s.GroupIDs {
		members, ok := r.groups[g]
		if !ok {
			return nil, r.fail(fmt.Sprintf("%s.group_ids[%d]", path, i), "group id %q is not defined in the product_tree", clip(g))
		}
		for _, id := range members {
			out[id] = true
		}
	}
	return out, nil
}

// scopedText is, for each product, the texts of the parts of a
// vulnerability (remediations, flags, threats) that apply to it, in
// document order.
type scopedText map[string][]string

func (r *csafReader) collect(list []scoped, path string, keep func(*scoped) (string, bool)) (scopedText, error) {
	out := scopedText{}
	for i := range list {
		s := &list[i]
		ids, err := r.ids(s, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		text, ok := keep(s)
		if !ok {
			continue
		}
		for id := range ids {
			out[id] = append(out[id], text)
		}
	}
	return out, nil
}

func (r *csafReader) readVulnerability(i int, vex bool) error {
	v := &r.doc.Vulnerabilities[i]
	at := fmt.Sprintf("vulnerabilities[%d]", i)

	adv := Advisory{ID: v.CVE, Summary: v.Title}
	if adv.ID == "" {
		adv.ID = fmt.Sprintf("%s#%d", r.doc.Document.Tracking.ID, i)
	}
	for _, id := range v.IDs {
		if id.Text != "" && id.Text != adv.ID && !slices.Contains(adv.Aliases, id.Text) {
			adv.Aliases = append(adv.Aliases, id.Text)
		}
	}
	for _, n := range v.Notes {
		if n.Category == "description" || n.Category == "summary" && adv.Details == "" {
			adv.Details = n.Text
		}
	}
	adv.Published, _ = time.Parse(time.RFC3339Nano, v.ReleaseDate)
	if adv.Published.IsZero() {
		// release_date is optional: the flaw was public at the latest when
		// the document first was.
		adv.Published, _ = time.Parse(time.RFC3339Nano, r.doc.Document.Tracking.InitialReleaseDate)
	}
	adv.Modified, _ = time.Parse(time.RFC3339Nano, r.doc.Document.Tracking.CurrentReleaseDate)
	for _, ref := range v.References {
		adv.References = append(adv.References, ref.URL)
	}
	for j, s := range v.Scores {
		for k, id := range s.Products {
			if _, ok := r.products[id]; !ok {
				return r.undefined(id, fmt.Sprintf("%s.scores[%d].products[%d]", at, j, k))
			}
		}
		var score float64
		var vector string
		switch {
		case s.CVSSv3 != nil:
			score, vector = s.CVSSv3.BaseScore, s.CVSSv3.VectorString
		case s.CVSSv2 != nil:
			score, vector = s.CVSSv2.BaseScore, s.CVSSv2.VectorString
		default:
			continue
		}
		if score > adv.CVSS || adv.CVSSVector == "" {
			adv.CVSS, adv.CVSSVector, adv.Severity = score, vector, SeverityFromScore(score)
		}
	}

	fixes, err := r.collect(v.Remediations, at+".remediations", func(s *scoped) (string, bool) {
		return strings.TrimSpace(strings.TrimSpace(s.Details) + " " + s.URL), s.Category == "vendor_fix"
	})
	if err != nil {
		return err
	}
	actions, _ := r.collect(v.Remediations, at+".remediations", func(s *scoped) (string, bool) {
		return s.Category + ": " + strings.TrimSpace(s.Details), true
	})
	flags, err := r.collect(v.Flags, at+".flags", func(s *scoped) (string, bool) { return s.Label, true })
	if err != nil {
		return err
	}
	impacts, err := r.collect(v.Threats, at+".threats", func(s *scoped) (string, bool) {
		return strings.TrimSpace(s.Details), s.Category == "impact"
	})
	if err != nil {
		return err
	}

	// Every status of the vulnerability, checked for contradictions
	// (mandatory test 6.1.6) before any is used.
	statusOf := map[string]VEXStatus{}
	var fixedIDs []string
	for _, g := range csafStatuses {
		for k, id := range v.ProductStatus[g.key] {
			path := fmt.Sprintf("%s.product_status.%s[%d]", at, g.key, k)
			if _, ok := r.products[id]; !ok {
				return r.undefined(id, path)
			}
			if prev, ok := statusOf[id]; ok && prev != g.status {
				return r.fail(path, "product id %q is both %s and %s", clip(id), prev, g.status)
			}
			statusOf[id] = g.status
			if g.status == StatusFixed {
				fixedIDs = append(fixedIDs, id)
			}
		}
	}

	seen := map[string]bool{}
	for _, g := range csafStatuses {
		for _, id := range v.ProductStatus[g.key] {
			if seen[id] {
				continue // a product in both first_affected and known_affected is one entry
			}
			seen[id] = true
			p := r.products[id]
			if g.status == StatusAffected && !vex {
				if r.affected+len(r.out.Statements) >= maxStatements {
					return r.fail(at, "more than %d affected products and statements", maxStatements)
				}
				r.affected++
				adv.Affected = append(adv.Affected, affectedOf(p, fixedIDs, fixes[id]))
				continue
			}
			st := Statement{
				Vulnerability: adv.ID,
				Aliases:       adv.Aliases,
				Product:       p.ref,
				Status:        g.status,
				Timestamp:     adv.Modified,
			}
			if p.partOf != nil {
				st.Product = *p.partOf
				st.Component = firstNonEmpty(p.ref.PURL, p.ref.CPE, p.component)
			}
			switch g.status {
			case StatusNotAffected:
				st.Justification = strings.Join(flags[id], ", ")
				st.Impact = strings.Join(impacts[id], "\n")
			case StatusAffected, StatusFixed:
				st.Action = strings.Join(actions[id], "\n")
			}
			if r.affected+len(r.out.Statements) >= maxStatements {
				return r.fail(at, "more than %d affected products and statements", maxStatements)
			}
			if err := addStatement(&r.out, st); err != nil {
				return named(err, r.name)
			}
		}
	}
	if !vex {
		r.out.Advisories = append(r.out.Advisories, adv)
	}
	return nil
}

func affectedOf(p *resolved, fixed, fixes []string) Affected {
	ref := p.ref
	a := Affected{
		Package:       Package{PURL: ref.PURL},
		ProductID:     ref.ID,
		Vendor:        ref.Vendor,
		Product:       ref.Name,
		Version:       ref.Version,
		VersionRange:  ref.VersionRange,
		CPE:           ref.CPE,
		ModelNumbers:  ref.ModelNumbers,
		SKUs:          ref.SKUs,
		SerialNumbers: ref.SerialNumbers,
		Hashes:        ref.Hashes,
		Fixed:         fixed,
		Remediation:   strings.Join(fixes, "\n"),
		PartOf:        p.partOf,
	}
	return a
}

func sortHashes(hs []Hash) {
	slices.SortFunc(hs, func(a, b Hash) int { return strings.Compare(a.Algorithm+a.Value, b.Algorithm+b.Value) })
}

// trackingID finds document.tracking.id in a decoded document that may not
// be valid yet, so that its errors can name it.
func trackingID(v any) string {
	for _, key := range []string{"document", "tracking", "id"} {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[key]
	}
	s, _ := v.(string)
	return s
}
