package web

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The public registry search.
func (h *Web) labels(w http.ResponseWriter, r *http.Request) {
	q := store.LabelQuery{Text: strings.TrimSpace(r.URL.Query().Get("q")), SchemeID: r.URL.Query().Get("scheme"),
		Status: assess.LabelStatus(r.URL.Query().Get("status")), Category: r.URL.Query().Get("category"), Limit: pageSize, Offset: pageOffset(r)}
	if len(q.Text) > 200 {
		h.badRequest(w, r, "The search text is longer than 200 characters.")
		return
	}
	list, total, err := h.App.Labels(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "labels", struct {
		page
		Labels     []registry.Label
		Pager      pager
		Q          string
		Scheme     string
		Status     string
		Category   string
		Schemes    []*scheme.Scheme
		Categories []string
		Statuses   []assess.LabelStatus
		Kinds      map[string]scheme.Kind
	}{h.page(r, "Registry", "labels"), list, newPager(r, total), q.Text, q.SchemeID, string(q.Status), q.Category,
		h.App.Schemes().Sorted(), registry.Categories,
		[]assess.LabelStatus{assess.Active, assess.Suspended, assess.Revoked, assess.Surrendered, assess.Expired},
		h.App.RecordKinds()})
}

// LabelPage is everything the public page of a label shows; the API's
// JSON view is built from the same data.
type LabelPage struct {
	Label     registry.Label
	Events    []registry.LabelEvent
	Scheme    *scheme.Scheme
	Level     scheme.Resolved
	Version   registry.Version
	Public    label.PublicRecord
	URL       string
	Actions   []assess.LabelAction
	ValidText string
	// Findings are the known vulnerabilities of the product version, the
	// post-market watch's; FindingsTotal counts them all.
	Findings      []server.PublicFinding
	FindingsTotal int
	// Why is the reason of the newest status change, shown beside the
	// status when the label is not in good standing.
	Why string
}

func (h *Web) labelPage(r *http.Request, id string) (LabelPage, error) {
	l, events, err := h.App.Label(r.Context(), id)
	if err != nil {
		return LabelPage{}, err
	}
	lp := LabelPage{Label: l, Events: events, URL: h.App.LabelURL(l.ID)}
	if lp.Level, err = h.App.Needs(r.Context(), registry.Application{SchemeID: l.SchemeID, SchemeVersion: l.SchemeVersion, LevelID: l.LevelID}); err != nil {
		return lp, err
	}
	lp.Scheme = lp.Level.Scheme
	if lp.Version, err = h.App.Version(r.Context(), l.VersionID); err != nil {
		return lp, err
	}
	lp.Public, _ = label.NewPublicRecord(server.LabelFacts(l, lp.Version, lp.Level, lp.URL), lp.Scheme.PublicFields)
	if l.ValidUntil.IsZero() {
		lp.ValidText = "no fixed end"
	} else {
		lp.ValidText = l.ValidUntil.Format("2 January 2006")
	}
	lp.Actions = h.App.LabelActionsFor(principal(r), l)
	if lp.Findings, lp.FindingsTotal, err = h.App.LabelFindings(r.Context(), l); err != nil {
		return lp, err
	}
	if n := len(events); n > 0 && l.Status != assess.Active {
		lp.Why = events[n-1].Reason
	}
	return lp, nil
}

// anonPage is a label page as rendered for anonymous visitors, kept until
// any label's status changes: most QR scans then cost no database read and
// no template rendering.
type anonPage struct {
	gen  uint64
	body []byte
}

