// Package api is Hallmark's JSON REST API under /api/v1. Handlers are thin:
// they parse the request, ask the domain packages, and write JSON. Errors
// are RFC 9457 problem details.
package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/reqid"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RequestID, on server errors, is the id the failure is logged under:
	// quote it to the operator.
	RequestID string `json:"request_id,omitempty"`
}

// WriteProblem answers with application/problem+json. The type is a stable
// URI naming the kind of problem; the detail says what to do about it.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	p := Problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: r.URL.Path,
	}
	if status >= 500 {
		p.RequestID = reqid.ID(r)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// writeJSON answers 200 (or status) with v as indented JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// List is the shape of every list answer.
type List[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	// Next is the link to the following page and Cursor the opaque
	// position it carries (?cursor=), on lists paged by key: following it
	// costs the same at any depth. Absent on the last page.
	Next   string `json:"next,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

// writeProblemErrors answers with a problem whose "errors" member lists
// every validation error, each with its place, so a client can show them all.
func writeProblemErrors(w http.ResponseWriter, r *http.Request, status int, detail string, err error) {
	var list []string
	var es catalog.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			list = append(list, e.Error())
		}
	} else {
		list = []string{err.Error()}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Problem
		Errors []string `json:"errors"`
	}{Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path}, list})
}
