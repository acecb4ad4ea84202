package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// call sends a JSON (or raw) request with a bearer token and decodes the answer.
func call(t *testing.T, method, url, token, ctype, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
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
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Logf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode
}

func fetchText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// The whole life of a label through the API, on both databases: a new
// manufacturer registers a product, a version and its SBOM, applies,
// attaches evidence and submits; the authority assigns a lab; the lab
// records a verdict per requirement and completes; the authority approves.
// The label then verifies offline against the published keys and status
// lists, and a suspension shows in the status list.
func TestLabelLifecycleAPI(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			base, srv, ctx := inst.URL, inst.Server, context.Background()
			token := func(email string) string {
				_, p, err := srv.Login(ctx, email, demo.Password, "127.0.0.1")
				if err != nil {
					t.Fatalf("login %s: %v", email, err)
				}
				tok, err := srv.NewAPIToken(ctx, p, "test")
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			p, err := srv.Register(ctx, "Flow Devices", "NL", "Fran", "fran@flow.example", "a long enough password")
			if err != nil {
				t.Fatal(err)
			}
			mfr, err := srv.NewAPIToken(ctx, p, "ci")
			if err != nil {
				t.Fatal(err)
			}
			authority := token("demo@hallmark-reference-authority.example")
			lab := token("demo@lion-city-test-house.example")

			var prod, ver, app, ev struct{ ID int64 }
			if s := call(t, "POST", base+"/api/v1/products", mfr, "application/json",
				`{"name": "Flow Cam", "category": "camera", "model_number": "FC-1", "published": true}`, &prod); s != 201 {
				t.Fatalf("create product: %d", s)
			}
			if s := call(t, "POST", base+"/api/v1/products/"+itoa(prod.ID)+"/versions", mfr, "application/json",
				`{"software_version": "1.0.0", "facts": {"support_end_date": "2031-06-30", "update_mode": "automatic", "password_type": "unique-per-device", "security_contact": "psirt@flow.example"}}`, &ver); s != 201 {
				t.Fatalf("create version: %d", s)
			}
			sbom := `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [
				{"type": "library", "name": "zlib", "version": "1.2.12", "purl": "pkg:apk/alpine/zlib@1.2.12-r1"},
				{"type": "library", "name": "golang.org/x/net", "version": "v0.7.0", "purl": "pkg:golang/golang.org/x/net@v0.7.0"}]}`
			var sb struct{ Components int }
			if s := call(t, "PUT", base+"/api/v1/versions/"+itoa(ver.ID)+"/sbom", mfr, "application/vnd.cyclonedx+json", sbom, &sb); s != 200 || sb.Components != 2 {
				t.Fatalf("SBOM upload: %d, %d components", s, sb.Components)
			}
			if s := call(t, "PUT", base+"/api/v1/versions/"+itoa(ver.ID)+"/sbom", mfr, "application/json", `{"not": "an sbom"}`, &sb); s != 422 {
				t.Errorf("a non-SBOM upload answered %d, want 422", s)
			}
			if s := call(t, "POST", base+"/api/v1/applications", mfr, "application/json", `{"version_id": `+itoa(ver.ID)+`, "level": "etsi-baseline@baseline"}`, &app); s != 201 {
				t.Fatalf("apply: %d", s)
			}
			if s := call(t, "POST", base+"/api/v1/applications/"+itoa(app.ID)+"/evidence?name=test-report.txt", mfr, "text/plain", "penetration test report", &ev); s != 201 {
				t.Fatalf("evidence: %d", s)
			}
			step := func(tok, body string, want int) {
				t.Helper()
				if s := call(t, "POST", base+"/api/v1/applications/"+itoa(app.ID)+"/steps", tok, "application/json", body, &struct{}{}); s != want {
					t.Fatalf("step %s: %d, want %d", body, s, want)
				}
			}
			step(mfr, `{"step": "approve"}`, 403) // a manufacturer cannot approve
			labs, _ := srv.Labs(ctx)
			var labID int64
			for _, l := range labs {
				if l.Name == "Lion City Test House" {
					labID = l.ID
				}
			}
			// A manufacturer naming a friendly lab while submitting is ignored.
			step(mfr, `{"step": "submit", "assessor_org_id": `+itoa(labID)+`}`, 200)
			var submitted struct {
				State       string
				AssessorOrg int64 `json:"assessor_org_id"`
			}
			call(t, "GET", base+"/api/v1/applications/"+itoa(app.ID), mfr, "", "", &submitted)
			if submitted.State != "submitted" || submitted.AssessorOrg != 0 {
				t.Fatalf("after a submit naming a lab: %+v", submitted)
			}
			step(authority, `{"step": "assign", "assessor_org_id": `+itoa(labID)+`}`, 200)
			var view struct {
				Required []string
				State    string
			}
			call(t, "GET", base+"/api/v1/applications/"+itoa(app.ID), lab, "", "", &view)
			if view.State != "in-assessment" || len(view.Required) < 20 {
				t.Fatalf("application as the lab sees it: %+v", view)
			}
			step(lab, `{"step": "complete"}`, 409) // nothing recorded yet
			for i, req := range view.Required {
				body := `{"requirement": "` + req + `", "verdict": "pass"}`
				if i == 0 {
					body = `{"requirement": "` + req + `", "verdict": "pass", "rationale": "see the report", "evidence": [` + itoa(ev.ID) + `]}`
				}
				if s := call(t, "POST", base+"/api/v1/applications/"+itoa(app.ID)+"/findings", lab, "application/json", body, &struct{}{}); s != 200 {
					t.Fatalf("finding %s: %d", req, s)
				}
			}
			step(lab, `{"step": "complete"}`, 200)
			step(authority, `{"step": "approve", "note": "meets the baseline"}`, 200)

			var got struct{ Label string }
			call(t, "GET", base+"/api/v1/applications/"+itoa(app.ID), mfr, "", "", &got)
			if got.Label == "" {
				t.Fatal("approved application has no label")
			}
			// Offline verification with what a verifier can download.
			jws := fetchText(t, base+"/api/v1/labels/"+got.Label+"/credential")
			keys, err := label.ParseJWKS([]byte(fetchText(t, base+"/.well-known/hallmark/keys.json")))
			if err != nil {
				t.Fatal(err)
			}
			snapshots := func() map[string]*label.StatusListSnapshot {
				claims, err := label.ParseUnverified(jws)
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]*label.StatusListSnapshot{}
				for _, ref := range []label.StatusRef{claims.Revocation, claims.Suspension} {
					path := strings.TrimPrefix(ref.ListURL, srv.Config().PublicURL)
					snap, err := label.VerifyStatusList(fetchText(t, base+path), keys, time.Now())
					if err != nil {
						t.Fatalf("status list %s: %v", ref.ListURL, err)
					}
					out[ref.ListURL] = snap
				}
				return out
			}
			res := label.VerifyOffline(jws, keys, snapshots(), time.Now())
			if res.Status != label.StatusValid || !res.StatusKnown {
				t.Fatalf("fresh label verifies as %s (known=%v): %v", res.Status, res.StatusKnown, res.Reasons)
			}
			if res.Credential.Claims.Product.Name != "Flow Cam" || res.Credential.Claims.SchemeID != "etsi-baseline" {
				t.Errorf("credential claims %+v", res.Credential.Claims)
			}
			// Suspension: refused to the manufacturer, done by the authority,
			// visible in the status list and on the label.
			if s := call(t, "POST", base+"/api/v1/labels/"+got.Label+"/actions", mfr, "application/json", `{"action": "suspend", "reason": "x"}`, &struct{}{}); s != 403 {
				t.Errorf("manufacturer suspending its own label: %d, want 403", s)
			}
			if s := call(t, "POST", base+"/api/v1/labels/"+got.Label+"/actions", authority, "application/json",
				`{"action": "suspend", "reason": "Exploited flaw in zlib not yet fixed"}`, &struct{}{}); s != 200 {
				t.Fatalf("suspend: %d", s)
			}
			res = label.VerifyOffline(jws, keys, snapshots(), time.Now())
			if res.Status != label.StatusSuspended {
				t.Errorf("after suspension the label verifies as %s", res.Status)
			}
			var pub struct {
				Status  string
				History []struct{ Action, Reason string }
			}
			call(t, "GET", base+"/api/v1/labels/"+got.Label, "", "", "", &pub)
			if pub.Status != "suspended" || len(pub.History) != 2 || pub.History[1].Reason != "Exploited flaw in zlib not yet fixed" {
				t.Errorf("public label: %+v", pub)
			}
			var trail struct{ Items []struct{ Action string } }
			call(t, "GET", base+"/api/v1/audit?type=label&id="+got.Label, authority, "", "", &trail)
			actions := ""
			for _, e := range trail.Items {
				actions += e.Action + " "
			}
			if !strings.Contains(actions, "label.suspend") || !strings.Contains(actions, "label.issue") {
				t.Errorf("the audit trail of the label: %q", actions)
			}
			var cta map[string]any
			call(t, "GET", base+"/api/v1/labels/"+got.Label+"/cta2120", "", "", "", &cta)
			if cta["support_end_date"] != "2031-06-30" || cta["schema_version"] == nil {
				t.Errorf("CTA-2120 record: %v", cta)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
