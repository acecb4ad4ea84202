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

	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/scheme"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Backend is what the pages read: the catalogue and the schemes.
type Backend interface {
	Catalog() *catalog.Catalog
	Schemes() scheme.Set
	Agreements() []scheme.Agreement
	SchemeInfo(id string) (source string, version int)
}

// Web serves the pages.
type Web struct {
	Data  Backend
	pages map[string]*template.Template
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
func New(b Backend) (*Web, error) {
	w := &Web{Data: b, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
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
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/catalog", http.StatusFound)
	})
	mux.HandleFunc("GET /catalog", h.catalog)
	mux.HandleFunc("GET /catalog/requirements/{id}", h.requirement)
	mux.HandleFunc("GET /frameworks", h.frameworks)
	mux.HandleFunc("GET /frameworks/{id}", h.framework)
	mux.HandleFunc("GET /crosswalk", h.crosswalk)
	mux.HandleFunc("GET /glossary", h.glossary)
	mux.HandleFunc("GET /schemes", h.schemes)
	mux.HandleFunc("GET /schemes/{id}", h.scheme)
	mux.HandleFunc("GET /schemes/{id}/levels/{level}/whatif", h.whatIf)
	mux.HandleFunc("GET /compare", h.compare)
	mux.HandleFunc("GET /matrix", h.matrix)
	mux.HandleFunc("GET /agreements", h.agreements)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.NotFound(w, r, "There is no page at this address.")
	})
}

// page is what every template receives, plus its own fields.
type page struct {
	Title string
	Nav   string
}

// render writes a page to a buffer first, so a template error becomes a
// clean 500 rather than half a page.
func (h *Web) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		slog.Error("render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// NotFound answers with the HTML 404 page.
func (h *Web) NotFound(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusNotFound, "error", struct {
		page
		Message string
	}{page{Title: "Not found"}, msg})
}

func (h *Web) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusBadRequest, "error", struct {
		page
		Message string
	}{page{Title: "Bad request"}, msg})
}
