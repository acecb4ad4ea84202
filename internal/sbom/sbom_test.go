package sbom_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/sbom"
)

var update = flag.Bool("update", false, "rewrite golden files")

// corpusDir is the shared corpus of real SBOMs. Tests that read it skip
// without it, except in CI where it must be present.
const corpusDir = "../../../shared/corpus/sbom"

func corpus(t *testing.T, rel string) []byte {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the shared corpus %s is required in CI: %v", corpusDir, err)
		}
		t.Skipf("no shared corpus at %s; skipping (required when CI=true)", corpusDir)
	}
	b, err := os.ReadFile(filepath.Join(corpusDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, b []byte) *sbom.Document {
	t.Helper()
	doc, err := sbom.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func find(doc *sbom.Document, name string) (sbom.Component, bool) {
	for _, c := range doc.Components {
		if c.Name == name {
			return c, true
		}
	}
	return sbom.Component{}, false
}

func hasWarning(doc *sbom.Document, parts ...string) bool {
	for _, w := range doc.Warnings {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// The expected counts were first computed by this package, then checked
// independently with a Python script (xml.etree / json): the number of
// <component> children of <bom><components> (components[] in JSON), minus
// entries repeating an earlier PURL, or name and version when there is no
// valid PURL. The corpus has no nested components; nested.cdx.* covers
// those. For SPDX, the number of packages, checked by reading the files:
// the samples DESCRIBE two elements, so no package is dropped as the subject.
func TestCorpus(t *testing.T) {
	ts := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		path       string
		format     sbom.Format
		spec       string
		components int
		name       string
		created    time.Time
	}{
		{"osv-scanner-testdata/alpine-zlib-16.cdx.json", sbom.CycloneDXJSON, "1.6", 1, "", ts("2025-07-08T05:23:38Z")},
		{"osv-scanner-testdata/alpine.cdx.xml", sbom.CycloneDXXML, "1.4", 16, "alpine:latest", ts("2023-03-02T12:04:22+11:00")},
		// 16 listed; the OS component has no name and takes its SWID tag's.
		{"osv-scanner-testdata/bad-purls.cdx.xml", sbom.CycloneDXXML, "1.4", 16, "alpine:latest", ts("2023-03-02T12:04:22+11:00")},
		// 18 listed, libcrypto3 and zlib twice.
		{"osv-scanner-testdata/with-duplicates.cdx.xml", sbom.CycloneDXXML, "1.4", 16, "alpine:latest", ts("2023-03-02T12:04:22+11:00")},
		{"osv-scanner-testdata/postgres-stretch.cdx.xml", sbom.CycloneDXXML, "1.4", 137, "postgres:11.15-stretch", ts("2023-03-02T12:00:49+11:00")},
		{"osv-scanner-testdata/only-unimportant.spdx.json", sbom.SPDXJSON, "2.3", 1, "SCALIBR-generated SPDX", ts("2025-08-26T01:01:15Z")},
		{"cyclonedx-examples/cern-lhc-vdm-editor-e564943/bom.json", sbom.CycloneDXJSON, "1.2", 43, "lhc-vdm-editor", ts("2020-08-03T01:28:52.765Z")},
		{"cyclonedx-examples/cern-lhc-vdm-editor-e564943/bom.xml", sbom.CycloneDXXML, "1.2", 43, "lhc-vdm-editor", ts("2020-08-03T01:28:47.678Z")},
		{"cyclonedx-examples/dropwizard-1.3.15/bom.json", sbom.CycloneDXJSON, "1.2", 167, "io.dropwizard:dropwizard-parent", ts("2020-08-02T21:27:04Z")},
		{"cyclonedx-examples/dropwizard-1.3.15/bom.xml", sbom.CycloneDXXML, "1.2", 167, "io.dropwizard:dropwizard-parent", ts("2020-08-02T21:27:04Z")},
		{"cyclonedx-examples/keycloak-10.0.2/bom.json", sbom.CycloneDXJSON, "1.2", 903, "org.keycloak:keycloak-parent", ts("2020-08-02T21:21:17Z")},
		{"cyclonedx-examples/keycloak-10.0.2/bom.xml", sbom.CycloneDXXML, "1.2", 903, "org.keycloak:keycloak-parent", ts("2020-08-02T21:21:17Z")},
		// 1.1 has no metadata: no subject, no time.
		{"cyclonedx-examples/laravel-7.12.0/bom.1.1.xml", sbom.CycloneDXXML, "1.1", 62, "", time.Time{}},
		{"cyclonedx-examples/laravel-7.12.0/bom.1.2.json", sbom.CycloneDXJSON, "1.2", 62, "cyclonedx/cyclonedx-php-composer-demo", time.Time{}},
		{"cyclonedx-examples/laravel-7.12.0/bom.1.2.xml", sbom.CycloneDXXML, "1.2", 62, "cyclonedx/cyclonedx-php-composer-demo", time.Time{}},
		{"cyclonedx-examples/laravel-7.12.0/bom.1.3.json", sbom.CycloneDXJSON, "1.3", 62, "cyclonedx/cyclonedx-php-composer-demo", time.Time{}},
		{"cyclonedx-examples/laravel-7.12.0/bom.1.3.xml", sbom.CycloneDXXML, "1.3", 62, "cyclonedx/cyclonedx-php-composer-demo", time.Time{}},
		{"cyclonedx-examples/laravel-7.12.0/bom.1.4.json", sbom.CycloneDXJSON, "1.4", 62, "cyclonedx/cyclonedx-php-composer-demo", time.Time{}},
		{"cyclonedx-examples/laravel-7.12.0/bom.1.4.xml", sbom.CycloneDXXML, "1.4", 62, "cyclonedx/cyclonedx-php-composer-demo", time.Time{}},
		{"cyclonedx-examples/proton-bridge/proton-bridge-v1.6.3.bom.json", sbom.CycloneDXJSON, "1.2", 201, "github.com/ProtonMail/proton-bridge", ts("2021-05-16T17:08:44+02:00")},
		{"cyclonedx-examples/proton-bridge/proton-bridge-v1.6.3.bom.xml", sbom.CycloneDXXML, "1.2", 201, "github.com/ProtonMail/proton-bridge", ts("2021-05-16T17:07:43+02:00")},
		{"cyclonedx-examples/proton-bridge/proton-bridge-v1.8.0.bom.json", sbom.CycloneDXJSON, "1.2", 201, "github.com/ProtonMail/proton-bridge", ts("2021-05-16T17:10:53+02:00")},
		{"cyclonedx-examples/proton-bridge/proton-bridge-v1.8.0.bom.xml", sbom.CycloneDXXML, "1.2", 201, "github.com/ProtonMail/proton-bridge", ts("2021-05-16T17:10:00+02:00")},
		{"cyclonedx-examples/protonmail-webclient-v4-0912dff/bom.json", sbom.CycloneDXJSON, "1.2", 883, "protonmail-web", ts("2020-08-03T08:53:09.834Z")},
		{"cyclonedx-examples/protonmail-webclient-v4-0912dff/bom.xml", sbom.CycloneDXXML, "1.2", 883, "protonmail-web", ts("2020-08-03T08:53:04.233Z")},
		{"spdx-examples/json/SPDXJSONExample-v2.2.spdx.json", sbom.SPDXJSON, "2.2", 4, "SPDX-Tools-v2.0", ts("2010-01-29T18:30:22Z")},
		{"spdx-examples/json/SPDXJSONExample-v2.3.spdx.json", sbom.SPDXJSON, "2.3", 5, "SPDX-Tools-v2.0", ts("2010-01-29T18:30:22Z")},
		{"spdx-examples/tv/SPDXTagExample-v2.2.spdx", sbom.SPDXTagValue, "2.2", 4, "SPDX-Tools-v2.0", ts("2010-01-29T18:30:22Z")},
		{"spdx-examples/tv/SPDXTagExample-v2.3.spdx", sbom.SPDXTagValue, "2.3", 5, "SPDX-Tools-v2.0", ts("2010-01-29T18:30:22Z")},
		// One package, described by the document: kept, since it is all there is.
		{"spdx-examples/tv/hello.spdx", sbom.SPDXTagValue, "2.2", 1, "hello", ts("2021-08-26T01:46:00Z")},
		{"spdx-examples/tv/hello-modified.spdx", sbom.SPDXTagValue, "2.2", 1, "hello-modified", ts("2022-03-30T21:23:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b := corpus(t, tt.path)
			doc := mustParse(t, b)
			if doc.Format != tt.format || doc.SpecVersion != tt.spec {
				t.Errorf("format %s %s, want %s %s", doc.Format, doc.SpecVersion, tt.format, tt.spec)
			}
			if len(doc.Components) != tt.components {
				t.Errorf("%d components, want %d", len(doc.Components), tt.components)
			}
			if doc.Name != tt.name {
				t.Errorf("name %q, want %q", doc.Name, tt.name)
			}
			if !doc.Created.Equal(tt.created) {
				t.Errorf("created %v, want %v", doc.Created, tt.created)
			}
			// ParseFormat with the detected format agrees with Parse.
			again, err := sbom.ParseFormat(b, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.Components, doc.Components) {
				t.Error("ParseFormat gave other components than Parse")
			}
			for _, c := range doc.Components {
				if c.Name == "" {
					t.Errorf("component without a name: %+v", c)
				}
				if c.PURL != "" && c.Ecosystem == "" {
					t.Errorf("PURL without ecosystem: %+v", c)
				}
			}
		})
	}
}

// Specific components, compared whole, with the PURL exactly as written.
func TestCorpusComponents(t *testing.T) {
	tests := []struct {
		path string
		want sbom.Component
	}{
		{"osv-scanner-testdata/alpine-zlib-16.cdx.json", sbom.Component{
			Name: "zlib", Version: "1.2.12-r1", Type: "library", Ecosystem: "apk",
			PURL:   "pkg:apk/alpine/zlib@1.2.12-r1?arch=x86_64&distro=3.22.0&origin=zlib",
			BOMRef: "6756e583-83d8-4a08-a573-d2e9506cbd93",
		}},
		{"cyclonedx-examples/keycloak-10.0.2/bom.json", sbom.Component{
			Name: "org.keycloak:keycloak-core", Version: "10.0.2", Type: "library", Ecosystem: "maven",
			PURL:   "pkg:maven/org.keycloak/keycloak-core@10.0.2?type=jar",
			BOMRef: "pkg:maven/org.keycloak/keycloak-core@10.0.2?type=jar",
		}},
		{"cyclonedx-examples/keycloak-10.0.2/bom.xml", sbom.Component{
			Name: "org.bouncycastle:bcprov-jdk15on", Version: "1.62", Type: "library", Ecosystem: "maven",
			PURL:   "pkg:maven/org.bouncycastle/bcprov-jdk15on@1.62?type=jar",
			BOMRef: "pkg:maven/org.bouncycastle/bcprov-jdk15on@1.62?type=jar",
		}},
		{"cyclonedx-examples/proton-bridge/proton-bridge-v1.8.0.bom.json", sbom.Component{
			Name: "github.com/0xAX/notificator", Version: "v0.0.0-20191016112426-3962a5ea8da1", Type: "library", Ecosystem: "golang",
			PURL:   "pkg:golang/github.com/0xAX/notificator@v0.0.0-20191016112426-3962a5ea8da1",
			BOMRef: "pkg:golang/github.com/0xAX/notificator@v0.0.0-20191016112426-3962a5ea8da1",
		}},
		{"cyclonedx-examples/protonmail-webclient-v4-0912dff/bom.json", sbom.Component{
			Name: "@babel/polyfill", Version: "7.10.4", Type: "library", Ecosystem: "npm",
			PURL: "pkg:npm/%40babel/polyfill@7.10.4", BOMRef: "pkg:npm/%40babel/polyfill@7.10.4",
		}},
		{"cyclonedx-examples/laravel-7.12.0/bom.1.4.json", sbom.Component{
			Name: "asm89/stack-cors", Version: "1.3.0", Type: "library", Ecosystem: "composer",
			PURL: "pkg:composer/asm89/stack-cors@1.3.0", BOMRef: "asm89/stack-cors-1.3.0.0",
		}},
		{"osv-scanner-testdata/only-unimportant.spdx.json", sbom.Component{
			Name: "libpcre3", Version: "2:8.39-12ubuntu0.1", Ecosystem: "deb",
			PURL:   "pkg:deb/ubuntu/pcre3@2%3A8.39-12ubuntu0.1?arch=amd64&distro=focal&source=pcre3",
			BOMRef: "SPDXRef-Package-libpcre3-9f1e7f2f-24ab-4eb2-8be4-7d3be9403a72",
		}},
		{"spdx-examples/json/SPDXJSONExample-v2.3.spdx.json", sbom.Component{
			Name: "glibc", Version: "2.11.1", Supplier: "Jane Doe (jane.doe@example.com)",
			CPE:    "cpe:2.3:a:pivotal_software:spring_framework:4.1.0:*:*:*:*:*:*:*",
			BOMRef: "SPDXRef-Package",
		}},
		{"spdx-examples/tv/SPDXTagExample-v2.3.spdx", sbom.Component{
			Name: "Jena", Version: "3.12.0", Ecosystem: "maven",
			PURL: "pkg:maven/org.apache.jena/apache-jena@3.12.0", BOMRef: "SPDXRef-fromDoap-0",
		}},
		{"spdx-examples/tv/SPDXTagExample-v2.3.spdx", sbom.Component{
			Name: "centos", Version: "centos7.9.2009", Type: "container", BOMRef: "SPDXRef-CentOS-7",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+tt.want.Name, func(t *testing.T) {
			doc := mustParse(t, corpus(t, tt.path))
			got, ok := find(doc, tt.want.Name)
			if !ok {
				t.Fatalf("no component %q", tt.want.Name)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The JSON and XML renderings of each CycloneDX example list the same
// components in the same order.
func TestCycloneDXJSONAndXMLAgree(t *testing.T) {
	pairs := [][2]string{
		{"cern-lhc-vdm-editor-e564943/bom.json", "cern-lhc-vdm-editor-e564943/bom.xml"},
		{"dropwizard-1.3.15/bom.json", "dropwizard-1.3.15/bom.xml"},
		{"keycloak-10.0.2/bom.json", "keycloak-10.0.2/bom.xml"},
		{"laravel-7.12.0/bom.1.4.json", "laravel-7.12.0/bom.1.4.xml"},
		{"proton-bridge/proton-bridge-v1.8.0.bom.json", "proton-bridge/proton-bridge-v1.8.0.bom.xml"},
		{"protonmail-webclient-v4-0912dff/bom.json", "protonmail-webclient-v4-0912dff/bom.xml"},
	}
	for _, p := range pairs {
		t.Run(p[0], func(t *testing.T) {
			j := mustParse(t, corpus(t, "cyclonedx-examples/"+p[0]))
			x := mustParse(t, corpus(t, "cyclonedx-examples/"+p[1]))
			if !slices.Equal(j.Components, x.Components) {
				t.Errorf("JSON and XML differ: %d and %d components", len(j.Components), len(x.Components))
			}
		})
	}
	j := mustParse(t, testdata(t, "nested.cdx.json"))
	x := mustParse(t, testdata(t, "nested.cdx.xml"))
	if !slices.Equal(j.Components, x.Components) || !slices.Equal(j.Warnings, x.Warnings) || j.Name != x.Name || !j.Created.Equal(x.Created) {
		t.Errorf("nested.cdx.json and .xml differ:\n%+v\n%+v", j, x)
	}
}

func TestDuplicatesMerged(t *testing.T) {
	doc := mustParse(t, corpus(t, "osv-scanner-testdata/with-duplicates.cdx.xml"))
	for _, name := range []string{"libcrypto3", "zlib"} {
		n := 0
		for _, c := range doc.Components {
			if c.Name == name {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s listed %d times, want once", name, n)
		}
		if !hasWarning(doc, name, "more than once") {
			t.Errorf("no warning about the duplicate %s in %q", name, doc.Warnings)
		}
	}
	if len(doc.Warnings) != 2 {
		t.Errorf("warnings %q, want the two duplicates", doc.Warnings)
	}
	// Document order is kept: the first occurrence stays where it was.
	want := []string{"alpine-baselayout", "alpine-baselayout-data", "alpine-keys", "apk-tools", "busybox", "busybox-binsh",
		"ca-certificates-bundle", "libc-utils", "libcrypto3", "libssl3", "musl", "musl-utils", "scanelf", "ssl_client", "zlib", "alpine"}
	var got []string
	for _, c := range doc.Components {
		got = append(got, c.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

// bad-purls.cdx.xml is alpine.cdx.xml with PURLs broken in five ways and
// two names removed.
func TestBadPURLs(t *testing.T) {
	doc := mustParse(t, testdata(t, "bad-purls.cdx.xml"))
	bad := map[string]string{
		"alpine-keys":            "pkg:pypi/",
		"ca-certificates-bundle": "pkg:pypi/",
		"zlib":                   "pkg:pypi/",
		"libc-utils":             "pkg:///",
		"musl":                   "/",
		"ssl_client":             "pkg:apk/alpine/@1.36.1-r27?arch=x86_64&upstream=busybox&distro=alpine-3.17.2",
	}
	for name, purl := range bad {
		c, ok := find(doc, name)
		if !ok {
			t.Errorf("%s dropped; a bad PURL must not lose the component", name)
			continue
		}
		if c.PURL != "" || c.Ecosystem != "" {
			t.Errorf("%s kept the bad PURL: %+v", name, c)
		}
		if !hasWarning(doc, `"`+name+`"`, "invalid PURL", purl) {
			t.Errorf("no warning naming %s and %q in %q", name, purl, doc.Warnings)
		}
	}
	if len(doc.Warnings) != len(bad) {
		t.Errorf("%d warnings, want %d: %q", len(doc.Warnings), len(bad), doc.Warnings)
	}
	// Three components shared "pkg:pypi/": once cleared, they must not be
	// merged as duplicates.
	if len(doc.Components) != 16 {
		t.Errorf("%d components, want 16", len(doc.Components))
	}
	// No <name>: taken from the valid PURL, and from the SWID tag.
	if c, ok := find(doc, "alpine-baselayout"); !ok || c.Ecosystem != "apk" || c.Version != "3.4.0-r0" {
		t.Errorf("alpine-baselayout (name from PURL): %+v %v", c, ok)
	}
	if c, ok := find(doc, "alpine"); !ok || c.Type != "operating-system" || c.Version != "3.17.2" {
		t.Errorf("alpine (name from SWID): %+v %v", c, ok)
	}
}

func TestNestedFlattened(t *testing.T) {
	doc := mustParse(t, testdata(t, "nested.cdx.json"))
	want := []sbom.Component{
		{Name: "u-boot", Version: "2023.04", PURL: "pkg:generic/u-boot@2023.04", CPE: "cpe:2.3:a:denx:u-boot:2023.04:*:*:*:*:*:*:*", Type: "firmware", Ecosystem: "generic", BOMRef: "uboot"},
		{Name: "linux", Version: "6.1.55", Type: "operating-system", Supplier: "Acme Corp", BOMRef: "linux"},
		{Name: "busybox", Version: "1.36.1", PURL: "pkg:generic/busybox@1.36.1", Type: "application", Ecosystem: "generic", BOMRef: "busybox"},
		// First seen nested in busybox; the top-level duplicate adds its CPE.
		{Name: "zlib", Version: "1.3", PURL: "pkg:generic/zlib@1.3", CPE: "cpe:2.3:a:zlib:zlib:1.3:*:*:*:*:*:*:*", Type: "library", Ecosystem: "generic", BOMRef: "zlib-in-busybox"},
		{Name: "com.fasterxml.jackson.core:jackson-databind", Version: "2.15.2", PURL: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2", Type: "library", Ecosystem: "maven", BOMRef: "jackson"},
		{Name: "@babel/core", Version: "7.22.0", PURL: "pkg:npm/%40babel/core@7.22.0", Type: "library", Ecosystem: "npm", BOMRef: "babel"},
	}
	if !slices.Equal(doc.Components, want) {
		t.Errorf("got\n%+v\nwant\n%+v", doc.Components, want)
	}
	if doc.Name != "com.acme/camera-firmware" {
		t.Errorf("name %q", doc.Name)
	}
	if len(doc.Warnings) != 1 || !hasWarning(doc, "zlib", "more than once") {
		t.Errorf("warnings %q", doc.Warnings)
	}
}

// sortedComponents makes two serialisations comparable when they list
// packages in different orders, as the SPDX samples do.
func sortedComponents(cs []sbom.Component) []sbom.Component {
	out := slices.Clone(cs)
	slices.SortFunc(out, func(a, b sbom.Component) int {
		return strings.Compare(a.BOMRef+"\x00"+a.Name, b.BOMRef+"\x00"+b.Name)
	})
	return out
}

func TestSPDXJSONAndTagValueAgree(t *testing.T) {
	pairs := [][2]string{
		{"spdx-examples/json/SPDXJSONExample-v2.2.spdx.json", "spdx-examples/tv/SPDXTagExample-v2.2.spdx"},
		{"spdx-examples/json/SPDXJSONExample-v2.3.spdx.json", "spdx-examples/tv/SPDXTagExample-v2.3.spdx"},
	}
	for _, p := range pairs {
		t.Run(p[0], func(t *testing.T) {
			j := mustParse(t, corpus(t, p[0]))
			tv := mustParse(t, corpus(t, p[1]))
			if j.Format != sbom.SPDXJSON || tv.Format != sbom.SPDXTagValue {
				t.Fatalf("formats %s, %s", j.Format, tv.Format)
			}
			if !slices.Equal(sortedComponents(j.Components), sortedComponents(tv.Components)) {
				t.Errorf("JSON:\n%+v\ntag-value:\n%+v", j.Components, tv.Components)
			}
			if j.Name != tv.Name || !j.Created.Equal(tv.Created) || j.SpecVersion != tv.SpecVersion {
				t.Errorf("documents differ: %q %v %s / %q %v %s", j.Name, j.Created, j.SpecVersion, tv.Name, tv.Created, tv.SpecVersion)
			}
		})
	}
}

// A document that DESCRIBES one package and lists others: that package is
// the subject, not a component.
func TestSPDXSubjectSkipped(t *testing.T) {
	want := []sbom.Component{
		{Name: "openssl", Version: "3.0.13", PURL: "pkg:generic/openssl@3.0.13", CPE: "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
			Type: "library", Supplier: "OpenSSL Software Foundation", Ecosystem: "generic", BOMRef: "SPDXRef-openssl"},
		{Name: "dropbear", Version: "2022.83", BOMRef: "SPDXRef-dropbear"},
	}
	for _, name := range []string{"subject.spdx.json", "subject.spdx"} {
		t.Run(name, func(t *testing.T) {
			doc := mustParse(t, testdata(t, name))
			if !slices.Equal(doc.Components, want) {
				t.Errorf("got\n%+v\nwant\n%+v", doc.Components, want)
			}
			if doc.Name != "acme-router-firmware" || doc.SpecVersion != "2.3" {
				t.Errorf("name %q, spec %q", doc.Name, doc.SpecVersion)
			}
			if len(doc.Warnings) != 1 || !hasWarning(doc, `"dropbear"`, `"pkg:generic"`) {
				t.Errorf("warnings %q", doc.Warnings)
			}
		})
	}
	// Only one package, though described: kept.
	doc := mustParse(t, testdata(t, "hello.spdx"))
	if len(doc.Components) != 1 || doc.Components[0].Name != "hello" || doc.Components[0].BOMRef != "SPDXRef-Package-hello" {
		t.Errorf("hello.spdx: %+v", doc.Components)
	}
}

func TestZeroComponents(t *testing.T) {
	for _, in := range []string{
		`{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}`,
		`<bom xmlns="http://cyclonedx.org/schema/bom/1.3" version="1"><components/></bom>`,
		`{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "empty", "packages": []}`,
		"SPDXVersion: SPDX-2.2\nDocumentName: empty\n",
	} {
		doc, err := sbom.Parse([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if len(doc.Components) != 0 || doc.Components == nil || !slices.Equal(doc.Warnings, []string{"the SBOM lists no components"}) {
			t.Errorf("%s: components %v, warnings %q", in, doc.Components, doc.Warnings)
		}
	}
}

func TestMalformed(t *testing.T) {
	alpine := testdata(t, "alpine-zlib-16.cdx.json")
	spdxJSON := testdata(t, "only-unimportant.spdx.json")
	tests := []struct {
		name  string
		in    []byte
		is    error    // errors.Is target, if any
		parts []string // each must appear in the message
	}{
		{"empty", nil, sbom.ErrUnknownFormat, []string{"empty", "CycloneDX JSON or XML", "SPDX YAML, RDF/XML"}},
		{"blank", []byte(" \n\t\n"), sbom.ErrUnknownFormat, []string{"empty"}},
		{"binary junk", []byte("\x00\x01\x02\xfe\xffGIF89a\x00\x00"), sbom.ErrUnknownFormat, []string{"not JSON, XML or SPDX tag-value", "accepted formats"}},
		{"33 MiB", bytes.Repeat([]byte(" "), 33<<20), sbom.ErrTooLarge, []string{"limit", "32 MiB"}},
		{"truncated CycloneDX JSON", alpine[:len(alpine)/2], nil, []string{"CycloneDX JSON", "line 24", "unexpected end of JSON input"}},
		{"truncated SPDX JSON", spdxJSON[:len(spdxJSON)-40], nil, []string{"SPDX JSON", "line 28", "unexpected end"}},
		{"components not an array", []byte("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\",\n  \"components\": {\"name\": \"x\"}}"), nil,
			[]string{"CycloneDX JSON", "line 2, column", `"components" is a JSON object but must be an array`}},
		{"component name a number", []byte("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\",\n\"components\": [{\"name\": 5}]}"), nil,
			[]string{"line 2", `"components.name" is a JSON number but must be a string`}},
		{"SPDX packages a string", []byte("{\"spdxVersion\": \"SPDX-2.3\",\n\"packages\": \"none\"}"), nil,
			[]string{"SPDX JSON", "line 2", `"packages"`, "array"}},
		{"JSON not an SBOM", []byte(`{"hello": "world"}`), sbom.ErrUnknownFormat, []string{`"bomFormat": "CycloneDX" or "spdxVersion"`}},
		{"other bomFormat", []byte(`{"bomFormat": "SWID"}`), sbom.ErrUnknownFormat, []string{`"SWID"`}},
		{"SPDX 3", []byte(`{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}`), sbom.ErrUnknownFormat, []string{"SPDX 3"}},
		{"CycloneDX spec too new", []byte(`{"bomFormat": "CycloneDX", "specVersion": "2.0"}`), nil, []string{"CycloneDX JSON", `unsupported specVersion "2.0"`, "1.7"}},
		{"CycloneDX spec not a string", []byte(`{"bomFormat": "CycloneDX", "specVersion": 1.4}`), nil, []string{"CycloneDX JSON", `"specVersion" must be a string`}},
		{"CycloneDX spec missing", []byte(`{"bomFormat": "CycloneDX"}`), nil, []string{"CycloneDX JSON", `"specVersion" is missing`}},
		{"SPDX version unknown", []byte(`{"spdxVersion": "SPDX-1.2"}`), nil, []string{"SPDX JSON", `"SPDX-1.2"`, "SPDX-2.3"}},
		{"XML not CycloneDX", []byte(`<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"/>`), sbom.ErrUnknownFormat,
			[]string{"<project>", "maven.apache.org", "not a CycloneDX <bom>"}},
		{"XML bom without namespace", []byte(`<bom><components/></bom>`), sbom.ErrUnknownFormat, []string{"<bom> (no namespace)"}},
		{"CycloneDX XML version unknown", []byte(`<bom xmlns="http://cyclonedx.org/schema/bom/9.9"/>`), nil, []string{"CycloneDX XML", `"9.9"`}},
		{"truncated CycloneDX XML", []byte("<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\">\n<components>\n<component type=\"library\"><name>a</name>"), nil,
			[]string{"CycloneDX XML", "line 4", "unexpected EOF"}},
		{"CycloneDX XML bad attribute", []byte("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"\n version=\"one\"/>"), nil, []string{"CycloneDX XML", "line 2", `"one"`}},
		{"CycloneDX XML in Latin-1", []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>`), nil,
			[]string{"CycloneDX XML", `"ISO-8859-1"`, "only UTF-8"}},
		{"SPDX RDF", []byte(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:spdx="http://spdx.org/rdf/terms#"/>`), sbom.ErrUnknownFormat, []string{"SPDX RDF/XML"}},
		{"SPDX YAML", []byte("spdxVersion: SPDX-2.3\nname: x\n"), sbom.ErrUnknownFormat, []string{"YAML", "not accepted"}},
		{"spreadsheet", []byte("PK\x03\x04\x14\x00\x06\x00"), sbom.ErrUnknownFormat, []string{"spreadsheet"}},
		{"tag-value line without colon", []byte("SPDXVersion: SPDX-2.3\nPackageName: a\nthis is not a tag\n"), nil, []string{"SPDX tag-value", "line 3", "Tag: value"}},
		{"tag-value text never closed", []byte("SPDXVersion: SPDX-2.3\n\nPackageName: a\nPackageComment: <text>one\ntwo\n"), nil, []string{"SPDX tag-value", "line 4", "</text>"}},
		{"tag-value version unknown", []byte("SPDXVersion: SPDX-3.0\n"), nil, []string{"SPDX tag-value", `"SPDX-3.0"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := sbom.Parse(tt.in)
			if err == nil {
				t.Fatalf("accepted: %+v", doc)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			for _, p := range tt.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
			var e *sbom.Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not *sbom.Error", err)
			}
		})
	}
}

// Hostile input fails fast instead of expanding or recursing.
func TestHostile(t *testing.T) {
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library"><name>&lol9;</name></component></components></bom>`
	external := `<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library"><name>&xxe;</name></component></components></bom>`
	undeclared := `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library"><name>&lol9;</name></component></components></bom>`
	deepJSON := `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [` +
		strings.Repeat(`{"type": "library", "name": "x", "components": [`, 5000) + strings.Repeat(`]}`, 5000) + `]}`
	deepXML := `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>` +
		strings.Repeat(`<component type="library"><name>x</name><components>`, 5000) +
		strings.Repeat(`</components></component>`, 5000) + `</components></bom>`
	deepArrays := strings.Repeat("[", 1<<20)
	tests := []struct{ name, in, want string }{
		{"billion laughs", laughs, "<!DOCTYPE"},
		{"external entity", external, "<!DOCTYPE"},
		{"undeclared entity", undeclared, "invalid character entity &lol9;"},
		{"deep JSON components", deepJSON, "nested more than 100 levels"},
		{"deep XML components", deepXML, "nested more than 100 levels"},
		{"a million brackets", `{"spdxVersion": "SPDX-2.3", "x": ` + deepArrays, "nested more than 100 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := sbom.Parse([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	// Nesting within the bound is accepted and flattened.
	ok := `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [` +
		strings.Repeat(`{"type": "library", "name": "x", "components": [`, 40) + strings.Repeat(`]}`, 40) + `]}`
	doc, err := sbom.Parse([]byte(ok))
	if err != nil || len(doc.Components) != 1 {
		t.Errorf("40 levels: %v, %d components (all named x, no version: merged)", err, len(doc.Components))
	}
}

// A hostile file with a warning per component must not make an unbounded
// warning list.
func TestWarningsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [`)
	for i := range 5000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"type": "library", "name": "x", "version": "1", "purl": "pkg:bad"}`)
	}
	b.WriteString("]}")
	doc := mustParse(t, []byte(b.String()))
	if len(doc.Components) != 1 {
		t.Errorf("%d components", len(doc.Components))
	}
	// 5000 bad PURLs and 4999 duplicates: 100 shown, then a count.
	if n := len(doc.Warnings); n != 101 || !strings.Contains(doc.Warnings[n-1], "9899 more warnings not shown") {
		t.Errorf("%d warnings, last %q", n, doc.Warnings[n-1])
	}
}

func TestParseFormat(t *testing.T) {
	cdxJSON := testdata(t, "alpine-zlib-16.cdx.json")
	spdxJSON := testdata(t, "only-unimportant.spdx.json")
	tv := testdata(t, "hello.spdx")
	xml := testdata(t, "nested.cdx.xml")
	tests := []struct {
		in   []byte
		f    sbom.Format
		want string
	}{
		{spdxJSON, sbom.CycloneDXJSON, `"bomFormat": "CycloneDX" is missing`},
		{cdxJSON, sbom.SPDXJSON, `"spdxVersion" is missing`},
		{cdxJSON, sbom.CycloneDXXML, "no root element"},
		{xml, sbom.SPDXTagValue, "Tag: value"},
		{tv, sbom.SPDXJSON, "not a JSON object"},
		{cdxJSON, sbom.SPDXTagValue, "Tag: value"},
		{cdxJSON, "spdx-yaml", `unknown format "spdx-yaml"`},
	}
	for _, tt := range tests {
		_, err := sbom.ParseFormat(tt.in, tt.f)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseFormat(%.20q, %s): %v, want %q", tt.in, tt.f, err, tt.want)
		}
	}
	// A UTF-8 byte order mark, as Windows tools write, is accepted.
	bom := append([]byte("\xEF\xBB\xBF"), cdxJSON...)
	if doc, err := sbom.ParseFormat(bom, sbom.CycloneDXJSON); err != nil || len(doc.Components) != 1 {
		t.Errorf("with a byte order mark: %v", err)
	}
	if doc, err := sbom.Parse(bom); err != nil || doc.Format != sbom.CycloneDXJSON {
		t.Errorf("Parse with a byte order mark: %v", err)
	}
	if _, err := sbom.ParseFormat(make([]byte, sbom.MaxSize+1), sbom.SPDXJSON); !errors.Is(err, sbom.ErrTooLarge) {
		t.Errorf("over MaxSize: %v", err)
	}
}

// The tag-value reader: comments, blank lines and <text> across lines, as
// tools-golang reads them.
func TestTagValueDetails(t *testing.T) {
	in := "# generated\n\n  # indented comment\nSPDXVersion: SPDX-2.3\r\nDocumentName: crlf\r\n" +
		"PackageName: a\nSPDXID: SPDXRef-a\nPackageVersion: <text>1.0</text>\n" +
		"PackageComment: <text>SPDXID: SPDXRef-not-an-id\nPackageName: not-a-package\n</text>\n" +
		"ExternalRef: PACKAGE-MANAGER purl\n" +
		"FileName: f\nSPDXID: SPDXRef-file\nPackageVersion: 9\n"
	doc := mustParse(t, []byte(in))
	want := []sbom.Component{{Name: "a", Version: "1.0", BOMRef: "SPDXRef-a"}}
	if !slices.Equal(doc.Components, want) || doc.Name != "crlf" {
		t.Errorf("got %+v %q", doc.Components, doc.Name)
	}
	if !hasWarning(doc, "line 12", "ExternalRef") || !hasWarning(doc, "line 15", "PackageVersion outside a package") {
		t.Errorf("warnings %q", doc.Warnings)
	}
}

func TestCreatedInvalid(t *testing.T) {
	doc := mustParse(t, []byte(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"timestamp": "yesterday"},
		"components": [{"type": "library", "name": "a"}]}`))
	if !doc.Created.IsZero() || !hasWarning(doc, `"yesterday"`, "RFC 3339") {
		t.Errorf("created %v, warnings %q", doc.Created, doc.Warnings)
	}
}

// The full result for one small real file, so any change in what is
// extracted shows up in review. go test ./internal/sbom -update rewrites it.
func TestGolden(t *testing.T) {
	for _, name := range []string{"bad-purls.cdx.xml", "nested.cdx.json", "subject.spdx"} {
		t.Run(name, func(t *testing.T) {
			doc := mustParse(t, testdata(t, name))
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep PURLs' & readable in review
			enc.SetIndent("", "  ")
			if err := enc.Encode(doc); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", "golden", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/sbom -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run go test ./internal/sbom -update and review the diff", name, path)
			}
		})
	}
}

// cdxJSON builds a CycloneDX JSON SBOM listing n components, each from one().
func cdxJSON(n int, one func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one(i))
	}
	b.WriteString("]}")
	return b.Bytes()
}

func named(i int) string {
	return fmt.Sprintf(`{"type": "library", "name": "lib%d", "version": "1.%d", "purl": "pkg:generic/lib%d@1.%d"}`, i, i, i, i)
}

// The component cap counts every entry listed, in every format, nested and
// repeated entries included, and the refusal says what the limit is.
func TestComponentCap(t *testing.T) {
	three := sbom.Limits{MaxComponents: 3}
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"CycloneDX JSON", string(cdxJSON(4, named)), 1},
		{"CycloneDX JSON nested", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
			{"name": "a", "components": [{"name": "b", "components": [{"name": "c"}]}]},
			{"name": "d"}]}`, 3},
		{"CycloneDX JSON repeated", string(cdxJSON(4, func(int) string { return `{"name": "same"}` })), 1},
		{"CycloneDX JSON empty entries", string(cdxJSON(4, func(int) string { return `{}` })), 1},
		{"CycloneDX JSON subject's parts", `{"bomFormat": "CycloneDX", "specVersion": "1.5",
			"metadata": {"component": {"name": "fw", "components": [{"name": "a"}, {"name": "b"}]}},
			"components": [{"name": "c"}, {"name": "d"}]}`, 3},
		{"CycloneDX XML", `<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>
			<component><name>a</name><components><component><name>b</name></component></components></component>
			<component><name>c</name></component>
			<component><name>d</name></component></components></bom>`, 4},
		{"SPDX JSON", `{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a"}, {"name": "b"}, {"name": "c"},
			{"name": "d"}]}`, 2},
		{"SPDX tag-value", "SPDXVersion: SPDX-2.3\nPackageName: a\nPackageName: b\nPackageName: c\nPackageName: d\n", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sbom.ParseWith([]byte(tt.in), three)
			if !errors.Is(err, sbom.ErrTooManyComponents) {
				t.Fatalf("four entries with a cap of three: %v", err)
			}
			var e *sbom.Error
			if !errors.As(err, &e) || e.Line != tt.line || !strings.Contains(err.Error(), "more than 3 components") ||
				!strings.Contains(err.Error(), "nothing was stored") {
				t.Errorf("message %q (line %d), want line %d and the limit", err, e.Line, tt.line)
			}
			// The default cap takes it.
			if _, err := sbom.Parse([]byte(tt.in)); err != nil {
				t.Errorf("under the default cap: %v", err)
			}
		})
	}
	// Exactly at the cap is accepted.
	doc, err := sbom.ParseWith(cdxJSON(3, named), three)
	if err != nil || len(doc.Components) != 3 {
		t.Fatalf("three entries, cap three: %v", err)
	}
	// The default: 50,000 accepted, 50,001 refused.
	if sbom.DefaultMaxComponents != 50_000 {
		t.Errorf("default cap %d", sbom.DefaultMaxComponents)
	}
	doc, err = sbom.Parse(cdxJSON(50_000, named))
	if err != nil || len(doc.Components) != 50_000 {
		t.Fatalf("50,000 components: %v", err)
	}
	if _, err := sbom.Parse(cdxJSON(50_001, named)); !errors.Is(err, sbom.ErrTooManyComponents) {
		t.Fatalf("50,001 components: %v", err)
	}
}

// heapPeak runs fn and reports the most live heap seen above what was
// live before, sampling every millisecond.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > base && v-base > peak.Load() {
				peak.Store(v - base)
			}
		}
	}()
	fn()
	close(done)
	return peak.Load()
}

// Issue 10, item 1: a million empty components (3 MB) took a gigabyte.
// Hostile files now stop at the cap, quickly and with little memory, and
// the largest accepted SBOM costs tens of megabytes, not gigabytes.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 30 MiB files")
	}
	const mib = 1 << 20
	empty := cdxJSON(10_000_000, func(int) string { return "{}" }) // 30 MiB, the worst case
	var xmlEmpty bytes.Buffer
	xmlEmpty.WriteString(`<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components>`)
	for xmlEmpty.Len() < 30*mib {
		xmlEmpty.WriteString("<component/>")
	}
	xmlEmpty.WriteString("</components></bom>")
	var tv bytes.Buffer
	tv.WriteString("SPDXVersion: SPDX-2.3\n")
	for tv.Len() < 30*mib {
		tv.WriteString("PackageName: p\n")
	}
	var rels bytes.Buffer
	rels.WriteString(`{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a"}], "relationships": [`)
	for i := 0; rels.Len() < 30*mib; i++ {
		if i > 0 {
			rels.WriteByte(',')
		}
		fmt.Fprintf(&rels, `{"spdxElementId": "SPDXRef-%d", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-x"}`, i)
	}
	rels.WriteString("]}")
	start := time.Now()
	if _, err := sbom.Parse(rels.Bytes()); err != nil {
		t.Errorf("30 MiB of relationships: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("30 MiB of relationships took %v", d)
	}
	for _, tt := range []struct {
		name string
		in   []byte
	}{{"CycloneDX JSON", empty}, {"CycloneDX XML", xmlEmpty.Bytes()}, {"SPDX tag-value", tv.Bytes()}} {
		var err error
		start := time.Now()
		peak := heapPeak(func() { _, err = sbom.Parse(tt.in) })
		if !errors.Is(err, sbom.ErrTooManyComponents) {
			t.Errorf("%s: %v", tt.name, err)
		}
		t.Logf("%s, %d MiB of empty components: refused in %v, peak heap %d MiB above the input", tt.name, len(tt.in)/mib, time.Since(start).Round(time.Millisecond), peak/mib)
		if peak > 64*mib {
			t.Errorf("%s: %d MiB of heap to refuse it", tt.name, peak/mib)
		}
	}
	// The largest accepted: 50,000 components with long fields.
	big := cdxJSON(50_000, func(i int) string {
		return fmt.Sprintf(`{"type": "library", "bom-ref": "ref-%d-%s", "name": "component-%d-%s", "version": "%d.0",
			"purl": "pkg:generic/component-%d@%d.0", "hashes": [{"alg": "SHA-256", "content": "%064d"}],
			"licenses": [{"license": {"id": "MIT"}}], "description": "%s"}`, i, strings.Repeat("r", 40), i, strings.Repeat("n", 40), i, i, i, i, strings.Repeat("d", 220))
	})
	var doc *sbom.Document
	var err error
	peak := heapPeak(func() { doc, err = sbom.Parse(big) })
	if err != nil || len(doc.Components) != 50_000 {
		t.Fatalf("the largest accepted SBOM: %v", err)
	}
	t.Logf("50,000 components (%d MiB): peak heap %d MiB above the input", len(big)/mib, peak/mib)
	if peak > 128*mib {
		t.Errorf("%d MiB of heap to parse the largest accepted SBOM", peak/mib)
	}
}