func (h *Web) label(w http.ResponseWriter, r *http.Request) {
	anonymous := principal(r).IsAnonymous()
	gen := h.App.LabelGeneration()
	if old := h.pagesGen.Swap(gen); old != gen {
		h.labelPages.Clear() // every cached page is stale: free them at once
	}
	if anonymous {
		if c, ok := h.labelPages.Load(r.PathValue("id")); ok && c.(anonPage).gen == gen {
			setPageHeaders(w)
			w.Header().Set("Cache-Control", "public, max-age=60")
			w.Header().Set("Vary", "Cookie")
			w.Write(c.(anonPage).body)
			return
		}
	}
	lp, err := h.labelPage(r, r.PathValue("id"))
	if err != nil {
		if server.IsNotFound(err) {
			h.NotFound(w, r, "There is no label "+r.PathValue("id")+". Check the code on the box, or search the registry.")
			return
		}
		h.fail(w, r, err)
		return
	}
	// The status can change at any moment: keep public caches short. A
	// signed-in user's page carries their account and forms: never cache it.
	if principal(r).IsAnonymous() {
		w.Header().Set("Cache-Control", "public, max-age=60")
	} else {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	w.Header().Set("Vary", "Cookie")
	data := struct {
		page
		LabelPage
	}{h.page(r, kindTitle(lp.Scheme.Kind)+" "+lp.Label.ID, "labels"), lp}
	if !anonymous {
		h.render(w, r, http.StatusOK, "label", data)
		return
	}
	body, err := h.renderBytes("label", data)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.labelPages.Store(lp.Label.ID, anonPage{gen: gen, body: body})
	setPageHeaders(w)
	w.Write(body)
}

func (h *Web) labelQR(w http.ResponseWriter, r *http.Request) {
	l, _, err := h.App.Label(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	url := h.App.LabelURL(l.ID)
	var b []byte
	if strings.HasSuffix(r.URL.Path, ".png") {
		scale, _ := strconv.Atoi(r.URL.Query().Get("scale"))
		b, err = label.QRPNG(url, min(max(scale, 4), 32))
		w.Header().Set("Content-Type", "image/png")
	} else {
		b, err = label.QRSVG(url)
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// The page URL never changes, so the code never does.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}

func (h *Web) labelCredential(w http.ResponseWriter, r *http.Request) {
	l, _, err := h.App.Label(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vc+jwt")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write([]byte(l.Credential))
}

func (h *Web) statusList(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("list"))
	if err != nil || n < 0 {
		h.NotFound(w, r, "There is no such status list.")
		return
	}
	jws, err := h.App.StatusList(r.Context(), r.PathValue("purpose"), n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vc+jwt")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write([]byte(jws))
}

func (h *Web) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(h.App.JWKS())
}

// logFile serves the transparency log's public files straight from its
// directory: the checkpoint briefly cached, tiles and entry bundles
// forever (they never change once written; a partial tile has its own path).
func (h *Web) logFile(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	if !server.IsLogPath(p) || h.App.LogDir() == "" {
		h.NotFound(w, r, "There is no such log file.")
		return
	}
	if p == "checkpoint" {
		w.Header().Set("Cache-Control", "public, max-age=5")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if p == "checkpoint" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	http.ServeFile(w, r, filepath.Join(h.App.LogDir(), filepath.FromSlash(p)))
}

// logInfo tells auditors and verifiers how to check the log.
func (h *Web) logInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	json.NewEncoder(w).Encode(map[string]any{
		"origin":     h.App.LogOrigin(),
		"verifiers":  h.App.LogVerifiers(),
		"checkpoint": h.App.Config().PublicURL + "/log/checkpoint",
		"tiles":      h.App.Config().PublicURL + "/log/",
		// What the credentials name as their issuer: 'hallmark trust add'
		// shows it and pins it, and the user decides whether to believe it.
		"issuer": map[string]string{"id": h.App.Config().PublicURL, "name": h.App.Config().IssuerName},
	})
}

// labelReceipts serves the C2SP tlog-proof receipts of a label's
// decisions, newest last, separated by a line "--".
func (h *Web) labelReceipts(w http.ResponseWriter, r *http.Request) {
	ds, err := h.App.Receipts(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(ds) == 0 {
		h.NotFound(w, r, "There is no label "+r.PathValue("id")+".")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=60")
	for i, d := range ds {
		if i > 0 {
			w.Write([]byte("--\n"))
		}
		if !d.Logged {
			continue
		}
		w.Write([]byte(d.Receipt))
	}
}

func kindTitle(k scheme.Kind) string {
	if k == scheme.KindConformity {
		return "Conformity record"
	}
	return "Label"
}
