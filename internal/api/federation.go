package api

import (
	"net/http"
	"time"

	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func (a *API) registerFederation(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/federation", a.federation)
	mux.HandleFunc("GET /api/v1/federation/alarms", a.federationAlarms)
	mux.HandleFunc("GET /api/v1/federation/mirrored", a.mirroredLabel)
	mux.HandleFunc("GET /api/v1/federation/agreements", a.federationAgreements)
	mux.HandleFunc("POST /api/v1/federation/agreements", a.withTokenOrAdmin(a.signedIn(a.recordAgreement)))
}

// federationAgreements are the agreements with peer authorities this
// instance recorded, each flagged with what changed if its coverage fell.
func (a *API) federationAgreements(w http.ResponseWriter, r *http.Request) {
	as, err := a.App.FederationAgreements(r.Context())
	if err != nil {
		fail(w, r, err)
		return
	}
	items := []map[string]any{}
	for _, x := range as {
		var changes []string
		for _, c := range x.Changes {
			changes = append(changes, c.Summary())
		}
		items = append(items, map[string]any{"agreement": x.Record, "digest": x.Digest, "flagged": len(x.Changes) > 0, "changes": x.Changes,
			"what_changed": changes, "flagged_at": zeroOr(x.FlaggedAt), "checked_at": zeroOr(x.CheckedAt)})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// recordAgreement records an agreement with a recognised peer, through
// the gate: the body is an AgreementRequest.
func (a *API) recordAgreement(w http.ResponseWriter, r *http.Request) {
	var req server.AgreementRequest
	if !decode(w, r, 64<<10, &req) {
		return
	}
	rec, err := a.App.RecordAgreement(r.Context(), who(r), req)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"agreement": rec, "digest": rec.Digest()})
}

// federation is what this instance knows of its peers: the mirrors' last
// passes, the open and resolved alarms, and the propagation indicator.
func (a *API) federation(w http.ResponseWriter, r *http.Request) {
	alarms, err := a.App.Alarms(r.Context(), 100)
	if err != nil {
		fail(w, r, err)
		return
	}
	prop, err := a.App.PropagationIndicator(r.Context())
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"mirrors": a.App.MirrorStatuses(), "alarms": alarmsJSON(alarms), "mirror_key": a.App.MirrorKey(),
		"propagation": map[string]any{"samples": prop.Samples, "p50_seconds": prop.P50.Seconds(), "p99_seconds": prop.P99.Seconds(), "max_seconds": prop.Max.Seconds()},
	})
}

func (a *API) federationAlarms(w http.ResponseWriter, r *http.Request) {
	alarms, err := a.App.Alarms(r.Context(), 1000)
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"items": alarmsJSON(alarms)})
}

// mirroredLabel is a peer's label as this instance's mirror last saw it:
// what a verifier here reads of another authority's decisions.
func (a *API) mirroredLabel(w http.ResponseWriter, r *http.Request) {
	if local := r.URL.Query().Get("linked_to"); local != "" {
		// The same product's labels at peers: a suspension there shows here.
		ls, err := a.App.LinkedLabels(r.Context(), local)
		if err != nil {
			fail(w, r, err)
			return
		}
		items := []map[string]any{}
		for _, m := range ls {
			items = append(items, map[string]any{"peer": m.Peer, "label": m.LabelID, "status": m.Status, "manufacturer": m.Manufacturer,
				"model_number": m.ModelNumber, "gtin": m.GTIN, "purl": m.PURL, "seen_at": m.SeenAt.UTC().Format(time.RFC3339)})
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"linked_to": local, "items": items})
		return
	}
	id := r.URL.Query().Get("label")
	if id == "" {
		// Without a label: which peers are mirrored, and how far.
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"items": a.App.MirrorStatuses(), "hint": "give ?label=ID for one of their labels"})
		return
	}
	if len(id) > 200 {
		WriteProblem(w, r, http.StatusBadRequest, "a label id is at most 200 characters")
		return
	}
	m, err := a.App.MirroredLabel(r.Context(), id)
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		if server.IsNotFound(err) {
			writeJSON(w, http.StatusOK, map[string]any{"label": id, "mirrored": false})
			return
		}
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"label": id, "mirrored": true, "peer": m.Peer, "status": m.Status,
		"credential_sha256": m.CredentialSHA, "seen_at": m.SeenAt.UTC().Format(time.RFC3339Nano),
		"registry_disagrees_with_log_since": zeroOr(m.DisagreesSince)})
}

func zeroOr(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func alarmsJSON(as []store.Alarm) []map[string]any {
	out := []map[string]any{}
	for _, a := range as {
		out = append(out, map[string]any{"id": a.ID, "peer": a.Peer, "kind": a.Kind, "subject": a.Subject, "summary": a.Summary,
			"evidence": a.Evidence, "first_seen": a.FirstSeen.UTC().Format(time.RFC3339), "last_seen": a.LastSeen.UTC().Format(time.RFC3339),
			"open": a.ResolvedAt.IsZero(), "resolved_at": zeroOr(a.ResolvedAt)})
	}
	return out
}
