package cdn_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/cdn"
)

func serve(t *testing.T, h http.Handler, method string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/x", nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func handler(cc, ct, body string) http.Handler {
	return cdn.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", ct)
		io.WriteString(w, body)
	}), 0)
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestPublicAnswerTaggedAndRevalidated(t *testing.T) {
	body := strings.Repeat("<p>a label page</p>", 200)
	h := handler("public, max-age=60", "text/html; charset=utf-8", body)
	first := serve(t, h, "GET", nil)
	tag := first.Header().Get("Etag")
	if first.Code != 200 || tag == "" || first.Body.String() != body {
		t.Fatalf("first answer: %d, ETag %q, %d bytes", first.Code, tag, first.Body.Len())
	}
	if first.Header().Get("Content-Encoding") != "" {
		t.Error("compressed for a client that did not ask for it")
	}
	if !strings.Contains(first.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q: a shared cache would hand gzip to clients that cannot read it", first.Header().Get("Vary"))
	}
	again := serve(t, h, "GET", map[string]string{"If-None-Match": tag})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 || again.Header().Get("Etag") != tag {
		t.Errorf("revalidation: %d with %d bytes, ETag %q; want 304, empty, %q", again.Code, again.Body.Len(), again.Header().Get("Etag"), tag)
	}
	if other := serve(t, h, "GET", map[string]string{"If-None-Match": `"something-else"`}); other.Code != 200 {
		t.Errorf("a stale tag got %d, want the body", other.Code)
	}
	gz := serve(t, h, "GET", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if gz.Header().Get("Content-Encoding") != "gzip" || gunzip(t, gz.Body.Bytes()) != body {
		t.Fatalf("gzip: Content-Encoding %q", gz.Header().Get("Content-Encoding"))
	}
	if gz.Body.Len() >= len(body)/2 {
		t.Errorf("compressed %d bytes into %d", len(body), gz.Body.Len())
	}
	if gz.Header().Get("Etag") == tag {
		t.Error("the compressed bytes carry the identity body's strong tag")
	}
	// A client holding the compressed variant revalidates it as well.
	if r := serve(t, h, "GET", map[string]string{"If-None-Match": gz.Header().Get("Etag"), "Accept-Encoding": "gzip"}); r.Code != 304 {
		t.Errorf("revalidating the gzip variant: %d", r.Code)
	}
	if r := serve(t, h, "GET", map[string]string{"Accept-Encoding": "gzip;q=0, identity"}); r.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 still got gzip")
	}
	if r := serve(t, h, "HEAD", nil); r.Header().Get("Etag") != tag || r.Body.Len() != 0 {
		t.Errorf("HEAD: ETag %q, %d bytes", r.Header().Get("Etag"), r.Body.Len())
	}
}

func TestNotCompressed(t *testing.T) {
	for name, h := range map[string]http.Handler{
		"tiny":       handler("public, max-age=60", "application/json", `{"status":"active"}`),
		"image":      handler("public, max-age=60", "image/png", strings.Repeat("\x89PNG", 1000)),
		"credential": handler("public, max-age=60", "application/vc+jwt", strings.Repeat("eyJhbGciOiJFZERTQSJ9", 100)),
	} {
		r := serve(t, h, "GET", map[string]string{"Accept-Encoding": "gzip"})
		if r.Header().Get("Content-Encoding") != "" {
			t.Errorf("%s: compressed", name)
		}
		if r.Header().Get("Etag") == "" {
			t.Errorf("%s: no ETag", name)
		}
	}
}

func TestPrivateAnswersUntouched(t *testing.T) {
	body := strings.Repeat("your account ", 200)
	for _, cc := range []string{"", "no-store", "private, max-age=60", "public, no-store"} {
		r := serve(t, handler(cc, "text/html", body), "GET", map[string]string{"Accept-Encoding": "gzip"})
		if r.Header().Get("Etag") != "" || r.Header().Get("Content-Encoding") != "" || r.Body.String() != body {
			t.Errorf("Cache-Control %q: ETag %q, encoding %q", cc, r.Header().Get("Etag"), r.Header().Get("Content-Encoding"))
		}
	}
}

