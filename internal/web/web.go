// Package web serves Hallmark's HTML pages. Every page is rendered on the
// server with html/template, works without JavaScript and prints cleanly;
// templates and static files are embedded in the binary.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/bcache"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/cdn"
	"github.com/hallmark-iot/hallmark/internal/i18n"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/reqid"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Web serves the pages over the application server.
type Web struct {
	App    *server.Server
	Secure bool   // served over HTTPS: Secure, __Host- cookies
	Origin string // the site's origin, for the same-origin check on forms
	pages  map[string]*template.Template
	// labelPages caches label pages for anonymous visitors (see label),
	// within PageCacheBudget; a label's change forgets its pages.
	labelPages *bcache.Cache[anonPage]
	// labelFacts caches what a label page shows before it is put into
	// words, so the pages of a label in each language read the database
	// once (see labelFacts); forgotten with the pages.
	labelFacts *bcache.Cache[LabelPage]
}

// StaticFiles are the site's assets as served under /static/.
func StaticFiles() fs.FS {
	static, _ := fs.Sub(staticFS, "static")
	return static
}

// PageCacheBudget bounds the memory kept for rendered label pages;
// FactsCacheBudget for what they show before it is put into words.
const (
	PageCacheBudget  = 64 << 20
	FactsCacheBudget = 8 << 20
)

var funcs = template.FuncMap{
	"relName": func(r catalog.Relationship) string {
		switch r {
		case catalog.Equivalent:
			return "same scope"
		case catalog.SubsetOf:
			return "covers part of the item"
		case catalog.SupersetOf:
			return "asks for more than the item"
		case catalog.IntersectsWith:
			return "overlaps"
		}
		return string(r)
	},
	"methodName": func(m catalog.Method) string {
		switch m {
		case catalog.SelfDeclaration:
			return "Self-declaration by the manufacturer"
		case catalog.DocumentReview:
			return "Review of documents and evidence"
		case catalog.FunctionalTest:
			return "Functional test of the product"
		case catalog.LabTest:
			return "Laboratory test by a qualified assessor"
		}
		return string(m)
	},
	// coverageClass colours a coverage figure: green only when complete.
	"coverageClass": func(percent int) string {
		switch {
		case percent == 100:
			return "cov-full"
		case percent >= 50:
			return "cov-most"
		}
		return "cov-low"
	},
	"verdictName": func(o scheme.Outcome) string {
		switch o {
		case scheme.Recognisable:
			return "Recognisable"
		case scheme.Conditional:
			return "Recognisable with conditions"
		case scheme.NotRecognisable:
			return "Not recognisable"
		}
		return string(o)
	},
	"supportName": func(s scheme.Support) string {
		switch s {
		case scheme.Supported:
			return "supported"
		case scheme.Partly:
			return "partly supported"
		case scheme.Unsupported:
			return "not supported"
		}
		return "cannot check"
	},
	"stepName": func(s assess.Step) string {
		switch s {
		case assess.Submit:
			return "Submit for assessment"
		case assess.Withdraw:
			return "Withdraw the application"
		case assess.Assign:
			return "Assign to this lab"
		case assess.Complete:
			return "Complete the assessment"
		case assess.Return:
			return "Return to the assessor"
		case assess.Approve:
			return "Approve and issue the label"
		case assess.Reject:
			return "Reject"
		}
		return string(s)
	},
	"methodText": func(m scheme.Method) string {
		switch m {
		case scheme.SelfDeclaration:
			return "self-declaration"
		case scheme.DocumentReview:
			return "document review"
		case scheme.LabTest:
			return "lab test"
		case scheme.PenetrationTest:
			return "penetration test"
		}
		return string(m)
	},
	"verdicts": func() []assess.Verdict { return []assess.Verdict{assess.Pass, assess.Fail, assess.NotApplicable} },
	"labelStatuses": func() []assess.LabelStatus {
		return []assess.LabelStatus{assess.Active, assess.Suspended, assess.Revoked, assess.Surrendered, assess.Expired}
	},
	"kindName": func(k scheme.Kind) string {
		if k == scheme.KindConformity {
			return "Conformity record"
		}
		return "Label"
	},
	"short": shortName,
	// levelName is bound to the server's schemes in New.
	"levelName": func(schemeID, levelID string) string { return schemeID + " " + levelID },
	"refName":   func(ref string) string { return ref },
	"pdfLink":   func(u string) string { return briefingAs(u, ".pdf") },
	"mdLink":    func(u string) string { return briefingAs(u, ".md") },
	"num":       func(f float64) insight.Num { return insight.Num(f) },
	// fmtv writes a value of an indicator's unit ("37.5%", "41 days").
	"fmtv": func(id string, version int, n insight.Num) string {
		d, err := insight.Lookup(id, version)
		if err != nil {
			return "—"
		}
		return d.Format(n)
	},
	"anchor": func(s string) string {
		return "term-" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, strings.ToLower(s))
	},
}

