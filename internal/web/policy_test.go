package web_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/chart"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// What a policy reader relies on: pictures with their counts, a swap, a
// what-if that keeps its selection and can be shared, names instead of
// internal ids, and printouts that say where and when they come from.
func TestPolicyPages(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	visible := func(body string) string { return notText.ReplaceAllString(body, "") }

	// The crosswalk headline: full / partial / none with the counts.
	_, body, _ := fetch(t, base+"/crosswalk?from=nist-ir-8425&to=uk-psti-2023")
	m := regexp.MustCompile(`Of the (\d+) items of [^:]+: <strong>(\d+)</strong> covered in full, <strong>(\d+)</strong> in part, <strong>(\d+)</strong> not covered`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the crosswalk does not give full / partial / none with counts")
	}
	if !strings.Contains(body, `<svg`) || !strings.Contains(body, "covered in part: "+m[3]) {
		t.Error("the crosswalk has no bar, or its bar disagrees with the counts")
	}
	// One sentence said once, however many items it explains.
	for _, li := range regexp.MustCompile(`(?s)<ul class="gaps".*?</ul>`).FindAllString(body, -1) {
		seen := map[string]bool{}
		for _, p := range regexp.MustCompile(`<li><p>([^<]*)</p>`).FindAllStringSubmatch(li, -1) {
			if seen[p[1]] {
				t.Errorf("the gap sentence %q is repeated", p[1])
			}
			seen[p[1]] = true
		}
	}

	// The comparison: an overlap picture and a swap link.
	_, body, _ = fetch(t, base+"/compare?a=sg-cls@2&b=de-bsi-label@label")
	if !strings.Contains(body, `class="chart overlap"`) || !strings.Contains(body, `id="swap" href="/compare?a=de-bsi-label%40label&amp;b=sg-cls%402"`) {
		t.Error("the comparison has no overlap picture or no swap link")
	}
	if strings.Contains(body, "requirement(s)") {
		t.Error(`the comparison still says "requirement(s)"`)
	}

	// What if: titles, checkboxes kept ticked, a link to share.
	_, body, _ = fetch(t, base+"/schemes/sg-cls/levels/2/whatif?add=HM-SBOM-1&add=HM-SBOM-2&remove=HM-AUTH-1")
	for _, want := range []string{`name="add" value="HM-SBOM-1" checked`, `name="add" value="HM-SBOM-2" checked`, `name="remove" value="HM-AUTH-1" checked`,
		"A software bill of materials is kept for each release", `id="share" href="` + base + `/schemes/sg-cls/levels/2/whatif?add=HM-SBOM-1%2CHM-SBOM-2&amp;remove=HM-AUTH-1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the what-if page lacks %s", want)
		}
	}
	if strings.Contains(body, `value="HM-SBOM-3" checked`) {
		t.Error("the what-if page ticks a requirement nobody chose")
	}

	// Names, not ids, on the public pages.
	id := regexp.MustCompile(`\b[a-z]{2,}(-[a-z0-9]+)+@[a-z0-9-]+\b`)
	for _, p := range []string{"/labels", "/labels?scheme=sg-cls", "/matrix", "/schemes/sg-cls", "/compare?a=sg-cls@2&b=de-bsi-label@label",
		"/schemes/sg-cls/levels/2/whatif?add=HM-SBOM-1", "/agreements"} {
		_, body, _ := fetch(t, base+p)
		text := regexp.MustCompile(`(?s)<select.*?</select>|<p class="print-only".*?</p>|<[^>]*>`).ReplaceAllString(visible(body), " ")
		if m := id.FindString(text); m != "" {
			t.Errorf("%s shows the internal id %q", p, m)
		}
	}
	if _, body, _ := fetch(t, base+"/labels?scheme=sg-cls"); !strings.Contains(body, "Cybersecurity Labelling Scheme (CLS) Level") {
		t.Error("the registry does not name CLS levels")
	}

	// Printouts say where, when and which catalogue.
	for _, p := range []string{"/compare?a=sg-cls@2&b=de-bsi-label@label", "/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1", "/matrix"} {
		_, body, _ := fetch(t, base+p)
		if !regexp.MustCompile(`id="printed">Printed from ` + regexp.QuoteMeta(base) + `/[^ ]+ · page loaded \d+ \w+ \d{4}, \d\d:\d\d UTC · catalogue version \d{4}\.\d+`).MatchString(strings.ReplaceAll(body, "&amp;", "&")) {
			t.Errorf("%s prints without its URL, time and catalogue version", p)
		}
	}
}

// The colours the pages use for met, partial and not met pass WCAG AA
// (4.5:1) as text on white.
func TestStyleContrast(t *testing.T) {
	css, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"full", "partial", "none", "accent", "muted"} {
		m := regexp.MustCompile(`--` + v + `:(#[0-9a-fA-F]{6})`).FindStringSubmatch(string(css))
		if m == nil {
			t.Fatalf("style.css defines no --%s", v)
		}
		if r := chart.Contrast(m[1], "#ffffff"); r < 4.5 {
			t.Errorf("--%s %s on white is %.2f:1, under WCAG AA's 4.5:1", v, m[1], r)
		}
	}
}
