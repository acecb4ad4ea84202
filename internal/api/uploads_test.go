package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/quota"
	"github.com/hallmark-iot/hallmark/internal/sbom"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// largestSBOM is a CycloneDX JSON SBOM listing n components with the
// fields real ones carry (hashes, licences, a description).
func largestSBOM(n int) string {
	var b strings.Builder
	b.WriteString(`{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"type": "library", "bom-ref": "pkg:npm/component-%d@1.%d.0", "name": "component-%d", "version": "1.%d.0",
			"purl": "pkg:npm/component-%d@1.%d.0", "hashes": [{"alg": "SHA-256", "content": "%064x"}],
			"licenses": [{"license": {"id": "MIT"}}], "description": "a library of the firmware, listed with its hash and licence"}`, i, i, i, i, i, i, i)
	}
	b.WriteString("]}")
	return b.String()
}

// uploader registers a fresh manufacturer with one version to upload to.
func uploader(t *testing.T, inst *servertest.Instance, name string) (token string, version int64) {
	t.Helper()
	ctx := context.Background()
	p, err := inst.Server.Register(ctx, name, "NL", "Up", strings.ToLower(strings.ReplaceAll(name, " ", ""))+"@up.example", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	token, err = inst.Server.NewAPIToken(ctx, p, "ci")
	if err != nil {
		t.Fatal(err)
	}
	var prod, ver struct{ ID int64 }
	if s := call(t, "POST", inst.URL+"/api/v1/products", token, "application/json", `{"name": "Up Cam", "category": "camera", "model_number": "UC-1"}`, &prod); s != 201 {
		t.Fatalf("create product: %d", s)
	}
	if s := call(t, "POST", inst.URL+"/api/v1/products/"+itoa(prod.ID)+"/versions", token, "application/json", `{"software_version": "1.0.0"}`, &ver); s != 201 {
		t.Fatalf("create version: %d", s)
	}
	return token, ver.ID
}

func authorityToken(t *testing.T, inst *servertest.Instance) string {
	t.Helper()
	ctx := context.Background()
	_, p, err := inst.Server.Login(ctx, demo.Email(demo.Owners["etsi-baseline"]), demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := inst.Server.NewAPIToken(ctx, p, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func activeLabel(t *testing.T, base string) string {
	t.Helper()
	var list struct {
		Items []struct{ ID string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(fetchText(t, base+"/api/v1/labels?status=active&scheme=etsi-baseline&limit=1")), &list); err != nil || len(list.Items) == 0 {
		t.Fatalf("no active etsi-baseline label: %v", err)
	}
	return list.Items[0].ID
}

// Issue 10, item 2: while the largest SBOM accepted is being stored, an
// authority's suspension answers within a second, and readers see the
// version's old SBOM until the new one is stored whole. The upload is held
// mid-way by the store's hook between two chunks: any transaction still
// open there would hold SQLite's write lock (or the rows on PostgreSQL)
// and the suspension would wait for it, up to the 10 s busy timeout.
func TestSuspendWhileLargestSBOMStored(t *testing.T) {
	body := largestSBOM(sbom.DefaultMaxComponents)
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			mfr, vid := uploader(t, inst, "Large Uploads")
			authority := authorityToken(t, inst)
			labelID := activeLabel(t, inst.URL)

			mid, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			inst.Store.SetChunkHook(func(done, total int) {
				if done >= total/2 {
					once.Do(func() {
						close(mid)
						select {
						case <-release:
						case <-time.After(2 * time.Minute):
						}
					})
				}
			})
			defer inst.Store.SetChunkHook(nil)
			type result struct {
				status int
				out    struct{ Components int }
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				var r result
				r.status = call(t, "PUT", inst.URL+"/api/v1/versions/"+itoa(vid)+"/sbom", mfr, "application/vnd.cyclonedx+json", body, &r.out)
				done <- r
			}()
			select {
			case <-mid:
			case r := <-done:
				t.Fatalf("the upload ended (%d) before reaching its middle", r.status)
			case <-time.After(3 * time.Minute):
				t.Fatal("the upload did not reach its middle in 3 minutes")
			}
			t.Logf("%d components (%d MiB): half stored after %v", sbom.DefaultMaxComponents, len(body)>>20, time.Since(start).Round(time.Millisecond))
			for _, action := range []string{"suspend", "restore"} {
				t0 := time.Now()
				s := call(t, "POST", inst.URL+"/api/v1/labels/"+labelID+"/actions", authority, "application/json",
					fmt.Sprintf(`{"action": %q, "reason": "checking the answer time during a large upload"}`, action), nil)
				took := time.Since(t0)
				t.Logf("%s mid-upload: %d in %v", action, s, took.Round(time.Millisecond))
				if s != 200 || took > time.Second {
					t.Errorf("%s while the largest SBOM is stored: %d in %v, want 200 within 1 s", action, s, took)
				}
			}
			var v struct {
				Components int `json:"components"`
			}
			if s := call(t, "GET", inst.URL+"/api/v1/products/"+itoa(versionProduct(t, inst, vid)), mfr, "", "", nil); s != 200 {
				t.Errorf("product page mid-upload: %d", s)
			}
			got, _ := inst.Server.Version(context.Background(), vid)
			v.Components = got.Components
			if v.Components != 0 {
				t.Errorf("mid-upload the version shows %d components; want none until the SBOM is stored whole", v.Components)
			}
			close(release)
			r := <-done
			if r.status != 200 || r.out.Components != sbom.DefaultMaxComponents {
				t.Fatalf("the upload: %d, %d components", r.status, r.out.Components)
			}
			t.Logf("stored in %v", time.Since(start).Round(time.Millisecond))
			if got, _ := inst.Server.Version(context.Background(), vid); got.Components != sbom.DefaultMaxComponents {
				t.Errorf("after the upload: %d components", got.Components)
			}

			// The same free-running: replace it while decisions keep
			// coming. Each waits for at most one chunk of the upload
			// (tens of milliseconds, a few hundred on a loaded machine);
			// the bound is generous so that only a transaction held for
			// the whole upload (seconds) fails it.
			inst.Store.SetChunkHook(nil)
			go func() {
				var r result
				r.status = call(t, "PUT", inst.URL+"/api/v1/versions/"+itoa(vid)+"/sbom", mfr, "application/vnd.cyclonedx+json", body, &r.out)
				done <- r
			}()
			var worst time.Duration
			n := 0
			for waiting := true; waiting; n++ {
				select {
				case r := <-done:
					if r.status != 200 {
						t.Errorf("the free-running upload: %d", r.status)
					}
					waiting = false
					continue
				case <-time.After(100 * time.Millisecond):
				}
				action := [2]string{"suspend", "restore"}[n%2]
				t0 := time.Now()
				s := call(t, "POST", inst.URL+"/api/v1/labels/"+labelID+"/actions", authority, "application/json",
					fmt.Sprintf(`{"action": %q, "reason": "during a free-running upload"}`, action), nil)
				worst = max(worst, time.Since(t0))
				if s != 200 {
					t.Errorf("%s during a free-running upload: %d", action, s)
				}
			}
			t.Logf("%d decisions during a free-running upload of the largest SBOM: the slowest took %v", n, worst.Round(time.Millisecond))
			if worst > 3*time.Second {
				t.Errorf("a decision during an upload took %v", worst)
			}
		})
	}
}

func versionProduct(t *testing.T, inst *servertest.Instance, vid int64) int64 {
	t.Helper()
	v, err := inst.Server.Version(context.Background(), vid)
	if err != nil {
		t.Fatal(err)
	}
	return v.ProductID
}

// rawCall is call with a body of bytes, answering the status, the problem
// detail and the Retry-After header.
func rawCall(t *testing.T, method, url, token, ctype string, body []byte) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p struct{ Detail string }
	json.Unmarshal(b, &p)
	return resp.StatusCode, p.Detail, resp.Header.Get("Retry-After")
}

// Issue 10, item 1: the component cap and the per-organisation quotas,
// each refused with a status and a message the uploader can act on, and
// nothing stored.
func TestUploadLimits(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.StartWith(t, d, func(c *server.Config) {
				c.Uploads = quota.Limits{SBOMComponents: 100, StoredComponents: 250, DailyUploads: 6, DailyBytes: 1 << 20}
			})
			mfr, v1 := uploader(t, inst, "Quota Devices")
			put := func(vid int64, n int) (int, string, string) {
				return rawCall(t, "PUT", inst.URL+"/api/v1/versions/"+itoa(vid)+"/sbom", mfr, "application/json", []byte(largestSBOM(n)))
			}
			// Over the cap: refused, saying what the cap is.
			if s, msg, _ := put(v1, 101); s != 422 || !strings.Contains(msg, "more than 100 components") {
				t.Errorf("101 components, cap 100: %d %q", s, msg)
			}
			if s, _, _ := put(v1, 100); s != 200 {
				t.Fatalf("100 components: %d", s)
			}
			var ver struct{ ID int64 }
			pid := versionProduct(t, inst, v1)
			newVersion := func(name string) int64 {
				if s := call(t, "POST", inst.URL+"/api/v1/products/"+itoa(pid)+"/versions", mfr, "application/json", `{"software_version": "`+name+`"}`, &ver); s != 201 {
					t.Fatalf("create version: %d", s)
				}
				return ver.ID
			}
			v2, v3 := newVersion("2.0"), newVersion("3.0")
			if s, _, _ := put(v2, 100); s != 200 {
				t.Fatalf("second SBOM: %d", s)
			}
			// 300 stored would pass 250: refused, the version unchanged.
			if s, msg, _ := put(v3, 100); s != 429 || !strings.Contains(msg, "250") {
				t.Errorf("over the stored components: %d %q", s, msg)
			}
			if v, _ := inst.Server.Version(context.Background(), v3); v.Components != 0 {
				t.Errorf("a refused SBOM was stored: %d components", v.Components)
			}
			// Replacing one counts what it replaces.
			if s, msg, _ := put(v2, 100); s != 200 {
				t.Errorf("replacing an SBOM at the quota: %d %q", s, msg)
			}
			// Uploads so far: the refused 101, three stored, the one over
			// the stored quota (parsed, so counted). Sixth: accepted;
			// seventh: over the day's count, with when to try again.
			if s, _, _ := put(v1, 50); s != 200 {
				t.Errorf("the sixth upload: %d", s)
			}
			s, msg, retry := put(v1, 50)
			if s != 429 || !strings.Contains(msg, "6 uploads in the last 24 hours") || retry == "" {
				t.Errorf("the seventh upload: %d %q, Retry-After %q", s, msg, retry)
			}
			// Evidence counts in the same quota.
			var app struct{ ID int64 }
			if st := call(t, "POST", inst.URL+"/api/v1/applications", mfr, "application/json", fmt.Sprintf(`{"version_id": %d, "level": "etsi-baseline"}`, v1), &app); st != 201 {
				t.Fatalf("apply: %d", st)
			}
			if st, msg, _ := rawCall(t, "POST", inst.URL+"/api/v1/applications/"+itoa(app.ID)+"/evidence?name=a.txt", mfr, "text/plain", []byte("report")); st != 429 {
				t.Errorf("evidence over the day's count: %d %q", st, msg)
			}
		})
	}
}

