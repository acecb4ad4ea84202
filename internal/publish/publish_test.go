package publish_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
			p := &publish.Publisher{App: inst.Server, Handler: h, Dir: dir, Static: web.StaticFiles()}
			rep, err := p.All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ls, total, err := inst.Server.Labels(ctx, store.LabelQuery{Limit: 1000})
			if err != nil || len(ls) < 2 {
				t.Fatal(len(ls), err)
			}
			if rep.Files < total*(3+len(i18n.Supported)) || rep.Written != rep.Files {
				t.Errorf("report %+v for %d labels", rep, total)
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
				for _, lang := range i18n.Supported {
					compare("/labels/"+l.ID+"?lang="+string(lang), "/labels/"+l.ID+"/index."+string(lang)+".html")
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
			if b, err := os.ReadFile(filepath.Join(dir, "_headers")); err != nil || !strings.Contains(string(b), "/status/*") {
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
