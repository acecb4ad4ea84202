package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// hallmark runs the CLI in-process with a fresh data directory per test.
func hallmark(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if dir != "" && len(args) > 1 && args[0] == "catalog" && args[1] != "check" {
		args = append(args[:2:2], append([]string{"--data", dir}, args[2:]...)...)
	}
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"catalog", "--help"}, {"catalog", "export", "--help"}, {"catalog", "crosswalk", "-h"}} {
		code, out, errs := hallmark(t, "", args...)
		if code != 0 || !strings.Contains(out+errs, "Usage: hallmark") {
			t.Errorf("%v: exit %d, output %q", args, code, out+errs)
		}
	}
	if code, _, errs := hallmark(t, "", "nonsense"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errs)
	}
	if code, _, errs := hallmark(t, "", "serve", "--port", "1"); code != 2 || !strings.Contains(errs, "flag provided but not defined") {
		t.Errorf("bad flag: exit %d, %q", code, errs)
	}
}

func TestCatalogCommands(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := hallmark(t, dir, "catalog", "list")
	if code != 0 || strings.Count(out, "\nHM-") < 40 {
		t.Fatalf("list: exit %d, %d requirements, stderr %s", code, strings.Count(out, "\nHM-"), errs)
	}
	code, out, _ = hallmark(t, dir, "catalog", "list", "--frameworks")
	if code != 0 || !strings.Contains(out, "uk-psti-2023") || !strings.Contains(out, "eu-cra-annex-i") {
		t.Errorf("list --frameworks: %d %s", code, out)
	}
	code, out, _ = hallmark(t, dir, "catalog", "show", "HM-AUTH-1")
	if code != 0 || !strings.Contains(out, "In plain words") || !strings.Contains(out, "etsi-en-303-645-v2.1.1") {
		t.Errorf("show: %d %s", code, out)
	}
	code, out, _ = hallmark(t, dir, "catalog", "show", "uk-psti-2023")
	if code != 0 || !strings.Contains(out, "HM-AUTH-1") {
		t.Errorf("show framework: %d %s", code, out)
	}
	if code, _, errs := hallmark(t, dir, "catalog", "show", "HM-NOPE-9"); code != 1 || !strings.Contains(errs, "no requirement or framework") {
		t.Errorf("show unknown: %d %s", code, errs)
	}
	code, out, _ = hallmark(t, dir, "catalog", "crosswalk", "uk-psti-2023", "etsi-en-303-645-v2.1.1")
	if code != 0 || !strings.Contains(out, "fully covers 3 of the 3 items") {
		t.Errorf("crosswalk: %d %s", code, out)
	}
	if code, _, errs := hallmark(t, dir, "catalog", "crosswalk", "uk-psti-2023"); code != 2 || !strings.Contains(errs, "name two frameworks") {
		t.Errorf("crosswalk with one framework: %d %s", code, errs)
	}
}

func TestCatalogExport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "mappings.json")
	if code, _, errs := hallmark(t, dir, "catalog", "export", "--format", "oscal", "--mappings", "-o", out); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	b, _ := os.ReadFile(out)
	var mc catalog.OSCALMappingDoc
	if err := json.Unmarshal(b, &mc); err != nil || len(mc.MappingCollection.Mappings) < 7 {
		t.Fatalf("mapping export: %v, %d mappings", err, len(mc.MappingCollection.Mappings))
	}
	code, csv, _ := hallmark(t, dir, "catalog", "export", "--format", "csv")
	if code != 0 || !strings.HasPrefix(csv, "id,topic,title,summary") {
		t.Errorf("csv export: %d %.80s", code, csv)
	}
	code, js, _ := hallmark(t, dir, "catalog", "export", "--format", "json")
	var all struct{ Requirements []json.RawMessage }
	if code != 0 || json.Unmarshal([]byte(js), &all) != nil || len(all.Requirements) < 40 {
		t.Errorf("json export: %d", code)
	}
	if code, _, errs := hallmark(t, dir, "catalog", "export", "--format", "pdf"); code != 2 || !strings.Contains(errs, "--format must be") {
		t.Errorf("bad format: %d %s", code, errs)
	}
}

func TestCatalogImport(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "internal", "catalog", "testdata", "oscal", "authority.json")
	code, out, errs := hallmark(t, dir, "catalog", "import", "--id", "authority-x", src)
	if code != 0 || !strings.Contains(out, "imported authority-x: 4 items") {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	// The import persists in the data directory.
	if code, out, _ := hallmark(t, dir, "catalog", "list", "--frameworks"); code != 0 || !strings.Contains(out, "authority-x") {
		t.Errorf("imported framework not listed: %s", out)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n \"catalog\": {\n  \"uuid\": ,\n}}"), 0o644)
	code, _, errs = hallmark(t, dir, "catalog", "import", "--id", "broken", bad)
	if code != 1 || !strings.Contains(errs, "bad.json: not imported") || !strings.Contains(errs, "line 3") {
		t.Errorf("bad import: %d %s", code, errs)
	}
	if _, out, _ := hallmark(t, dir, "catalog", "list", "--frameworks"); strings.Contains(out, "broken") {
		t.Error("a refused import was stored")
	}
}

