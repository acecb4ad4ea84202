package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type list struct {
	Items []json.RawMessage `json:"items"`
	Total int               `json:"total"`
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func getJSON(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	resp, b := get(t, url)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: not JSON (%v): %s", url, err, b)
	}
	return resp
}

func TestCatalogAPI(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			base := servertest.Start(t, d).URL

			var reqs list
			resp := getJSON(t, base+"/api/v1/requirements?limit=1000", &reqs)
			if resp.StatusCode != 200 || reqs.Total < 40 || len(reqs.Items) != reqs.Total {
				t.Fatalf("requirements: status %d, total %d, items %d", resp.StatusCode, reqs.Total, len(reqs.Items))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}

			var pageOne list
			getJSON(t, base+"/api/v1/requirements?limit=5&offset=5", &pageOne)
			if len(pageOne.Items) != 5 || pageOne.Total != reqs.Total || string(pageOne.Items[0]) != string(reqs.Items[5]) {
				t.Errorf("paging: %d items, total %d", len(pageOne.Items), pageOne.Total)
			}

			var upd list
			getJSON(t, base+"/api/v1/requirements?topic=UPD&q=update", &upd)
			if upd.Total == 0 || upd.Total >= reqs.Total {
				t.Errorf("topic and text filter gave %d of %d", upd.Total, reqs.Total)
			}
			for _, raw := range upd.Items {
				var r struct{ ID, Topic string }
				json.Unmarshal(raw, &r)
				if r.Topic != "UPD" {
					t.Errorf("%s of topic %s in a UPD search", r.ID, r.Topic)
				}
			}

			var one struct {
				ID, Summary, Technical string
				Mappings               []struct{ Framework, Item, Relationship string }
			}
			getJSON(t, base+"/api/v1/requirements/HM-UPD-2", &one)
			if one.ID != "HM-UPD-2" || one.Summary == "" || one.Technical == "" || len(one.Mappings) == 0 {
				t.Errorf("HM-UPD-2 = %+v", one)
			}

			var fws list
			getJSON(t, base+"/api/v1/frameworks", &fws)
			if fws.Total < 7 {
				t.Errorf("%d frameworks, want at least 7", fws.Total)
			}
			var psti struct {
				ID    string
				Items []struct {
					ID           string
					Requirements []struct{ Requirement, Relationship string }
				}
			}
			getJSON(t, base+"/api/v1/frameworks/uk-psti-2023", &psti)
			if len(psti.Items) != 3 || len(psti.Items[0].Requirements) == 0 {
				t.Errorf("PSTI = %+v", psti)
			}

			var x struct {
				Total, Full int
				Coverage    float64
				Summary     string
				Rows        []struct{ Item, Coverage string }
				Gaps        []json.RawMessage
			}
			getJSON(t, base+"/api/v1/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1", &x)
			if x.Total != 3 || x.Full != 3 || x.Coverage != 1 || len(x.Gaps) != 0 || x.Summary == "" {
				t.Errorf("PSTI by EN 303 645: %+v", x)
			}
			for _, r := range x.Rows {
				if r.Coverage != "full" {
					t.Errorf("PSTI %s is %s", r.Item, r.Coverage)
				}
			}

			var gl list
			getJSON(t, base+"/api/v1/glossary", &gl)
			if gl.Total < 25 {
				t.Errorf("glossary has %d terms", gl.Total)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	for _, tc := range []struct {
		path   string
		status int
		detail string
	}{
		{"/api/v1/requirements/HM-NOPE-1", 404, "no requirement"},
		{"/api/v1/frameworks/nope", 404, "no framework"},
		{"/api/v1/crosswalk?from=uk-psti-2023", 400, "give two framework ids"},
		{"/api/v1/crosswalk?from=uk-psti-2023&to=nope", 404, "unknown framework"},
		{"/api/v1/requirements?limit=0", 400, "limit must be"},
		{"/api/v1/requirements?offset=-1", 400, "offset must be"},
		{"/api/v1/requirements?topic=nope", 400, "unknown topic"},
		{"/api/v1/requirements?q=" + strings.Repeat("x", 201), 400, "longer than 200"},
		{"/api/v1/no-such-thing", 404, "no such API endpoint"},
		{"/api/v1/export/oscal/frameworks/nope", 404, "unknown framework"},
		{"/api/v1/export/csv/frameworks/nope", 404, "no framework"},
	} {
		resp, b := get(t, base+tc.path)
		var p struct {
			Type, Title, Detail string
			Status              int
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("%s: not JSON: %s", tc.path, b)
			continue
		}
		if resp.StatusCode != tc.status || p.Status != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(p.Detail, tc.detail) || p.Title == "" {
			t.Errorf("%s: status %d, content type %q, problem %+v; want %d with %q", tc.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), p, tc.status, tc.detail)
		}
	}
}

