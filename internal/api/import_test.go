package api_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

func post(t *testing.T, url, token, ctype string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestImportFramework(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("..", "catalog", "testdata", "oscal", "authority.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			base := servertest.Start(t, d).URL
			url := base + "/api/v1/frameworks?id=authority-x"
			count := func() int {
				var l list
				getJSON(t, base+"/api/v1/frameworks", &l)
				return l.Total
			}
			before := count()

			refusals := []struct {
				name, token, ctype, body string
				status                   int
				detail                   string
			}{
				{"no token", "", "application/json", string(valid), 401, "admin token"},
				{"wrong token", "guess", "application/json", string(valid), 401, "admin token"},
				{"wrong type", servertest.AdminToken, "text/plain", string(valid), 415, "application/json"},
				{"malformed", servertest.AdminToken, "application/json", `{"catalog": {"uuid": `, 422, "not imported"},
				{"invalid ids", servertest.AdminToken, "application/json", strings.Replace(string(valid), `"id": "ax-1"`, `"id": "1 bad"`, 1), 422, "catalog.groups[0].controls[0].id"},
				{"oversized", servertest.AdminToken, "application/json", `{"catalog": {"x": "` + strings.Repeat("a", catalog.MaxImportSize) + `"}}`, 413, "larger"},
			}
			for _, r := range refusals {
				status, body := post(t, url, r.token, r.ctype, strings.NewReader(r.body))
				if status != r.status || !strings.Contains(body, r.detail) {
					t.Errorf("%s: %d %s; want %d mentioning %q", r.name, status, body, r.status, r.detail)
				}
			}
			if n := count(); n != before {
				t.Fatalf("refused imports changed the framework count from %d to %d", before, n)
			}

			status, body := post(t, url, servertest.AdminToken, "application/json", strings.NewReader(string(valid)))
			if status != 201 {
				t.Fatalf("import: %d %s", status, body)
			}
			var fw struct {
				Items []struct{ ID string }
			}
			getJSON(t, base+"/api/v1/frameworks/authority-x", &fw)
			if len(fw.Items) != 4 || fw.Items[0].ID != "AX-1" {
				t.Fatalf("imported framework reads back as %+v", fw)
			}
			if status, body := post(t, url, servertest.AdminToken, "application/json", strings.NewReader(string(valid))); status != 409 {
				t.Errorf("second import without replace: %d %s", status, body)
			}
			if status, _ := post(t, base+"/api/v1/frameworks?id=uk-psti-2023&replace=true", servertest.AdminToken, "application/json", strings.NewReader(string(valid))); status != 409 {
				t.Errorf("import over a built-in framework: %d, want 409", status)
			}
			// The imported framework takes part in crosswalks at once.
			var x struct{ Total int }
			getJSON(t, base+"/api/v1/crosswalk?from=authority-x&to=uk-psti-2023", &x)
			if x.Total != 4 {
				t.Errorf("crosswalk over the imported framework has %d rows", x.Total)
			}
		})
	}
}
