package insight

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseQuery reads a figure's question from a URL's query (?by=, ?scheme=,
// ?jurisdiction=, ?category=, ?manufacturer=, ?requirement=, ?from=, ?to=,
// ?limit=), refusing what it does not know.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	known := map[string]*string{"by": &q.By, "scheme": &q.Scheme, "jurisdiction": &q.Jurisdiction, "category": &q.Category,
		"requirement": &q.Requirement, "from": &q.From, "to": &q.To}
	for k, vs := range v {
		if len(vs) > 1 {
			return q, fmt.Errorf("%w: %s is given %d times", ErrInvalid, clip(k), len(vs))
		}
		val := strings.TrimSpace(vs[0])
		if len(val) > maxFilterBytes {
			return q, fmt.Errorf("%w: %s is longer than %d characters", ErrInvalid, clip(k), maxFilterBytes)
		}
		switch k {
		case "manufacturer":
			if val == "" {
				continue
			}
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 {
				return q, fmt.Errorf("%w: manufacturer is an organisation id (a number), not %q", ErrInvalid, clip(val))
			}
			q.Manufacturer = n
		case "limit":
			if val == "" {
				continue
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > MaxGroups {
				return q, fmt.Errorf("%w: limit must be from 1 to %d", ErrInvalid, MaxGroups)
			}
			q.Limit = n
		case "version", "checkpoint", "lang":
			// read by the caller
		default:
			p, ok := known[k]
			if !ok {
				return q, fmt.Errorf("%w: unknown parameter %q; a figure takes by, scheme, jurisdiction, category, manufacturer, requirement, from, to and limit", ErrInvalid, clip(k))
			}
			*p = val
		}
	}
	return q, nil
}

// Values is the query as URL parameters, for links that keep it.
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("by", q.By)
	set("scheme", q.Scheme)
	set("jurisdiction", q.Jurisdiction)
	set("category", q.Category)
	if q.Manufacturer != 0 {
		v.Set("manufacturer", strconv.FormatInt(q.Manufacturer, 10))
	}
	set("requirement", q.Requirement)
	set("from", q.From)
	set("to", q.To)
	if q.Limit != 0 && q.Limit != DefaultGroups {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Scope says the question's filters in words ("cameras, in SG").
func (q Query) Scope() string {
	var parts []string
	if q.Category != "" {
		parts = append(parts, "category "+q.Category)
	}
	if q.Scheme != "" {
		parts = append(parts, "scheme "+q.Scheme)
	}
	if q.Jurisdiction != "" {
		parts = append(parts, "jurisdiction "+q.Jurisdiction)
	}
	if q.Manufacturer != 0 {
		parts = append(parts, "manufacturer "+strconv.FormatInt(q.Manufacturer, 10))
	}
	if q.Requirement != "" {
		parts = append(parts, "requirement "+q.Requirement)
	}
	if len(parts) == 0 {
		return "the whole registry"
	}
	return strings.Join(parts, ", ")
}

// CSV is the figure's data table: one row per group and month, the total
// first; the metadata file says what the columns mean.
func CSV(f Figure) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"indicator", "definition_version", "as_of", "checkpoint_size", "checkpoint_root", "group_by", "group", "group_name", "month",
		"value", "numerator", "denominator"}
	var parts []string
	if len(f.Total.Parts) > 0 {
		for _, p := range f.Total.Parts {
			parts = append(parts, p.Name)
		}
	} else if len(f.Groups) > 0 {
		for _, p := range f.Groups[0].Value.Parts {
			parts = append(parts, p.Name)
		}
	}
	for _, p := range parts {
		head = append(head, "part_"+p)
	}
	w.Write(head)
	row := func(key, name, month string, v Value) {
		r := []string{f.Indicator, strconv.Itoa(f.Version), f.At.UTC().Format(time.RFC3339), strconv.FormatUint(f.Checkpoint.Size, 10), f.Checkpoint.Root,
			f.Query.By, key, name, month, num(v.Value), strconv.Itoa(v.Num), strconv.Itoa(v.Den)}
		for i := range parts {
			c := ""
			if i < len(v.Parts) {
				c = strconv.Itoa(v.Parts[i].Count)
			}
			r = append(r, c)
		}
		w.Write(r)
	}
	now := f.At.UTC().Format(monthLayout)
	row("", "total", now, f.Total)
	for _, g := range f.Groups {
		row(g.Key, g.Name, now, g.Value)
	}
	for _, p := range f.Series {
		row("", "total", p.Month, Value{Value: p.Value, Den: p.Den, Num: -1})
	}
	for _, g := range f.Groups {
		for _, p := range g.Series {
			row(g.Key, g.Name, p.Month, Value{Value: p.Value, Den: p.Den, Num: -1})
		}
	}
	w.Flush()
	// A series point has no numerator of its own: an empty cell, not -1.
	return bytes.ReplaceAll(b.Bytes(), []byte(",-1,"), []byte(",,"))
}

func num(n Num) string {
	if !n.Defined() || math.IsInf(float64(n), 0) {
		return ""
	}
	return strconv.FormatFloat(float64(n), 'g', -1, 64)
}

// Metadata is the file that travels with a figure's CSV: what it means,
// where it comes from, the moment and checkpoint it was computed at, its
// caveats, and how to check it.
type Metadata struct {
	Figure           Figure      `json:"figure"`
	Definition       *Definition `json:"definition"`
	DefinitionDigest string      `json:"definition_sha256"`
	Instance         string      `json:"instance"`
	URL              string      `json:"url"`
	Sources          []string    `json:"sources"`
	Citation         string      `json:"citation"`
	Verify           string      `json:"verify"`
	CSVColumns       []string    `json:"csv_columns"`
}

