package httpd_test

// Headers a CDN can use (issue 15): every public answer has an entity tag
// and answers 304 to a request naming it; text worth compressing is sent
// gzip to clients that accept it; log files keep sendfile; the answers
// that show a label's status share one lifetime; anonymous pages never
// vary on Cookie.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "identity") // the transport must not decompress behind our back
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func aLogTile(t *testing.T, dir string) string {
	var tile string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && tile == "" && strings.Contains(p, string(filepath.Separator)+"tile"+string(filepath.Separator)) {
			rel, _ := filepath.Rel(dir, p)
			if server.IsLogPath(filepath.ToSlash(rel)) {
				tile = filepath.ToSlash(rel)
			}
		}
		return nil
	})
	if tile == "" {
		t.Fatal("the log has no tile")
	}
	return tile
}

func TestPublicAnswersForCDN(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	ls, _, err := inst.Server.Labels(context.Background(), store.LabelQuery{Limit: 1})
	if err != nil || len(ls) == 0 {
		t.Fatal("no label", err)
	}
	id := ls[0].ID
	tile := aLogTile(t, inst.Server.LogDir())
	for _, c := range []struct {
		path string
		gzip bool // text large enough to be worth compressing
	}{
		{"/labels/" + id, true},
		{"/labels/" + id + "?lang=de", true},
		{"/labels/" + id + "/de/", true},
		{"/api/v1/labels/" + id + "/status", false},
		{"/api/v1/labels/" + id, false}, // under a kilobyte
		{"/status/revocation/0", false},
		{"/status/suspension/0", false},
		{"/.well-known/hallmark/keys.json", false},
		{"/log/checkpoint", false},
		{"/log/" + tile, false},
		{"/labels", true},
		{"/api/v1/labels", true},
		{"/labels/" + id + "/credential.jwt", false},
	} {
		resp, body := get(t, inst.URL+c.path, nil)
		tag := resp.Header.Get("Etag")
		if resp.StatusCode != 200 || tag == "" {
			t.Errorf("%s: %d, ETag %q", c.path, resp.StatusCode, tag)
			continue
		}
		if v := resp.Header.Get("Vary"); strings.Contains(v, "Cookie") {
			t.Errorf("%s: Vary %q for an anonymous visitor: CDNs would not cache it", c.path, v)
		}
		again, rest := get(t, inst.URL+c.path, map[string]string{"If-None-Match": tag})
		if again.StatusCode != http.StatusNotModified || len(rest) != 0 {
			t.Errorf("%s with If-None-Match: %d and %d bytes, want 304 and none", c.path, again.StatusCode, len(rest))
		}
		gz, zbody := get(t, inst.URL+c.path, map[string]string{"Accept-Encoding": "gzip"})
		switch enc := gz.Header.Get("Content-Encoding"); {
		case c.gzip && enc != "gzip":
			t.Errorf("%s: not compressed (%d bytes of %s)", c.path, len(body), resp.Header.Get("Content-Type"))
		case !c.gzip && enc != "":
			t.Errorf("%s: compressed (%s), which gains nothing here", c.path, enc)
		case c.gzip:
			zr, err := gzip.NewReader(bytes.NewReader(zbody))
			if err != nil {
				t.Fatalf("%s: %v", c.path, err)
			}
			plain, _ := io.ReadAll(zr)
			if len(plain) < len(body)/2 || len(zbody) > len(plain)/2 {
				t.Errorf("%s: %d bytes compressed to %d, expanding to %d", c.path, len(body), len(zbody), len(plain))
			}
			if !strings.Contains(gz.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: compressed without Vary: Accept-Encoding", c.path)
			}
		}
	}
}

// A suspension reaches the label page, the status API and the status
// list within the same bound: their lifetimes agree.
func TestStatusLifetimesAgree(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	ls, _, _ := inst.Server.Labels(context.Background(), store.LabelQuery{Limit: 1})
	id := ls[0].ID
	for _, p := range []string{"/labels/" + id, "/labels/" + id + "/fr/", "/api/v1/labels/" + id + "/status", "/status/suspension/0", "/status/revocation/0",
		"/labels", "/api/v1/labels"} {
		resp, _ := get(t, inst.URL+p, nil)
		if cc := resp.Header.Get("Cache-Control"); cc != server.PublicCacheControl {
			t.Errorf("%s: Cache-Control %q, want %q like every answer showing a status", p, cc, server.PublicCacheControl)
		}
	}
	// A visitor whose cookie chose the language gets a page of their own.
	resp, _ := get(t, inst.URL+"/labels/"+id, map[string]string{"Cookie": "hallmark_lang=fr"})
	if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
		t.Errorf("a page in the cookie's language is %q: a shared cache would hand French to everyone", cc)
	}
}

// readerFrom notes whether the answer reached the connection's ReadFrom,
// where net/http sends a file with sendfile.
type readerFrom struct {
	*httptest.ResponseRecorder
	used bool
}

func (w *readerFrom) ReadFrom(r io.Reader) (int64, error) {
	w.used = true
	return io.Copy(w.ResponseRecorder, r)
}

func TestLogFilesSendfile(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	h, err := httpd.Handler(inst.Server)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/log/checkpoint", "/log/" + aLogTile(t, inst.Server.LogDir())} {
		w := &readerFrom{ResponseRecorder: httptest.NewRecorder()}
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 200 || !w.used {
			t.Errorf("%s: %d; the connection's ReadFrom reached: %v", p, w.Code, w.used)
		}
	}
}

// The registry API pages by cursor: following next walks every label
// once, in the order of one big page, with the filters kept.
func TestRegistryNextLinks(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	type page struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
		Total int    `json:"total"`
		Next  string `json:"next"`
	}
	read := func(url string) page {
		t.Helper()
		resp, body := get(t, url, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, filter := range []string{"", "&status=active"} {
		all := read(inst.URL + "/api/v1/labels?limit=1000" + filter)
		if all.Next != "" || len(all.Items) != all.Total || all.Total < 3 {
			t.Fatalf("one page of everything: %d of %d, next %q", len(all.Items), all.Total, all.Next)
		}
		var walked, want []string
		for _, l := range all.Items {
			want = append(want, l.ID)
		}
		url := inst.URL + "/api/v1/labels?limit=2" + filter
		for range all.Total + 1 {
			p := read(url)
			for _, l := range p.Items {
				walked = append(walked, l.ID)
				if filter != "" && l.Status != "active" {
					t.Errorf("the filter was lost on the way: %s is %s", l.ID, l.Status)
				}
			}
			if p.Next == "" {
				break
			}
			if !strings.HasPrefix(p.Next, inst.URL+"/api/v1/labels?") || !strings.Contains(p.Next, "cursor=") {
				t.Fatalf("next %q", p.Next)
			}
			url = p.Next
		}
		if strings.Join(walked, " ") != strings.Join(want, " ") {
			t.Errorf("walked %v\nwant %v", walked, want)
		}
	}
	if resp, _ := get(t, inst.URL+"/api/v1/labels?cursor=not-a-cursor", nil); resp.StatusCode != 400 {
		t.Errorf("a forged cursor got %d, want 400", resp.StatusCode)
	}
}
