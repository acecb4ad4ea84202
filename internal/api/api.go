package api

import (
	"crypto/subtle"
	_ "embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/bcache"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// API serves /api/v1.
type API struct {
	App        *server.Server
	AdminToken string // empty: writes are refused

	// answers keeps encoded registry listings (labels): a page already
	// read costs a copy, not 50 labels encoded again.
	answers     *bcache.Cache[listAnswer]
	answersOnce sync.Once
}

// AnswerCacheBudget bounds the encoded registry listings kept.
const AnswerCacheBudget = 16 << 20

type listAnswer struct {
	gen  uint64
	body []byte
	etag string // computed once, not per request
}

//go:embed openapi.json
var openAPI []byte

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	mux.HandleFunc("GET /api/v1/topics", a.topics)
	mux.HandleFunc("GET /api/v1/requirements", a.requirements)
	mux.HandleFunc("GET /api/v1/requirements/{id}", a.requirement)
	mux.HandleFunc("GET /api/v1/frameworks", a.frameworks)
	mux.HandleFunc("GET /api/v1/frameworks/{id}", a.framework)
	mux.HandleFunc("POST /api/v1/frameworks", a.requireAdmin(a.importFramework))
	mux.HandleFunc("GET /api/v1/crosswalk", a.crosswalk)
	mux.HandleFunc("GET /api/v1/glossary", a.glossary)
	mux.HandleFunc("GET /api/v1/export/oscal/catalog", a.exportOSCALCatalog)
	mux.HandleFunc("GET /api/v1/export/oscal/frameworks/{id}", a.exportOSCALFramework)
	mux.HandleFunc("GET /api/v1/export/oscal/mappings", a.exportOSCALMappings)
	mux.HandleFunc("GET /api/v1/export/csv/requirements", a.exportCSV)
	mux.HandleFunc("GET /api/v1/export/csv/mappings", a.exportCSV)
	mux.HandleFunc("GET /api/v1/export/csv/frameworks/{id}", a.exportCSV)
	mux.HandleFunc("GET /api/v1/export/csv/crosswalk", a.exportCSV)
	a.registerSchemes(mux)
	a.registerRegistry(mux)
	a.registerWebhooks(mux)
	a.registerTokens(mux)
	a.registerInsight(mux)
	a.registerFederation(mux)
	// Anything else under /api/ is a JSON 404, never the HTML one.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, http.StatusNotFound, "no such API endpoint; see /api/v1/openapi.json")
	})
}

// requireAdmin admits requests bearing the configured admin token.
func (a *API) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if a.AdminToken == "" {
			WriteProblem(w, r, http.StatusForbidden, "writes are disabled: start hallmark with --admin-token (or HALLMARK_ADMIN_TOKEN) to allow them")
			return
		}
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(a.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hallmark"`)
			WriteProblem(w, r, http.StatusUnauthorized, "send the admin token as 'Authorization: Bearer <token>'")
			return
		}
		next(w, r)
	}
}

// withTokenOrAdmin is withToken, except that the operator's admin token
// (serve --admin-token) acts as Hallmark itself: the operator's bootstrap,
// before any authority has an account. Authorities use their own tokens.
func (a *API) withTokenOrAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && a.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.AdminToken)) == 1 {
			next(w, r.WithContext(contextWith(r, auth.System)))
			return
		}
		a.withToken(next)(w, r)
	}
}

// page reads ?limit= and ?offset= (default 100 and 0, limit at most 1000,
// offset at most store.MaxOffset).
func page(r *http.Request) (limit, offset int, err error) {
	limit, offset = 100, 0
	if v := r.URL.Query().Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > 1000 {
			return 0, 0, fmt.Errorf("limit must be a whole number from 1 to 1000, not %q", v)
		}
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		offset, err = strconv.Atoi(v)
		if err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("offset must be a whole number of 0 or more, not %q", v)
		}
		if err := store.CheckOffset(offset); err != nil {
			return 0, 0, fmt.Errorf("offset %d is too deep: %w; follow the answer's next link (?cursor=) where the list gives one, or narrow the list with a filter", offset, err)
		}
	}
	return limit, offset, nil
}

// paged answers one page of items as a List.
func paged[T any](w http.ResponseWriter, r *http.Request, all []T) {
	limit, offset, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	items := []T{}
	if offset < len(all) {
		items = all[offset:min(len(all), offset+limit)]
	}
	writeJSON(w, http.StatusOK, List[T]{Items: items, Total: len(all), Limit: limit, Offset: offset})
}