// New parses the templates; it fails only if a template is broken.
func New(app *server.Server, secure bool, publicURL string) (*Web, error) {
	w := &Web{App: app, Secure: secure, Origin: originOf(publicURL), pages: map[string]*template.Template{},
		labelPages: bcache.New[anonPage](PageCacheBudget), labelFacts: bcache.New[LabelPage](FactsCacheBudget)}
	app.OnLabelsChanged(w.forgetPages)
	fm := maps.Clone(funcs)
	fm["levelName"] = w.levelName
	fm["refName"] = w.refName
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "templates/layout.html" || n == "templates/partials.html" {
			continue
		}
		t, err := template.New("").Funcs(fm).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, err
		}
		w.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return w, nil
}

// Register adds the pages' routes to mux.
func (h *Web) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}))
	handle := func(pattern string, f http.HandlerFunc) { mux.Handle(pattern, h.withSession(f)) }
	handle("GET /language", h.setLanguage)
	handle("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/catalog", http.StatusFound)
	})
	handle("GET /catalog", h.catalog)
	handle("GET /catalog/requirements/{id}", h.requirement)
	handle("GET /frameworks", h.frameworks)
	handle("GET /frameworks/{id}", h.framework)
	handle("GET /crosswalk", h.crosswalk)
	handle("GET /glossary", h.glossary)
	handle("GET /schemes", h.schemes)
	handle("GET /schemes/{id}", h.scheme)
	handle("GET /schemes/{id}/levels/{level}/whatif", h.whatIf)
	handle("GET /compare", h.compare)
	handle("GET /matrix", h.matrix)
	handle("GET /agreements", h.agreements)

	// Accounts.
	handle("GET /login", h.loginForm)
	handle("POST /login", h.login)
	handle("POST /logout", h.logout)
	handle("GET /register", h.registerForm)
	handle("POST /register", h.register)

	// The public registry of labels.
	handle("GET /labels", h.labels)
	handle("GET /labels/{id}", h.label)
	// Each language's page at an address of its own, which a plain file
	// server answers from the static tree too (?lang= needs Hallmark).
	handle("GET /labels/{id}/{lang}/{$}", h.labelIn)
	handle("GET /labels/{id}/{lang}", h.labelInNoSlash)
	handle("GET /labels/{id}/qr.svg", h.labelQR)
	handle("GET /labels/{id}/qr.png", h.labelQR)
	handle("GET /labels/{id}/credential.jwt", h.labelCredential)
	handle("GET /status/{purpose}/{list}", h.statusList)
	handle("GET /.well-known/hallmark/keys.json", h.keys)
	handle("GET /.well-known/hallmark/log.json", h.logInfo)
	handle("GET /.well-known/hallmark/trust-list.json", h.trustList)
	handle("GET /.well-known/hallmark/witness-policy.txt", h.witnessPolicy)
	handle("GET /federation", h.federationPage)
	handle("GET /mirror/{path...}", h.mirrorFile)
	handle("GET /log/{path...}", h.logFile)
	handle("GET /labels/{id}/receipts", h.labelReceipts)

	// The console: each role's work.
	handle("GET /console", h.signedIn(h.console))
	handle("POST /console/tokens", h.signedIn(h.newToken))
	handle("POST /console/tokens/{id}/revoke", h.signedIn(h.revokeToken))
	handle("POST /console/password", h.signedIn(h.changePassword))
	handle("GET /console/products", h.signedIn(h.products))
	handle("POST /console/products", h.signedIn(h.createProduct))
	handle("GET /console/products/{id}", h.signedIn(h.product))
	handle("POST /console/products/{id}/versions", h.signedIn(h.createVersion))
	handle("POST /console/versions/{id}/apply", h.signedIn(h.apply))
	handle("GET /console/applications", h.signedIn(h.applications))
	handle("GET /console/applications/{id}", h.signedIn(h.application))
	handle("POST /console/applications/{id}/step", h.signedIn(h.step))
	handle("POST /console/applications/{id}/evidence", h.signedIn(h.addEvidence))
	handle("GET /console/applications/{id}/evidence/{ev}", h.signedIn(h.evidence))
	handle("POST /console/applications/{id}/findings", h.signedIn(h.recordFindings))
	handle("GET /console/labels", h.signedIn(h.consoleLabels))
	handle("POST /console/labels/{id}", h.signedIn(h.changeLabel))
	handle("GET /console/findings", h.signedIn(h.consoleFindings))
	handle("POST /console/findings/{id}", h.signedIn(h.respondFinding))
	handle("POST /console/versions/{id}/vex", h.signedIn(h.uploadVEX))
	handle("POST /console/webhooks", h.signedIn(h.createWebhook))
	handle("POST /console/webhooks/{id}/delete", h.signedIn(h.deleteWebhook))
	h.registerInsight(handle)
	handle("/", func(w http.ResponseWriter, r *http.Request) {
		h.NotFound(w, r, "There is no page at this address.")
	})
}

