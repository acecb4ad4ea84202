package web

import (
	"net/http"

	"github.com/hallmark-iot/hallmark/internal/trustlist"
)

// trustList serves the instance's signed trust list (internal/trustlist).
// Short-lived in caches: a key change or a new peer shows within minutes.
func (h *Web) trustList(w http.ResponseWriter, r *http.Request) {
	b, err := h.App.TrustList(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", trustlist.MediaType)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

// witnessPolicy serves the log's witness policy (C2SP tlog-policy text).
func (h *Web) witnessPolicy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(h.App.WitnessPolicy())
}
