// Package publish writes Hallmark's public read path as static files, laid
// out so that a plain file server (or a CDN's storage bucket) maps each
// public URL to a file: QR scans and status checks then never reach
// Hallmark at all. Every file is the body `serve` answers for its URL,
// made by asking the same handler, so the two cannot drift apart.
//
//	/labels/{id}                   labels/{id}/index.html (English, as with no Accept-Language)
//	/labels/{id}/{lang}/           labels/{id}/{lang}/index.html (each language; the page's switcher links here)
//	/labels/{id}/qr.svg, credential.jwt   the same paths
//	/api/v1/labels/{id}/status     api/v1/labels/{id}/status
//	/status/{purpose}/{n}          status/{purpose}/{n}
//	/.well-known/hallmark/*.json   the same paths
//	/log/checkpoint, /log/tile/…   log/checkpoint, log/tile/…
//	/labels                        labels/index.html (the registry's first page)
//	/api/v1/labels?limit=1000      registry/labels-1.json, -2, … (next links to the following file)
//	/static/…                      static/…
//
// The English page and the default page are the same bytes, rendered
// once: labels/{id}/index.html is a hard link to labels/{id}/en/index.html
// (a copy where the file system has no hard links).
//
// A label's status answer says "as_of": in the tree that is the time the
// file was written, which is rewritten whenever the label changes (the
// status lists, which verifiers check, say their own time).
//
// _headers (the Netlify and Cloudflare Pages format) gives each kind of
// file its Content-Type and Cache-Control.
package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallmark-iot/hallmark/internal/i18n"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/web"
)

// Publisher writes the tree under Dir by asking Handler (httpd.Handler of
// App) for each public URL, as an anonymous visitor would.
type Publisher struct {
	App     *server.Server
	Handler http.Handler
	Dir     string
	// LogDir is where the log's files are read from when the server has
	// no log open (a command beside a running server); default App.LogDir.
	LogDir string
	// Static lists the site's assets (web.StaticFiles).
	Static fs.FS
	// Progress, if set, hears how many of the labels of a publication
	// are written, now and then and at the end.
	Progress func(done, total int)

	mu sync.Mutex // one publication at a time
	// The registry's files are rewritten at most every RegistryEvery
	// (at 100,000 labels they are 80 MB of JSON): dirty says a change
	// is still to be written.
	registryAt    time.Time
	registryDirty bool
}

// RegistryEvery is the shortest time between two rewrites of the
// registry's files after changes: within the public lifetime of 60 s, so
// a change reaches the static registry within two minutes.
const RegistryEvery = 30 * time.Second

// Report says what a publication wrote.
type Report struct {
	Files   int   // files in the tree
	Written int   // of which new or changed
	Bytes   int64 // bytes of the tree
	Took    time.Duration
}

func (r *Report) add(o Report) {
	r.Files, r.Written, r.Bytes = r.Files+o.Files, r.Written+o.Written, r.Bytes+o.Bytes
}

// Headers is the sidecar: each kind of file's type and lifetime, as serve
// sends them.
const Headers = `/labels/*
  Cache-Control: ` + server.PublicCacheControl + `
/labels/*/qr.svg
  Content-Type: image/svg+xml
  Cache-Control: public, max-age=31536000, immutable
/labels/*/credential.jwt
  Content-Type: application/vc+jwt
  Cache-Control: public, max-age=31536000, immutable
/api/v1/labels/*/status
  Content-Type: application/json
  Cache-Control: ` + server.PublicCacheControl + `
/status/*
  Content-Type: application/vc+jwt
  Cache-Control: ` + server.PublicCacheControl + `
/registry/*
  Content-Type: application/json
  Cache-Control: ` + server.PublicCacheControl + `
/.well-known/hallmark/*
  Content-Type: application/json
  Cache-Control: public, max-age=3600
/log/checkpoint
  Content-Type: text/plain; charset=utf-8
  Cache-Control: public, max-age=5
/log/tile/*
  Content-Type: application/octet-stream
  Cache-Control: public, max-age=31536000, immutable
/static/*
  Cache-Control: public, max-age=3600
`

