package catalog

import (
	"fmt"
	"strings"
)

// Strength is how well one framework covers an item of another.
type Strength string

const (
	Full    Strength = "full"
	Partial Strength = "partial"
	None    Strength = "none"
)

func (s Strength) rank() int {
	switch s {
	case Full:
		return 2
	case Partial:
		return 1
	}
	return 0
}

// Crosswalk answers "if a product meets framework To, how much of framework
// From does it meet?", item by item, through the Hallmark requirements.
//
// The rules, which a policy reader can follow:
//   - A requirement R is met by To in full when some item of To contains it
//     (R is equivalent to, or a subset of, that item); in part when an item of
//     To only overlaps R (R is a superset of it, or intersects with it).
//   - An item of From is covered in full when a requirement that captures the
//     whole item (equivalent to it, or a superset of it) is met in full, or,
//     when the item is split across several requirements (each a subset of
//     it), every one of those is met in full.
//   - Otherwise it is covered in part when any requirement linked to it is met
//     at all, and not covered when none is.
type Crosswalk struct {
	From, To Framework
	Rows     []CrosswalkRow
	Full     int
	Partial  int
	None     int
	// Unmapped counts From items no requirement reaches, so no claim can be
	// made about them either way; they are also counted in None.
	Unmapped int
}

// CrosswalkRow is one From item and what covers it in To.
type CrosswalkRow struct {
	Item     Item
	Strength Strength
	Via      []ReqCover    // the requirements linked to the item
	Targets  []TargetCover // the To items reached, strongest first
	Summary  string        // one plain-language sentence
	// Deemed: the law counts meeting To's named items as meeting this one.
	Deemed bool
}

// ReqCover is one requirement on the path from a From item to To.
type ReqCover struct {
	Requirement Requirement
	RelToItem   Relationship // how R relates to the From item
	Met         Strength     // how well To meets R
	Targets     []string     // To items that meet R at that strength
}

// TargetCover is one To item reached from a From item.
type TargetCover struct {
	Item     Item
	Strength Strength
	Via      []string // requirement ids
}

// Total is the number of From items.
func (x Crosswalk) Total() int { return len(x.Rows) }

// Coverage is the share of From items covered in full, from 0 to 1.
func (x Crosswalk) Coverage() float64 {
	if len(x.Rows) == 0 {
		return 0
	}
	return float64(x.Full) / float64(len(x.Rows))
}

// Percent is Coverage as a whole percentage, rounded down so that 100 means
// every item is covered.
func (x Crosswalk) Percent() int { return x.Full * 100 / max(1, len(x.Rows)) }

// Gaps returns the rows not covered in full.
func (x Crosswalk) Gaps() []CrosswalkRow {
	var out []CrosswalkRow
	for _, r := range x.Rows {
		if r.Strength != Full {
			out = append(out, r)
		}
	}
	return out
}

// Sentence summarises the crosswalk for a policy reader.
func (x Crosswalk) Sentence() string {
	return fmt.Sprintf("A product that meets %s fully covers %d of the %d items of %s (%d%%), covers %d more in part, and leaves %d uncovered.",
		x.To.Short, x.Full, len(x.Rows), x.From.Short, x.Percent(), x.Partial, x.None)
}