// page is what every template receives, plus its own fields.
type page struct {
	Title    string
	Nav      string
	User     auth.Principal
	SignedIn bool
	CSRF     string
	// Lang is the visitor's language: the frame of every page is in it.
	// ContentLang is the language of the page's own content: Lang on the
	// pages that are translated (the label page, the registry), English
	// on the others, and marked so on <main>.
	Lang        i18n.Lang
	ContentLang i18n.Lang
	// URL is the page's full address and Loaded when it was made: every
	// printout carries both, with the catalogue's version.
	PageURL string
	Loaded  time.Time
	Catalog string
	// Switch links to this page in each other language.
	Switch []langLink
	// Canonical and Alternates name a translated page's address in its
	// own language and in every language, for search engines; empty on
	// the others.
	Canonical  string
	Alternates []alternate
	// BackHref and BackText lead an error page back (default: the catalogue).
	BackHref, BackText string
}

type langLink struct {
	Lang i18n.Lang
	Href string
}

// alternate is a <link rel=alternate hreflang>: a language tag or x-default.
type alternate struct {
	HrefLang, Href string
}

// langCookie keeps the language a visitor chose with the switcher.
const langCookie = "hallmark_lang"

// requestLang is the language of a request: the one its address names
// (/labels/{id}/de/), else as i18n.Negotiate chooses.
func requestLang(r *http.Request) i18n.Lang {
	if l, ok := i18n.Code(r.PathValue("lang")); ok {
		return l
	}
	c := ""
	if ck, err := r.Cookie(langCookie); err == nil {
		c = ck.Value
	}
	return i18n.Negotiate(r.URL.Query().Get("lang"), c, r.Header.Get("Accept-Language"))
}

// page builds the common page fields for a request; its content is in
// English (see translatedPage).
func (h *Web) page(r *http.Request, title, nav string) page {
	p := principal(r)
	pg := page{Title: title, Nav: nav, User: p, SignedIn: !p.IsAnonymous(), Lang: requestLang(r), ContentLang: i18n.English,
		Loaded: h.App.Now().UTC(), Catalog: catalog.Version}
	if sid := sessionID(r); sid != "" {
		pg.CSRF = h.App.CSRFToken(sid)
	}
	pg.PageURL = h.App.Config().PublicURL + r.URL.RequestURI()
	q := r.URL.Query()
	q.Del("lang")
	next := r.URL.Path
	if len(q) > 0 {
		next += "?" + q.Encode()
	}
	for _, l := range i18n.Supported {
		if l != pg.Lang {
			pg.Switch = append(pg.Switch, langLink{l, "/language?" + url.Values{"lang": {string(l)}, "next": {next}}.Encode()})
		}
	}
	return pg
}

// translatedPage is page for a page whose content is in the visitor's
// language.
func (h *Web) translatedPage(r *http.Request, title, nav string) page {
	pg := h.page(r, title, nav)
	pg.ContentLang = pg.Lang
	return pg
}

// T says a message in the visitor's language.
func (p page) T(key string, args ...any) string { return p.Lang.T(key, args...) }

