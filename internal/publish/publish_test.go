package publish_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/i18n"
	"github.com/hallmark-iot/hallmark/internal/publish"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
	"github.com/hallmark-iot/hallmark/internal/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func body(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The static tree, served by a plain file server, answers the QR path,
// the status lists, the keys and the log byte for byte as serve does —
// also after a suspension republished it.
func TestStaticTreeAnswersAsServe(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			// A clock that stands still: pages say the time they are as of.
			at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
			inst := servertest.StartWith(t, d, func(c *server.Config) { c.Clock = func() time.Time { return at } })
			ctx := context.Background()
			h, err := httpd.Handler(inst.Server)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			ls, total, err := inst.Server.Labels(ctx, store.LabelQuery{Limit: 1000})
			if err != nil || len(ls) < 2 {
				t.Fatal(len(ls), err)
			}
			// A page where an older Hallmark put the German one: it would
			// keep showing a status that is no longer true.
			stale := filepath.Join(dir, "labels", ls[0].ID, "index.de.html")
			os.MkdirAll(filepath.Dir(stale), 0o755)
			os.WriteFile(stale, []byte("Gültig"), 0o644)
			var progress []int
			p := &publish.Publisher{App: inst.Server, Handler: h, Dir: dir, Static: web.StaticFiles(),
				Progress: func(done, total int) { progress = append(progress, done, total) }}
			rep, err := p.All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Per label: a page per language and the default one, the QR
			// code, the credential, the status answer.
			if rep.Files < total*(4+len(i18n.Supported)) || rep.Written != rep.Files {
				t.Errorf("report %+v for %d labels", rep, total)
			}
			if n := len(progress); n < 2 || progress[n-2] != total || progress[n-1] != total {
				t.Errorf("progress heard %v, want it to end at %d of %d labels", progress, total, total)
			}
			if _, err := os.Stat(stale); err == nil {
				t.Error("the stale index.de.html of an older tree is still there")
			}
			// The default page is the English one, written once.
			a, err1 := os.Stat(filepath.Join(dir, "labels", ls[0].ID, "index.html"))
			b, err2 := os.Stat(filepath.Join(dir, "labels", ls[0].ID, "en", "index.html"))
			if err1 != nil || err2 != nil || !os.SameFile(a, b) {
				t.Errorf("the default and the English page are not one file: %v %v", err1, err2)
			}
			static := httptest.NewServer(http.FileServer(http.Dir(dir)))
			defer static.Close()
			c := static.Client()
			compare := func(servePath, staticPath string) {
				t.Helper()
				s1, want := body(t, c, inst.URL+servePath)
				s2, got := body(t, c, static.URL+staticPath)
				if s1 != 200 || s2 != 200 || got != want {
					t.Errorf("%s: serve %d (%d bytes), static %s %d (%d bytes), equal %v", servePath, s1, len(want), staticPath, s2, len(got), got == want)
				}
			}
			id := ls[0].ID
			for _, l := range ls[:2] {
				// The QR path itself: the file server finds index.html.
				compare("/labels/"+l.ID, "/labels/"+l.ID)
				compare("/labels/"+l.ID+"/qr.svg", "/labels/"+l.ID+"/qr.svg")
				compare("/labels/"+l.ID+"/credential.jwt", "/labels/"+l.ID+"/credential.jwt")
				compare("/api/v1/labels/"+l.ID+"/status", "/api/v1/labels/"+l.ID+"/status")
				for _, lang := range i18n.Supported {
					// The address the page's switcher links to, on both;
					// ?lang= on serve is the same page.
					compare(web.LabelPath(l.ID, lang), web.LabelPath(l.ID, lang))
					compare("/labels/"+l.ID+"?lang="+string(lang), web.LabelPath(l.ID, lang))
				}
				// The switcher leads from each language to the others
				// in the tree, and the page names them all.
				_, page := body(t, c, static.URL+web.LabelPath(l.ID, i18n.German))
				for _, lang := range i18n.Supported {
					href := web.LabelPath(l.ID, lang)
					if lang != i18n.German && !strings.Contains(page, `<a href="`+href+`" lang="`+string(lang)+`"`) {
						t.Errorf("the German page does not switch to %s at %s", lang, href)
					}
					if !strings.Contains(page, `<link rel="alternate" hreflang="`+string(lang)+`" href="`+inst.URL+href+`">`) {
						t.Errorf("the German page does not name its %s address", lang)
					}
					if st, _ := body(t, c, static.URL+href); st != 200 {
						t.Errorf("the tree does not answer %s: %d", href, st)
					}
				}
				if !strings.Contains(page, `<link rel="canonical" href="`+inst.URL+web.LabelPath(l.ID, i18n.German)+`">`) {
					t.Error("the German page's canonical address is not its own")
				}
			}
			for _, purpose := range []string{"revocation", "suspension", "message"} {
				compare("/status/"+purpose+"/0", "/status/"+purpose+"/0")
			}
			compare("/.well-known/hallmark/keys.json", "/.well-known/hallmark/keys.json")
			compare("/.well-known/hallmark/log.json", "/.well-known/hallmark/log.json")
			compare("/log/checkpoint", "/log/checkpoint")
			compare("/labels", "/labels/")
			if st, _ := body(t, c, static.URL+"/registry/labels-1.json"); st != 200 {
				t.Errorf("registry: %d", st)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "_headers")); err != nil || !strings.Contains(string(b), "/status/*") ||
				!strings.Contains(string(b), "/api/v1/labels/*/status\n  Content-Type: application/json\n  Cache-Control: "+server.PublicCacheControl+"\n") {
				t.Errorf("no sidecar of cache lifetimes: %v", err)
			}

			// A suspension, republished: the static tree follows.
			if _, err := inst.Server.ChangeLabel(ctx, auth.System, id, assess.SuspendLabel, "exploited vulnerability"); err != nil {
				t.Fatal(err)
			}
			again, err := p.Changed(ctx, []string{id})
			if err != nil {
				t.Fatal(err)
			}
			if again.Written == 0 || again.Written > 3*len(i18n.Supported)+20 {
				t.Errorf("republishing one label wrote %d files", again.Written)
			}
			compare("/labels/"+id, "/labels/"+id)
			compare(web.LabelPath(id, i18n.Japanese), web.LabelPath(id, i18n.Japanese))
			compare("/api/v1/labels/"+id+"/status", "/api/v1/labels/"+id+"/status")
			if _, st := body(t, c, static.URL+"/api/v1/labels/"+id+"/status"); !strings.Contains(st, `"status": "suspended"`) {
				t.Errorf("the tree's status answer after the suspension: %s", st)
			}
			compare("/status/suspension/0", "/status/suspension/0")
			compare("/status/message/0", "/status/message/0")
		})
	}
}

