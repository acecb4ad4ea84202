package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/quota"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// Issue 10, item 1: one address registers a few organisations an hour,
// not an unbounded number; the refusal says when to try again, and makes
// no organisation.
func TestRegistrationRateLimited(t *testing.T) {
	inst := servertest.StartWith(t, "sqlite", func(c *server.Config) { c.RegistrationsPerHour = 3 })
	s := newSecSite(t, inst)
	count := func() int {
		orgs, err := inst.Store.Organisations(s.ctx, registry.Manufacturer)
		if err != nil {
			t.Fatal(err)
		}
		return len(orgs)
	}
	before := count()
	register := func(i int) (*http.Response, string) {
		return s.client().post("/register", url.Values{"org": {fmt.Sprintf("Spray %d Ltd", i)}, "country": {"NL"}, "name": {"S"},
			"email": {fmt.Sprintf("s%d@spray.example", i)}, "password": {"a long enough password"}, "password2": {"a long enough password"}}, nil)
	}
	for i := range 3 {
		if resp, body := register(i); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("registration %d: %d %s", i, resp.StatusCode, clipText(body))
		}
	}
	resp, body := register(3)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "too many registrations from your address") || !strings.Contains(body, "try again in") {
		t.Errorf("the fourth registration in an hour: %d %s", resp.StatusCode, clipText(body))
	}
	if n := count(); n != before+3 {
		t.Errorf("%d organisations made, want 3", n-before)
	}
}

// An SBOM over the server's cap is refused on the console page with the
// cap in the message, and no version is registered.
func TestConsoleSBOMOverCap(t *testing.T) {
	inst := servertest.StartWith(t, "sqlite", func(c *server.Config) { c.Uploads = quota.Limits{SBOMComponents: 2} })
	s := newSecSite(t, inst)
	m1 := s.client()
	m1.login(s.m1Email)
	a, err := inst.Store.Application(s.ctx, s.appM1)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := inst.Store.Versions(s.ctx, a.ProductID)
	sb := `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}`
	resp, body := m1.upload(fmt.Sprintf("/console/products/%d/versions", a.ProductID),
		url.Values{"csrf": {m1.csrf()}, "software_version": {"9.9.9-cap"}}, secFile{"sbom", "sbom.json", "application/json", strings.NewReader(sb)})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "more than 2 components") {
		t.Errorf("an SBOM over the cap: %d %s", resp.StatusCode, clipText(body))
	}
	if after, _ := inst.Store.Versions(s.ctx, a.ProductID); len(after) != len(before) {
		t.Errorf("a refused SBOM registered a version")
	}
}
