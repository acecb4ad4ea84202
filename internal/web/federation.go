package web

import (
	"net/http"
	"path/filepath"
	"time"

	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
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

type alarmView struct {
	Kind, Peer, Summary, Evidence string
	Open                          bool
	First, Last, Resolved         string
}

// federationPage shows the peers, the mirrors' last passes, the alarms
// with their evidence and the propagation indicator.
func (h *Web) federationPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	alarms, err := h.App.Alarms(ctx, 200)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	prop, err := h.App.PropagationIndicator(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	peers, err := h.App.RecognisedPeers()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	agreements, err := h.App.FederationAgreements(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	linked, err := h.App.LinkedSuspensions(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	const when = "2006-01-02 15:04:05 UTC"
	var av []alarmView
	for _, a := range alarms {
		v := alarmView{Kind: a.Kind, Peer: a.Peer, Summary: a.Summary, Evidence: a.Evidence, Open: a.ResolvedAt.IsZero(),
			First: a.FirstSeen.UTC().Format(when), Last: a.LastSeen.UTC().Format(when)}
		if !v.Open {
			v.Resolved = a.ResolvedAt.UTC().Format(when)
		}
		av = append(av, v)
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "federation", struct {
		page
		Alarms     []alarmView
		Mirrors    []server.MirrorStatus
		Prop       server.Propagation
		P50, P99   string
		Peers      []peer.TrustedIssuer
		Agreements []server.FederationAgreement
		Linked     []store.LinkedSuspension
	}{h.page(r, "Federation", ""), av, h.App.MirrorStatuses(), prop, roundDur(prop.P50), roundDur(prop.P99), peers, agreements, linked})
}

func roundDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// mirrorFile serves a mirrored log (C2SP tlog-mirror's read side): under
// /mirror/<origin hash>/, the checkpoint (cosigned by this mirror) and
// the tiles and entry bundles.
func (h *Web) mirrorFile(w http.ResponseWriter, r *http.Request) {
	hash, rest, ok := server.IsMirrorPath(r.PathValue("path"))
	if !ok {
		h.NotFound(w, r, "There is no such mirrored log file.")
		return
	}
	if rest == "checkpoint" {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	http.ServeFile(w, r, filepath.Join(h.App.MirrorDir(), hash, filepath.FromSlash(rest)))
}
