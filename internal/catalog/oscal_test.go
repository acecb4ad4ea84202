package catalog_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./internal/catalog -update and review the diff", name)
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// Every export must satisfy the OSCAL model's constraints, and the mapping
// collection must only reference controls that exist in the catalogs it
// names: a consumer resolving it must find every source and target.
func TestOSCALExportsValidate(t *testing.T) {
	c := builtin(t)
	hm := c.OSCAL()
	if errs := catalog.ValidateCatalog(&hm.Catalog); len(errs) > 0 {
		t.Fatalf("Hallmark catalog:\n%v", errs)
	}
	targets := map[string]catalog.OSCALCatalogDoc{}
	mc, err := c.OSCALMappings()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range c.Frameworks {
		doc, err := c.FrameworkOSCAL(f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if errs := catalog.ValidateCatalog(&doc.Catalog); len(errs) > 0 {
			t.Errorf("%s:\n%v", f.ID, errs)
		}
		for _, r := range mc.MappingCollection.BackMatter.Resources {
			if r.Title == f.Title {
				targets["#"+r.UUID] = doc
			}
		}
	}
	if errs := catalog.ValidateMappings(mc, hm, targets); len(errs) > 0 {
		t.Fatalf("mapping-collection:\n%v", errs)
	}
	var maps int
	for _, m := range mc.MappingCollection.Mappings {
		maps += len(m.Maps)
	}
	var want int
	for _, r := range c.Requirements {
		want += len(r.Mappings)
	}
	if maps != want {
		t.Errorf("the mapping-collection holds %d maps, the catalogue %d mappings", maps, want)
	}
}

// The validator itself must catch what a broken export would contain.
func TestValidateMappingsCatchesDanglingReferences(t *testing.T) {
	c := builtin(t)
	hm := c.OSCAL()
	mc, _ := c.OSCALMappings("uk-psti-2023")
	psti, _ := c.FrameworkOSCAL("uk-psti-2023")
	href := mc.MappingCollection.Mappings[0].TargetResource.Href
	targets := map[string]catalog.OSCALCatalogDoc{href: psti}
	if errs := catalog.ValidateMappings(mc, hm, targets); len(errs) > 0 {
		t.Fatalf("valid collection refused: %v", errs)
	}
	mc.MappingCollection.Mappings[0].Maps[0].Targets[0].IDRef = "item-99"
	mc.MappingCollection.Mappings[0].Maps[0].Relationship = "kind-of"
	mc.MappingCollection.Provenance.Status = ""
	errs := catalog.ValidateMappings(mc, hm, targets).Error()
	for _, want := range []string{`"item-99" is not in the target catalog`, `"kind-of" is not an OSCAL relationship`, "provenance.status"} {
		if !strings.Contains(errs, want) {
			t.Errorf("validator missed %q; said:\n%s", want, errs)
		}
	}
}

// Golden snapshots of the exports for the three-item PSTI, small enough to
// review by hand: control ids, labels, statuses, relationships.
func TestOSCALGolden(t *testing.T) {
	c := builtin(t)
	doc, err := c.FrameworkOSCAL("uk-psti-2023")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "uk-psti-2023.catalog.json", marshal(t, doc))
	mc, err := c.OSCALMappings("uk-psti-2023")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "uk-psti-2023.mapping.json", marshal(t, mc))
}

func TestControlID(t *testing.T) {
	for in, want := range map[string]string{
		"5.1-1":   "item-5.1-1",
		"I(2)(a)": "item-i.2.a",
		"II(8)":   "item-ii.8",
		"IAC":     "item-iac",
		"6-3A":    "item-6-3a",
	} {
		if got := catalog.ControlID(in); got != want {
			t.Errorf("ControlID(%q) = %q, want %q", in, got, want)
		}
	}
}

// An exported framework imports back with the same items.
func TestOSCALRoundTrip(t *testing.T) {
	c := builtin(t)
	for _, id := range []string{"eu-cra-annex-i", "etsi-en-303-645-v2.1.1"} {
		doc, _ := c.FrameworkOSCAL(id)
		f, err := catalog.ImportOSCAL("copy-of-"+id, bytes.NewReader(marshal(t, doc)))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		orig, _ := c.Framework(id)
		if len(f.Items) != len(orig.Items) {
			t.Fatalf("%s: %d items back, want %d", id, len(f.Items), len(orig.Items))
		}
		for i := range f.Items {
			if f.Items[i].ID != orig.Items[i].ID || f.Items[i].Status != orig.Items[i].Status || f.Items[i].Title != orig.Items[i].Title {
				t.Errorf("%s item %d: got %+v, want %+v", id, i, f.Items[i], orig.Items[i])
			}
		}
	}
}