// NewMetadata assembles a figure's metadata; instance is the public URL of
// the Hallmark that computed it, url the figure's own stable address.
func NewMetadata(f Figure, def *Definition, instance, url string) Metadata {
	return Metadata{Figure: f, Definition: def, DefinitionDigest: def.Digest(), Instance: instance, URL: url,
		Sources: append([]string{fmt.Sprintf("the registry of %s", instance),
			fmt.Sprintf("its transparency log %s, at checkpoint size %d, root hash %s", f.Checkpoint.Origin, f.Checkpoint.Size, f.Checkpoint.Root)}, def.Reads...),
		Citation: Citation(f, instance, url),
		Verify:   "hallmark figure verify --data DIR metadata.json (DIR: a mirror of this instance's registry and log); it recomputes the figure from the log's first entries and the registry and compares",
		CSVColumns: []string{"value: the figure (a share from 0 to 1, or days, or years, as the unit says)", "numerator and denominator: what a share counts (a median: the values it is taken over)",
			"part_*: the count of each part", "month: the series' month (its value at the month's end), or the figures' date for the current values"}}
}

// Citation is the dated line to cite a figure by.
func Citation(f Figure, instance, url string) string {
	scope := f.Query.Scope()
	if f.Query.By != "" {
		scope += ", by " + f.Query.By
	}
	return fmt.Sprintf("Hallmark (%s), \"%s\" (%s), definition version %d, computed %s from log checkpoint %d (root %s). %s",
		instance, f.Name, scope, f.Version, f.At.UTC().Format("2 January 2006 15:04 UTC"), f.Checkpoint.Size, f.Checkpoint.Root, url)
}

// MaxMetadata bounds a metadata file read back.
const MaxMetadata = 64 << 20

// ReadMetadata reads a figure's metadata file back, refusing one that does
// not describe a checkable figure.
func ReadMetadata(b []byte) (Metadata, error) {
	var md Metadata
	if len(b) > MaxMetadata {
		return md, fmt.Errorf("%w: the metadata file is larger than %d MiB", ErrInvalid, MaxMetadata>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&md); err != nil {
		return md, fmt.Errorf("%w: the metadata file does not read as JSON: %v", ErrInvalid, err)
	}
	f := md.Figure
	root, err := base64.StdEncoding.DecodeString(f.Checkpoint.Root)
	switch {
	case f.Indicator == "" || f.Version < 1:
		return md, fmt.Errorf("%w: the metadata names no indicator and definition version (figure.indicator, figure.definition_version)", ErrInvalid)
	case err != nil || len(root) != 32:
		return md, fmt.Errorf("%w: figure.checkpoint.root_hash must be a SHA-256 in base64", ErrInvalid)
	case f.Checkpoint.Size > 1<<40:
		return md, fmt.Errorf("%w: figure.checkpoint.size %d is out of range", ErrInvalid, f.Checkpoint.Size)
	case f.At.IsZero():
		return md, fmt.Errorf("%w: figure.as_of is missing", ErrInvalid)
	}
	// The question must be one a figure can be asked.
	if _, err := ParseQuery(f.Query.Values()); err != nil {
		return md, err
	}
	return md, nil
}

// Compare lists how figure b differs from figure a, in words: the total,
// each group and each month of the series. Values are compared to one part
// in a billion (they are ratios and medians of the same integers).
func Compare(a, b Figure) []string {
	var out []string
	same := func(x, y Num) bool {
		if !x.Defined() || !y.Defined() {
			return x.Defined() == y.Defined()
		}
		return math.Abs(float64(x)-float64(y)) <= 1e-9*math.Max(1, math.Abs(float64(x)))
	}
	val := func(what string, x, y Value) {
		if !same(x.Value, y.Value) || x.Num != y.Num || x.Den != y.Den {
			out = append(out, fmt.Sprintf("%s: published %s (%d of %d), recomputed %s (%d of %d)", what, num(x.Value), x.Num, x.Den, num(y.Value), y.Num, y.Den))
		}
		for i := range min(len(x.Parts), len(y.Parts)) {
			if x.Parts[i].Count != y.Parts[i].Count {
				out = append(out, fmt.Sprintf("%s, part %s: published %d, recomputed %d", what, x.Parts[i].Name, x.Parts[i].Count, y.Parts[i].Count))
			}
		}
	}
	val("total", a.Total, b.Total)
	bg := map[string]Group{}
	for _, g := range b.Groups {
		bg[g.Key] = g
	}
	for _, g := range a.Groups {
		h, ok := bg[g.Key]
		if !ok {
			out = append(out, fmt.Sprintf("group %s: published, missing from the recomputation", g.Key))
			continue
		}
		val("group "+g.Key, g.Value, h.Value)
		series(&out, "group "+g.Key, g.Series, h.Series, same)
	}
	series(&out, "total", a.Series, b.Series, same)
	return out
}

func series(out *[]string, what string, a, b []Point, same func(x, y Num) bool) {
	bm := map[string]Point{}
	for _, p := range b {
		bm[p.Month] = p
	}
	for _, p := range a {
		q, ok := bm[p.Month]
		if !ok {
			*out = append(*out, fmt.Sprintf("%s in %s: published, missing from the recomputation", what, p.Month))
			continue
		}
		if !same(p.Value, q.Value) || p.Den != q.Den {
			*out = append(*out, fmt.Sprintf("%s in %s: published %s of %d, recomputed %s of %d", what, p.Month, num(p.Value), p.Den, num(q.Value), q.Den))
		}
	}
}
