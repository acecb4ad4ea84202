package api_test

// Through the API, on both databases: text PostgreSQL cannot store is
// refused with the same 400 on SQLite (it was stored there, and a 500 on
// PostgreSQL); API tokens are listed and revoked, and a revoked token
// stops at once.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// raw sends a request and returns the status and body, whatever they are.
func raw(t *testing.T, method, url, token, ctype, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
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

func TestTextRefusedAlike(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			base, srv, st, ctx := inst.URL, inst.Server, inst.Store, context.Background()
			p, err := srv.Register(ctx, "Parity Devices", "NL", "Pat", "pat@parity.example", "a long enough password")
			if err != nil {
				t.Fatal(err)
			}
			mfr, err := srv.NewAPIToken(ctx, p, "parity")
			if err != nil {
				t.Fatal(err)
			}
			_, ap, err := srv.Login(ctx, "demo@hallmark-reference-authority.example", demo.Password, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			authority, err := srv.NewAPIToken(ctx, ap, "parity")
			if err != nil {
				t.Fatal(err)
			}
			var prod, ver, app struct{ ID int64 }
			if s := call(t, "POST", base+"/api/v1/products", mfr, "application/json", `{"name": "Parity Cam", "category": "camera", "model_number": "PC-1"}`, &prod); s != 201 {
				t.Fatalf("create product: %d", s)
			}
			if s := call(t, "POST", base+"/api/v1/products/"+itoa(prod.ID)+"/versions", mfr, "application/json", `{"software_version": "1.0"}`, &ver); s != 201 {
				t.Fatalf("create version: %d", s)
			}
			if s := call(t, "POST", base+"/api/v1/applications", mfr, "application/json", `{"version_id": `+itoa(ver.ID)+`, "level": "etsi-baseline@baseline"}`, &app); s != 201 {
				t.Fatalf("apply: %d", s)
			}
			labels, _, err := st.Labels(ctx, store.LabelQuery{Status: assess.Active, SchemeID: "etsi-baseline", Limit: 1})
			if err != nil || len(labels) == 0 {
				t.Fatalf("no active etsi-baseline label: %v", err)
			}
			lbl := labels[0].ID
			versionsBefore, _ := st.Versions(ctx, prod.ID)

			for _, c := range []struct {
				name, method, path, token, ctype, body, field string
			}{
				{"product name with NUL", "POST", "/api/v1/products", mfr, "application/json", `{"name": "Cam\u0000", "category": "camera", "model_number": "PC-2"}`, "name"},
				{"product name with a bidi override", "POST", "/api/v1/products", mfr, "application/json", `{"name": "Cam \u202egnp.exe", "category": "camera", "model_number": "PC-3"}`, "bidirectional"},
				{"version with a control character", "POST", "/api/v1/products/" + itoa(prod.ID) + "/versions", mfr, "application/json", `{"software_version": "2.0\u001b"}`, "software_version"},
				{"SBOM component with NUL", "PUT", "/api/v1/versions/" + itoa(ver.ID) + "/sbom", mfr, "application/vnd.cyclonedx+json",
					`{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "zlib\u0000", "version": "1.3"}]}`, "SBOM component 1 name"},
				{"SBOM supplier with a bidi override", "PUT", "/api/v1/versions/" + itoa(ver.ID) + "/sbom", mfr, "application/vnd.cyclonedx+json",
					`{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "zlib", "version": "1.3", "supplier": {"name": "Acme\u202e"}}]}`, "supplier"},
				{"evidence name with NUL", "POST", "/api/v1/applications/" + itoa(app.ID) + "/evidence?name=report%00.pdf", mfr, "application/pdf", "%PDF-1.4\n%%EOF\n", "name"},
				{"evidence name with a bidi override", "POST", "/api/v1/applications/" + itoa(app.ID) + "/evidence?name=report%E2%80%AEfdp.exe", mfr, "application/pdf", "%PDF-1.4\n%%EOF\n", "evidence name"},
				{"note with NUL", "POST", "/api/v1/applications/" + itoa(app.ID) + "/steps", mfr, "application/json", `{"step": "submit", "note": "ready\u0000"}`, "note"},
				{"reason with a control character", "POST", "/api/v1/labels/" + lbl + "/actions", authority, "application/json", `{"action": "suspend", "reason": "checking\u0007"}`, "reason"},
				{"search with NUL", "GET", "/api/v1/labels?q=cam%00", "", "", "", "query parameter"},
				{"search with invalid UTF-8", "GET", "/api/v1/products?q=%C3", "", "", "", "UTF-8"},
				{"an id with NUL", "GET", "/api/v1/labels/HM-%00", "", "", "", "address"},
			} {
				status, body := raw(t, c.method, base+c.path, c.token, c.ctype, c.body)
				var prob struct {
					Detail string   `json:"detail"`
					Errors []string `json:"errors"`
				}
				json.Unmarshal([]byte(body), &prob)
				if status != http.StatusBadRequest || !strings.Contains(prob.Detail+strings.Join(prob.Errors, " "), c.field) {
					t.Errorf("%s: %d %s; want 400 naming %q", c.name, status, body, c.field)
				}
			}
			// Nothing of it was stored.
			if n, _, _ := st.Products(ctx, store.ProductQuery{OnlyOrg: p.OrgID, All: true, Limit: 10}); len(n) != 1 {
				t.Errorf("refused products stored: %d products", len(n))
			}
			if vs, _ := st.Versions(ctx, prod.ID); len(vs) != len(versionsBefore) || vs[0].Components != 0 {
				t.Errorf("refused versions or SBOMs stored: %+v", vs)
			}
			if evs, _ := st.EvidenceList(ctx, app.ID); len(evs) != 0 {
				t.Errorf("refused evidence stored: %d", len(evs))
			}
			if a, _ := st.Application(ctx, app.ID); a.State != assess.Draft {
				t.Errorf("a refused note moved the application to %s", a.State)
			}
			if l, _ := st.Label(ctx, lbl); l.Status != assess.Active {
				t.Errorf("a refused reason changed the label to %s", l.Status)
			}
			// And free text keeps its newlines and tabs.
			if status, body := raw(t, "POST", base+"/api/v1/applications/"+itoa(app.ID)+"/steps", mfr, "application/json",
				`{"step": "submit", "note": "Ready:\r\n\t- the SBOM\n\t- the report"}`); status != http.StatusOK {
				t.Errorf("a multi-line note: %d %s", status, body)
			}
		})
	}
}