func TestCatalogCheck(t *testing.T) {
	if code, out, errs := hallmark(t, "", "catalog", "check"); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("check built-in: %d %s %s", code, out, errs)
	}
	dir := filepath.Join("..", "..", "internal", "catalog", "testdata", "mini")
	if code, out, _ := hallmark(t, "", "catalog", "check", dir); code != 0 || !strings.Contains(out, "1 requirements") {
		t.Errorf("check mini: %d %s", code, out)
	}
	if code, _, errs := hallmark(t, "", "catalog", "check", t.TempDir()); code != 1 || !strings.Contains(errs, "topics.yaml") {
		t.Errorf("check empty dir: %d %s", code, errs)
	}
}

func TestSchemeCommands(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		full := append([]string{"scheme", args[0], "--data", dir}, args[1:]...)
		code := run(context.Background(), full, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errs := run("list"); code != 0 || strings.Count(out, "\n") != 14 || !strings.Contains(out, "fi-traficom") || !strings.Contains(out, "conformity-record") {
		t.Fatalf("list: %d %s %s", code, out, errs)
	}
	if code, out, _ := run("show", "sg-cls"); code != 0 || !strings.Contains(out, "Level 4") || !strings.Contains(out, "Post-market rules") {
		t.Errorf("show: %d %s", code, out)
	}
	if code, out, _ := run("compare", "sg-cls@2", "de-bsi-label"); code != 0 || !strings.Contains(out, "Recognisable with conditions") {
		t.Errorf("compare: %d %s", code, out)
	}
	if code, _, errs := run("compare", "sg-cls", "uk-psti"); code != 1 || !strings.Contains(errs, "name one, as sg-cls@1") {
		t.Errorf("compare without a level: %d %s", code, errs)
	}
	if code, out, _ := run("agreements"); code != 0 || !strings.Contains(out, "sg-fi-2021") || !strings.Contains(out, "uk-sg-2025") || !strings.Contains(out, "sg-kr-2024") {
		t.Errorf("agreements: %d %s", code, out)
	}
	if code, out, _ := run("matrix"); code != 0 || !strings.Contains(out, "sg-cls@4") {
		t.Errorf("matrix: %d %s", code, out)
	}
	if code, out, _ := run("export", "sg-cls@2"); code != 0 || !strings.Contains(out, `"profile"`) {
		t.Errorf("export: %d %.100s", code, out)
	}
}

func TestSchemeValidate(t *testing.T) {
	good := filepath.Join("..", "..", "internal", "scheme", "testdata", "good.yaml")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"scheme", "validate", good}, &out, &errb); code != 0 || !strings.Contains(out.String(), "ok: scheme test-scheme, 2 level(s)") {
		t.Fatalf("validate good: %d %s %s", code, out.String(), errb.String())
	}
	b, _ := os.ReadFile(good)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(strings.Replace(string(b), "- HM-VULN-1", "- HM-NOPE-1", 1), "status: draft", "status: maybe", 1)), 0o644)
	// The same scheme as JSON is accepted too.
	asJSON := filepath.Join(dir, "scheme.json")
	os.WriteFile(asJSON, []byte(`{"id": "json-scheme", "name": "J", "owner": "O", "version": "1", "jurisdiction": "XX", "status": "draft",
  "kind": "label", "description": "d", "validity": {"months": 12}, "public_fields": ["product_name"],
  "levels": [{"id": "1", "name": "One", "summary": "s", "method": "lab-test", "requirements": ["HM-AUTH-1"]}]}`), 0o644)
	out.Reset()
	errb.Reset()
	code := run(context.Background(), []string{"scheme", "validate", bad, asJSON}, &out, &errb)
	if code != 1 {
		t.Fatalf("validate bad: exit %d", code)
	}
	for _, want := range []string{bad + `:6: status "maybe"`, bad + `:27: level "2": "HM-NOPE-1" is not a Hallmark requirement`, "1 of 2 file(s) invalid"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("validate output lacks %q:\n%s", want, errb.String())
		}
	}
	if !strings.Contains(out.String(), "scheme.json: ok: scheme json-scheme") {
		t.Errorf("JSON scheme not accepted: %s", out.String())
	}
}

func TestAccountAndKeys(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HALLMARK_PASSWORD", "a long enough password")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"account", "--data", dir, "--org", "Test Authority", "--kind", "authority",
		"--schemes", "uk-psti", "--email", "admin@authority.example"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "created authority") {
		t.Fatalf("account: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"account", "--data", dir, "--org", "X", "--kind", "authority", "--schemes", "nope", "--email", "x@x.example"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), `no scheme "nope"`) {
		t.Errorf("unknown scheme: %d %s", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"keys", "--data", dir, "rotate"}, &out, &errb); code != 0 || strings.Count(out.String(), "\n") != 3 || !strings.Contains(out.String(), "retired") {
		t.Errorf("rotate: %d %q", code, out.String())
	}
	// The log key: the first run makes it, rotation keeps both verifiers.
	out.Reset()
	if code := run(context.Background(), []string{"keys", "--data", dir, "rotate-log"}, &out, &errb); code != 0 {
		t.Fatalf("rotate-log: %d %s", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"keys", "--data", dir, "rotate-log"}, &out, &errb); code != 0 || strings.Count(out.String(), "localhost:8080/log+") < 2 {
		t.Errorf("second rotate-log should list two verifier keys: %d %q", code, out.String())
	}
}
