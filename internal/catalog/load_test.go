package catalog_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// mini reads testdata/mini, the smallest valid catalogue, into memory so
// each case can damage one file.
func mini(t testing.TB) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	root := filepath.Join("testdata", "mini")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fsys[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestLoadMini(t *testing.T) {
	c, err := catalog.Load(mini(t), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Requirements) != 1 || len(c.Frameworks) != 1 || len(c.Glossary) != 2 {
		t.Fatalf("loaded %d requirements, %d frameworks, %d terms", len(c.Requirements), len(c.Frameworks), len(c.Glossary))
	}
	if it, _ := c.Item("fw-a", "2"); it.Gap == "" {
		t.Error("the gap reason was not attached to fw-a#2")
	}
	if c.Glossary[0].Term != "Credential" {
		t.Error("glossary is not sorted")
	}
}

// Each broken file must be refused with its file, line and a message an
// author can act on.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, file, find, replace string
		want                      string
	}{
		{"unknown key", "requirements/auth.yaml", "    unsecurable: false", "    unsecurable: false\n    colour: red",
			"requirements/auth.yaml: line 10: field colour is not a known key"},
		{"unknown framework", "requirements/auth.yaml", "fw-a#1", "fw-z#1",
			`requirements/auth.yaml:11: requirement HM-AUTH-1: maps to "fw-z#1", which is not an item of a known framework`},
		{"bad relationship", "requirements/auth.yaml", "rel: equivalent", "rel: same",
			`requirements/auth.yaml:11: requirement HM-AUTH-1: relationship "same" to fw-a#1 is not`},
		{"mapping without item", "requirements/auth.yaml", "fw-a#1", "fw-a",
			`requirements/auth.yaml:11: requirement HM-AUTH-1: mapping target "fw-a" must be framework#item`},
		{"bad method", "requirements/auth.yaml", "[functional-test]", "[vibes]",
			`requirements/auth.yaml:3: requirement HM-AUTH-1: verification method "vibes"`},
		{"empty summary", "requirements/auth.yaml", "    summary: Each unit has its own password.\n", "",
			"requirements/auth.yaml:3: requirement HM-AUTH-1: summary is empty"},
		{"unknown topic", "requirements/auth.yaml", "topic: AUTH", "topic: NOPE",
			`requirements/auth.yaml:3: requirement HM-AUTH-1: topic "NOPE" is not in the topic list`},
		{"syntax", "requirements/auth.yaml", "title: No shared passwords", "title: [unclosed",
			"requirements/auth.yaml: line 3: did not find expected"},
		{"duplicate item", "frameworks/fw-a.yaml", `id: "2"`, `id: "1"`,
			`frameworks/fw-a.yaml:14: framework "fw-a" item "1" is listed twice`},
		{"bad status", "frameworks/fw-a.yaml", "status: recommended", "status: optional",
			`frameworks/fw-a.yaml:14: framework "fw-a" item "2": status "optional"`},
		{"id not file name", "frameworks/fw-a.yaml", "id: fw-a", "id: fw-b",
			`frameworks/fw-a.yaml:1: framework id "fw-b" must match the file name "fw-a"`},
		{"stale gap", "gaps.yaml", "fw-a#2", "fw-a#1",
			"gaps.yaml:2: fw-a#1 is listed as a gap but a requirement captures it"},
		{"gap on nothing", "gaps.yaml", "fw-a#2", "fw-a#9",
			`gaps.yaml:2: gap "fw-a#9" is not framework#item of a known framework`},
		{"dangling see", "glossary.yaml", "[Credential]", "[Token]",
			`glossary.yaml:2: glossary term "Password" refers to "Token"`},
		{"top level list", "topics.yaml", "topics:\n", "- topics:\n",
			"topics.yaml:1: expected a YAML mapping at the top level"},
		{"alias bomb", "glossary.yaml", "terms:", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nterms:",
			"glossary.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := mini(t)
			old := string(fsys[tc.file].Data)
			if !strings.Contains(old, tc.find) {
				t.Fatalf("test data lacks %q", tc.find)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(strings.Replace(old, tc.find, tc.replace, 1))}
			c, err := catalog.Load(fsys, ".")
			if err == nil {
				t.Fatalf("loaded a broken catalogue (%d requirements)", len(c.Requirements))
			}
			if c != nil {
				t.Fatal("a catalogue was returned with the error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestLoadRefusesOversizedFile(t *testing.T) {
	fsys := mini(t)
	fsys["glossary.yaml"] = &fstest.MapFile{Data: []byte("terms: []\n# " + strings.Repeat("x", catalog.MaxFileSize))}
	_, err := catalog.Load(fsys, ".")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size refusal", err)
	}
}

// FuzzLoadRequirements feeds arbitrary bytes as a requirements file: the
// loader must either accept or refuse with an error, never panic.
func FuzzLoadRequirements(f *testing.F) {
	base := mini(f)
	f.Add(base["requirements/auth.yaml"].Data)
	f.Add([]byte("topic: AUTH\nrequirements:\n  - id: HM-AUTH-1\n    mappings: [{to: '#'}]\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("topic: [1, {2: 3}]\nrequirements: 7"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		fsys["requirements/auth.yaml"] = &fstest.MapFile{Data: b}
		c, err := catalog.Load(fsys, ".")
		if err == nil && c == nil {
			t.Fatal("no catalogue and no error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("an error with no message")
		}
	})
}
