package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The console's webhooks: added with the form (the secret shown once,
// never on the findings page), listed, deleted; a form without the CSRF
// token changes nothing.
func TestConsoleWebhooks(t *testing.T) {
	s := newSecSite(t, servertest.StartWith(t, store.SQLite, func(c *server.Config) { c.WebhooksInsecure = true }))
	m1 := s.client()
	m1.login(s.m1Email)
	hook := "http://127.0.0.1:9/console-hook"

	if resp, _ := m1.post("/console/webhooks", url.Values{"url": {hook}}, nil); resp.StatusCode < 400 {
		t.Fatalf("without the CSRF token: %d", resp.StatusCode)
	}
	resp, body := m1.post("/console/webhooks", url.Values{"url": {hook}, "csrf": {m1.csrf()}}, nil)
	secret := regexp.MustCompile(`id="webhook-secret">(whsec_[A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || secret == nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("add: %d %s", resp.StatusCode, clipText(body))
	}
	_, page := m1.get("/console/findings")
	if !strings.Contains(page, hook) || strings.Contains(page, secret[1]) || !strings.Contains(page, `id="webhooks"`) {
		t.Fatalf("the findings page: endpoint listed %v, secret shown %v", strings.Contains(page, hook), strings.Contains(page, secret[1]))
	}
	hooks, err := s.inst.Store.Webhooks(s.ctx, s.m1)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("stored %+v %v", hooks, err)
	}
	if resp, _ := m1.post("/console/webhooks/"+strconv.FormatInt(hooks[0].ID, 10)+"/delete", url.Values{"csrf": {m1.csrf()}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if hooks, _ := s.inst.Store.Webhooks(s.ctx, s.m1); len(hooks) != 0 {
		t.Fatalf("still stored after delete: %+v", hooks)
	}
}