// Crosswalk computes how framework `to` covers framework `from`.
func (c *Catalog) Crosswalk(from, to string) (Crosswalk, error) {
	ff, ok := c.Framework(from)
	if !ok {
		return Crosswalk{}, fmt.Errorf("unknown framework %q", from)
	}
	tf, ok := c.Framework(to)
	if !ok {
		return Crosswalk{}, fmt.Errorf("unknown framework %q", to)
	}
	x := Crosswalk{From: ff, To: tf}
	met := map[string]ReqCover{} // requirement -> how To meets it (memo)
	for _, it := range ff.Items {
		row := CrosswalkRow{Item: it}
		var whole, parts []ReqCover
		targets := map[string]*TargetCover{}
		var order []string
		for _, l := range c.MappedBy(from, it.ID) {
			rc, seen := met[l.Requirement]
			if !seen {
				rc = c.metBy(l.Requirement, to)
				met[l.Requirement] = rc
			}
			rc.RelToItem = l.Rel
			row.Via = append(row.Via, rc)
			switch l.Rel {
			case Equivalent, SupersetOf:
				whole = append(whole, rc)
			case SubsetOf:
				parts = append(parts, rc)
			}
			for _, t := range rc.Targets {
				tc, ok := targets[t]
				if !ok {
					ti, _ := c.Item(to, t)
					tc = &TargetCover{Item: ti, Strength: None}
					targets[t] = tc
					order = append(order, t)
				}
				if rc.Met.rank() > tc.Strength.rank() {
					tc.Strength = rc.Met
				}
				tc.Via = append(tc.Via, rc.Requirement.ID)
			}
		}
		row.Strength = itemStrength(whole, parts, row.Via)
		for _, t := range order {
			row.Targets = append(row.Targets, *targets[t])
		}
		sortTargets(row.Targets)
		row.Summary = rowSentence(row, tf)
		// A legal deemed-compliance route through To's own items makes the
		// item met in full whatever the contents compare to; say so, and
		// keep the content comparison beside it.
		if it.DeemedFramework() == to {
			row.Deemed = true
			if row.Strength != Full {
				row.Summary = fmt.Sprintf("Deemed met by law: meeting %s %s counts as meeting this item. By content alone: %s", tf.Short, deemedIDs(it), row.Summary)
			} else {
				row.Summary = fmt.Sprintf("Deemed met by law through %s %s. %s", tf.Short, deemedIDs(it), row.Summary)
			}
			row.Strength = Full
			for _, id := range it.DeemedBy {
				_, item, _ := strings.Cut(id, "#")
				found := false
				for i := range row.Targets {
					if row.Targets[i].Item.ID == item {
						row.Targets[i].Strength, found = Full, true
					}
				}
				if !found {
					ti, _ := c.Item(to, item)
					row.Targets = append(row.Targets, TargetCover{Item: ti, Strength: Full})
				}
			}
			sortTargets(row.Targets)
		}
		switch row.Strength {
		case Full:
			x.Full++
		case Partial:
			x.Partial++
		default:
			x.None++
		}
		if len(row.Via) == 0 {
			x.Unmapped++
		}
		x.Rows = append(x.Rows, row)
	}
	return x, nil
}

func itemStrength(whole, parts, all []ReqCover) Strength {
	for _, r := range whole {
		if r.Met == Full {
			return Full
		}
	}
	if len(whole) == 0 && len(parts) > 0 {
		allFull := true
		for _, r := range parts {
			allFull = allFull && r.Met == Full
		}
		if allFull {
			return Full
		}
	}
	for _, r := range all {
		if r.Met != None {
			return Partial
		}
	}
	return None
}

// metBy says how framework fw meets requirement id, and through which items.
func (c *Catalog) metBy(id, fw string) ReqCover {
	r, _ := c.Requirement(id)
	rc := ReqCover{Requirement: r, Met: None}
	var full, partial []string
	for _, m := range r.Mappings {
		if m.Framework != fw {
			continue
		}
		switch m.Rel {
		case Equivalent, SubsetOf:
			full = append(full, m.Item)
		case SupersetOf, IntersectsWith:
			partial = append(partial, m.Item)
		}
	}
	switch {
	case len(full) > 0:
		rc.Met, rc.Targets = Full, full
	case len(partial) > 0:
		rc.Met, rc.Targets = Partial, partial
	}
	return rc
}

func sortTargets(ts []TargetCover) {
	// Stable insertion sort: full before partial, document order otherwise.
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Strength.rank() > ts[j-1].Strength.rank(); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func rowSentence(row CrosswalkRow, to Framework) string {
	ids := func(ts []TargetCover, s Strength) string {
		var out []string
		for _, t := range ts {
			if t.Strength == s {
				out = append(out, t.Item.ID)
			}
		}
		return strings.Join(out, ", ")
	}
	switch {
	case len(row.Via) == 0:
		if row.Item.Gap != "" {
			return "No Hallmark requirement maps to this item: " + row.Item.Gap
		}
		return "No Hallmark requirement maps to this item yet, so its coverage cannot be judged."
	case row.Strength == Full:
		return fmt.Sprintf("Covered: everything this item asks for is also asked for by %s %s.", to.Short, ids(row.Targets, Full))
	case row.Strength == Partial:
		var missing []string
		for _, r := range row.Via {
			if r.Met != Full {
				missing = append(missing, strings.ToLower(r.Requirement.Title))
			}
		}
		if len(missing) == 0 {
			return fmt.Sprintf("Partly covered: %s asks for the related Hallmark requirements, but they only overlap this item.", to.Short)
		}
		return fmt.Sprintf("Partly covered: %s touches this item, but does not fully ask for: %s.", to.Short, strings.Join(missing, "; "))
	}
	var missing []string
	for _, r := range row.Via {
		missing = append(missing, strings.ToLower(r.Requirement.Title))
	}
	return fmt.Sprintf("Not covered: nothing in %s asks for %s.", to.Short, strings.Join(missing, "; "))
}

func deemedIDs(it Item) string {
	var ids []string
	for _, ref := range it.DeemedBy {
		_, item, _ := strings.Cut(ref, "#")
		ids = append(ids, item)
	}
	return strings.Join(ids, " and ")
}
