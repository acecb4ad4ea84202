package web_test

import (
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// A console page is one signed-in user's: no shared or browser cache may
// keep it, so a later user of the same machine or proxy never sees it.
func TestConsolePagesNotStored(t *testing.T) {
	s := newSecSite(t, servertest.Start(t, store.SQLite))
	c := s.client()
	c.login(s.m1Email)
	for _, path := range []string{"/console", "/console/products", "/console/applications", "/console/findings", "/console/labels"} {
		resp, _ := c.get(path)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d, Cache-Control %q; want 200 and no-store", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}