func TestImportOSCALErrors(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("testdata", "oscal", "authority.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := catalog.ImportOSCAL("authority-x", bytes.NewReader(valid))
	if err != nil {
		t.Fatalf("valid file refused: %v", err)
	}
	if len(f.Items) != 4 || f.Items[0].ID != "AX-1" || f.Items[2].Clause != "ax-2" || f.Source != catalog.SourceImported {
		t.Fatalf("imported %+v", f)
	}
	cases := []struct{ name, doc, want string }{
		{"not json", `{"catalog": {`, "cannot read the JSON"},
		{"syntax with place", "{\n  \"catalog\": {\n    \"uuid\": ,\n  }\n}", "line 3, column"},
		{"wrong type", `{"catalog": {"uuid": 5}}`, "catalog.uuid must be string"},
		{"not a catalog", `{"profile": {}}`, `"catalog" object is missing`},
		{"two documents", `{"catalog": {}} {"catalog": {}}`, "more than one JSON value"},
		{"bad uuid", strings.Replace(string(valid), "9b2f", "zzzz", 1), "catalog.uuid"},
		{"bad control id", strings.Replace(string(valid), `"id": "ax-1"`, `"id": "1 bad"`, 1), `catalog.groups[0].controls[0].id: "1 bad" is not an OSCAL token`},
		{"duplicate id", strings.Replace(string(valid), `"id": "ax-3"`, `"id": "ax-1"`, 1), `"ax-1" is used again`},
		{"no title", strings.Replace(string(valid), `"title": "Devices reject default passwords"`, `"title": ""`, 1), "controls[0].title: a control needs a title"},
		{"missing metadata date", strings.Replace(string(valid), "2026-09-01T00:00:00Z", "yesterday", 1), "last-modified"},
		{"no controls", `{"catalog": {"uuid": "0b7c2d6e-3f4a-4b5c-9d6e-7f8a9b0c1d2e", "metadata": {"title": "t", "last-modified": "2026-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"}}}`, "no controls"},
		{"deep nesting", deepCatalog(20), "nested more than 8 deep"},
		{"oversized", `{"catalog": {"x": "` + strings.Repeat("a", catalog.MaxImportSize) + `"}}`, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := catalog.ImportOSCAL("authority-x", strings.NewReader(tc.doc))
			if err == nil {
				t.Fatalf("accepted: %+v", f)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := catalog.ImportOSCAL("bad id!", bytes.NewReader(valid)); err == nil {
		t.Error("accepted a framework id with spaces and punctuation")
	}
}

func deepCatalog(depth int) string {
	var b strings.Builder
	b.WriteString(`{"catalog": {"uuid": "0b7c2d6e-3f4a-4b5c-9d6e-7f8a9b0c1d2e", "metadata": {"title": "t", "last-modified": "2026-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"}, "controls": [`)
	for i := 0; i < depth; i++ {
		b.WriteString(`{"id": "c` + strings.Repeat("x", i) + `", "title": "t", "controls": [`)
	}
	for i := 0; i < depth; i++ {
		b.WriteString(`]}`)
	}
	b.WriteString(`]}}`)
	return b.String()
}

func FuzzImportOSCAL(f *testing.F) {
	valid, _ := os.ReadFile(filepath.Join("testdata", "oscal", "authority.json"))
	f.Add(valid)
	f.Add([]byte(`{"catalog": {"controls": [{"id": "a", "title": "b", "controls": [{"id": "a", "title": "c"}]}]}}`))
	f.Add([]byte(`{"catalog": null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fw, err := catalog.ImportOSCAL("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever is accepted must be storable: known ids, no duplicates.
		if len(fw.Items) == 0 || fw.Source != catalog.SourceImported {
			t.Fatalf("accepted an unusable framework: %+v", fw)
		}
		if _, err := catalog.New(nil, nil, []catalog.Framework{fw}, nil); err != nil {
			t.Fatalf("accepted a framework the catalogue refuses: %v", err)
		}
	})
}
