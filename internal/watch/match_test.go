package watch

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/advisory"
)

var update = flag.Bool("update", false, "rewrite golden files")

func rng(typ advisory.RangeType, evs ...advisory.Event) advisory.Range {
	return advisory.Range{Type: typ, Events: evs}
}

func intro(v string) advisory.Event { return advisory.Event{Introduced: v} }
func fixed(v string) advisory.Event { return advisory.Event{Fixed: v} }
func last(v string) advisory.Event  { return advisory.Event{LastAffected: v} }
func limit(v string) advisory.Event { return advisory.Event{Limit: v} }

func TestAffects(t *testing.T) {
	two := advisory.Affected{Ranges: []advisory.Range{
		rng(advisory.RangeSemver, intro("0"), fixed("1.2.0"), intro("1.5.0"), fixed("1.7.3")),
		rng(advisory.RangeSemver, intro("2.0.0"), last("2.1.0")),
	}}
	for _, c := range []struct {
		name   string
		a      advisory.Affected
		eco, v string
		want   Status
		fixed  []string
	}{
		{"below first fix", two, "Go", "v1.1.9", StatusAffected, []string{"1.2.0"}},
		{"at first fix", two, "Go", "v1.2.0", StatusNotAffected, nil},
		{"between intervals", two, "Go", "1.4.0", StatusNotAffected, nil},
		{"second interval", two, "Go", "v1.6.0", StatusAffected, []string{"1.7.3"}},
		{"last_affected inclusive", two, "Go", "v2.1.0", StatusAffected, nil},
		{"after last_affected", two, "Go", "v2.1.1", StatusNotAffected, nil},
		{"pseudo-version", two, "Go", "v0.0.0-20191016112426-3962a5ea8da1", StatusAffected, []string{"1.2.0"}},
		{"ecosystem range, PyPI order", advisory.Affected{Ranges: []advisory.Range{
			rng(advisory.RangeEcosystem, intro("1.0"), fixed("2.0"))}}, "PyPI", "2.0rc1", StatusAffected, []string{"2.0"}},
		{"Debian order", advisory.Affected{Ranges: []advisory.Range{
			rng(advisory.RangeEcosystem, intro("0"), fixed("1.1.0l-1~deb9u6"))}}, "Debian:9", "1.1.0l-1~deb9u5", StatusAffected, []string{"1.1.0l-1~deb9u6"}},
		{"limit", advisory.Affected{Ranges: []advisory.Range{
			rng(advisory.RangeEcosystem, intro("1.0"), limit("1.5"))}}, "npm", "1.6.0", StatusNotAffected, nil},
		{"under limit", advisory.Affected{Ranges: []advisory.Range{
			rng(advisory.RangeEcosystem, intro("1.0.0"), limit("1.5.0"))}}, "npm", "1.4.0", StatusAffected, nil},
		{"versions list", advisory.Affected{Versions: []string{"1.0.1", "1.0.3"}}, "Go", "v1.0.3", StatusAffected, nil},
		{"not in versions list", advisory.Affected{Versions: []string{"1.0.1"}}, "Go", "v1.0.2", StatusNotAffected, nil},
		{"GIT only", advisory.Affected{Ranges: []advisory.Range{
			rng(advisory.RangeGit, intro("abc123"), fixed("def456"))}}, "Go", "v1.0.0", StatusNotEvaluated, nil},
		{"GIT beside versions", advisory.Affected{Versions: []string{"1.0.0"}, Ranges: []advisory.Range{
			rng(advisory.RangeGit, intro("abc123"))}}, "Go", "v1.0.0", StatusAffected, nil},
		{"unknown ecosystem", two, "Nonesuch", "1.0", StatusNotEvaluated, nil},
		{"no version", two, "Go", "", StatusNotEvaluated, nil},
	} {
		got := Affects(c.a, c.eco, c.v)
		if got.Status != c.want || !slices.Equal(got.Fixed, c.fixed) {
			t.Errorf("%s: Affects(%s %q) = %v %v (%s), want %v %v", c.name, c.eco, c.v, got.Status, got.Fixed, got.Reason, c.want, c.fixed)
		}
		if got.Status == StatusNotEvaluated && got.Reason == "" {
			t.Errorf("%s: not evaluated without a reason", c.name)
		}
	}
}

