package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// messageKey is what an untranslated message looks like on a page: the
// key itself ("label.means.active"), which i18n shows for a missing one.
var messageKey = regexp.MustCompile(`\b(nav|footer|print|status|kind|label|record|history|method|fact|value|category|registry|pager|error)\.[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*\b`)

// links and attributes that legitimately carry dotted names (file names,
// URLs) are not text a reader meets.
var notText = regexp.MustCompile(`(?s)(href|src|action)="[^"]*"|<script.*?</script>|<style.*?</style>`)

// Every public page, in every language, sets <html lang> and shows no
// message key; the label page and the registry speak the language.
func TestPagesInEveryLanguage(t *testing.T) {
	base := servertest.Start(t, "sqlite").URL
	first := func(query string) string {
		var l struct{ Items []struct{ ID string } }
		resp, err := http.Get(base + "/api/v1/labels?limit=1&" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || len(l.Items) == 0 {
			t.Fatalf("no label with %s: %v", query, err)
		}
		return l.Items[0].ID
	}
	labels := map[string]string{}
	for _, st := range []string{"active", "suspended", "revoked", "expired", "surrendered"} {
		labels[st] = first("status=" + st)
	}
	record := first("status=active&scheme=uk-psti")
	paths := []string{"/labels", "/labels?status=expired&page=2", "/labels?page=99", "/labels/" + record, "/labels/HM-NONE-XXXX",
		"/catalog", "/catalog/requirements/HM-UPD-12", "/frameworks", "/crosswalk", "/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1",
		"/schemes", "/schemes/sg-cls", "/compare?a=sg-cls@2&b=de-bsi-label@label", "/matrix", "/agreements", "/glossary",
		"/schemes/sg-cls/levels/2/whatif?add=HM-SBOM-1", "/login", "/register"}
	for _, id := range labels {
		paths = append(paths, "/labels/"+id)
	}
	valid := map[string]string{"en": "Valid", "de": "Gültig", "fr": "Valide", "ja": "有効"}
	suspended := map[string]string{"en": "Suspended", "de": "Ausgesetzt", "fr": "Suspendu", "ja": "一時停止"}
	for _, lang := range []string{"en", "de", "fr", "ja"} {
		for _, p := range paths {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			status, body, _ := fetch(t, base+p+sep+"lang="+lang)
			if status != 200 && !(status == 404 && strings.Contains(p, "NONE")) {
				t.Errorf("%s in %s: HTTP %d", p, lang, status)
				continue
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s in %s: <html lang> is not %s", p, lang, lang)
			}
			if m := messageKey.FindString(notText.ReplaceAllString(body, "")); m != "" {
				t.Errorf("%s in %s shows the message key %q", p, lang, m)
			}
		}
		_, body, _ := fetch(t, base+"/labels/"+labels["active"]+"?lang="+lang)
		if !strings.Contains(body, valid[lang]) {
			t.Errorf("the active label in %s does not say %q", lang, valid[lang])
		}
		if lang != "en" && strings.Contains(body, "What this label means") {
			t.Errorf("the label page in %s is still in English", lang)
		}
		_, body, _ = fetch(t, base+"/labels?status=suspended&lang="+lang)
		if !strings.Contains(body, suspended[lang]) {
			t.Errorf("the registry in %s does not say %q", lang, suspended[lang])
		}
	}
	// Accept-Language alone chooses too, and the switcher remembers a choice.
	req, _ := http.NewRequest("GET", base+"/labels/"+labels["active"], nil)
	req.Header.Set("Accept-Language", "fr-CH, fr;q=0.9, en;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("Vary"); !strings.Contains(v, "Accept-Language") {
		t.Errorf("the label page varies on %q, not on Accept-Language: a cache would serve one language to all", v)
	}
	status, body, _ := fetchWith(t, base+"/labels/"+labels["active"], "fr-CH, fr;q=0.9, en;q=0.5")
	if status != 200 || !strings.Contains(body, `<html lang="fr">`) || !strings.Contains(body, "Valide") {
		t.Errorf("Accept-Language fr gave HTTP %d without the French page", status)
	}
	// German summaries of the requirements.
	if _, body, _ := fetch(t, base+"/catalog/requirements/HM-UPD-12?lang=de"); !strings.Contains(body, `lang="de"`) || !strings.Contains(body, "Veröffentlichter Unterstützungszeitraum") {
		t.Error("the requirement page in German has no German summary")
	}
	// The switcher sets a cookie and goes back, only to this site.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for next, want := range map[string]string{"/labels?status=expired": "/labels?status=expired", "//evil.example/": "/labels", "https://evil.example/": "/labels"} {
		resp, err := noFollow.Get(base + "/language?lang=de&next=" + next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("switch with next=%s: HTTP %d to %q, want 303 to %s", next, resp.StatusCode, loc, want)
		}
		if c := resp.Cookies(); len(c) != 1 || c[0].Value != "de" {
			t.Errorf("switch set cookies %v", c)
		}
	}
}

func fetchWith(t *testing.T, url, acceptLanguage string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Language", acceptLanguage)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), resp.Header
}

// Each language of a label page has an address of its own, which a plain
// file server can answer from the static tree: exactly the codes Hallmark
// writes, the language the address names whatever the visitor's cookie
// or browser prefers, and the same page ?lang= gives.
func TestLabelPageLanguageAddresses(t *testing.T) {
	inst := servertest.Start(t, "sqlite")
	base := inst.URL
	var l struct{ Items []struct{ ID string } }
	resp, err := http.Get(base + "/api/v1/labels?limit=1&status=active")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if len(l.Items) == 0 {
		t.Fatal("no active label")
	}
	id := l.Items[0].ID
	for _, lang := range []string{"en", "de", "fr", "ja"} {
		req, _ := http.NewRequest("GET", base+"/labels/"+id+"/"+lang+"/", nil)
		req.Header.Set("Cookie", "hallmark_lang=fr")
		req.Header.Set("Accept-Language", "ja")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `<html lang="`+lang+`">`) {
			t.Errorf("/labels/%s/%s/: HTTP %d, not the page in %s", id, lang, resp.StatusCode, lang)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
			t.Errorf("/labels/%s/%s/ is %q: its address alone chooses the language, so shared caches may keep it", id, lang, cc)
		}
		_, byQuery, _ := fetch(t, base+"/labels/"+id+"?lang="+lang)
		if byQuery != string(b) {
			t.Errorf("?lang=%s and /%s/ give different pages", lang, lang)
		}
		if !strings.Contains(string(b), `<link rel="canonical" href="`+base+"/labels/"+id+"/"+lang+`/">`) {
			t.Errorf("the page in %s does not name its own address as canonical", lang)
		}
	}
	// The default page is the English page, byte for byte: the static tree
	// writes it once.
	_, def, _ := fetch(t, base+"/labels/"+id)
	if _, en, _ := fetch(t, base+"/labels/"+id+"/en/"); def != en {
		t.Error("/labels/ID and /labels/ID/en/ differ")
	}
	for _, p := range []string{"/DE/", "/de-CH/", "/xx/", "/qr.svg/", "/de/extra"} {
		if status, _, _ := fetch(t, base+"/labels/"+id+p); status != 404 {
			t.Errorf("/labels/%s%s: HTTP %d, want 404", id, p, status)
		}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(base + "/labels/" + id + "/de")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != "/labels/"+id+"/de/" {
		t.Errorf("/labels/%s/de: HTTP %d to %q, want 301 to the page's address", id, resp.StatusCode, loc)
	}
}
