package watch

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// CPE is a well-formed name (WFN, NISTIR 7695) with its attributes in
// CPE 2.3 formatted-string form, lower-cased: "*" is ANY, "-" is NA, and
// a backslash quotes only a backslash, colon or wildcard character, so
// that values from either binding compare as equal strings.
type CPE struct {
	Part, Vendor, Product, Version, Update, Edition, Language,
	SWEdition, TargetSW, TargetHW, Other string
}

// ParseCPE reads a CPE 2.3 formatted string ("cpe:2.3:o:vendor:product:1.0:*:*:*:*:*:*:*")
// or a CPE 2.2 URI ("cpe:/o:vendor:product:1.0"). Missing trailing
// attributes are ANY.
func ParseCPE(s string) (CPE, error) {
	s = strings.TrimSpace(s)
	var f []string
	switch low := strings.ToLower(s); {
	case strings.HasPrefix(low, "cpe:2.3:"):
		f = splitFS(s[len("cpe:2.3:"):])
		if len(f) != 11 {
			return CPE{}, fmt.Errorf("CPE %q: %d attributes, want 11", s, len(f))
		}
	case strings.HasPrefix(low, "cpe:/"):
		var err error
		if f, err = splitURI(s[len("cpe:/"):]); err != nil {
			return CPE{}, fmt.Errorf("CPE %q: %w", s, err)
		}
	default:
		return CPE{}, fmt.Errorf("CPE %q: neither a 2.3 formatted string nor a 2.2 URI", s)
	}
	for len(f) < 11 {
		f = append(f, "*")
	}
	for i := range f {
		f[i] = canonicalWFN(strings.ToLower(f[i]))
		if f[i] == "" {
			f[i] = "*"
		}
	}
	if p := f[0]; p != "a" && p != "o" && p != "h" && p != "*" {
		return CPE{}, fmt.Errorf("CPE %q: part %q is not a, o or h", s, p)
	}
	return CPE{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]}, nil
}

// splitFS splits a formatted string at the colons that are not quoted.
func splitFS(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ':':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// splitURI reads the 2.2 URI binding: percent-decoded, an empty component
// is ANY, and the edition may pack the 2.3 extended attributes as
// "~edition~sw_edition~target_sw~target_hw~other".
func splitURI(s string) ([]string, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 7 {
		return nil, errors.New("more than 7 URI components")
	}
	out := make([]string, 0, 11)
	for i, p := range parts {
		d, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		if i == 5 && strings.HasPrefix(d, "~") {
			ext := strings.Split(d[1:], "~")
			if len(ext) != 5 {
				return nil, errors.New("packed edition must have 5 fields")
			}
			out = append(out, quoteWFN(ext[0]))
			// language (6th URI component) comes before sw_edition in the WFN.
			lang := "*"
			if len(parts) > 6 {
				lang = quoteWFN(parts[6])
			}
			out = append(out, lang)
			for _, e := range ext[1:] {
				out = append(out, quoteWFN(e))
			}
			return out, nil
		}
		out = append(out, quoteWFN(d))
	}
	return out, nil
}

// quoteWFN quotes URI-decoded text the way canonicalWFN leaves a
// formatted-string value, so that both bindings compare alike.
func quoteWFN(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '\\' || r == ':' || r == '*' || r == '?' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// canonicalWFN drops the quoting a formatted string may or may not use
// ("4\.1" and "4.1" are one value), keeping it only where it changes the
// meaning: before a backslash, colon or wildcard character.
func canonicalWFN(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if c := s[i]; c == '\\' || c == ':' || c == '*' || c == '?' {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// String is the CPE 2.3 formatted string.
func (c CPE) String() string {
	return "cpe:2.3:" + strings.Join([]string{c.Part, c.Vendor, c.Product, c.Version, c.Update,
		c.Edition, c.Language, c.SWEdition, c.TargetSW, c.TargetHW, c.Other}, ":")
}

// MatchCPE reports whether the registered product CPE falls within the
// advisory's CPE: vendor and product must be equal (an ANY in the
// advisory accepts any, but an advisory naming neither matches nothing),
// and for every other attribute the advisory's ANY accepts anything, NA
// accepts only NA, and a value must be equal. Wildcards inside values
// ("4.*") are not given a meaning: they must be equal as written.
func MatchCPE(adv, product CPE) bool {
	if adv.Vendor == "*" && adv.Product == "*" {
		return false
	}
	a := [...]string{adv.Part, adv.Vendor, adv.Product, adv.Version, adv.Update, adv.Edition,
		adv.Language, adv.SWEdition, adv.TargetSW, adv.TargetHW, adv.Other}
	p := [...]string{product.Part, product.Vendor, product.Product, product.Version, product.Update,
		product.Edition, product.Language, product.SWEdition, product.TargetSW, product.TargetHW, product.Other}
	for i := range a {
		if a[i] != "*" && a[i] != p[i] {
			return false
		}
	}
	return true
}

// productKey is vendor and product: what CPE postings are keyed by,
// so the version can be judged separately (by CPE or by a version range).
func (c CPE) productKey() string {
	return c.Vendor + ":" + c.Product
}
