package sbom

import (
	"os"
	"strings"
	"testing"
)

func TestExplore2(t *testing.T) {
	b, _ := os.ReadFile("../../../shared/corpus/sbom/osv-scanner-testdata/alpine-zlib-16.cdx.json")
	cases := map[string]string{
		"trunc":    string(b[:len(b)/2]),
		"wrongtype": `{"bomFormat":"CycloneDX","specVersion":"1.4",
"components": {"name": "x"}}`,
		"wrongtype2": `{"bomFormat":"CycloneDX","specVersion":"1.4",
"components": [{"name": 5}]}`,
		"spdxwrong": `{"spdxVersion":"SPDX-2.3",
"packages": [{"name": "a", "externalRefs": [{"referenceLocator": 7}]}]}`,
		"spdx3": `{"spdxVersion":"SPDX-3.0"}`,
		"cdx19": `{"bomFormat":"CycloneDX","specVersion":"1.9"}`,
		"xmlbad": `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library"><name>a</name></component></components>`,
		"xmlbad2": `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="abc"><components><component type="library"><name>a</name></component></components></bom>`,
		"laughs": `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library"><name>&lol2;</name></component></components></bom>`,
		"undefent": `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library"><name>&lol2;</name></component></components></bom>`,
		"latin1": `<?xml version="1.0" encoding="ISO-8859-1"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"></bom>`,
		"tvtext": "SPDXVersion: SPDX-2.3\nPackageName: a\nPackageComment: <text>abc\n",
		"tvnocolon": "SPDXVersion: SPDX-2.3\nPackageName: a\nthis line is bad\n",
		"deep": `{"bomFormat":"CycloneDX","specVersion":"1.4","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "}",
		"empty": "",
		"junk": "\x00\x01\x02\xff",
		"emptycdx": `{"bomFormat":"CycloneDX","specVersion":"1.4"}`,
	}
	for name, c := range cases {
		d, err := Parse([]byte(c))
		if err != nil {
			t.Logf("%s: %v", name, err)
		} else {
			t.Logf("%s: OK %+v", name, d)
		}
	}
}