// Date and DateText write a day in the visitor's language; Time a moment.
func (p page) Date(t time.Time) string                             { return p.Lang.Date(t) }
func (p page) DateText(s string) string                            { return p.Lang.DateText(s) }
func (p page) Time(t time.Time) string                             { return p.Lang.Time(t) }
func (p page) Mixed() bool                                         { return p.ContentLang != p.Lang }
func (p page) StatusIn(k scheme.Kind, s assess.LabelStatus) string { return statusWord(p.Lang, k, s) }

// statusWord is a record's status in one word or two, the same on the
// label page, the registry and everywhere else.
func statusWord(l i18n.Lang, k scheme.Kind, s assess.LabelStatus) string {
	if k == scheme.KindConformity {
		return l.T("status.record." + string(s))
	}
	return l.T("status.label." + string(s))
}

// setLanguage remembers the language chosen with the switcher and goes
// back to the page it was chosen on.
func (h *Web) setLanguage(w http.ResponseWriter, r *http.Request) {
	l, ok := i18n.Parse(r.URL.Query().Get("lang"))
	if !ok {
		h.badRequest(w, r, "Choose one of the languages offered.")
		return
	}
	// Only a path on this site: never an open redirect.
	next := r.URL.Query().Get("next")
	if safe := safeNext(next); safe != next {
		next = "/labels"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
		Secure: h.Secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// originOf reduces a URL to scheme://host[:port].
func originOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[:i+3+j]
		}
	}
	return u
}

// render writes a page to a buffer first, so a template error becomes a
// clean 500 rather than half a page.
func (h *Web) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	body, err := h.renderBytes(name, data)
	if err != nil {
		reqid.Note(r, fmt.Errorf("render page %s: %w", name, err))
		http.Error(w, "The page could not be shown; request id "+reqid.ID(r)+".", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w)
	w.WriteHeader(status)
	w.Write(body)
}

func (h *Web) renderBytes(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// setPageHeaders sets what every HTML page carries.
func setPageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "same-origin")
	// Every page's frame is in the visitor's language. A page for shared
	// caches is the same for every anonymous visitor (publicCache): no
	// Cookie, which many CDNs refuse to vary on.
	if cdn.Public(w.Header().Get("Cache-Control")) {
		w.Header().Set("Vary", "Accept-Language")
	} else {
		w.Header().Set("Vary", "Accept-Language, Cookie")
	}
}

// publicCache lets shared caches keep an anonymous visitor's page for the
// public lifetime; a signed-in user's page is theirs alone, and so is one
// whose language the visitor's cookie chose (a cache keyed on the URL and
// Accept-Language would hand it to others).
func publicCache(w http.ResponseWriter, r *http.Request) {
	_, byQuery := i18n.Parse(r.URL.Query().Get("lang"))
	_, byPath := i18n.Code(r.PathValue("lang"))
	ck, err := r.Cookie(langCookie)
	_, byCookie := i18n.Parse(func() string {
		if err != nil {
			return ""
		}
		return ck.Value
	}())
	switch {
	case !principal(r).IsAnonymous():
		w.Header().Set("Cache-Control", "private, no-store")
	case byCookie && !byQuery && !byPath:
		w.Header().Set("Cache-Control", "private, "+strings.TrimPrefix(server.PublicCacheControl, "public, "))
	default:
		w.Header().Set("Cache-Control", server.PublicCacheControl)
	}
}

// NotFound answers with the HTML 404 page.
func (h *Web) NotFound(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusNotFound, "error", struct {
		page
		Message string
	}{h.page(r, "Not found", ""), msg})
}

// BadRequest answers with the HTML 400 page.
func (h *Web) BadRequest(w http.ResponseWriter, r *http.Request, msg string) { h.badRequest(w, r, msg) }

// labelNotFound is the 404 of the label page, in the visitor's language
// like the page itself, pointing to the registry.
func (h *Web) labelNotFound(w http.ResponseWriter, r *http.Request, msg string) {
	pg := h.translatedPage(r, "", "labels")
	pg.Title = pg.T("error.notfound")
	pg.BackHref, pg.BackText = "/labels", pg.T("error.back")
	h.render(w, r, http.StatusNotFound, "error", struct {
		page
		Message string
	}{pg, msg})
}

func (h *Web) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusBadRequest, "error", struct {
		page
		Message string
	}{h.page(r, "Bad request", ""), msg})
}
