package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCSRF(t *testing.T) {
	secret := NewCSRFSecret()
	other := NewCSRFSecret()
	sess, _ := NewSessionID()
	sess2, _ := NewSessionID()

	tok := CSRFToken(secret, sess)
	// The documented construction, so other components could verify it.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("csrf:" + sess))
	if want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); tok != want {
		t.Fatalf("CSRFToken = %q, want %q", tok, want)
	}
	if tok != CSRFToken(secret, sess) {
		t.Fatal("token not stable within a session")
	}
	if !CheckCSRF(secret, sess, tok) {
		t.Fatal("valid token refused")
	}
	for name, c := range map[string]struct {
		secret  []byte
		session string
		token   string
	}{
		"other session":      {secret, sess2, tok},
		"other secret":       {other, sess, tok},
		"empty token":        {secret, sess, ""},
		"truncated":          {secret, sess, tok[:len(tok)-1]},
		"extended":           {secret, sess, tok + "A"},
		"case changed":       {secret, sess, strings.ToUpper(tok)},
		"padded":             {secret, sess, tok + "="},
		"no session":         {secret, "", CSRFToken(secret, "")},
		"no session, forged": {secret, "", "x"},
		"short secret":       {secret[:16], sess, CSRFToken(secret[:16], sess)},
		"nil secret":         {nil, sess, CSRFToken(nil, sess)},
		"session's own id":   {secret, sess, sess},
	} {
		if CheckCSRF(c.secret, c.session, c.token) {
			t.Errorf("%s: token accepted", name)
		}
	}
	if CSRFToken(secret[:31], sess) != "" || CSRFToken(secret, "") != "" {
		t.Error("CSRFToken should refuse short secrets and empty sessions")
	}
}

func TestSameOrigin(t *testing.T) {
	const allowed = "https://hallmark.example"
	type hdr map[string]string
	cases := []struct {
		name    string
		method  string
		headers hdr
		allowed string
		want    bool
	}{
		{"GET needs nothing", "GET", nil, allowed, true},
		{"HEAD needs nothing", "HEAD", hdr{"Origin": "https://evil.example"}, allowed, true},
		{"OPTIONS", "OPTIONS", nil, allowed, true},
		{"POST same origin", "POST", hdr{"Origin": "https://hallmark.example"}, allowed, true},
		{"POST origin case and port", "POST", hdr{"Origin": "HTTPS://Hallmark.Example:443"}, allowed, true},
		{"POST allowed with slash", "POST", hdr{"Origin": "https://hallmark.example"}, allowed + "/", true},
		{"POST cross-site origin", "POST", hdr{"Origin": "https://evil.example"}, allowed, false},
		{"POST sibling subdomain", "POST", hdr{"Origin": "https://evil.hallmark.example"}, allowed, false},
		{"POST suffix trick", "POST", hdr{"Origin": "https://hallmark.example.evil.example"}, allowed, false},
		{"POST http downgrade", "POST", hdr{"Origin": "http://hallmark.example"}, allowed, false},
		{"POST other port", "POST", hdr{"Origin": "https://hallmark.example:8443"}, allowed, false},
		{"POST null origin", "POST", hdr{"Origin": "null"}, allowed, false},
		{"POST empty origin", "POST", hdr{"Origin": ""}, allowed, false},
		{"POST origin with userinfo", "POST", hdr{"Origin": "https://hallmark.example@evil.example"}, allowed, false},
		{"bad origin no Referer fallback", "POST", hdr{"Origin": "null", "Referer": "https://hallmark.example/x"}, allowed, false},
		{"POST Referer only", "POST", hdr{"Referer": "https://hallmark.example/labels/7?tab=x"}, allowed, true},
		{"POST cross-site Referer", "POST", hdr{"Referer": "https://evil.example/hallmark.example"}, allowed, false},
		{"POST Referer userinfo", "POST", hdr{"Referer": "https://hallmark.example@evil.example/"}, allowed, false},
		{"POST garbage Referer", "POST", hdr{"Referer": "::not a url"}, allowed, false},
		{"POST neither header", "POST", nil, allowed, false},
		{"PUT neither header", "PUT", nil, allowed, false},
		{"DELETE cross-site", "DELETE", hdr{"Origin": "https://evil.example"}, allowed, false},
		{"PATCH same origin", "PATCH", hdr{"Origin": allowed}, allowed, true},
		{"Sec-Fetch-Site cross-site", "POST", hdr{"Origin": allowed, "Sec-Fetch-Site": "cross-site"}, allowed, false},
		{"Sec-Fetch-Site same-site", "POST", hdr{"Origin": allowed, "Sec-Fetch-Site": "same-site"}, allowed, false},
		{"Sec-Fetch-Site same-origin", "POST", hdr{"Origin": allowed, "Sec-Fetch-Site": "same-origin"}, allowed, true},
		{"dev http with port", "POST", hdr{"Origin": "http://localhost:8080"}, "http://localhost:8080", true},
		{"dev default port", "POST", hdr{"Origin": "http://localhost"}, "http://localhost:80", true},
		{"IPv6 origin", "POST", hdr{"Origin": "https://[::1]:8443"}, "https://[::1]:8443", true},
		{"misconfigured allowed", "POST", hdr{"Origin": ""}, "", false},
		{"allowed with path", "POST", hdr{"Origin": allowed}, allowed + "/console", false},
		{"allowed not http", "POST", hdr{"Origin": "ftp://hallmark.example"}, "ftp://hallmark.example", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, "https://hallmark.example/labels", nil)
		for k, v := range c.headers {
			r.Header.Set(k, v)
		}
		if got := SameOrigin(r, c.allowed); got != c.want {
			t.Errorf("%s: SameOrigin = %v, want %v", c.name, got, c.want)
		}
	}

	// Two Origin headers are not a browser's doing.
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Add("Origin", allowed)
	r.Header.Add("Origin", "https://evil.example")
	if SameOrigin(r, allowed) {
		t.Error("repeated Origin accepted")
	}
}