func TestTokensAPI(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			base, srv, ctx := inst.URL, inst.Server, context.Background()
			p, err := srv.Register(ctx, "Token Devices", "NL", "Tom", "tom@token.example", "a long enough password")
			if err != nil {
				t.Fatal(err)
			}
			ci, err := srv.NewAPIToken(ctx, p, "ci")
			if err != nil {
				t.Fatal(err)
			}
			backup, err := srv.NewAPIToken(ctx, p, "backup")
			if err != nil {
				t.Fatal(err)
			}
			var l struct {
				Items []struct {
					ID      int64  `json:"id"`
					Name    string `json:"name"`
					State   string `json:"state"`
					Expires string `json:"expires"`
				} `json:"items"`
			}
			if s := call(t, "GET", base+"/api/v1/tokens", ci, "", "", &l); s != 200 || len(l.Items) != 2 {
				t.Fatalf("list: %d %+v", s, l)
			}
			for _, it := range l.Items {
				if it.State != "active" || it.Expires == "" {
					t.Errorf("listed token %+v", it)
				}
			}
			if strings.Contains(strings.Join([]string{l.Items[0].Name, l.Items[1].Name}, ","), "hm_live_") {
				t.Error("the list shows a token")
			}
			var backupID int64
			for _, it := range l.Items {
				if it.Name == "backup" {
					backupID = it.ID
				}
			}
			// Revoked with the other token: it stops at once, the other goes on.
			if s, body := raw(t, "DELETE", base+"/api/v1/tokens/"+itoa(backupID), ci, "", ""); s != 200 || !strings.Contains(body, `"revoked"`) {
				t.Fatalf("revoke: %d %s", s, body)
			}
			if s, body := raw(t, "GET", base+"/api/v1/applications", backup, "", ""); s != http.StatusUnauthorized || !strings.Contains(body, "revoked") {
				t.Errorf("a revoked token: %d %s, want 401", s, body)
			}
			if s, _ := raw(t, "GET", base+"/api/v1/applications", ci, "", ""); s != 200 {
				t.Errorf("the other token after the revocation: %d", s)
			}
			// A token can revoke itself.
			for _, it := range l.Items {
				if it.Name == "ci" {
					if s, _ := raw(t, "DELETE", base+"/api/v1/tokens/"+itoa(it.ID), ci, "", ""); s != 200 {
						t.Errorf("self-revoke: %d", s)
					}
				}
			}
			if s, _ := raw(t, "GET", base+"/api/v1/tokens", ci, "", ""); s != http.StatusUnauthorized {
				t.Errorf("a self-revoked token: %d, want 401", s)
			}
		})
	}
}
