package api

import (
	"net/http"
	"strconv"

	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func (a *API) registerWebhooks(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/webhooks", a.withToken(a.signedIn(a.createWebhook)))
	mux.HandleFunc("GET /api/v1/webhooks", a.withToken(a.signedIn(a.webhooks)))
	mux.HandleFunc("DELETE /api/v1/webhooks/{id}", a.withToken(a.signedIn(a.deleteWebhook)))
	mux.HandleFunc("GET /api/v1/webhooks/{id}/deliveries", a.withToken(a.signedIn(a.webhookDeliveries)))
}

// createWebhook registers an endpoint and answers its signing secret,
// which is never shown again.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		URL string `json:"url"`
	}
	if !decode(w, r, 4<<10, &body) {
		return
	}
	hook, err := a.App.CreateWebhook(r.Context(), who(r), body.URL)
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/api/v1/webhooks/"+strconv.FormatInt(hook.ID, 10))
	writeJSON(w, http.StatusCreated, hook)
}

func (a *API) webhooks(w http.ResponseWriter, r *http.Request) {
	list, err := a.App.Webhooks(r.Context(), who(r))
	if err != nil {
		fail(w, r, err)
		return
	}
	if list == nil {
		list = []store.Webhook{}
	}
	writeJSON(w, http.StatusOK, List[store.Webhook]{Items: list, Total: len(list), Limit: len(list)})
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.App.DeleteWebhook(r.Context(), who(r), id); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// webhookDeliveries is an endpoint's delivery log, newest first.
func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	limit, _, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	limit = min(limit, server.MaxDeliveryLog)
	log, err := a.App.WebhookDeliveries(r.Context(), who(r), id, limit)
	if err != nil {
		fail(w, r, err)
		return
	}
	if log == nil {
		log = []store.WebhookAttempt{}
	}
	writeJSON(w, http.StatusOK, List[store.WebhookAttempt]{Items: log, Total: len(log), Limit: limit})
}
