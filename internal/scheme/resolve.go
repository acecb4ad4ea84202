package scheme

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// resolveRef turns a level's reference into Hallmark requirement ids. A
// framework item ("framework#item") resolves through the crosswalk to the
// requirements that capture it: those mapped to it as equivalent, subset-of
// or superset-of. Only when none does, the requirements that overlap it
// (intersects-with) stand in for it, as the closest the catalogue has. An
// item nothing maps to (a gap) cannot be required.
func resolveRef(c *catalog.Catalog, ref string) ([]string, error) {
	fw, item, isItem := strings.Cut(ref, "#")
	if !isItem {
		if _, ok := c.Requirement(ref); !ok {
			return nil, fmt.Errorf("%q is not a Hallmark requirement (like HM-UPD-2) or a framework item (like etsi-en-303-645-v2.1.1#5.3-13)", ref)
		}
		return []string{ref}, nil
	}
	if _, ok := c.Item(fw, item); !ok {
		if _, ok := c.Framework(fw); !ok {
			return nil, fmt.Errorf("%q: there is no framework %q", ref, fw)
		}
		return nil, fmt.Errorf("%q: framework %s has no item %q", ref, fw, item)
	}
	var capture, overlap []string
	for _, l := range c.MappedBy(fw, item) {
		if l.Rel == catalog.IntersectsWith {
			overlap = append(overlap, l.Requirement)
		} else {
			capture = append(capture, l.Requirement)
		}
	}
	switch {
	case len(capture) > 0:
		return capture, nil
	case len(overlap) > 0:
		return overlap, nil
	}
	return nil, fmt.Errorf("%q: no Hallmark requirement maps to this item (see the catalogue's gaps), so a level cannot require it", ref)
}

// ResolveItem is what a level's reference (a requirement id or a
// framework item) stands for: the requirements it names, as a level
// written with it would need them.
func ResolveItem(c *catalog.Catalog, ref string) ([]string, error) { return resolveRef(c, ref) }

// effective returns, for level index i, every requirement the level needs
// (inherited ones too in a cumulative scheme) with its assessment method.
func (s *Scheme) effective(c *catalog.Catalog, i int) (map[string]Method, error) {
	out := map[string]Method{}
	start := i
	if s.Cumulative {
		start = 0
	}
	for k := start; k <= i; k++ {
		l := &s.Levels[k]
		for _, ref := range l.Refs {
			ids, err := resolveRef(c, ref)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				// A requirement reached at a higher level keeps the stronger
				// of its methods.
				if m := l.methodFor(id); m.Rank() > out[id].Rank() {
					out[id] = m
				}
			}
		}
		// A higher cumulative level raises inherited requirements to at
		// least its own method only when it says so per requirement.
		for id, m := range l.Methods {
			if _, ok := out[id]; ok {
				out[id] = m
			}
		}
	}
	return out, nil
}

func (l *Level) methodFor(id string) Method {
	if m, ok := l.Methods[id]; ok {
		return m
	}
	return l.Method
}

// Need is one requirement a level needs, with how it is assessed.
type Need struct {
	Requirement catalog.Requirement
	Method      Method
	Via         []string // the level references that bring it in
	FromLevel   string   // the level that first requires it
}

// Resolved is a level with everything it needs, ready to show or compare.
type Resolved struct {
	Scheme *Scheme
	Level  *Level
	Needs  []Need // in catalogue order
}

// Label names the level as "scheme@level".
func (r Resolved) Label() string { return r.Scheme.ID + "@" + r.Level.ID }

// Name names the level for people: "Cybersecurity Labelling Scheme (CLS) Level 3".
func (r Resolved) Name() string {
	if len(r.Scheme.Levels) == 1 {
		return r.Scheme.Name
	}
	return r.Scheme.Name + " " + r.Level.Name
}

// Methods returns the method per requirement id.
func (r Resolved) Methods() map[string]Method {
	out := make(map[string]Method, len(r.Needs))
	for _, n := range r.Needs {
		out[n.Requirement.ID] = n.Method
	}
	return out
}

// Resolve expands a level of s into the requirements it needs.
func Resolve(c *catalog.Catalog, s *Scheme, levelID string) (Resolved, error) {
	l, ok := s.Level(levelID)
	if !ok {
		var ids []string
		for _, l := range s.Levels {
			ids = append(ids, l.ID)
		}
		return Resolved{}, fmt.Errorf("scheme %s has no level %q (levels: %s)", s.ID, levelID, strings.Join(ids, ", "))
	}
	idx := 0
	for i := range s.Levels {
		if &s.Levels[i] == l {
			idx = i
		}
	}
	eff, err := s.effective(c, idx)
	if err != nil {
		return Resolved{}, err
	}
	via := map[string][]string{}
	first := map[string]string{}
	start := idx
	if s.Cumulative {
		start = 0
	}
	for k := start; k <= idx; k++ {
		for _, ref := range s.Levels[k].Refs {
			ids, _ := resolveRef(c, ref)
			for _, id := range ids {
				via[id] = append(via[id], ref)
				if _, ok := first[id]; !ok {
					first[id] = s.Levels[k].ID
				}
			}
		}
	}
	r := Resolved{Scheme: s, Level: l}
	for _, req := range c.Requirements {
		if m, ok := eff[req.ID]; ok {
			r.Needs = append(r.Needs, Need{Requirement: req, Method: m, Via: via[req.ID], FromLevel: first[req.ID]})
		}
	}
	return r, nil
}

// ParseRef splits "scheme@level" (level optional for single-level schemes).
func ParseRef(ref string) (scheme, level string) {
	scheme, level, _ = strings.Cut(ref, "@")
	return scheme, level
}

// Set is a collection of schemes by id.
type Set map[string]*Scheme

// NewSet indexes schemes by id.
func NewSet(schemes []*Scheme) Set {
	s := Set{}
	for _, sc := range schemes {
		s[sc.ID] = sc
	}
	return s
}

// Sorted returns the schemes in id order.
func (s Set) Sorted() []*Scheme {
	out := make([]*Scheme, 0, len(s))
	for _, sc := range s {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ResolveRef resolves "scheme@level" within the set.
func (s Set) ResolveRef(c *catalog.Catalog, ref string) (Resolved, error) {
	id, level := ParseRef(ref)
	sc, ok := s[id]
	if !ok {
		return Resolved{}, fmt.Errorf("there is no scheme %q", id)
	}
	if level == "" && len(sc.Levels) > 1 {
		return Resolved{}, fmt.Errorf("scheme %s has %d levels: name one, as %s@%s", id, len(sc.Levels), id, sc.Levels[0].ID)
	}
	return Resolve(c, sc, level)
}