// readerFromRecorder notes whether io.Copy reached the connection's own
// ReadFrom (which is where net/http uses sendfile).
type readerFromRecorder struct {
	*httptest.ResponseRecorder
	used bool
}

func (w *readerFromRecorder) ReadFrom(r io.Reader) (int64, error) {
	w.used = true
	return io.Copy(w.ResponseRecorder, r)
}

func TestFilesKeepReadFrom(t *testing.T) {
	h := cdn.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Etag", `W/"tile"`)
		io.CopyN(w, strings.NewReader(strings.Repeat("h", 8192)), 8192) // as http.ServeContent copies
	}), 0)
	w := &readerFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest("GET", "/log/tile/0/000", nil))
	if !w.used || w.Body.Len() != 8192 {
		t.Errorf("ReadFrom used: %v, %d bytes", w.used, w.Body.Len())
	}
	w = &readerFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	r := httptest.NewRequest("GET", "/log/tile/0/000", nil)
	r.Header.Set("If-None-Match", `W/"tile"`)
	h.ServeHTTP(w, r)
	if w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("revalidating a file: %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestHandlerTagKept(t *testing.T) {
	body := strings.Repeat("as of 10:00 ", 200)
	h := cdn.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Etag", `W/"page"`)
		io.WriteString(w, body)
	}), 0)
	if r := serve(t, h, "GET", nil); r.Header().Get("Etag") != `W/"page"` {
		t.Errorf("ETag %q: the handler's tag was replaced", r.Header().Get("Etag"))
	}
	if r := serve(t, h, "GET", map[string]string{"If-None-Match": `"page"`}); r.Code != 304 {
		t.Errorf("weak comparison: %d", r.Code)
	}
	r := serve(t, h, "GET", map[string]string{"Accept-Encoding": "gzip"})
	if r.Header().Get("Etag") != `W/"page-gz"` || gunzip(t, r.Body.Bytes()) != body {
		t.Errorf("compressed: ETag %q", r.Header().Get("Etag"))
	}
}

// The compressed bodies kept stay within the budget.
func TestGzipBudget(t *testing.T) {
	n := 0
	h := cdn.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		n++
		io.WriteString(w, strings.Repeat("x", 2000)+strings.Repeat("y", n))
	}), 64<<10)
	for range 500 {
		r := serve(t, h, "GET", map[string]string{"Accept-Encoding": "gzip"})
		if r.Header().Get("Content-Encoding") != "gzip" {
			t.Fatal("not compressed")
		}
	}
	if got := cdn.KeptBytes(h); got > 64<<10 {
		t.Errorf("kept %d bytes of compressed bodies, budget 65536", got)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		inm, tag string
		want     bool
	}{
		{`"a"`, `"a"`, true}, {`W/"a"`, `"a"`, true}, {`"b", "a"`, `"a"`, true}, {`*`, `"a"`, true},
		{`"a-gz"`, `"a"`, true}, {`"b"`, `"a"`, false}, {``, `"a"`, false}, {`"a`, `"a"`, false},
	} {
		if got := cdn.Match(c.inm, c.tag); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.inm, c.tag, got)
		}
	}
}

// FuzzHeaders: If-None-Match and Accept-Encoding come from strangers.
func FuzzHeaders(f *testing.F) {
	f.Add(`W/"a", "b-gz", *`, "gzip;q=0.5, br")
	f.Add(`"`, ";q=")
	f.Fuzz(func(t *testing.T, inm, ae string) {
		tag := cdn.Tag([]byte(inm))
		if !cdn.Match(tag, tag) || !cdn.Match(inm+", "+tag, tag) {
			t.Fatalf("%q does not match itself", tag)
		}
		cdn.Match(inm, `W/"x"`)
		cdn.AcceptsGzip(ae)
		cdn.Public(ae)
	})
}
