// Package web serves Hallmark's HTML pages. Every page is rendered on the
// server with html/template, works without JavaScript and prints cleanly;
// templates and static files are embedded in the binary.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/insight"
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
	// labelPages caches label pages for anonymous visitors (see label).
	labelPages sync.Map
	pagesGen   atomic.Uint64
}

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
	"statusText": recordStatus,
	"kindName": func(k scheme.Kind) string {
		if k == scheme.KindConformity {
			return "Conformity record"
		}
		return "Label"
	},
	"pdfLink": func(u string) string { return briefingAs(u, ".pdf") },
	"mdLink":  func(u string) string { return briefingAs(u, ".md") },
	"num":     func(f float64) insight.Num { return insight.Num(f) },
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
	w := &Web{App: app, Secure: secure, Origin: originOf(publicURL), pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "templates/layout.html" || n == "templates/partials.html" {
			continue
		}
		t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
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
	handle("GET /labels/{id}/qr.svg", h.labelQR)
	handle("GET /labels/{id}/qr.png", h.labelQR)
	handle("GET /labels/{id}/credential.jwt", h.labelCredential)
	handle("GET /status/{purpose}/{list}", h.statusList)
	handle("GET /.well-known/hallmark/keys.json", h.keys)
	handle("GET /.well-known/hallmark/log.json", h.logInfo)
	handle("GET /log/{path...}", h.logFile)
	handle("GET /labels/{id}/receipts", h.labelReceipts)

	// The console: each role's work.
	handle("GET /console", h.signedIn(h.console))
	handle("POST /console/tokens", h.signedIn(h.newToken))
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
}

// page builds the common page fields for a request.
func (h *Web) page(r *http.Request, title, nav string) page {
	p := principal(r)
	pg := page{Title: title, Nav: nav, User: p, SignedIn: !p.IsAnonymous()}
	if sid := sessionID(r); sid != "" {
		pg.CSRF = h.App.CSRFToken(sid)
	}
	return pg
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
		slog.Error("render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
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
}

// NotFound answers with the HTML 404 page.
func (h *Web) NotFound(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusNotFound, "error", struct {
		page
		Message string
	}{h.page(r, "Not found", ""), msg})
}

func (h *Web) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusBadRequest, "error", struct {
		page
		Message string
	}{h.page(r, "Bad request", ""), msg})
}

// recordStatus says a record's status in words. A conformity record (a
// statement of compliance, an EU declaration of conformity) is a
// manufacturer's declaration under a legal duty, not a label: it is never
// called a label in good standing.
func recordStatus(k scheme.Kind, name string, s assess.LabelStatus) string {
	if k == scheme.KindConformity {
		switch s {
		case assess.Active:
			return "Declared compliant with " + name + ": the manufacturer's declaration is on record. This is not a label or a certificate."
		case assess.Suspended:
			return "Under review: the authority has put this declaration of compliance with " + name + " on hold."
		case assess.Revoked:
			return "Withdrawn: the authority no longer accepts this declaration of compliance with " + name + "."
		case assess.Surrendered:
			return "Withdrawn by the manufacturer: this declaration of compliance with " + name + " no longer stands."
		case assess.Expired:
			return "Past its support period: the declaration of compliance with " + name + " no longer covers this product."
		}
		return string(s)
	}
	switch s {
	case assess.Active:
		return "Valid: this label is in good standing."
	case assess.Suspended:
		return "Suspended: the authority has put this label on hold."
	case assess.Revoked:
		return "Revoked: this label has been withdrawn."
	case assess.Surrendered:
		return "Surrendered: the manufacturer gave this label up."
	case assess.Expired:
		return "Expired: this label's validity has ended."
	}
	return string(s)
}
