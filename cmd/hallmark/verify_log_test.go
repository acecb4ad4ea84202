package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// Every demo label carries a receipt that verify checks, online and from
// its cache offline; a log that records another credential is caught.
func TestVerifyChecksLogReceipt(t *testing.T) {
	inst := servertest.Start(t, "sqlite")
	id := someLabel(t, inst.URL, "active")
	cache := t.TempDir()
	verify := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"verify", "--status-cache", cache}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := verify(inst.URL + "/labels/" + id)
	if code != 0 || !strings.Contains(out, "issue logged as entry") {
		t.Fatalf("online: exit %d\n%s", code, out)
	}
	cred := filepath.Join(t.TempDir(), "label.jwt")
	resp, err := http.Get(inst.URL + "/labels/" + id + "/credential.jwt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(cred, b, 0o644)
	code, out = verify("--offline", cred)
	if code != 0 || !strings.Contains(out, "issue logged as entry") {
		t.Fatalf("offline from the cache: exit %d\n%s", code, out)
	}

	// A proxy that serves everything as is, except receipts whose logged
	// credential hash is swapped for another.
	target, _ := url.Parse(inst.URL)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(target.String() + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if strings.HasSuffix(r.URL.Path, "/receipts") {
			i := bytes.Index(b, []byte(`digest `))
			if i >= 0 {
				j := i + len("digest ")
				if b[j] == 'a' {
					b[j] = 'b'
				} else {
					b[j] = 'a'
				}
			}
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	}))
	defer proxy.Close()
	code, out = verify("--status-cache", t.TempDir(), "--keys", inst.URL+"/.well-known/hallmark/keys.json", proxy.URL+"/api/v1/labels/"+id+"/credential")
	if code != 10 || !strings.Contains(out, "the log records a different credential") {
		t.Fatalf("a log recording another credential: exit %d\n%s", code, out)
	}
}
