package api

import (
	"net/http"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// API tokens: a caller lists its own and revokes them. Tokens are created
// in the console or by the operator (hallmark token create), never with a
// token: a leaked token must not be able to mint itself a longer life.
func (a *API) registerTokens(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/tokens", a.withToken(a.signedIn(a.tokens)))
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", a.withToken(a.signedIn(a.revokeToken)))
}

type tokenJSON struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	State    string     `json:"state"` // active, expired or revoked
	Created  time.Time  `json:"created"`
	Expires  time.Time  `json:"expires"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

func toTokenJSON(t registry.APIToken, now time.Time) tokenJSON {
	out := tokenJSON{ID: t.ID, Name: t.Name, State: t.State(now), Created: t.Created, Expires: t.Expires}
	if !t.LastUsed.IsZero() {
		out.LastUsed = &t.LastUsed
	}
	if !t.Revoked.IsZero() {
		out.Revoked = &t.Revoked
	}
	return out
}

func (a *API) tokens(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	list, err := a.App.APITokens(r.Context(), p, p.UserID)
	if err != nil {
		fail(w, r, err)
		return
	}
	now := a.App.Now()
	items := []tokenJSON{}
	for _, t := range list {
		items = append(items, toTokenJSON(t, now))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, List[tokenJSON]{Items: items, Total: len(items), Limit: len(items)})
}

// revokeToken revokes one of the caller's tokens (the one it is calling
// with too): the next request with it is a 401.
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	t, err := a.App.RevokeAPIToken(r.Context(), who(r), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toTokenJSON(t, a.App.Now()))
}
