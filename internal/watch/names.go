package watch

import (
	"strings"
	"unicode"
)

// corporateSuffixes are words that say what kind of company a vendor is,
// not which: "Siemens AG" and "Siemens" are one vendor.
var corporateSuffixes = setOf("inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "gmbh",
	"ag", "co", "corp", "corporation", "company", "sa", "sas", "srl", "spa", "bv", "nv", "kg",
	"oy", "ab", "asa", "kk", "pty", "pte", "group", "holding", "holdings", "se", "the")

// genericWords name no product in particular; matching on them alone
// would tie every "Firmware" to every other.
var genericWords = setOf("firmware", "software", "series", "version", "versions", "all", "and",
	"for", "of", "with", "device", "devices", "system", "systems", "module", "modules", "the", "fw")

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// nameTokens splits a vendor or product name into lower-case tokens.
// Punctuation separates words, except inside a model number: a word with
// both letters and digits loses its hyphens, dots and slashes so that
// "XYZ-1200", "xyz1200" and "XYZ.1200" are one token.
func nameTokens(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:()[]{}\"'!?&+®™©|", r)
	}) {
		if isModel(w) {
			out = append(out, modelKey(w))
			continue
		}
		for _, p := range strings.FieldsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			out = append(out, p)
		}
	}
	return out
}

// isModel says whether a word looks like a model number: letters and
// digits both, at least three characters of them.
func isModel(w string) bool {
	var letters, digits int
	for _, r := range w {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
	}
	return letters > 0 && digits > 0 && letters+digits >= 3
}

// modelKey normalises a model number, SKU or part number for exact
// comparison: letters and digits only, upper case ("xyz-1200" → "XYZ1200").
func modelKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// vendorTokens are a vendor name's tokens without corporate suffixes.
func vendorTokens(s string) []string {
	var out []string
	for _, t := range nameTokens(s) {
		if !corporateSuffixes[t] {
			out = append(out, t)
		}
	}
	return out
}

// productTokens are a product name's tokens without generic words.
func productTokens(s string) []string {
	var out []string
	for _, t := range nameTokens(s) {
		if !genericWords[t] {
			out = append(out, t)
		}
	}
	return out
}

// modelTokens are the tokens of a product name that look like model
// numbers, in modelKey form.
func modelTokens(s string) []string {
	var out []string
	for _, t := range nameTokens(s) {
		if isModel(t) {
			out = append(out, modelKey(t))
		}
	}
	return out
}

// NameSimilarity scores how likely an advisory's vendor and product name
// and a registered product's are the same product, from 0 (no evidence)
// to 1 (the same names after normalisation). It compares token sets
// (Sørensen–Dice), vendor and product separately: names differing only in
// case, punctuation, corporate suffix or words such as "firmware" score 1.
// Different vendors score 0 whatever the product names, since two vendors'
// "Gateway 200" are different products.
func NameSimilarity(advVendor, advProduct, vendor, product string) float64 {
	v := dice(vendorTokens(advVendor), vendorTokens(vendor))
	if v < 0.5 {
		return 0
	}
	p := dice(productTokens(advProduct), productTokens(product))
	// Both names give model numbers and none agree: another model of the
	// same line ("SCALANCE X-200" and "SCALANCE X-300"), at most half alike.
	am, pm := modelTokens(advProduct), modelTokens(product)
	if len(am) > 0 && len(pm) > 0 && dice(am, pm) == 0 {
		p /= 2
	}
	return 0.25*v + 0.75*p
}

// dice is 2|A∩B| / (|A|+|B|) over the token sets.
func dice(a, b []string) float64 {
	as, bs := setOf(a...), setOf(b...)
	if len(as)+len(bs) == 0 {
		return 0
	}
	n := 0
	for t := range as {
		if bs[t] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(as)+len(bs))
}
