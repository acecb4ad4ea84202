package sbom

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	packageurl "github.com/package-url/packageurl-go"
)

// FuzzParse feeds arbitrary bytes to Parse: it must refuse with an error or
// return a consistent document, and no parser may panic (a recovered panic
// counts as a failure here, so the fuzzer finds what recover() would hide).
func FuzzParse(f *testing.F) {
	for _, name := range []string{
		"alpine-zlib-16.cdx.json", "only-unimportant.spdx.json", "hello.spdx",
		"nested.cdx.json", "nested.cdx.xml", "subject.spdx.json", "subject.spdx",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","purl":"pkg:npm/%40s/a@1","components":[{"name":"a","purl":"pkg:npm/@s/a@1"}]}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","documentDescribes":["SPDXRef-a"],"packages":[{"SPDXID":"SPDXRef-a","name":"a"},{"name":"b","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:x"}]}]}`))
	f.Add([]byte("SPDXVersion: SPDX-2.2\nPackageName: a\nPackageComment: <text>x\n</text>\nExternalRef: A purl pkg:deb/debian/a@1\n"))
	f.Add([]byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><metadata><timestamp>x</timestamp></metadata><components><component type="library"><name>a</name><components><component><swid name="b"/></component></components></component></components></bom>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Parse(b)
		if err != nil {
			if errors.Is(err, errPanic) {
				t.Fatalf("a parser panicked: %v", err)
			}
			if doc != nil || err.Error() == "" {
				t.Fatalf("error %q with document %v", err, doc)
			}
			return
		}
		switch doc.Format {
		case CycloneDXJSON, CycloneDXXML, SPDXJSON, SPDXTagValue:
		default:
			t.Fatalf("format %q", doc.Format)
		}
		if doc.Components == nil {
			t.Fatal("nil components")
		}
		if len(doc.Components) == 0 && !slices.Contains(doc.Warnings, "the SBOM lists no components") {
			t.Fatalf("no components and no warning: %q", doc.Warnings)
		}
		if len(doc.Warnings) > maxWarnings+1 {
			t.Fatalf("%d warnings", len(doc.Warnings))
		}
		keys := map[string]bool{}
		for _, c := range doc.Components {
			if c.Name == "" && c.PURL == "" && c.CPE == "" {
				t.Fatalf("component with no identity: %+v", c)
			}
			key := "nv\x00" + c.Name + "\x00" + c.Version
			if c.PURL != "" {
				p, err := packageurl.FromString(c.PURL)
				if err != nil {
					t.Fatalf("invalid PURL kept: %+v: %v", c, err)
				}
				if c.Ecosystem != p.Type {
					t.Fatalf("ecosystem %q for %q", c.Ecosystem, c.PURL)
				}
				key = "purl\x00" + p.ToString()
			} else if c.Ecosystem != "" {
				t.Fatalf("ecosystem without PURL: %+v", c)
			}
			if keys[key] {
				t.Fatalf("duplicate left: %+v", c)
			}
			keys[key] = true
		}
		again, err := ParseFormat(b, doc.Format)
		if err != nil || !slices.Equal(again.Components, doc.Components) || !slices.Equal(again.Warnings, doc.Warnings) {
			t.Fatalf("ParseFormat(%s) disagrees with Parse: %v", doc.Format, err)
		}
		// A cap either changes nothing or refuses the whole file.
		small, err := ParseWith(b, Limits{MaxComponents: 2})
		switch {
		case err == nil:
			if !slices.Equal(small.Components, doc.Components) {
				t.Fatalf("a cap of 2 changed the components")
			}
		case errors.Is(err, ErrTooManyComponents):
			if small != nil {
				t.Fatal("a refusal with a document")
			}
		default:
			t.Fatalf("a cap of 2 gave another error: %v", err)
		}
	})
}

// A panic inside a parser is reported as an error naming the format.
func TestPanicBecomesError(t *testing.T) {
	saved := parsers[SPDXJSON]
	defer func() { parsers[SPDXJSON] = saved }()
	parsers[SPDXJSON] = func([]byte, int) (*Document, error) {
		var m map[string]int
		m["boom"]++ // assignment to a nil map panics
		return nil, nil
	}
	doc, err := Parse([]byte(`{"spdxVersion": "SPDX-2.3"}`))
	if doc != nil || !errors.Is(err, errPanic) {
		t.Fatalf("doc %v, err %v", doc, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "SPDX JSON") || !strings.Contains(msg, "nil map") {
		t.Errorf("message %q", msg)
	}
}

// scanJSON finds the markers wherever they are among the top-level keys,
// and only there.
func TestScanJSON(t *testing.T) {
	tests := []struct {
		in                 string
		bomFormat, version string
		spdx               bool
	}{
		{`{"bomFormat": "CycloneDX", "specVersion": "1.6"}`, "CycloneDX", "1.6", false},
		{`{"metadata": {"bomFormat": "x", "specVersion": "9"}, "a": [1, {"spdxVersion": 1}], "bomFormat": "CycloneDX"}`, "CycloneDX", "", false},
		{`{"x": "a\"b", "name": "\\", "spdxVersion": "SPDX-2.3"}`, "", "", true},
		{`{"spdxVersion": null}`, "", "", true},
		{`[{"bomFormat": "CycloneDX"}]`, "", "", false},
		{`{"a": 1, "specVersion": 1.5, "bomFormat": {"x": 1}}`, "", "", false},
	}
	for _, tt := range tests {
		info, err := scanJSON([]byte(tt.in))
		if err != nil || info.bomFormat.str != tt.bomFormat || info.specVersion.str != tt.version || info.spdxVersion.present != tt.spdx {
			t.Errorf("%s: %+v %v", tt.in, info, err)
		}
	}
	info, _ := scanJSON([]byte(`{"a": 1, "specVersion": 1.5}`))
	if !info.specVersion.present || info.specVersion.isString {
		t.Errorf("a number specVersion: %+v", info.specVersion)
	}
}