// RegistryPage is how many labels one registry file holds.
const RegistryPage = 1000

// All writes the whole tree.
func (p *Publisher) All(ctx context.Context) (Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	var rep Report
	var ids []string
	var after store.LabelKey
	for {
		page, _, err := p.App.Labels(ctx, store.LabelQuery{Limit: RegistryPage, After: after, NoTotal: true})
		if err != nil {
			return rep, err
		}
		for _, l := range page {
			ids = append(ids, l.ID)
		}
		if len(page) < RegistryPage {
			break
		}
		after = store.KeyOf(page[len(page)-1])
	}
	r, err := p.labels(ctx, ids)
	rep.add(r)
	if err != nil {
		return rep, err
	}
	for _, step := range []func(context.Context) (Report, error){p.shared, p.statusLists, p.registry, p.logFiles, p.static} {
		r, err := step(ctx)
		rep.add(r)
		if err != nil {
			return rep, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// Changed writes again what a change of the given labels (nil: any)
// touches: their pages, the status lists, the registry and the log.
func (p *Publisher) Changed(ctx context.Context, ids []string) (Report, error) {
	if ids == nil {
		return p.All(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	rep, err := p.labels(ctx, ids)
	p.registryDirty = true
	for _, step := range []func(context.Context) (Report, error){p.statusLists, p.registryIfDue, p.logFiles} {
		if err != nil {
			break
		}
		var r Report
		r, err = step(ctx)
		rep.add(r)
	}
	rep.Took = time.Since(start)
	return rep, err
}

// labels writes each label's files, as many labels at a time as there
// are processors (rendering the pages is the cost); the first error stops
// the others.
func (p *Publisher) labels(ctx context.Context, ids []string) (Report, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var rep Report
	done, reported := 0, time.Now()
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(ids), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if ctx.Err() != nil {
					continue // stopped: let the feeder finish
				}
				r, err := p.label(ctx, id)
				if err != nil {
					cancel(fmt.Errorf("label %s: %w", id, err))
				}
				mu.Lock()
				rep.add(r)
				done++
				if p.Progress != nil && (done == len(ids) || time.Since(reported) >= time.Second) {
					reported = time.Now()
					p.Progress(done, len(ids))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return rep, context.Cause(ctx)
}

// label writes a label's page in every language (the default page is the
// English one), its QR code, its credential and its status answer.
func (p *Publisher) label(ctx context.Context, id string) (Report, error) {
	var rep Report
	base := "/labels/" + url.PathEscape(id)
	dir := "labels/" + id + "/"
	files := [][2]string{{base + "/qr.svg", dir + "qr.svg"}, {base + "/credential.jwt", dir + "credential.jwt"},
		{"/api/v1" + base + "/status", "api/v1/" + dir + "status"}}
	for _, l := range i18n.Supported {
		files = append(files, [2]string{web.LabelPath(id, l), dir + string(l) + "/index.html"})
	}
	for _, f := range files {
		r, err := p.fetch(ctx, f[0], f[1])
		rep.add(r)
		if err != nil {
			return rep, err
		}
	}
	r, err := p.link(dir+string(i18n.English)+"/index.html", dir+"index.html")
	rep.add(r)
	if err != nil {
		return rep, err
	}
	// A tree written before the languages had addresses held their pages
	// as index.{lang}.html: gone, so that no stale status stays online.
	for _, l := range i18n.Supported {
		if err := os.Remove(p.path(dir + "index." + string(l) + ".html")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rep, err
		}
	}
	return rep, nil
}

// shared writes the key set and the log's description, and the sidecar.
func (p *Publisher) shared(ctx context.Context) (Report, error) {
	var rep Report
	paths := []string{"/.well-known/hallmark/keys.json"}
	if p.App.LogOrigin() != "" {
		paths = append(paths, "/.well-known/hallmark/log.json")
	}
	for _, u := range paths {
		r, err := p.fetch(ctx, u, strings.TrimPrefix(u, "/"))
		rep.add(r)
		if err != nil {
			return rep, err
		}
	}
	r, err := p.write("_headers", []byte(Headers))
	rep.add(r)
	return rep, err
}

// statusLists writes every list of every purpose that holds labels.
func (p *Publisher) statusLists(ctx context.Context) (Report, error) {
	var rep Report
	for _, purpose := range []string{label.PurposeRevocation, label.PurposeSuspension, label.PurposeMessage} {
		for n := 0; ; n++ {
			u := fmt.Sprintf("/status/%s/%d", purpose, n)
			body, status, err := p.get(ctx, u)
			if err != nil {
				return rep, err
			}
			if status == http.StatusNotFound {
				break
			}
			if status != http.StatusOK {
				return rep, fmt.Errorf("GET %s: %d", u, status)
			}
			r, err := p.write(strings.TrimPrefix(u, "/"), body)
			rep.add(r)
			if err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// registryIfDue rewrites the registry if a change is waiting and the
// last rewrite is RegistryEvery old.
func (p *Publisher) registryIfDue(ctx context.Context) (Report, error) {
	if !p.registryDirty || time.Since(p.registryAt) < RegistryEvery {
		return Report{}, nil
	}
	return p.registry(ctx)
}

// registry writes the registry's first page and the whole registry as
// JSON files of RegistryPage labels, each linking to the next file.
func (p *Publisher) registry(ctx context.Context) (Report, error) {
	p.registryAt, p.registryDirty = time.Now(), false
	rep, err := p.fetch(ctx, "/labels", "labels/index.html")
	if err != nil {
		return rep, err
	}
	u := fmt.Sprintf("/api/v1/labels?limit=%d", RegistryPage)
	for n := 1; u != ""; n++ {
		body, status, err := p.get(ctx, u)
		if err != nil {
			return rep, err
		}
		if status != http.StatusOK {
			return rep, fmt.Errorf("GET %s: %d", u, status)
		}
		var page map[string]json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil {
			return rep, err
		}
		u = ""
		if next, ok := page["next"]; ok {
			var s string
			json.Unmarshal(next, &s)
			nu, err := url.Parse(s)
			if err != nil {
				return rep, err
			}
			u = nu.RequestURI()
			page["next"], _ = json.Marshal(fmt.Sprintf("%s/registry/labels-%d.json", p.App.Config().PublicURL, n+1))
		}
		delete(page, "cursor") // meaningless in the tree
		out, err := json.MarshalIndent(page, "", "  ")
		if err != nil {
			return rep, err
		}
		r, err := p.write(fmt.Sprintf("registry/labels-%d.json", n), append(out, '\n'))
		rep.add(r)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// logFiles copies the checkpoint and every tile and entry bundle.
func (p *Publisher) logFiles(ctx context.Context) (Report, error) {
	var rep Report
	dir := p.LogDir
	if dir == "" {
		dir = p.App.LogDir()
	}
	if dir == "" {
		return rep, nil
	}
	err := filepath.WalkDir(dir, func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || ctx.Err() != nil {
			return err
		}
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !server.IsLogPath(rel) {
			return nil
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		r, err := p.write("log/"+rel, b)
		rep.add(r)
		return err
	})
	if err == nil {
		err = ctx.Err()
	}
	return rep, err
}

// static copies the site's stylesheet, script and images.
func (p *Publisher) static(ctx context.Context) (Report, error) {
	var rep Report
	if p.Static == nil {
		return rep, nil
	}
	err := fs.WalkDir(p.Static, ".", func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(p.Static, f)
		if err != nil {
			return err
		}
		r, err := p.write(path.Join("static", f), b)
		rep.add(r)
		return err
	})
	return rep, err
}

// fetch writes the body serve answers for u into file f.
func (p *Publisher) fetch(ctx context.Context, u, f string) (Report, error) {
	body, status, err := p.get(ctx, u)
	if err != nil {
		return Report{}, err
	}
	if status != http.StatusOK {
		return Report{}, fmt.Errorf("GET %s: %d", u, status)
	}
	return p.write(f, body)
}

// get asks the handler for u as an anonymous visitor with no preferences
// (no cookie, no Accept-Language, no compression).
func (p *Publisher) get(ctx context.Context, u string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	if pu, err := url.Parse(p.App.Config().PublicURL); err == nil {
		req.Host = pu.Host
	}
	req.RemoteAddr = "127.0.0.1:1"
	w := &recorder{header: http.Header{}, status: http.StatusOK}
	p.Handler.ServeHTTP(w, req)
	return w.body.Bytes(), w.status, nil
}

// path is where the tree's file f is on disk; f must stay inside Dir.
func (p *Publisher) path(f string) string {
	return filepath.Join(p.Dir, filepath.FromSlash(f))
}

func checkPath(f string) error {
	if strings.Contains(f, "..") || path.IsAbs(f) {
		return fmt.Errorf("publish: refusing the path %q", f)
	}
	return nil
}

// link makes the tree's file f the same file as src (written just
// before), through a temporary name and a rename like write; where hard
// links are not to be had, it copies.
func (p *Publisher) link(src, f string) (Report, error) {
	if err := checkPath(src); err != nil {
		return Report{}, err
	}
	if err := checkPath(f); err != nil {
		return Report{}, err
	}
	from, dst := p.path(src), p.path(f)
	si, err := os.Stat(from)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Files: 1, Bytes: si.Size()}
	if di, err := os.Stat(dst); err == nil && os.SameFile(si, di) {
		return rep, nil
	}
	tmp := filepath.Join(filepath.Dir(dst), fmt.Sprintf(".publish-link-%d", linkSeq.Add(1)))
	if err := os.Link(from, tmp); err != nil {
		b, rerr := os.ReadFile(from)
		if rerr != nil {
			return rep, rerr
		}
		return p.write(f, b)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return rep, err
	}
	rep.Written = 1
	return rep, nil
}

// linkSeq names link's temporary files apart (workers link at once).
var linkSeq atomic.Int64

// write puts b at f under Dir unless it is there already, through a
// temporary file and a rename: a file server never sees half a file.
func (p *Publisher) write(f string, b []byte) (Report, error) {
	rep := Report{Files: 1, Bytes: int64(len(b))}
	if err := checkPath(f); err != nil {
		return rep, err
	}
	dst := p.path(f)
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
		return rep, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return rep, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".publish-*")
	if err != nil {
		return rep, err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return rep, err
	}
	rep.Written = 1
	return rep, nil
}

// recorder keeps an answer in memory.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

// Follow publishes everything, then again after every change of labels,
// at most once per interval (changes in between are gathered), and the
// log's new files, until ctx ends. report hears of each publication that
// wrote something or failed.
func (p *Publisher) Follow(ctx context.Context, interval time.Duration, report func(Report, error)) {
	var mu sync.Mutex
	pending, all := map[string]bool{}, true
	wake := make(chan struct{}, 1)
	wake <- struct{}{}
	p.App.OnLabelsChanged(func(ids []string) {
		mu.Lock()
		if ids == nil {
			all = true
		}
		for _, id := range ids {
			pending[id] = true
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
		mu.Lock()
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		everything := all
		pending, all = map[string]bool{}, false
		mu.Unlock()
		var rep Report
		var err error
		switch {
		case everything:
			rep, err = p.All(ctx)
		case len(ids) > 0:
			rep, err = p.Changed(ctx, ids)
		default:
			p.mu.Lock()
			rep, err = p.logFiles(ctx)
			if err == nil {
				var r Report
				r, err = p.registryIfDue(ctx)
				rep.add(r)
			}
			p.mu.Unlock()
		}
		if ctx.Err() != nil {
			return // stopping: a pass cut short is not a failure to report
		}
		if rep.Written > 0 || err != nil {
			report(rep, err)
		}
		select { // at most once per interval
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
