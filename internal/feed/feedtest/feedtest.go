// Package feedtest serves the shared corpus' CSAF provider trees over
// loopback HTTPS for tests (the ROLIE schema wants https links), with the provider's own test key to publish
// more documents, and counts the requests it answers.
package feedtest

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// The corpus trees, as gocsaf's test data lays them out.
const (
	DirectoryTree = "simple-directory-provider"
	ROLIETree     = "simple-rolie-provider"
	// Corpus is the document both trees publish.
	Corpus = "avendor-advisory-0004.json"
)

// Provider is one provider tree served at URL.
type Provider struct {
	URL  string // the tree's root: provider-metadata.json is below it
	Key  *openpgp.Entity
	tree string
	srv  *httptest.Server

	mu     sync.Mutex
	files  map[string][]byte // path below the root, without the leading slash
	listed map[string]time.Time
	hits   map[string]int
	conds  int // requests with If-None-Match
}

// CorpusDir returns the folder of the shared corpus' provider trees, which
// lives beside the repository; the caller's package sits two levels below
// its root. Without it the test skips, except in CI (CI=true).
func CorpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "csaf", "providers")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus folder %s is missing (CI=true): %v", dir, err)
		}
		t.Skipf("corpus folder %s is absent: skipping (it fails instead when CI=true)", dir)
	}
	return dir
}

// Serve serves a corpus tree (DirectoryTree or ROLIETree) until the test
// ends, its {{.URL}} templates rendered with the server's URL.
func Serve(t testing.TB, tree string) *Provider {
	t.Helper()
	root := filepath.Join(CorpusDir(t), tree)
	p := &Provider{tree: tree, files: map[string][]byte{}, hits: map[string]int{},
		listed: map[string]time.Time{Corpus: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}}
	p.srv = httptest.NewTLSServer(p)
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL + "/" + tree
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if bytes.Contains(b, []byte("{{")) {
			var out bytes.Buffer
			tmpl, err := template.New(rel).Parse(string(b))
			if err != nil {
				return err
			}
			if err := tmpl.Execute(&out, map[string]any{"URL": p.URL, "EnableSha256": true, "EnableSha512": true}); err != nil {
				return err
			}
			b = out.Bytes()
		}
		p.files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(p.files["openpgp/privkey.asc"]))
	if err != nil || len(ring) != 1 {
		t.Fatalf("the corpus' test key: %v", err)
	}
	p.Key = ring[0]
	delete(p.files, "openpgp/privkey.asc")
	return p
}

// Client is an HTTP client that trusts the server's certificate.
func (p *Provider) Client() *http.Client { return p.srv.Client() }

// MetadataURL is the URL of the tree's provider-metadata.json.
func (p *Provider) MetadataURL() string { return p.URL + "/provider-metadata.json" }

// ServeHTTP answers with the file at the path, an ETag of its contents,
// and 304 when If-None-Match names it.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/"+p.tree+"/")
	p.mu.Lock()
	p.hits[path]++
	if r.Header.Get("If-None-Match") != "" {
		p.conds++
	}
	b, ok := p.files[path]
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(b)
}

// Hits is how many requests a path below the root has had.
func (p *Provider) Hits(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// Requests is how many requests were answered, and how many of them were
// conditional.
func (p *Provider) Requests() (total, conditional int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.hits {
		total += n
	}
	return total, p.conds
}

// Documents is the path below the root of every listed document.
func (p *Provider) Documents() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for name := range p.listed {
		out = append(out, "white/"+name)
	}
	slices.Sort(out)
	return out
}

// File is a served file's content.
func (p *Provider) File(path string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.files[path]
}

// Set replaces (or adds, or with nil removes) a served file as is.
func (p *Provider) Set(path string, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b == nil {
		delete(p.files, path)
		return
	}
	p.files[path] = b
}

// Document is the corpus document with its tracking id replaced by id.
func (p *Provider) Document(id string) []byte {
	return bytes.ReplaceAll(p.File("white/"+Corpus), []byte(`"Avendor-advisory-0004"`), []byte(fmt.Sprintf("%q", id)))
}

// Publish puts a document under white/ with its .sha256, .sha512 and
// .asc (signed by signer), and lists it as updated at the given time.
func (p *Provider) Publish(t testing.TB, name string, body []byte, updated time.Time, signer *openpgp.Entity) {
	t.Helper()
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, signer, bytes.NewReader(body), nil); err != nil {
		t.Fatal(err)
	}
	s256, s512 := sha256.Sum256(body), sha512.Sum512(body)
	p.mu.Lock()
	defer p.mu.Unlock()
	path := "white/" + name
	p.files[path] = body
	p.files[path+".sha256"] = []byte(hex.EncodeToString(s256[:]) + "  " + name + "\n")
	p.files[path+".sha512"] = []byte(hex.EncodeToString(s512[:]) + "  " + name + "\n")
	p.files[path+".asc"] = sig.Bytes()
	p.listed[name] = updated
	p.relist(t)
}

// Relist lists a published document again as updated at the given time,
// its files as they are.
func (p *Provider) Relist(t testing.TB, name string, updated time.Time) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listed[name] = updated
	p.relist(t)
}

// relist writes the listings from p.listed: changes.csv (newest first)
// and index.txt for the directory tree, the ROLIE feed's entries for the
// other, each entry like the corpus' own.
func (p *Provider) relist(t testing.TB) {
	names := make([]string, 0, len(p.listed))
	for n := range p.listed {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := p.listed[b].Compare(p.listed[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if p.tree == DirectoryTree {
		var csv, index strings.Builder
		for _, n := range names {
			fmt.Fprintf(&csv, "%q,%q\n", n, p.listed[n].UTC().Format(time.RFC3339))
			fmt.Fprintln(&index, n)
		}
		p.files["white/changes.csv"], p.files["white/index.txt"] = []byte(csv.String()), []byte(index.String())
		return
	}
	var feed map[string]map[string]any
	if err := json.Unmarshal(p.files["white/white-feed.json"], &feed); err != nil {
		t.Fatal(err)
	}
	entries := []any{}
	for _, n := range names {
		u := p.URL + "/white/" + n
		at := p.listed[n].UTC().Format(time.RFC3339)
		entries = append(entries, map[string]any{
			"id": strings.TrimSuffix(n, ".json"), "title": n, "published": at, "updated": at,
			"link": []map[string]string{{"rel": "self", "href": u}, {"rel": "hash", "href": u + ".sha256"},
				{"rel": "hash", "href": u + ".sha512"}, {"rel": "signature", "href": u + ".asc"}},
			"content": map[string]string{"type": "application/json", "src": u},
			"format":  map[string]string{"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"},
		})
	}
	feed["feed"]["entry"] = entries
	b, err := json.MarshalIndent(feed, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p.files["white/white-feed.json"] = b
}
