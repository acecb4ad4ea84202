//go:build xcheck

package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/tagvalue"
)

func TestXCheck(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/corpus/sbom/spdx-examples/*/*")
	files = append(files, "../../../shared/corpus/sbom/osv-scanner-testdata/only-unimportant.spdx.json")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var doc *spdx.Document
		var err error
		switch {
		case strings.HasSuffix(f, ".json"):
			doc, err = spdxjson.Read(bytes.NewReader(b))
		case strings.HasSuffix(f, ".spdx"):
			doc, err = tagvalue.Read(bytes.NewReader(b))
		default:
			continue
		}
		if err != nil {
			t.Errorf("%s: tools-golang: %v", f, err)
			continue
		}
		var want []string
		for _, p := range doc.Packages {
			purl, cpe := "", ""
			for _, r := range p.PackageExternalReferences {
				switch r.RefType {
				case "purl":
					if purl == "" {
						purl = r.Locator
					}
				case "cpe23Type", "cpe22Type":
					if cpe == "" {
						cpe = r.Locator
					}
				}
			}
			sup := ""
			if p.PackageSupplier != nil && p.PackageSupplier.Supplier != "NOASSERTION" {
				sup = p.PackageSupplier.Supplier
			}
			want = append(want, strings.Join([]string{p.PackageName, p.PackageVersion, purl, cpe, sup, strings.ToLower(p.PrimaryPackagePurpose), string(p.PackageSPDXIdentifier)}, "|"))
		}
		mine, err := Parse(b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		var got []string
		for _, c := range mine.Components {
			got = append(got, strings.Join([]string{c.Name, c.Version, c.PURL, c.CPE, c.Supplier, c.Type, strings.TrimPrefix(c.BOMRef, "SPDXRef-")}, "|"))
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s:\ntools-golang:\n%s\nmine:\n%s", f, strings.Join(want, "\n"), strings.Join(got, "\n"))
		} else {
			t.Logf("%s: %d packages agree; name %q/%q created %q/%v", f, len(got), doc.DocumentName, mine.Name, doc.CreationInfo.Created, mine.Created)
		}
	}
}

func TestXCheckQuadratic(t *testing.T) {
	for _, n := range []int{100000, 200000, 400000} {
		var b strings.Builder
		b.WriteString("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nDocumentNamespace: https://x\nCreator: Tool: x\nCreated: 2020-01-01T00:00:00Z\nDocumentComment: <text>\n")
		for i := 0; i < n; i++ {
			b.WriteString("ab\n")
		}
		b.WriteString("</text>\n")
		in := []byte(b.String())
		s := time.Now()
		_, err := tagvalue.Read(bytes.NewReader(in))
		t1 := time.Since(s)
		s = time.Now()
		_, err2 := Parse(in)
		t.Logf("%d lines (%d bytes): tools-golang %v (%v), mine %v (%v)", n, len(in), t1, err, time.Since(s), err2)
	}
}
