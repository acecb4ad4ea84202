package web

import (
	"net/url"
	"testing"
)

// After login the user is sent only to a page of this site: every known
// way of smuggling another site through ?next= lands on the console.
func TestSafeNextRefusesOtherSites(t *testing.T) {
	for _, bad := range []string{
		"", "https://evil.example/", "//evil.example/", "///evil.example/", "/\\evil.example/", "\\\\evil.example",
		"/\t/127.0.0.1:18099/pwned", "/\n/evil.example", "/\r/evil.example", "/%09/evil.example", "/%2F%2Fevil.example",
		"/%5Cevil.example", "/%5C%5Cevil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x",
		"http:/evil.example", "https:evil.example", "/\u2028/evil.example", "//evil.example@ok", "/\x00/evil.example",
		"evil.example", "./x", "../x",
	} {
		// The form value arrives decoded once, the query parameter too.
		for _, in := range []string{bad, mustUnescape(bad)} {
			if got := safeNext(in); got != "/console" {
				t.Errorf("safeNext(%q) = %q, want /console", in, got)
			}
		}
	}
	for in, want := range map[string]string{
		"/console/applications?state=submitted": "/console/applications?state=submitted",
		"/labels/HM-ABCD-EFGH":                  "/labels/HM-ABCD-EFGH",
		"/console/findings?state=open&page=2":   "/console/findings?state=open&page=2",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustUnescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}
