package main

import (
	"os"
	"strings"
	"testing"
)

// Flags may follow the arguments, as the README writes them; after "--"
// everything is an argument.
func TestFlagsAnywhere(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errs := hallmark(t, "", "catalog", "crosswalk", "uk-psti-2023", "etsi-en-303-645-v2.1.1", "--csv")
	if code != 0 || !strings.HasPrefix(out, "from_framework,from_item,") {
		t.Errorf("crosswalk A B --csv: exit %d, %.80q %s", code, out, errs)
	}
	code, out, errs = hallmark(t, "", "scheme", "export", "sg-cls@2", "--json")
	if code != 0 || !strings.Contains(out, `"profile"`) {
		t.Errorf("scheme export ID --json: exit %d, %.80q %s", code, out, errs)
	}
	code, _, errs = hallmark(t, "", "scheme", "show", "--", "--json")
	if code != 1 || !strings.Contains(errs, `no scheme "--json"`) {
		t.Errorf("after --, --json is an argument: exit %d, %s", code, errs)
	}
	if code, _, errs := hallmark(t, "", "scheme", "show", "sg-cls", "--nonsense"); code != 2 || !strings.Contains(errs, "flag provided but not defined") {
		t.Errorf("an unknown flag after the arguments: exit %d, %s", code, errs)
	}
}

// Commands that only read the built-in catalogue and schemes create
// nothing in an empty directory and print no log lines.
func TestReadOnlyCommandsWriteNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{{"scheme", "list"}, {"scheme", "show", "sg-cls"}, {"catalog", "list"}, {"catalog", "show", "HM-AUTH-1"},
		{"scheme", "compare", "sg-cls@2", "de-bsi-label"}, {"version"}} {
		code, out, errs := hallmark(t, "", args...)
		if code != 0 || out == "" {
			t.Errorf("%v: exit %d, stderr %s", args, code, errs)
		}
		if errs != "" {
			t.Errorf("%v wrote to stderr: %s", args, errs)
		}
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			t.Fatalf("%v created %s in the working directory", args, ents[0].Name())
		}
	}
}

func TestVersionHelp(t *testing.T) {
	code, _, errs := hallmark(t, "", "version", "--help")
	if code != 0 || !strings.Contains(errs, "Usage: hallmark version") || !strings.Contains(errs, "Prints the version") {
		t.Errorf("version --help: exit %d, %q", code, errs)
	}
}