// The daily bytes: an evidence file that would pass them is refused before
// it is written, and an SBOM announcing too much is refused before it is
// read.
func TestUploadBytesQuota(t *testing.T) {
	inst := servertest.StartWith(t, servertest.Dialects[0], func(c *server.Config) {
		c.Uploads = quota.Limits{DailyBytes: 64 << 10}
	})
	mfr, v1 := uploader(t, inst, "Bytes Devices")
	var app struct{ ID int64 }
	if st := call(t, "POST", inst.URL+"/api/v1/applications", mfr, "application/json", fmt.Sprintf(`{"version_id": %d, "level": "etsi-baseline"}`, v1), &app); st != 201 {
		t.Fatalf("apply: %d", st)
	}
	url := inst.URL + "/api/v1/applications/" + itoa(app.ID) + "/evidence?name=a.txt"
	if st, msg, _ := rawCall(t, "POST", url, mfr, "text/plain", bytes.Repeat([]byte("a"), 40<<10)); st != 201 {
		t.Fatalf("40 KiB of 64: %d %q", st, msg)
	}
	if st, msg, _ := rawCall(t, "POST", url, mfr, "text/plain", bytes.Repeat([]byte("b"), 40<<10)); st != 429 || !strings.Contains(msg, "the 64 KiB it may send in 24 hours") {
		t.Errorf("80 KiB of 64: %d %q", st, msg)
	}
	if st, msg, _ := rawCall(t, "PUT", inst.URL+"/api/v1/versions/"+itoa(v1)+"/sbom", mfr, "application/json", []byte(largestSBOM(100))); st != 429 {
		t.Errorf("an SBOM past the day's bytes: %d %q", st, msg)
	}
}
