package repocheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// uncertain matches the old way of flagging a doubtful fact in prose,
// "(check)" or "(check; ...)". Doubt belongs in an `unverified` field,
// which the pages show as such; a reader must never meet a bare "(check)".
var uncertain = regexp.MustCompile(`(?i)\(check(\)|[;:,]|\s)`)

// No public text (reference data, page templates, Go sources that build
// pages and API answers, the README) carries a "(check)" note.
func TestNoCheckNotesInPublicText(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	scanned := 0
	scan := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		scanned++
		for i, line := range strings.Split(string(b), "\n") {
			if uncertain.MatchString(line) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d: a \"(check)\" note in public text; record the doubt in an unverified field instead: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
	}
	for _, dir := range []string{"data", filepath.Join("internal"), "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			switch {
			case d.IsDir(), strings.HasSuffix(path, "_test.go"), strings.HasSuffix(path, ".csv"):
				return nil
			}
			switch filepath.Ext(path) {
			case ".yaml", ".yml", ".json", ".html", ".go", ".md", ".tmpl", ".txt":
				scan(path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	scan(filepath.Join(root, "README.md"))
	if scanned < 50 {
		t.Fatalf("only %d files scanned: the walk is broken", scanned)
	}
}

// The pattern itself: it catches the note in its forms and leaves words
// such as "checked" and "checkpoint" alone.
func TestCheckNotePattern(t *testing.T) {
	for _, s := range []string{"assumed (check).", "reported (check; not modelled)", "see (Check the act)"} {
		if !uncertain.MatchString(s) {
			t.Errorf("%q should be caught", s)
		}
	}
	for _, s := range []string{"(checked 2026-12-01)", "a C2SP tlog-proof (checkpoint, index)", "check it"} {
		if uncertain.MatchString(s) {
			t.Errorf("%q should not be caught", s)
		}
	}
}