// serve --publish: Follow publishes at start and after each decision.
func TestFollowRepublishes(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	inst := servertest.StartWith(t, store.SQLite, func(c *server.Config) { c.Clock = func() time.Time { return at } })
	h, err := httpd.Handler(inst.Server)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := &publish.Publisher{App: inst.Server, Handler: h, Dir: dir}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Follow(ctx, 20*time.Millisecond, func(r publish.Report, err error) {
		if err != nil {
			t.Error(err)
		}
		t.Logf("published %+v", r)
	})
	ls, _, _ := inst.Server.Labels(ctx, store.LabelQuery{Limit: 1, Status: assess.Active})
	id := ls[0].ID
	page := filepath.Join(dir, "labels", id, "index.html")
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not published within 30 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the first publication", func() bool { _, err := os.Stat(page); return err == nil })
	before, _ := os.ReadFile(page)
	if _, err := inst.Server.ChangeLabel(ctx, auth.System, id, assess.SuspendLabel, "exploited vulnerability"); err != nil {
		t.Fatal(err)
	}
	_, want := body(t, http.DefaultClient, inst.URL+"/labels/"+id)
	waitFor("the suspended label's page", func() bool { b, _ := os.ReadFile(page); return string(b) == want })
	if string(before) == want {
		t.Error("the page did not change with the suspension")
	}
	_, list := body(t, http.DefaultClient, inst.URL+"/status/suspension/0")
	waitFor("the status list", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "status", "suspension", "0"))
		return string(b) == list
	})
}

// A label that cannot be published stops the publication: the workers
// take no further labels, and the error names the label.
func TestFirstErrorStopsPublication(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	h, err := httpd.Handler(inst.Server)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	asked := map[string]bool{}
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := strings.CutPrefix(r.URL.Path, "/labels/"); ok && strings.Contains(id, "/") {
			mu.Lock()
			asked[strings.SplitN(id, "/", 2)[0]] = true
			mu.Unlock()
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	})
	p := &publish.Publisher{App: inst.Server, Handler: failing, Dir: t.TempDir()}
	_, err = p.All(context.Background())
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "label ") {
		t.Fatalf("publishing with broken label pages: %v", err)
	}
	_, total, _ := inst.Server.Labels(context.Background(), store.LabelQuery{Limit: 1})
	if workers := runtime.GOMAXPROCS(0); total > 2*workers && len(asked) > workers {
		t.Errorf("%d labels were tried after the first failed (%d workers)", len(asked), workers)
	}
}
