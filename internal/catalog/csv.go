package catalog

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// WriteRequirementsCSV writes one row per requirement, for spreadsheet users.
func (c *Catalog) WriteRequirementsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "topic", "title", "summary", "technical", "why", "incident", "verification", "unsecurable", "unsecurable_note", "mappings"})
	for _, r := range c.Requirements {
		var methods, maps []string
		for _, m := range r.Verification {
			methods = append(methods, string(m))
		}
		for _, m := range r.Mappings {
			maps = append(maps, fmt.Sprintf("%s (%s)", m.Ref(), m.Rel))
		}
		cw.Write([]string{r.ID, r.Topic, r.Title, r.Summary, r.Technical, r.Why, r.Incident,
			strings.Join(methods, "; "), fmt.Sprint(r.Unsecurable), r.UnsecurableNote, strings.Join(maps, "; ")})
	}
	cw.Flush()
	return cw.Error()
}

// WriteMappingsCSV writes one row per requirement-to-item mapping.
func (c *Catalog) WriteMappingsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"requirement", "framework", "item", "relationship", "rationale"})
	for _, r := range c.Requirements {
		for _, m := range r.Mappings {
			cw.Write([]string{r.ID, m.Framework, m.Item, string(m.Rel), m.Note})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteFrameworkCSV writes one row per item of a framework, with the
// requirements that map to it or the reason none does.
func (c *Catalog) WriteFrameworkCSV(w io.Writer, id string) error {
	f, ok := c.Framework(id)
	if !ok {
		return fmt.Errorf("unknown framework %q", id)
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"framework", "item", "clause", "status", "title", "requirements", "gap"})
	for _, it := range f.Items {
		var reqs []string
		for _, l := range c.MappedBy(f.ID, it.ID) {
			reqs = append(reqs, fmt.Sprintf("%s (%s)", l.Requirement, l.Rel))
		}
		cw.Write([]string{f.ID, it.ID, it.Clause, string(it.Status), it.Title, strings.Join(reqs, "; "), it.Gap})
	}
	cw.Flush()
	return cw.Error()
}

// WriteCrosswalkCSV writes a crosswalk, one row per item of the From framework.
func WriteCrosswalkCSV(w io.Writer, x Crosswalk) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"from_framework", "from_item", "title", "coverage", "to_framework", "to_items", "via_requirements", "explanation"})
	for _, r := range x.Rows {
		var to, via []string
		for _, t := range r.Targets {
			to = append(to, fmt.Sprintf("%s (%s)", t.Item.ID, t.Strength))
		}
		for _, v := range r.Via {
			via = append(via, v.Requirement.ID)
		}
		cw.Write([]string{x.From.ID, r.Item.ID, r.Item.Title, string(r.Strength), x.To.ID, strings.Join(to, "; "), strings.Join(via, "; "), r.Summary})
	}
	cw.Flush()
	return cw.Error()
}