func TestIdentity(t *testing.T) {
	for _, c := range []struct{ purl, key, eco string }{
		{"pkg:golang/github.com/BurntSushi/toml@v0.3.1", "golang/github.com/BurntSushi/toml", "Go"},
		{"pkg:pypi/Zope.Interface@5.0", "pypi/zope-interface", "PyPI"},
		{"pkg:pypi/zope_interface", "pypi/zope-interface", "PyPI"},
		{"pkg:npm/%40Babel/Core@7.0.0", "npm/@babel/core", "npm"},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "maven/org.apache.logging.log4j/log4j-core", "Maven"},
		{"pkg:cargo/Serde@1.0", "cargo/serde", "crates.io"},
		{"pkg:gem/Rails@7", "gem/Rails", "RubyGems"},
		{"pkg:composer/Laravel/Framework@7.12.0", "composer/laravel/framework", "Packagist"},
		{"pkg:deb/debian/openssl@1.1.1n-0+deb11u4?arch=amd64&distro=debian-12", "deb/debian/openssl", "Debian:12"},
		{"pkg:deb/ubuntu/openssl@3.0.2?distro=ubuntu-22.04", "deb/ubuntu/openssl", "Ubuntu:22.04"},
		{"pkg:apk/alpine/zlib@1.2.10-r0?distro=alpine-3.19.1", "apk/alpine/zlib", "Alpine:v3.19"},
		{"pkg:rpm/redhat/openssl@1.1.1k?distro=redhat-8.6", "rpm/redhat/openssl", "Red Hat:8.6"},
		{"pkg:rpm/rocky/curl@7.61?distro=rocky-9", "rpm/rocky/curl", "Rocky Linux:9"},
		{"pkg:deb/debian/bash@4.4-5?distro=stretch", "deb/debian/bash", "Debian"},
	} {
		id, err := PURLIdentity(c.purl)
		if err != nil || id.Key != c.key || id.Ecosystem != c.eco {
			t.Errorf("PURLIdentity(%q) = %+v, %v; want %q %q", c.purl, id, err, c.key, c.eco)
		}
	}
	for _, c := range []struct {
		pkg advisory.Package
		key string
	}{
		{advisory.Package{Ecosystem: "Go", Name: "github.com/BurntSushi/toml"}, "golang/github.com/BurntSushi/toml"},
		{advisory.Package{Ecosystem: "PyPI", Name: "Zope.Interface"}, "pypi/zope-interface"},
		{advisory.Package{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core"}, "maven/org.apache.logging.log4j/log4j-core"},
		{advisory.Package{Ecosystem: "npm", Name: "@babel/core"}, "npm/@babel/core"},
		{advisory.Package{Ecosystem: "Debian:12", Name: "openssl"}, "deb/debian/openssl"},
		{advisory.Package{Ecosystem: "Alpine:v3.19", Name: "zlib"}, "apk/alpine/zlib"},
	} {
		id, ok := PackageIdentity(c.pkg)
		if !ok || id.Key != c.key || id.Ecosystem != c.pkg.Ecosystem {
			t.Errorf("PackageIdentity(%+v) = %+v, %v; want %q", c.pkg, id, ok, c.key)
		}
	}
	// Module paths are case-sensitive: a differently cased path is another module.
	a, _ := PURLIdentity("pkg:golang/github.com/burntsushi/toml")
	b, _ := PURLIdentity("pkg:golang/github.com/BurntSushi/toml")
	if a.Key == b.Key {
		t.Error("Go module paths compared case-insensitively")
	}
}

func TestCPE(t *testing.T) {
	fs, err := ParseCPE(`cpe:2.3:o:acme:router_fw:4.1.2:*:*:*:*:*:*:*`)
	if err != nil {
		t.Fatal(err)
	}
	uri, err := ParseCPE("cpe:/o:ACME:router_fw:4.1.2")
	if err != nil {
		t.Fatal(err)
	}
	if fs != uri {
		t.Errorf("2.3 %v and 2.2 %v differ", fs, uri)
	}
	any, _ := ParseCPE("cpe:2.3:o:acme:router_fw:*:*:*:*:*:*:*:*")
	na, _ := ParseCPE("cpe:2.3:o:acme:router_fw:-:*:*:*:*:*:*:*")
	other, _ := ParseCPE("cpe:2.3:o:acme:router_fw:4.1.3:*:*:*:*:*:*:*")
	quoted, err := ParseCPE(`cpe:2.3:a:acme:web\:admin:1.0:*:*:*:*:*:*:*`)
	if err != nil || quoted.Product != `web\:admin` {
		t.Errorf("quoted colon: %+v %v", quoted, err)
	}
	for _, c := range []struct {
		adv, prod CPE
		want      bool
	}{
		{any, fs, true}, {fs, fs, true}, {fs, other, false}, {na, fs, false}, {na, na, true}, {fs, any, false},
	} {
		if got := MatchCPE(c.adv, c.prod); got != c.want {
			t.Errorf("MatchCPE(%v, %v) = %v", c.adv, c.prod, got)
		}
	}
	for _, bad := range []string{"cpe:2.3:o:acme", "acme:router", "cpe:2.3:x:a:b:c:*:*:*:*:*:*:*"} {
		if _, err := ParseCPE(bad); err == nil {
			t.Errorf("ParseCPE(%q) accepted", bad)
		}
	}
}

func TestNameSimilarity(t *testing.T) {
	if s := NameSimilarity("ACME Corporation", "XYZ-1200 Series Firmware", "Acme, Inc.", "xyz1200"); s != 1 {
		t.Errorf("same product after normalisation scored %v", s)
	}
	if s := NameSimilarity("Siemens AG", "SCALANCE X-200", "Siemens", "SCALANCE X-300"); s <= 0.2 || s >= fuzzyThreshold {
		t.Errorf("different model of the same line scored %v", s)
	}
	if s := NameSimilarity("Acme", "Gateway 200", "Other GmbH", "Gateway 200"); s != 0 {
		t.Errorf("different vendors scored %v", s)
	}
}

func testIndex() *Index {
	x := NewIndex()
	x.Add(1, []Component{
		{PURL: "pkg:golang/github.com/BurntSushi/toml@v0.3.1"},
		{PURL: "pkg:golang/golang.org/x/net@v0.1.0"},
	}, ProductIDs{Vendor: "Acme Inc", Product: "XYZ-1200 Series Firmware", Version: "4.1.2",
		CPEs: []string{"cpe:2.3:o:acme:xyz-1200_firmware:4.1.2:*:*:*:*:*:*:*"}, ModelNumbers: []string{"XYZ-1200"},
		GTINs: []string{"4012345678901"}, Hashes: []advisory.Hash{{Algorithm: "sha256", Value: "ABCD"}}})
	x.Add(2, []Component{{PURL: "pkg:golang/golang.org/x/net@v0.30.0"}},
		ProductIDs{Vendor: "Acme", Product: "Smart Hub", Version: "2.0"})
	x.Add(3, []Component{{PURL: "pkg:golang/github.com/burntsushi/toml@v0.3.1"}}, ProductIDs{})
	return x
}

func TestIndexMatch(t *testing.T) {
	x := testIndex()
	goAdv := advisory.Advisory{ID: "GO-TEST-1", Aliases: []string{"CVE-0000-1"}, Affected: []advisory.Affected{
		{Package: advisory.Package{Ecosystem: "Go", Name: "golang.org/x/net"},
			Ranges: []advisory.Range{rng(advisory.RangeSemver, intro("0"), fixed("0.23.0"))}},
		{Package: advisory.Package{Ecosystem: "Go", Name: "github.com/BurntSushi/toml"},
			Ranges: []advisory.Range{rng(advisory.RangeSemver, intro("0"), fixed("0.4.0"))}},
	}}
	got := x.Match(goAdv)
	type hit struct {
		vid       int64
		component string
	}
	var hits []hit
	for _, f := range got {
		if f.Basis != BasisPURL || !f.Automatic() || f.AdvisoryID != "GO-TEST-1" {
			t.Errorf("unexpected finding %+v", f)
		}
		hits = append(hits, hit{f.VersionID, f.Component})
	}
	want := []hit{{1, "pkg:golang/golang.org/x/net@v0.1.0"}, {1, "pkg:golang/github.com/BurntSushi/toml@v0.3.1"}}
	if !slices.Equal(hits, want) {
		t.Errorf("hits %v, want %v (v0.30.0 fixed; lower-case toml is another module)", hits, want)
	}
	if len(got) > 0 && !slices.Equal(got[0].Fixed, []string{"0.23.0"}) {
		t.Errorf("fixed %v", got[0].Fixed)
	}

	csaf := func(a advisory.Affected) []Finding {
		return x.Match(advisory.Advisory{ID: "ICSA-TEST", Affected: []advisory.Affected{a}})
	}
	for _, c := range []struct {
		name  string
		a     advisory.Affected
		basis Basis
		vid   int64
		st    Status
	}{
		{"cpe any version, range", advisory.Affected{CPE: "cpe:/o:acme:xyz-1200_firmware", VersionRange: "<= 4.1.2"}, BasisCPE, 1, StatusAffected},
		{"model number", advisory.Affected{ModelNumbers: []string{"xyz 1200"}, VersionRange: "vers:all/<V4.2"}, BasisModelNumber, 1, StatusAffected},
		{"model in name", advisory.Affected{Vendor: "ACME", Product: "XYZ-1200 Series Firmware", VersionRange: "prior to 5.0"}, BasisModelNumber, 1, StatusAffected},
		{"sku", advisory.Affected{SKUs: []string{"04012345678901"}, VersionRange: "all versions"}, BasisSKU, 1, StatusAffected},
		{"hash", advisory.Affected{Hashes: []advisory.Hash{{Algorithm: "SHA256", Value: "abcd"}}}, BasisHash, 1, StatusAffected},
		{"name fuzzy", advisory.Affected{Vendor: "ACME Corp.", Product: "Smart-Hub", VersionRange: "< 3.0"}, BasisNameFuzzy, 2, StatusAffected},
		{"unparseable range", advisory.Affected{ModelNumbers: []string{"XYZ-1200"}, VersionRange: "NMC2 <= 6.9.6"}, BasisModelNumber, 1, StatusNotEvaluated},
	} {
		fs := csaf(c.a)
		if len(fs) != 1 || fs[0].Basis != c.basis || fs[0].VersionID != c.vid || fs[0].Status != c.st {
			t.Errorf("%s: %+v", c.name, fs)
			continue
		}
		// A model number read out of a product name waits for a person.
		if want := c.basis.Automatic() && c.st == StatusAffected && c.name != "model in name"; fs[0].Automatic() != want {
			t.Errorf("%s: Automatic() = %v", c.name, fs[0].Automatic())
		}
	}
	for _, a := range []advisory.Affected{
		{ModelNumbers: []string{"XYZ-1200"}, VersionRange: ">= 4.2"},   // version outside
		{Vendor: "Other GmbH", Product: "XYZ-1200", VersionRange: "*"}, // another vendor's model
		{CPE: "cpe:2.3:o:acme:xyz-1200_firmware:4.1.3:*:*:*:*:*:*:*"},  // other version in the CPE
		{Vendor: "Acme", Product: "Smart Hub", VersionRange: "< 2.0"},  // fuzzy, version outside
	} {
		if fs := csaf(a); len(fs) != 0 {
			t.Errorf("%+v matched: %+v", a, fs)
		}
	}

	x.Remove(1)
	if fs := x.Match(goAdv); len(fs) != 0 {
		t.Errorf("after Remove(1): %+v", fs)
	}
	if fs := csaf(advisory.Affected{ModelNumbers: []string{"XYZ-1200"}}); len(fs) != 0 {
		t.Errorf("model postings survived Remove: %+v", fs)
	}
	if x.Len() != 2 {
		t.Errorf("Len() = %d", x.Len())
	}
	withdrawn := goAdv
	withdrawn.Withdrawn = withdrawn.Published.AddDate(2000, 0, 0)
	x.Add(1, []Component{{PURL: "pkg:golang/golang.org/x/net@v0.1.0"}}, ProductIDs{})
	if fs := x.Match(withdrawn); len(fs) != 0 {
		t.Errorf("withdrawn advisory matched: %+v", fs)
	}
	if fs := x.Match(goAdv); len(fs) != 1 {
		t.Errorf("re-added version: %+v", fs)
	}
}

func TestDistroRelease(t *testing.T) {
	adv := advisory.Affected{Package: advisory.Package{Ecosystem: "Debian:12", Name: "openssl"},
		Ranges: []advisory.Range{rng(advisory.RangeEcosystem, intro("0"), fixed("3.0.11-1~deb12u1"))}}
	advs := []advisory.Advisory{{ID: "DSA-TEST", Affected: []advisory.Affected{adv}}}
	for _, c := range []struct {
		purl string
		want int
		st   Status
	}{
		{"pkg:deb/debian/openssl@3.0.9-1?distro=debian-12", 1, StatusAffected},
		{"pkg:deb/debian/openssl@3.0.9-1?distro=debian-11", 0, 0},
		{"pkg:deb/debian/openssl@3.0.9-1", 1, StatusNotEvaluated},
		{"pkg:deb/ubuntu/openssl@3.0.9-1?distro=ubuntu-22.04", 0, 0},
	} {
		fs := MatchComponents([]Component{{PURL: c.purl}}, advs)
		if len(fs) != c.want || (c.want == 1 && fs[0].Status != c.st) {
			t.Errorf("%s: %+v", c.purl, fs)
		}
	}
}

func TestOSVScannerJSONGolden(t *testing.T) {
	advs := []advisory.Advisory{
		{ID: "GO-TEST-2", Affected: []advisory.Affected{{Package: advisory.Package{Ecosystem: "Go", Name: "golang.org/x/net"},
			Ranges: []advisory.Range{rng(advisory.RangeSemver, intro("0"), fixed("0.7.0"))}}}},
		{ID: "GO-TEST-1", Aliases: []string{"CVE-0000-1", "GHSA-xxxx-yyyy-zzzz"}, Affected: []advisory.Affected{
			{Package: advisory.Package{Ecosystem: "Go", Name: "golang.org/x/net"}, Ranges: []advisory.Range{rng(advisory.RangeSemver, intro("0"), fixed("0.23.0"))}},
			{Package: advisory.Package{Ecosystem: "Go", Name: "github.com/BurntSushi/toml"}, Ranges: []advisory.Range{rng(advisory.RangeSemver, intro("0.2.0"))}},
		}},
	}
	fs := MatchComponents([]Component{
		{PURL: "pkg:golang/golang.org/x/net@v0.1.0"},
		{PURL: "pkg:golang/github.com/BurntSushi/toml@v0.3.1"},
		{PURL: "pkg:golang/golang.org/x/text@v0.3.0"},
	}, advs)
	got, err := OSVScannerJSON("bom.cdx.json", fs, advs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "scan.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("OSVScannerJSON:\n%s\nwant:\n%s", got, want)
	}
}
