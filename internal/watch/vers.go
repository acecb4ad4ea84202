package watch

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// VersionRange is a version constraint from a CSAF product: a purl-spec
// "vers:" range or one of the free-text forms vendors write. It is a
// union of intervals, exact versions and version prefixes ("4.x").
type VersionRange struct {
	all    bool
	eco    string // OSV ecosystem of a typed vers scheme; "" orders generically
	exact  []string
	not    []string // vers "!=": excluded whatever the intervals say
	bounds []bound
	prefix [][]segment
}

type bound struct {
	op string // <, <=, >, >=
	v  string
}

// maxRangeLen bounds the text ParseVersionRange reads; real ones are under 100.
const maxRangeLen = 512

// ErrUnparsedRange wraps every refusal of ParseVersionRange: the caller
// reports the product as not evaluated, never as matched.
var ErrUnparsedRange = errors.New("version range not understood")

// ParseVersionRange reads a "vers:" range (vers:generic/>=1.0|<2.3.1; the
// CSAF "vers:all/*"; typed schemes such as vers:npm order by that
// ecosystem) or the free text found in CSAF product_version_range and
// product_version names of the ICS advisories. Counted over the corpus'
// csaf/ics (2017-2022, 8,493 product_version_range and 1,749
// product_version names), these forms are understood:
//
//	vers:<scheme>/<constraints>   vers:all/*, vers:all/<V4.4, vers:generic/>=1.0|<2.3.1
//	all versions, all             "All versions", "All Versions"
//	[all versions] <op> v         "< V4.1.3", "<=4.00.02", "All versions < V5.5.0"
//	c1 | c2, c1 and c2, c1 c2     ">= 1.0 | <= 1.32", ">= V2.3 and < V6.30.016", "> V3.0 < V4.0"
//	prior to / before / earlier than v, versions before v
//	v and prior / earlier / below / older, v or earlier / lower
//	v and later / above / newer, v or later / higher
//	v1 through / to / - v2, from v1 to v2
//	v.x, v.x.x (a prefix)         "4.x", "V3.x", "5.x.x"
//	v, v1 | v2, Versions v1, v2   an exact version or a list of them
//
// where v starts with a digit, optionally after "V" ("V4.1", "02.07.07(10)",
// "1.000.HW00.21.20190812"). Everything else is refused with
// ErrUnparsedRange: text naming a product variant ("NMC2 <= 6.9.6"), dates
// ("< June 30 2015"), serial numbers, and Siemens-style service packs and
// updates ("< V14 SP1 Upd 9"), which need an order nobody has specified.
// TestFreeTextCorpus counts what the corpus holds; its last run:
// product_version_range 7,405 of 8,493 understood (87.2%; 1,088 refused:
// serial-number and date cut-offs, product variants, service packs and
// updates, builds), product_version 1,369 of 1,749 (78.3%; most of the
// 380 refused are model names or feature notes in the version slot,
// "HD 16 | HD23", "* (with option G28)").
func ParseVersionRange(s string) (VersionRange, error) {
	if len(s) > maxRangeLen {
		return VersionRange{}, fmt.Errorf("%w: longer than %d bytes", ErrUnparsedRange, maxRangeLen)
	}
	t := strings.Join(strings.Fields(strings.ToLower(s)), " ")
	if strings.HasPrefix(t, "vers:") {
		return parseVers(t)
	}
	r, ok := parseFree(t)
	if !ok {
		return VersionRange{}, fmt.Errorf("%w: %q", ErrUnparsedRange, s)
	}
	return r, nil
}

// versSchemes maps vers schemes to OSV ecosystems; a scheme not listed
// (generic, all, and the vendor-specific ones) orders generically.
var versSchemes = map[string]string{
	"npm": "npm", "pypi": "PyPI", "maven": "Maven", "nuget": "NuGet", "golang": "Go",
	"cargo": "crates.io", "gem": "RubyGems", "composer": "Packagist", "hex": "Hex",
	"pub": "Pub", "deb": "Debian", "alpine": "Alpine", "apk": "Alpine", "rpm": "Red Hat",
	"semver": "npm",
}

func parseVers(t string) (VersionRange, error) {
	scheme, cons, ok := strings.Cut(t[len("vers:"):], "/")
	if !ok || scheme == "" {
		return VersionRange{}, fmt.Errorf("%w: %q has no scheme", ErrUnparsedRange, t)
	}
	r := VersionRange{eco: versSchemes[scheme]}
	cons = strings.ReplaceAll(cons, " ", "")
	// CSAF producers write "vers:all/>=2.3<V3.0" for ">=2.3|<V3.0".
	cons = missingBarRe.ReplaceAllString(cons, "$1|$2")
	if cons == "*" {
		r.all = true
		return r, nil
	}
	for _, c := range strings.Split(cons, "|") {
		op, v := splitOp(c)
		if v == "" || (r.eco == "" && !versionRe.MatchString(v)) {
			return VersionRange{}, fmt.Errorf("%w: constraint %q in %q", ErrUnparsedRange, c, t)
		}
		r.add(op, v)
	}
	return r, nil
}

