package i18n

import (
	"strings"
	"testing"
	"time"
)

// Every language has every message: a page in German never falls back to
// an English sentence in the middle, nor shows a key.
func TestEveryLanguageHasEveryMessage(t *testing.T) {
	for _, l := range Supported {
		for _, k := range Keys() {
			if !l.Has(k) {
				t.Errorf("%s has no message %q", l, k)
			}
			if n, m := strings.Count(en[k], "%"), strings.Count(catalogs[l][k], "%"); n != m {
				t.Errorf("%s %q has %d verbs, English %d", l, k, m, n)
			}
		}
		for k := range catalogs[l] {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English lacks (a typo?)", l, k)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		query, cookie, accept string
		want                  Lang
	}{
		{"", "", "", English},
		{"de", "", "fr", German},
		{"", "ja", "fr", Japanese},
		{"xx", "", "fr-CH, fr;q=0.9, en;q=0.8", French},
		{"", "", "es, de;q=0.5, en;q=0.4", German},
		{"", "", "en-GB;q=0.8,en;q=0.7,ja;q=0.95", Japanese},
		{"", "", "de;q=0, fr;q=0.1", French},
		{"", "", "de;q=abc", English},
		{"", "", strings.Repeat("xx, ", 5000) + "de", English}, // cut, never parsed whole
	} {
		if got := Negotiate(c.query, c.cookie, c.accept); got != c.want {
			t.Errorf("Negotiate(%q, %q, %.40q) = %s, want %s", c.query, c.cookie, c.accept, got, c.want)
		}
	}
}

// An address names a language in one spelling only, so each page in each
// language has one address (and one file in the static tree).
func TestCodeIsExact(t *testing.T) {
	for _, l := range Supported {
		if got, ok := Code(string(l)); !ok || got != l {
			t.Errorf("Code(%q) = %q, %v", l, got, ok)
		}
	}
	for _, s := range []string{"", "DE", "de-CH", "de_DE", " de", "xx", "en/"} {
		if _, ok := Code(s); ok {
			t.Errorf("Code(%q) accepted a spelling Hallmark does not write", s)
		}
	}
}

func TestDates(t *testing.T) {
	d := time.Date(2030, 1, 2, 15, 4, 0, 0, time.UTC)
	want := map[Lang]string{English: "2 January 2030", German: "2. Januar 2030", French: "2 janvier 2030", Japanese: "2030年1月2日"}
	for l, w := range want {
		if got := l.Date(d); got != w {
			t.Errorf("%s: %q, want %q", l, got, w)
		}
		if got := l.DateText("2030-01-02"); got != w {
			t.Errorf("%s DateText: %q, want %q", l, got, w)
		}
	}
	if got := French.Date(time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)); got != "1er mai 2030" {
		t.Errorf("French first of the month: %q", got)
	}
	if got := English.T("no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key shows as %q, want the key itself (the page tests look for it)", got)
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add("de", "", "fr;q=0.5")
	f.Add("", "", "en-GB,en;q=0.9,ja;q=x")
	f.Fuzz(func(t *testing.T, q, c, a string) {
		l := Negotiate(q, c, a)
		if _, ok := Parse(string(l)); !ok {
			t.Fatalf("Negotiate chose %q", l)
		}
	})
}
