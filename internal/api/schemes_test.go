package api_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

func TestSchemesAPI(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			base := servertest.Start(t, d).URL
			var l list
			getJSON(t, base+"/api/v1/schemes", &l)
			if l.Total != 13 {
				t.Fatalf("%d schemes, want the thirteen built in", l.Total)
			}
			// A legal duty's scheme says its records are conformity records,
			// and every built-in scheme carries its sources.
			for id, kind := range map[string]string{"uk-psti": "conformity-record", "eu-cra-default": "conformity-record",
				"au-smart-devices": "conformity-record", "eu-red-da": "conformity-record", "jp-jc-star": "label"} {
				var sc struct {
					Kind    string
					Status  string
					Sources []struct{ Ref, Checked string }
				}
				getJSON(t, base+"/api/v1/schemes/"+id, &sc)
				if sc.Kind != kind || len(sc.Sources) == 0 || sc.Sources[0].Checked == "" {
					t.Errorf("%s: kind %q, %d sources", id, sc.Kind, len(sc.Sources))
				}
			}
			var ctm struct{ Status string }
			getJSON(t, base+"/api/v1/schemes/us-cyber-trust-mark", &ctm)
			if ctm.Status != "paused" {
				t.Errorf("the Cyber Trust Mark is %q, want paused", ctm.Status)
			}
			var cls struct {
				ID, Status    string
				StoredVersion int `json:"stored_version"`
				Levels        []struct{ ID string }
				Rules         []struct{ ID string }
			}
			getJSON(t, base+"/api/v1/schemes/sg-cls", &cls)
			if cls.ID != "sg-cls" || len(cls.Levels) != 4 || len(cls.Rules) == 0 || cls.StoredVersion != 1 {
				t.Errorf("sg-cls = %+v", cls)
			}
			var lvl struct {
				Total        int
				Requirements []struct{ Requirement, Method, FromLevel string }
			}
			getJSON(t, base+"/api/v1/schemes/sg-cls/levels/3", &lvl)
			if lvl.Total < 30 || lvl.Total != len(lvl.Requirements) {
				t.Errorf("CLS level 3 needs %d requirements", lvl.Total)
			}

			for _, tc := range []struct{ q, outcome string }{
				{"a=sg-cls@3&b=fi-traficom", ""},
				// The Germany agreement holds: security by design is CLS Level 3 (issue 11).
				{"a=de-bsi-label&b=sg-cls@2", "recognisable"},
				{"a=sg-cls@4&b=sg-cls@1", "recognisable"},
			} {
				var x struct {
					Percent, Required, Covered int
					Verdict                    struct{ Outcome, Summary string }
					Gaps                       []struct{ Requirement, Title, Summary string }
				}
				getJSON(t, base+"/api/v1/compare?"+tc.q, &x)
				if x.Required == 0 || x.Verdict.Summary == "" || x.Percent != x.Covered*100/x.Required {
					t.Errorf("%s: %+v", tc.q, x)
				}
				if tc.outcome != "" && x.Verdict.Outcome != tc.outcome {
					t.Errorf("%s: outcome %s, want %s", tc.q, x.Verdict.Outcome, tc.outcome)
				}
				if x.Percent < 100 && (len(x.Gaps) == 0 || x.Gaps[0].Summary == "") {
					t.Errorf("%s: below 100%% without plain-language gaps", tc.q)
				}
			}

			var ags struct {
				Items []struct {
					ID, Check  string
					Directions []struct{ From, To, Support string }
				}
			}
			getJSON(t, base+"/api/v1/agreements", &ags)
			if len(ags.Items) < 7 {
				t.Fatalf("%d agreements, want the seven recorded", len(ags.Items))
			}
			for _, a := range ags.Items {
				if a.Check == "" || len(a.Directions) == 0 {
					t.Errorf("agreement %s unchecked", a.ID)
				}
			}

			var m struct {
				Levels []string
				Cells  []struct {
					Holder, Target string
					Percent        int
				}
			}
			getJSON(t, base+"/api/v1/matrix", &m)
			if len(m.Cells) != len(m.Levels)*len(m.Levels) || len(m.Levels) < 11 {
				t.Fatalf("matrix of %d levels has %d cells", len(m.Levels), len(m.Cells))
			}
			for _, c := range m.Cells {
				if c.Holder == c.Target && c.Percent != 100 {
					t.Errorf("%s covers itself %d%%", c.Holder, c.Percent)
				}
			}

			resp, body := get(t, base+"/api/v1/schemes/sg-cls/levels/2/oscal")
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"include-controls"`) || !strings.Contains(string(body), `"hm-auth-1"`) {
				t.Errorf("OSCAL profile: %d %.200s", resp.StatusCode, body)
			}

			var wi struct {
				Before    int `json:"requirements_before"`
				After     int `json:"requirements_after"`
				Alignment []struct {
					Level       string
					CoversAfter int `json:"covers_after"`
					Changed     bool
				}
			}
			getJSON(t, base+"/api/v1/schemes/sg-cls/levels/3/whatif?add=HM-USE-3,HM-USE-4", &wi)
			if wi.After != wi.Before+2 {
				t.Errorf("what-if: %d -> %d requirements", wi.Before, wi.After)
			}
			moved := false
			for _, r := range wi.Alignment {
				if r.Level == "fi-traficom@label" && r.Changed {
					moved = true
				}
			}
			if !moved {
				t.Error("adding two of Finland's requirements to CLS 3 did not move its alignment with Finland")
			}
		})
	}
}

func TestSchemeProblems(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	for _, tc := range []struct {
		path   string
		status int
		detail string
	}{
		{"/api/v1/schemes/nope", 404, "no scheme"},
		{"/api/v1/schemes/sg-cls/levels/9", 404, "has no level"},
		{"/api/v1/compare?a=sg-cls", 400, "give two scheme levels"},
		{"/api/v1/compare?a=sg-cls&b=fi-traficom", 404, "has 4 levels: name one"},
		{"/api/v1/compare?a=sg-cls@3&b=nope", 404, "no scheme"},
		{"/api/v1/schemes/sg-cls/levels/3/whatif", 400, "?add= or ?remove="},
		{"/api/v1/schemes/sg-cls/levels/3/whatif?add=HM-AUTH-1", 400, "already requires"},
		{"/api/v1/schemes/sg-cls/levels/3/whatif?remove=HM-NOPE-9", 400, "cannot be removed"},
		{"/api/v1/schemes/sg-cls?version=7", 404, "no stored version 7"},
		{"/api/v1/schemes/sg-cls?version=x", 400, "version must be"},
	} {
		resp, b := get(t, base+tc.path)
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), tc.detail) {
			t.Errorf("%s: %d %s; want %d with %q", tc.path, resp.StatusCode, b, tc.status, tc.detail)
		}
	}
}

func send(t *testing.T, method, url, ctype, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An authority publishes a draft scheme, changes it, and each change is a
// new version; invalid documents and attempts on built-in schemes change
// nothing.
func TestAuthorityScheme(t *testing.T) {
	draft, err := os.ReadFile(filepath.Join("..", "scheme", "testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			base := servertest.Start(t, d).URL
			if status, body := send(t, "POST", base+"/api/v1/schemes", "application/yaml", string(draft)); status != 201 {
				t.Fatalf("create: %d %s", status, body)
			}
			if status, _ := send(t, "POST", base+"/api/v1/schemes", "application/yaml", string(draft)); status != 409 {
				t.Errorf("create twice: %d, want 409", status)
			}
			if status, body := send(t, "PUT", base+"/api/v1/schemes/test-scheme", "application/yaml", string(draft)); status != 200 || !strings.Contains(body, `"new_version": false`) {
				t.Errorf("unchanged PUT: %d %s", status, body)
			}
			changed := strings.Replace(string(draft), "- HM-VULN-1", "- HM-VULN-1\n      - HM-SBOM-1", 1)
			if status, body := send(t, "PUT", base+"/api/v1/schemes/test-scheme", "application/yaml", changed); status != 200 || !strings.Contains(body, `"stored_version": 2`) {
				t.Fatalf("changed PUT: %d %s", status, body)
			}
			var versions list
			getJSON(t, base+"/api/v1/schemes/test-scheme/versions", &versions)
			if versions.Total != 2 {
				t.Errorf("%d versions, want 2", versions.Total)
			}
			var v1, v2 struct {
				StoredVersion int `json:"stored_version"`
				Levels        []struct{ Requirements []string }
			}
			getJSON(t, base+"/api/v1/schemes/test-scheme?version=1", &v1)
			getJSON(t, base+"/api/v1/schemes/test-scheme", &v2)
			if v1.StoredVersion != 1 || v2.StoredVersion != 2 || len(v2.Levels[1].Requirements) != len(v1.Levels[1].Requirements)+1 {
				t.Errorf("version 1 %+v, version 2 %+v", v1, v2)
			}

			invalid := strings.Replace(string(draft), "- HM-VULN-1", "- HM-NOPE-1", 1)
			status, body := send(t, "PUT", base+"/api/v1/schemes/test-scheme", "application/yaml", invalid)
			if status != 422 || !strings.Contains(body, `"errors"`) || !strings.Contains(body, "scheme:27") || !strings.Contains(body, "HM-NOPE-1") {
				t.Errorf("invalid PUT: %d %s", status, body)
			}
			getJSON(t, base+"/api/v1/schemes/test-scheme/versions", &versions)
			if versions.Total != 2 {
				t.Errorf("an invalid PUT changed the versions: %d", versions.Total)
			}
			builtin := strings.Replace(string(draft), "id: test-scheme", "id: sg-cls", 1)
			if status, body := send(t, "PUT", base+"/api/v1/schemes/sg-cls", "application/yaml", builtin); status != 409 {
				t.Errorf("PUT over a built-in scheme: %d %s", status, body)
			}
			if status, _ := send(t, "PUT", base+"/api/v1/schemes/other-id", "application/yaml", string(draft)); status != 400 {
				t.Errorf("PUT with mismatched id: %d, want 400", status)
			}
			if status, _ := send(t, "POST", base+"/api/v1/schemes", "text/plain", string(draft)); status != 415 {
				t.Errorf("wrong content type: %d, want 415", status)
			}
			if status, _ := send(t, "POST", base+"/api/v1/schemes", "application/yaml", strings.Repeat("#", 2<<20)); status != 413 {
				t.Errorf("oversized: %d, want 413", status)
			}
			req, _ := http.NewRequest("POST", base+"/api/v1/schemes", strings.NewReader(string(draft)))
			req.Header.Set("Content-Type", "application/yaml")
			if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
				t.Errorf("unauthenticated create: %d, want 401", resp.StatusCode)
			}
			// The new scheme takes part in comparisons at once.
			var x struct{ Percent int }
			getJSON(t, base+"/api/v1/compare?a=test-scheme@2&b=uk-psti", &x)
			if x.Percent == 0 {
				t.Error("the authority's scheme does not compare")
			}
		})
	}
}

// A record under a legal duty is served as kind "conformity-record", a
// scheme's mark as "label", in the list and on its own.
func TestRecordKindInLabelsAPI(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	kindOf := func(scheme string) (string, string) {
		var l struct{ Items []struct{ ID, Kind string } }
		getJSON(t, base+"/api/v1/labels?limit=1&scheme="+scheme, &l)
		if len(l.Items) == 0 {
			return "", ""
		}
		var one struct{ Kind string }
		getJSON(t, base+"/api/v1/labels/"+l.Items[0].ID, &one)
		if one.Kind != l.Items[0].Kind {
			t.Errorf("%s: kind %q in the list, %q on its own", l.Items[0].ID, l.Items[0].Kind, one.Kind)
		}
		return l.Items[0].ID, one.Kind
	}
	found := false
	for _, sc := range []string{"uk-psti", "eu-cra-default", "eu-cra-important-1"} {
		if id, kind := kindOf(sc); id != "" {
			found = true
			if kind != "conformity-record" {
				t.Errorf("%s (%s) is served as %q, want conformity-record", id, sc, kind)
			}
		}
	}
	if !found {
		t.Fatal("the demo market has no PSTI or CRA record")
	}
	if id, kind := kindOf("sg-cls"); id == "" || kind != "label" {
		t.Errorf("a CLS label %q is served as %q, want label", id, kind)
	}
}