func splitOp(c string) (op, v string) {
	for _, op := range []string{"<=", ">=", "!=", "==", "<", ">", "="} {
		if rest, ok := strings.CutPrefix(c, op); ok {
			if op == "==" {
				op = "="
			}
			return op, strings.TrimSpace(rest)
		}
	}
	return "=", strings.TrimSpace(c)
}

func (r *VersionRange) add(op, v string) {
	v = strings.TrimPrefix(v, "v")
	switch op {
	case "=":
		r.exact = append(r.exact, v)
	case "!=":
		r.not = append(r.not, v)
	default:
		r.bounds = append(r.bounds, bound{op, v})
	}
}

// missingBarRe finds a comparator glued to the version before it.
var missingBarRe = regexp.MustCompile(`([0-9a-z)])([<>!])`)

// versionRe is a version in free text: a digit first (after an optional
// "v"), then what vendors put in versions.
var versionRe = regexp.MustCompile(`^v?[0-9][0-9a-z._+\-()]*$`)

// prefixRe is a version prefix written with x wildcards: 4.x, 5.x.x, v3.x.
var prefixRe = regexp.MustCompile(`^v?([0-9]+(?:\.[0-9]+)*)(?:\.x)+$`)

var (
	// "prior to 3.4", "versions before 1.2": everything below.
	belowRe = regexp.MustCompile(`^(?:all )?(?:versions? |firmware )?(?:prior to|before|earlier than|older than|lower than) (\S+)$`)
	// "v4.1 and prior", "2.3.6 and below": up to and including.
	uptoRe = regexp.MustCompile(`^(?:versions? )?(\S+) (?:and|or) (?:prior|earlier|below|older|lower|before)(?: versions?)?$`)
	// "2.0 and later": from.
	fromRe = regexp.MustCompile(`^(?:versions? )?(\S+) (?:and|or) (?:later|above|newer|higher|after)(?: versions?)?$`)
	// "1.0 through 1.9", "from 1.0 to 1.9", "1.0 - 1.9".
	betweenRe = regexp.MustCompile(`^(?:versions? )?(?:from )?(\S+) (?:through|thru|to|-) (\S+)$`)
)

// allPrefixRe is the "All versions" before a comparator, also as "All BIOS
// versions" or "All firmware versions".
var allPrefixRe = regexp.MustCompile(`^all (?:bios |firmware |software )?versions? `)

func parseFree(t string) (VersionRange, bool) {
	var r VersionRange
	switch t {
	case "":
		return r, false
	case "all versions", "all", "*", "all firmware versions", "all versions.":
		r.all = true
		return r, true
	}
	if m := belowRe.FindStringSubmatch(t); m != nil {
		return r, r.addFree("<", m[1])
	}
	if m := uptoRe.FindStringSubmatch(t); m != nil {
		return r, r.addFree("<=", m[1])
	}
	if m := fromRe.FindStringSubmatch(t); m != nil {
		return r, r.addFree(">=", m[1])
	}
	if m := betweenRe.FindStringSubmatch(t); m != nil {
		return r, r.addFree(">=", m[1]) && r.addFree("<=", m[2])
	}
	t = allPrefixRe.ReplaceAllString(t, "")
	t = strings.TrimPrefix(t, "versions ")
	// What is left is a list of constraints: "|", ",", "and" or a space
	// between them; a comparator may be spaced from its version.
	t = strings.NewReplacer("|", " ", ",", " ", " and ", " ").Replace(t)
	f := strings.Fields(t)
	if len(f) == 0 {
		return r, false
	}
	for i := 0; i < len(f); i++ {
		op, v := splitOp(f[i])
		if v == "" && op != "=" && i+1 < len(f) {
			i++
			v = f[i]
		}
		if v == "" || !r.addFree(op, v) {
			return VersionRange{}, false
		}
	}
	return r, true
}

// addFree adds one constraint whose version is free text, refusing text
// that is not a version.
func (r *VersionRange) addFree(op, v string) bool {
	if m := prefixRe.FindStringSubmatch(v); m != nil && op == "=" {
		r.prefix = append(r.prefix, genericSegments(m[1]))
		return true
	}
	if !versionRe.MatchString(v) {
		return false
	}
	r.add(op, v)
	return true
}

