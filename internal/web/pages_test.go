package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

func fetch(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// Pages answer with the right status and a page a person can act on, and
// never need JavaScript.
func TestPages(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/catalog", 200, "requirements for consumer connected products"},
		{"/catalog?q=sbom", 200, "HM-SBOM-1"},
		{"/catalog?topic=UPD", 200, "HM-UPD-12"},
		{"/catalog/requirements/HM-UPD-12", 200, "5.3-13"},
		{"/frameworks", 200, "uk-psti-2023"},
		{"/frameworks/eu-cra-annex-i", 200, `id="item-I(2)(a)"`},
		{"/frameworks/demo-city-procurement-2026", 200, "DC-3"},
		{"/crosswalk", 200, "Compare"},
		{"/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1", 200, `id="coverage">100%`},
		{"/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1", 200, "By content alone"},
		{"/glossary", 200, "Software Bill of Materials"},
		{"/schemes", 200, "sg-cls"},
		{"/schemes/sg-cls", 200, `id="level-4"`},
		{"/schemes/fi-traficom", 200, "no new labels are issued"},
		{"/compare", 200, "recognised as"},
		{"/compare?a=sg-cls@3&b=fi-traficom@label", 200, `id="verdict"`},
		{"/compare?a=uk-psti&b=etsi-baseline", 200, "Not recognisable"},
		{"/matrix", 200, "<svg"},
		{"/agreements", 200, "Singapore"},
		{"/agreements", 200, "Signing date not recorded"},
		{"/agreements", 200, "renewed 2024-10-16"},
		{"/schemes/uk-psti", 200, "its records are conformity records"},
		{"/schemes/us-cyber-trust-mark", 200, "no new applications are taken for now"},
		{"/schemes/us-cyber-trust-mark", 200, `id="unverified"`},
		{"/schemes/jp-jc-star", 200, `id="sources"`},
		{"/frameworks/en-18031-2-2024", 200, "Part 2 has 40 requirements"},
		{"/frameworks/nist-ir-8425", 200, `id="item-SU-1"`},
		{"/frameworks/uk-psti-2023", 200, "Only overlapping requirements"},
		{"/frameworks/uk-psti-2023", 200, "Deemed met by law through"},
		{"/frameworks/etsi-en-303-645-v3.1.3", 200, `<span class="tag warn">unverified</span>`},
		{"/schemes/sg-cls/levels/3/whatif", 200, "Show the effect"},
		{"/schemes/sg-cls/levels/3/whatif?add=HM-USE-3&add=HM-USE-4", 200, `id="whatif-table"`},
		{"/schemes/nope", 404, "There is no scheme nope"},
		{"/compare?a=sg-cls&b=uk-psti", 400, "has 4 levels"},
		{"/schemes/sg-cls/levels/3/whatif?add=HM-AUTH-1", 400, "already requires"},
		{"/catalog/requirements/HM-NOPE-1", 404, "There is no requirement HM-NOPE-1"},
		{"/frameworks/nope", 404, "There is no framework nope"},
		{"/crosswalk?from=uk-psti-2023&to=nope", 400, "Choose two frameworks"},
		{"/catalog?topic=NOPE", 400, "There is no topic NOPE"},
		{"/catalog?q=" + strings.Repeat("a", 300), 400, "longer than 200"},
		{"/no/such/page", 404, "There is no page at this address"},
	} {
		status, body, h := fetch(t, base+tc.path)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %d containing %q", tc.path, status, tc.status, tc.want)
		}
		if strings.Contains(body, "<script") {
			t.Errorf("%s uses a script", tc.path)
		}
		if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: content type %q", tc.path, ct)
		}
	}
	// The search text is echoed safely, never as markup.
	_, body, _ := fetch(t, base+"/catalog?q=%3Cscript%3Ealert(1)%3C/script%3E")
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;") {
		t.Error("search text is not escaped")
	}
	if status, _, h := fetch(t, base+"/"); status != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("/ does not lead to the catalogue: %d", status)
	}
}

// A conformity record (PSTI, the CRA) is never shown as a label: its page
// says "declared compliant with", the registry calls it a conformity record,
// and a CLS label keeps the label wording.
func TestConformityRecordPages(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	first := func(query string) string {
		var l struct{ Items []struct{ ID string } }
		resp, err := http.Get(base + "/api/v1/labels?limit=1&" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) == 0 {
			return ""
		}
		return l.Items[0].ID
	}
	checked := 0
	for _, sc := range []string{"uk-psti", "eu-cra-default", "eu-cra-important-1"} {
		id := first("status=active&scheme=" + sc)
		if id == "" {
			continue
		}
		checked++
		_, body, _ := fetch(t, base+"/labels/"+id)
		if !strings.Contains(body, "Declared compliant") || !strings.Contains(body, "declared that this product meets") || !strings.Contains(body, `id="record-kind"`) {
			t.Errorf("%s (%s) does not say it is declared compliant", id, sc)
		}
		for _, bad := range []string{">Valid<", "What this label means", "Label code"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s (%s) reads as a label: %q", id, sc, bad)
			}
		}
	}
	if checked == 0 {
		t.Fatal("the demo market has no active PSTI or CRA record")
	}
	if id := first("status=active&scheme=sg-cls"); id != "" {
		if _, body, _ := fetch(t, base+"/labels/"+id); !strings.Contains(body, `id="status">Valid<`) {
			t.Errorf("CLS label %s lost its label wording", id)
		}
	}
	if _, body, _ := fetch(t, base+"/labels?scheme=uk-psti"); !strings.Contains(body, "Conformity record") {
		t.Error("the registry does not call PSTI records conformity records")
	}
}
