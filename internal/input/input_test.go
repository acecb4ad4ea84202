package input_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hallmark-iot/hallmark/internal/input"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		s    string
		kind input.Kind
		ok   bool
		why  string // part of the message a refusal must carry
	}{
		{"Acme Devices GmbH", input.Name, true, ""},
		{"Caméra 2 — 東京", input.Name, true, ""},
		{"שלום\u200f", input.Name, true, ""}, // a right-to-left mark has honest uses
		{"", input.Name, true, ""},
		{"a\x00b", input.Name, false, "NUL"},
		{"a\x00b", input.Text, false, "NUL"},
		{"a\tb", input.Name, false, "tab"},
		{"a\nb", input.Line, false, "line break"},
		{"a\r\nb", input.Line, false, "carriage return"},
		{"a\tb\nc\r\nd", input.Text, true, ""},
		{"a\rb", input.Text, false, "carriage return"},
		{"end\r", input.Text, false, "carriage return"},
		{"bell\x07", input.Text, false, "U+0007"},
		{"esc\x1b[31m", input.Text, false, "U+001B"},
		{"del\x7f", input.Line, false, "U+007F"},
		{"c1\u0085", input.Text, false, "U+0085"},
		{"c1\u009b", input.Name, false, "U+009B"},
		{"bad\xff", input.Text, false, "UTF-8"},
		{"bad\xc3", input.Line, false, "UTF-8"},
		{"report\u202efdp.exe", input.Name, false, "bidirectional"},
		{"x\u2066y\u2069", input.Name, false, "bidirectional"},
		{"report\u202efdp.exe", input.Line, true, ""}, // only names refuse bidi controls
		{"مرحبا \u2067RTL\u2069 text", input.Text, true, ""},
	}
	for _, c := range cases {
		err := input.Check("field", c.s, c.kind)
		if (err == nil) != c.ok {
			t.Errorf("Check(%q, %s) = %v, want ok=%v", c.s, c.kind, err, c.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, input.ErrText) {
				t.Errorf("Check(%q): %v does not wrap ErrText", c.s, err)
			}
			if !strings.Contains(err.Error(), c.why) || !strings.HasPrefix(err.Error(), "field: ") {
				t.Errorf("Check(%q) = %q, want the field and %q", c.s, err, c.why)
			}
		}
	}
}

func TestCheckAllNamesTheField(t *testing.T) {
	err := input.CheckAll(input.Field{Name: "name", Value: "ok", Kind: input.Name}, input.Field{Name: "reason", Value: "x\x00", Kind: input.Text})
	var e *input.Error
	if !errors.As(err, &e) || e.Field != "reason" || e.Offset != 1 {
		t.Errorf("CheckAll = %v, want the reason field at byte 1", err)
	}
}

// FuzzCheck: Check never panics, and what it accepts holds none of what
// the rules refuse (so what it accepts, both databases store alike).
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x00", "a\r\nb", "\xff", "\u202e", "\u0085", "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []input.Kind{input.Name, input.Line, input.Text} {
			if input.Check("f", s, k) != nil {
				continue
			}
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("%s accepted %q", k, s)
			}
			for i, r := range s {
				ctl := r < 0x20 || r >= 0x7f && r <= 0x9f
				if ctl && !(k == input.Text && (r == '\t' || r == '\n' || r == '\r' && strings.HasPrefix(s[i:], "\r\n"))) {
					t.Fatalf("%s accepted control U+%04X in %q", k, r, s)
				}
				if k == input.Name && (r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069) {
					t.Fatalf("name accepted bidi control in %q", s)
				}
			}
		}
	})
}