func TestExports(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/api/v1/export/oscal/catalog", "application/json", `"oscal-version": "1.2.0"`},
		{"/api/v1/export/oscal/frameworks/eu-cra-annex-i", "application/json", `"item-i.2.a"`},
		{"/api/v1/export/oscal/mappings?frameworks=uk-psti-2023", "application/json", `"mapping-collection"`},
		{"/api/v1/export/csv/requirements", "text/csv; charset=utf-8", "id,topic,title,summary"},
		{"/api/v1/export/csv/mappings", "text/csv; charset=utf-8", "HM-AUTH-1,uk-psti-2023,1,subset-of"},
		{"/api/v1/export/csv/frameworks/uk-psti-2023", "text/csv; charset=utf-8", "uk-psti-2023,3,"},
		{"/api/v1/export/csv/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1", "text/csv; charset=utf-8", "uk-psti-2023,1,"},
	} {
		resp, b := get(t, base+tc.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(string(b), tc.contains) {
			t.Errorf("%s: status %d, type %q, body lacks %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.contains)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
			t.Errorf("%s: not offered as a download", tc.path)
		}
	}
}

// Every route the server answers is described in the OpenAPI document, and
// every path in the document answers.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	inst := servertest.Start(t, "sqlite")
	base := inst.URL
	// A target and a published report, for the paths that name one.
	ctx := context.Background()
	_, authority, err := inst.Server.Login(ctx, demo.Email(demo.Owners["sg-cls"]), demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	lastMonth := time.Now().AddDate(0, -1, 0).Format("2006-01")
	tg, err := inst.Server.DeclareTarget(ctx, authority, server.TargetDeclaration{Target: insight.Target{Title: "OpenAPI test target", Indicator: "support-5y",
		RefMonth: lastMonth, Value: 0.9, Due: time.Now().AddDate(1, 0, 0).Format("2006-01")}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := inst.Server.PublishReport(ctx, authority, lastMonth)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	getJSON(t, base+"/api/v1/openapi.json", &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	files, _ := filepath.Glob("*.go")
	var src []byte
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src = append(src, b...)
		}
	}
	routes := regexp.MustCompile(`"(GET|POST|PUT|DELETE) (/api/v1/[^"]*)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in api.go", len(routes))
	}
	for _, r := range routes {
		ops, ok := doc.Paths[r[2]]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", r[1], r[2])
			continue
		}
		if _, ok := ops[strings.ToLower(r[1])]; !ok {
			t.Errorf("%s %s: method missing in openapi.json", r[1], r[2])
		}
	}
	for p, ops := range doc.Paths {
		getOp, ok := ops["get"].(map[string]any)
		if !ok {
			continue
		}
		if _, needsToken := getOp["security"]; needsToken && !strings.Contains(p, "products") {
			if resp, _ := get(t, base+p); resp.StatusCode != 401 && resp.StatusCode != 404 {
				t.Errorf("documented path %s answers %d without a token", p, resp.StatusCode)
			}
			continue
		}
		path := strings.NewReplacer("requirements/{id}", "requirements/HM-AUTH-1", "schemes/{id}", "schemes/sg-cls",
			"indicators/{id}", "indicators/support-5y", "targets/{id}", "targets/"+tg.ID, "reports/{id}", "reports/"+rep,
			"labels/{id}", "labels/"+anyLabel(t, base), "products/{id}", "products/"+anyProduct(t, base),
			"{level}", "3", "{id}", "uk-psti-2023").Replace(p)
		switch {
		case path == "/api/v1/whatif":
			path += "?level=sg-cls@1&add=sbom"
		case path == "/api/v1/reports":
			path += fmt.Sprintf("?organisation=%d&period=%s", authority.OrgID, lastMonth)
		case strings.Contains(path, "crosswalk"):
			path += "?from=uk-psti-2023&to=eu-cra-annex-i"
		case strings.Contains(path, "compare"):
			path += "?a=sg-cls@3&b=fi-traficom"
		case strings.Contains(path, "whatif"):
			path += "?add=HM-USE-3"
		}
		if resp, _ := get(t, base+path); resp.StatusCode != 200 {
			t.Errorf("documented path %s answers %d", p, resp.StatusCode)
		}
	}
}

// anyLabel returns the id of some label of the demo market.
func anyLabel(t *testing.T, base string) string {
	t.Helper()
	var l struct{ Items []struct{ ID string } }
	getJSON(t, base+"/api/v1/labels?limit=1", &l)
	if len(l.Items) == 0 {
		t.Fatal("the demo market has no labels")
	}
	return l.Items[0].ID
}

// anyProduct returns the id of some published product of the demo market.
func anyProduct(t *testing.T, base string) string {
	t.Helper()
	var l struct{ Items []struct{ ID int64 } }
	getJSON(t, base+"/api/v1/products?limit=1", &l)
	if len(l.Items) == 0 {
		t.Fatal("the demo market has no published products")
	}
	return fmt.Sprint(l.Items[0].ID)
}

// A search text past the bound is refused with a message, never run (it
// was a 500).
func TestLongSearchRefused(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	for _, path := range []string{"/api/v1/labels?q=", "/api/v1/products?q="} {
		resp, err := http.Get(inst.URL + path + strings.Repeat("a", 50000))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "longer than 200 characters") {
			t.Errorf("%s with 50,000 characters: %d %s", path, resp.StatusCode, body)
		}
	}
}