// Contains evaluates version against the range. Versions are ordered by
// the range's ecosystem for a typed vers scheme, else generically (see
// compareGeneric). It reports an error when the version cannot be ordered.
func (r VersionRange) Contains(version string) (bool, error) {
	version = strings.TrimSpace(version)
	if r.all {
		return true, nil
	}
	if version == "" {
		return false, errors.New("no version to evaluate")
	}
	if r.eco == "" {
		version = strings.TrimPrefix(strings.ToLower(version), "v")
		if !versionRe.MatchString(version) {
			return false, fmt.Errorf("version %q is not a version", version)
		}
	}
	cmp := func(a, b string) (int, error) {
		if r.eco == "" {
			return compareGeneric(a, b), nil
		}
		return CompareVersions(r.eco, a, b)
	}
	for _, n := range r.not {
		if c, err := cmp(version, n); err != nil {
			return false, err
		} else if c == 0 {
			return false, nil
		}
	}
	for _, e := range r.exact {
		if c, err := cmp(version, e); err != nil {
			return false, err
		} else if c == 0 {
			return true, nil
		}
	}
	if r.eco == "" {
		vs := genericSegments(version)
		for _, p := range r.prefix {
			if len(vs) >= len(p) && compareSegments(vs[:len(p)], p) == 0 {
				return true, nil
			}
		}
	}
	// Sorted bounds pair up as intervals: a lower bound followed by an
	// upper bound is one interval; a lone upper bound runs from the
	// bottom, a lone lower bound to the top. That is vers' reading, and the
	// union a reader expects of free text such as "<1.0 | <2.0".
	bs := slices.Clone(r.bounds)
	var sortErr error
	slices.SortStableFunc(bs, func(a, b bound) int {
		c, err := cmp(a.v, b.v)
		if err != nil {
			sortErr = err
		}
		return c
	})
	if sortErr != nil {
		return false, sortErr
	}
	for i := 0; i < len(bs); i++ {
		lo, hi := bound{}, bound{}
		if isLower(bs[i].op) {
			lo = bs[i]
			if i+1 < len(bs) && !isLower(bs[i+1].op) {
				i++
				hi = bs[i]
			}
		} else {
			hi = bs[i]
		}
		in := true
		for _, b := range []bound{lo, hi} {
			if b.op == "" {
				continue
			}
			c, err := cmp(version, b.v)
			if err != nil {
				return false, err
			}
			switch b.op {
			case "<":
				in = in && c < 0
			case "<=":
				in = in && c <= 0
			case ">":
				in = in && c > 0
			case ">=":
				in = in && c >= 0
			}
		}
		if in {
			return true, nil
		}
	}
	return false, nil
}

func isLower(op string) bool { return op == ">" || op == ">=" }

// segment is one run of digits or of letters in a generic version.
type segment struct {
	num  uint64
	word string // empty for a number
}

// genericSegments splits a version into digit and letter runs; any other
// character separates. "02.07.07(10)" → 2 7 7 10; "4.4.9sp" → 4 4 9 sp.
func genericSegments(v string) []segment {
	var out []segment
	for i := 0; i < len(v); {
		c := v[i]
		j := i + 1
		switch {
		case c >= '0' && c <= '9':
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			n, err := strconv.ParseUint(strings.TrimLeft(v[i:j], "0"), 10, 64)
			if err != nil && v[i:j] != strings.Repeat("0", j-i) {
				n = 1<<64 - 1 // absurdly long: above every real version
			}
			out = append(out, segment{num: n})
		case c >= 'a' && c <= 'z':
			for j < len(v) && v[j] >= 'a' && v[j] <= 'z' {
				j++
			}
			out = append(out, segment{word: v[i:j]})
		}
		i = j
	}
	return out
}

// compareGeneric orders free-text versions: digit runs numerically (so
// leading zeros do not matter: 4.00.02 = 4.0.2), letter runs
// alphabetically, a letter run before a number in the same place (1.0a <
// 1.0.1), and missing trailing segments count as zero (4.1 = 4.1.0).
func compareGeneric(a, b string) int {
	return compareSegments(genericSegments(a), genericSegments(b))
}

func compareSegments(a, b []segment) int {
	for i := range max(len(a), len(b)) {
		x, y := segment{}, segment{}
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		switch {
		case x.word == "" && y.word == "":
			if x.num != y.num {
				if x.num < y.num {
					return -1
				}
				return 1
			}
		case x.word != "" && y.word != "":
			if c := strings.Compare(x.word, y.word); c != 0 {
				return c
			}
		case x.word != "":
			return -1
		default:
			return 1
		}
	}
	return 0
}
