// Package i18n holds the words of the public pages in every language
// Hallmark speaks (English, German, French, Japanese), chooses the
// language of a request and writes dates the way each language does.
// The messages are Hallmark's own words; a message missing in a language
// falls back to English, and one missing in English shows its key, which
// the tests look for on every page.
package i18n

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lang is a language tag Hallmark has messages for.
type Lang string

const (
	English  Lang = "en"
	German   Lang = "de"
	French   Lang = "fr"
	Japanese Lang = "ja"
)

// Supported lists the languages in the order the switcher shows them.
var Supported = []Lang{English, German, French, Japanese}

// Name is the language's name in itself, for the switcher.
func (l Lang) Name() string {
	switch l {
	case German:
		return "Deutsch"
	case French:
		return "Français"
	case Japanese:
		return "日本語"
	}
	return "English"
}

var catalogs = map[Lang]map[string]string{English: en, German: de, French: fr, Japanese: ja}

// Parse reads a language tag (de, de-CH, DE_de) as one Hallmark speaks.
func Parse(tag string) (Lang, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	l := Lang(tag)
	return l, slices.Contains(Supported, l)
}

// Code reads a language code exactly as Hallmark writes it in addresses
// (de, never DE or de-CH): each page in each language has one address.
func Code(s string) (Lang, bool) {
	l := Lang(s)
	return l, slices.Contains(Supported, l)
}

// Bounds on what Negotiate reads of an Accept-Language header: a browser
// sends a handful of tags; anything longer is cut, never parsed in full.
const (
	maxHeader = 512
	maxTags   = 16
)

// Negotiate chooses the language of a request: ?lang= first, then the
// language the visitor chose before (a cookie), then the best supported
// language of Accept-Language, then English.
func Negotiate(query, cookie, acceptLanguage string) Lang {
	if l, ok := Parse(query); ok {
		return l
	}
	if l, ok := Parse(cookie); ok {
		return l
	}
	return fromAccept(acceptLanguage)
}

func fromAccept(h string) Lang {
	if len(h) > maxHeader {
		h = h[:maxHeader]
	}
	best, bestQ := English, -1.0
	for i, part := range strings.Split(h, ",") {
		if i >= maxTags {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		l, ok := Parse(tag)
		if !ok || q <= 0 {
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// T says the message key in l, formatted with args.
func (l Lang) T(key string, args ...any) string {
	msg, ok := catalogs[l][key]
	if !ok {
		if msg, ok = en[key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether l has its own message for key.
func (l Lang) Has(key string) bool {
	_, ok := catalogs[l][key]
	return ok
}

// Keys lists every message key of the English catalogue.
func Keys() []string {
	out := make([]string, 0, len(en))
	for k := range en {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var months = map[Lang][12]string{
	English: {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	German:  {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	French:  {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
}

// Date writes a day the way the language does: 2 January 2030,
// 2. Januar 2030, 2 janvier 2030, 2030年1月2日. Dates are UTC.
func (l Lang) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	switch l {
	case Japanese:
		return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	case German:
		return fmt.Sprintf("%d. %s %d", t.Day(), months[German][t.Month()-1], t.Year())
	case French:
		day := strconv.Itoa(t.Day())
		if t.Day() == 1 {
			day = "1er"
		}
		return fmt.Sprintf("%s %s %d", day, months[French][t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), months[English][t.Month()-1], t.Year())
}

// DateText reads a YYYY-MM-DD date and writes it as Date does; anything
// else is returned as it is.
func (l Lang) DateText(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return l.Date(t)
}

// Time writes a moment with its day and UTC clock time.
func (l Lang) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	switch l {
	case Japanese:
		return fmt.Sprintf("%s %s UTC", l.Date(t), t.Format("15:04"))
	case German:
		return fmt.Sprintf("%s, %s UTC", l.Date(t), t.Format("15:04"))
	case French:
		return fmt.Sprintf("%s à %s UTC", l.Date(t), t.Format("15:04"))
	}
	return fmt.Sprintf("%s, %s UTC", l.Date(t), t.Format("15:04"))
}
