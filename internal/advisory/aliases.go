package advisory

import "strings"

// Aliases groups the ids of one flaw, so that its GO-, GHSA- and CVE- ids
// act once. Aliases are symmetric and transitive, as OSV defines them;
// upstream ids name other flaws and are never grouped. The zero value is
// ready to use; it is not safe for concurrent use.
type Aliases struct {
	parent map[string]string
}

// Add records that an advisory's id and its aliases name one flaw.
func (a *Aliases) Add(adv Advisory) {
	a.Union(adv.ID, adv.Aliases...)
}

// Union records that id and each of others name one flaw.
func (a *Aliases) Union(id string, others ...string) {
	if id == "" {
		return
	}
	if a.parent == nil {
		a.parent = map[string]string{}
	}
	root := a.find(id)
	for _, o := range others {
		if o == "" {
			continue
		}
		r := a.find(o)
		if r == root {
			continue
		}
		// The better id becomes the root, so a group's key is its best
		// id whatever the order of the unions.
		if better(r, root) {
			a.parent[root] = r
			root = r
		} else {
			a.parent[r] = root
		}
	}
}

// Key is the canonical id of id's flaw: its CVE id when it has one (the
// smallest, should a group hold several), else its smallest id. An id
// never added is its own key.
func (a *Aliases) Key(id string) string {
	if a.parent == nil {
		return id
	}
	if _, ok := a.parent[id]; !ok {
		return id
	}
	return a.find(id)
}

// find returns id's root, adding id when new, and halves the path on the
// way so that chains stay short.
func (a *Aliases) find(id string) string {
	if _, ok := a.parent[id]; !ok {
		a.parent[id] = id
		return id
	}
	for a.parent[id] != id {
		next := a.parent[a.parent[id]]
		a.parent[id] = next
		id = next
	}
	return id
}

func better(x, y string) bool {
	cx, cy := strings.HasPrefix(x, "CVE-"), strings.HasPrefix(y, "CVE-")
	if cx != cy {
		return cx
	}
	return x < y
}

// Group returns the indices of advisories that name one flaw, through
// their ids and aliases: one group per flaw, each in index order, groups
// ordered by their first index.
func Group(advisories []Advisory) [][]int {
	var a Aliases
	for _, adv := range advisories {
		a.Add(adv)
	}
	at := map[string]int{}
	var groups [][]int
	for i, adv := range advisories {
		k := a.Key(adv.ID)
		g, ok := at[k]
		if !ok {
			g = len(groups)
			at[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}
