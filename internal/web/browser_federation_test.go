package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// TestBrowserFederationPage opens the federation page of an instance that
// mirrors a peer whose registry was changed behind its log's back: the
// alarm is shown with its evidence (opened), the mirror's row and the
// product labelled here that the peer suspended are listed, and the page
// does not scroll sideways on a phone or a desktop.
func TestBrowserFederationPage(t *testing.T) {
	execPath := chromiumPath(t)
	ctx := context.Background()
	a := servertest.Start(t, "sqlite")
	b := servertest.StartWith(t, "sqlite", func(c *server.Config) { c.MirrorGrace = 1 })
	if _, err := b.Server.RecognisePeer(ctx, a.URL); err != nil {
		t.Fatal(err)
	}
	// A suspended label at A, shown active by its registry: the log says otherwise.
	resp, err := http.Get(a.URL + "/api/v1/labels?limit=1&status=suspended")
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Items []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if len(l.Items) == 0 {
		t.Fatal("no suspended label in the demo")
	}
	if _, err := b.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", a.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE labels SET status = 'active' WHERE id = ?`, l.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := b.Server.MirrorPeers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	br := newBrowser(t, execPath)
	for _, vp := range []struct {
		name          string
		width, height int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		br.do("set the viewport", chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulatePortrait))
		br.navigate(b.URL + "/federation")
		eval[bool](br, `(() => { document.querySelectorAll("details").forEach(d => d.open = true); return true })()`)
		if n := br.count("li.alarm.open"); n != 1 {
			t.Errorf("%s: %d open alarms shown, want 1", vp.name, n)
		}
		if s := br.text("li.alarm.open"); !strings.Contains(s, l.Items[0].ID) || !strings.Contains(s, "logged_decision") {
			t.Errorf("%s: the alarm reads %q", vp.name, s)
		}
		if n := br.count("#mirrors ~ table tbody tr"); n < 1 {
			t.Errorf("%s: no mirror row", vp.name)
		}
		if s := br.text("main"); !strings.Contains(s, "Products suspended elsewhere") {
			t.Errorf("%s: no linked-products section", vp.name)
		}
		o := eval[struct {
			Scroll int `json:"scroll"`
			Client int `json:"client"`
		}](br, `({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})`)
		if o.Scroll > o.Client+1 {
			t.Errorf("%s: the page is %d px wide for a %d px window", vp.name, o.Scroll, o.Client)
		}
		shot(br, "federation-"+vp.name)
	}
	for _, p := range br.consoleProblems() {
		t.Errorf("browser reported: %s", p)
	}
}
