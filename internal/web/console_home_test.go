package web_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// A console home separates what needs the user's action from what waits
// on others, and links to the full lists, whose totals agree.
func TestConsoleHomeSeparatesWork(t *testing.T) {
	site := newSecSite(t, servertest.Start(t, "sqlite"))
	count := regexp.MustCompile(`<h2 id="(mine|others)-h">[^(]*\((\d+)\)</h2>`)
	var c *secClient
	var body string
	found := map[string]int{}
	tried := map[string]bool{}
	for _, org := range demo.Owners {
		if tried[org] {
			continue
		}
		tried[org] = true
		c = site.client()
		c.login(demo.Email(org))
		_, body = c.get("/console")
		for _, m := range count.FindAllStringSubmatch(body, -1) {
			found[m[1]], _ = strconv.Atoi(m[2])
		}
		if len(found) != 2 {
			t.Fatalf("%s's console does not show both 'needs your action' and 'waiting on others': %v", org, found)
		}
		if found["mine"] > 0 && found["others"] > 0 {
			break
		}
	}
	if found["mine"] == 0 || found["others"] == 0 {
		t.Fatal("no demo authority has work of both kinds")
	}
	if !strings.Contains(body, `href="/console/applications?state=submitted&amp;state=assessed"`) ||
		!strings.Contains(body, `href="/console/applications?state=in-assessment"`) {
		t.Error("the console home does not link to the full lists (submitted and assessed; in assessment)")
	}
	_, list := c.get("/console/applications?state=submitted&state=assessed")
	if !strings.Contains(list, "Applications: "+strconv.Itoa(found["mine"])+".") {
		t.Errorf("the full list of what needs action does not count %d", found["mine"])
	}
	if resp, _ := c.get("/console/applications?state=nonsense"); resp.StatusCode != 400 {
		t.Errorf("an unknown state gave HTTP %d, want 400", resp.StatusCode)
	}
}
