package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/bcache"
	"github.com/hallmark-iot/hallmark/internal/cdn"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/reqid"
	"github.com/hallmark-iot/hallmark/internal/sbom"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func (a *API) registerRegistry(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/labels", a.labels)
	mux.HandleFunc("GET /api/v1/labels/{id}", a.label)
	mux.HandleFunc("GET /api/v1/labels/{id}/credential", a.labelCredential)
	mux.HandleFunc("GET /api/v1/labels/{id}/status", a.labelStatus)
	mux.HandleFunc("GET /api/v1/labels/{id}/cta2120", a.labelCTA)
	mux.HandleFunc("GET /api/v1/labels/{id}/receipts", a.labelReceipts)
	mux.HandleFunc("POST /api/v1/labels/{id}/actions", a.withToken(a.signedIn(a.labelAction)))
	mux.HandleFunc("POST /api/v1/label-actions", a.withToken(a.signedIn(a.labelActions)))

	mux.HandleFunc("GET /api/v1/products", a.withToken(a.products))
	mux.HandleFunc("POST /api/v1/products", a.withToken(a.signedIn(a.createProduct)))
	mux.HandleFunc("GET /api/v1/products/{id}", a.withToken(a.product))
	mux.HandleFunc("POST /api/v1/products/{id}/versions", a.withToken(a.signedIn(a.createVersion)))
	mux.HandleFunc("PUT /api/v1/versions/{id}/sbom", a.withToken(a.signedIn(a.putSBOM)))
	mux.HandleFunc("GET /api/v1/applications", a.withToken(a.signedIn(a.applications)))
	mux.HandleFunc("POST /api/v1/applications", a.withToken(a.signedIn(a.createApplication)))
	mux.HandleFunc("GET /api/v1/applications/{id}", a.withToken(a.signedIn(a.application)))
	mux.HandleFunc("POST /api/v1/applications/{id}/steps", a.withToken(a.signedIn(a.applicationStep)))
	mux.HandleFunc("POST /api/v1/applications/{id}/findings", a.withToken(a.signedIn(a.recordFinding)))
	mux.HandleFunc("POST /api/v1/applications/{id}/evidence", a.withToken(a.signedIn(a.addEvidence)))
	mux.HandleFunc("GET /api/v1/audit", a.withToken(a.signedIn(a.auditTrail)))
	mux.HandleFunc("POST /api/v1/advisories", a.withToken(a.signedIn(a.ingestAdvisory)))
	mux.HandleFunc("POST /api/v1/watch/run", a.withToken(a.signedIn(a.runWatch)))
	mux.HandleFunc("GET /api/v1/findings", a.withToken(a.signedIn(a.findings)))
	mux.HandleFunc("POST /api/v1/findings/{id}/response", a.withToken(a.signedIn(a.respondFinding)))
	mux.HandleFunc("PUT /api/v1/versions/{id}/vex", a.withToken(a.signedIn(a.putVEX)))
	mux.HandleFunc("GET /api/v1/notifications", a.withToken(a.signedIn(a.notifications)))
}

type labelRef struct {
	ID         string             `json:"id"`
	Status     assess.LabelStatus `json:"status"`
	Page       string             `json:"page"`
	Credential string             `json:"credential"`
}

type principalKey struct{}

// signedIn refuses anonymous callers with 401 before anything is looked
// up, so an anonymous probe learns nothing about which ids exist.
func (a *API) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if who(r).IsAnonymous() {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hallmark"`)
			WriteProblem(w, r, http.StatusUnauthorized, "send an API token as 'Authorization: Bearer <token>'; create one in the console")
			return
		}
		next(w, r)
	}
}

// withToken resolves an API bearer token into the account it belongs to;
// without one the request is anonymous (and the handler decides).
func (a *API) withToken(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := auth.Anonymous
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			pp, err := a.App.TokenPrincipal(r.Context(), tok)
			switch {
			case errors.Is(err, server.ErrToken):
				w.Header().Set("WWW-Authenticate", `Bearer realm="hallmark", error="invalid_token"`)
				WriteProblem(w, r, http.StatusUnauthorized, "the API token is unknown, expired or revoked; create one in the console")
				return
			case err != nil:
				// The token could not be checked: that is our failure,
				// never the client's token's.
				fail(w, r, err)
				return
			}
			p = pp
		}
		next(w, r.WithContext(contextWith(r, p)))
	}
}

func who(r *http.Request) auth.Principal {
	if p, ok := r.Context().Value(principalKey{}).(auth.Principal); ok {
		return p
	}
	return auth.Anonymous
}

// fail maps application errors to problem responses.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, server.ErrDenied) && who(r).IsAnonymous() {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hallmark"`)
		WriteProblem(w, r, http.StatusUnauthorized, "send an API token as 'Authorization: Bearer <token>'")
		return
	}
	if uploadProblem(w, r, err) {
		return
	}
	var fe registry.Errors
	if errors.Is(err, server.ErrInvalid) && errors.As(err, &fe) {
		status := http.StatusUnprocessableEntity
		if errors.Is(err, input.ErrText) {
			status = http.StatusBadRequest // characters Hallmark never accepts, as everywhere else
		}
		writeProblemErrors(w, r, status, "the input is not valid; nothing was stored", err)
		return
	}
	status, detail := problemFor(err)
	if status >= 500 {
		reqid.Note(r, err) // logged with the request id, which the answer carries
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
	}
	WriteProblem(w, r, status, detail)
}

// problemFor is the one mapping of the application's errors to HTTP.
func problemFor(err error) (int, string) {
	switch {
	case server.IsNotFound(err):
		return http.StatusNotFound, "not found, or your account may not see it"
	case errors.Is(err, server.ErrDenied):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, input.ErrText):
		// A NUL byte, a control character, invalid UTF-8 or a
		// bidirectional override: the same refusal on either database.
		return http.StatusBadRequest, strings.TrimPrefix(err.Error(), server.ErrInvalid.Error()+": ")
	case errors.Is(err, server.ErrInvalid):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, assess.ErrIllegal), errors.Is(err, store.ErrConflict):
		return http.StatusConflict, err.Error()
	case store.IsUnavailable(err):
		return http.StatusServiceUnavailable, "the database is unavailable; nothing was changed; try again shortly"
	case errors.Is(err, server.ErrNotWriter):
		return http.StatusServiceUnavailable, server.NotWriterNotice
	case errors.Is(err, server.ErrDecisionsHeld):
		return http.StatusServiceUnavailable, server.HeldNotice
	}
	return http.StatusInternalServerError, "the request could not be completed; nothing was changed"
}

// ProblemJSON is a problem inside a batch answer.
type ProblemJSON struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// decode reads a JSON body of at most limit bytes into v, strictly.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		WriteProblem(w, r, http.StatusUnsupportedMediaType, "send JSON with Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d KiB", limit>>10))
			return false
		}
		WriteProblem(w, r, http.StatusBadRequest, "the JSON body could not be read: "+err.Error())
		return false
	}
	return true
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteProblem(w, r, http.StatusNotFound, "no such id")
		return 0, false
	}
	return id, true
}

// Public label data.

type labelJSON struct {
	ID string `json:"id"`
	// Kind is "label" or "conformity-record": a record of a legal duty (a
	// statement of compliance, an EU declaration of conformity) is not a
	// label, and its status means "declared compliant", not "certified".
	Kind          string            `json:"kind"`
	Status        string            `json:"status"`
	Scheme        string            `json:"scheme"`
	SchemeVersion int               `json:"scheme_version"`
	Level         string            `json:"level"`
	Product       string            `json:"product"`
	ModelNumber   string            `json:"model_number"`
	Version       string            `json:"software_version"`
	Manufacturer  string            `json:"manufacturer"`
	Issued        time.Time         `json:"issued"`
	ValidUntil    *time.Time        `json:"valid_until,omitempty"`
	PageURL       string            `json:"page_url"`
	CredentialSHA string            `json:"credential_sha256"`
	GTIN          string            `json:"gtin,omitempty"`
	PURL          string            `json:"purl,omitempty"`
	History       []labelEventJSON  `json:"history,omitempty"`
	Links         map[string]string `json:"links"`
}

type labelEventJSON struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

func (a *API) toLabelJSON(l registry.Label, events []registry.LabelEvent) labelJSON {
	out := labelJSON{ID: l.ID, Kind: string(a.App.RecordKind(l.SchemeID)), Status: string(l.Status), Scheme: l.SchemeID, SchemeVersion: l.SchemeVersion, Level: l.LevelID,
		Product: l.ProductName, ModelNumber: l.ModelNumber, Version: l.SoftwareVersion, Manufacturer: l.Manufacturer,
		Issued: l.Issued, PageURL: a.App.LabelURL(l.ID), CredentialSHA: l.CredentialHash, GTIN: l.GTIN, PURL: l.PURL,
		Links: map[string]string{"credential": "/api/v1/labels/" + l.ID + "/credential", "status": "/api/v1/labels/" + l.ID + "/status",
			"cta2120": "/api/v1/labels/" + l.ID + "/cta2120", "qr_svg": "/labels/" + l.ID + "/qr.svg"}}
	if !l.ValidUntil.IsZero() {
		v := l.ValidUntil
		out.ValidUntil = &v
	}
	for _, e := range events {
		out.History = append(out.History, labelEventJSON{e.At, e.Action, string(e.From), string(e.To), e.Reason})
	}
	return out
}

func (a *API) labels(w http.ResponseWriter, r *http.Request) {
	a.answersOnce.Do(func() { a.answers = bcache.New[listAnswer](AnswerCacheBudget) })
	fresh := strings.Contains(r.Header.Get("Cache-Control"), "no-cache")
	gen := a.App.LabelGeneration()
	if c, ok := a.answers.Get(r.URL.RawQuery); ok && c.gen == gen && !fresh {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", server.PublicCacheControl)
		w.Header().Set("Etag", c.etag)
		w.Write(c.body)
		return
	}
	limit, offset, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	lq := store.LabelQuery{Text: q.Get("q"), SchemeID: q.Get("scheme"),
		Status: assess.LabelStatus(q.Get("status")), Category: q.Get("category"), Limit: limit, Offset: offset,
		// An auditor compares the registry with the log as it is now.
		Fresh: fresh}
	if c := q.Get("cursor"); c != "" {
		if lq.After, err = store.ParseLabelKey(c); err != nil {
			WriteProblem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		if offset != 0 {
			WriteProblem(w, r, http.StatusBadRequest, "give either cursor or offset, not both")
			return
		}
	}
	list, total, err := a.App.Labels(r.Context(), lq)
	if err != nil {
		fail(w, r, err)
		return
	}
	items := []labelJSON{}
	for _, l := range list {
		items = append(items, a.toLabelJSON(l, nil))
	}
	out := List[labelJSON]{Items: items, Total: total, Limit: limit, Offset: offset}
	if len(list) == limit {
		out.Cursor = store.KeyOf(list[len(list)-1]).Encode()
		out.Next = a.nextLink("/api/v1/labels", q, out.Cursor, limit)
	}
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fail(w, r, err)
		return
	}
	body = append(body, '\n')
	// Kept while no label changes (the generation read before the query).
	ans := listAnswer{gen: gen, body: body, etag: cdn.Tag(body)}
	a.App.IfUnchanged(gen, func() { a.answers.Put(r.URL.RawQuery, ans, len(body)) })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", server.PublicCacheControl)
	w.Header().Set("Etag", ans.etag)
	w.Write(body)
}

func (a *API) label(w http.ResponseWriter, r *http.Request) {
	get := a.App.Label
	if strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
		get = a.App.RecheckLabel // an auditor: as the database holds it now
	}
	l, ev, err := get(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", server.PublicCacheControl)
	writeJSON(w, http.StatusOK, a.toLabelJSON(l, ev))
}

func (a *API) labelCredential(w http.ResponseWriter, r *http.Request) {
	l, _, err := a.App.Label(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vc+jwt")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write([]byte(l.Credential))
}

// labelStatus answers the status now, with where the signed status lists
// are, for clients that do not verify credentials themselves.
func (a *API) labelStatus(w http.ResponseWriter, r *http.Request) {
	l, err := a.App.LabelRecord(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	list := l.StatusIndex / label.MinListBits
	w.Header().Set("Cache-Control", server.PublicCacheControl)
	// Weak: the answer differs from second to second only in as_of.
	w.Header().Set("Etag", cdn.WeakTag(l.ID, string(l.Status), strconv.Itoa(l.StatusIndex), a.App.StatusListURL(label.PurposeRevocation, list)))
	writeJSON(w, http.StatusOK, map[string]any{
		"id": l.ID, "status": l.Status, "as_of": a.App.Now().UTC().Format(time.RFC3339),
		"status_lists": map[string]any{
			"revocation": a.App.StatusListURL(label.PurposeRevocation, list),
			"suspension": a.App.StatusListURL(label.PurposeSuspension, list),
			"message":    a.App.StatusListURL(label.PurposeMessage, list),
			"index":      l.StatusIndex % label.MinListBits,
		},
	})
}

func (a *API) labelCTA(w http.ResponseWriter, r *http.Request) {
	rec, err := a.App.PublicRecord(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", server.PublicCacheControl)
	writeJSON(w, http.StatusOK, rec)
}

func (a *API) labelAction(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Action string `json:"action"`
		Reason string `json:"reason"`
	}
	if !decode(w, r, 16<<10, &body) {
		return
	}
	o, err := a.App.ChangeLabel(r.Context(), who(r), r.PathValue("id"), assess.LabelAction(body.Action), body.Reason)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, labelDecisionJSON{ID: r.PathValue("id"), Status: o.Status, Decision: a.decisionJSON(r.PathValue("id"), o.DecisionID)})
}

// decisionRef tells a client where its decision's log receipt will be:
// decisions are acknowledged once durable, and logged right behind.
type decisionRef struct {
	ID       int64  `json:"id"`
	Receipt  string `json:"receipt"`
	Receipts string `json:"receipts_url"`
}

type labelDecisionJSON struct {
	ID       string             `json:"id"`
	Status   assess.LabelStatus `json:"status,omitempty"`
	Error    *ProblemJSON       `json:"error,omitempty"`
	Decision *decisionRef       `json:"decision,omitempty"`
}

func (a *API) decisionJSON(labelID string, id int64) *decisionRef {
	if id == 0 {
		return nil
	}
	return &decisionRef{ID: id, Receipt: "pending", Receipts: a.App.Config().PublicURL + "/api/v1/labels/" + labelID + "/receipts"}
}

// maxBatch bounds one batch of label actions: an advisory can touch
// thousands of labels, and the gate writes them in chunks.
const maxBatch = 10000

// labelActions applies one action to many labels (POST
// /api/v1/label-actions): each label is decided on its own; the answer
// says, per label, the new status or why not.
func (a *API) labelActions(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Action string   `json:"action"`
		Reason string   `json:"reason"`
		Labels []string `json:"labels"`
	}
	if !decode(w, r, 1<<20, &body) {
		return
	}
	if len(body.Labels) == 0 || len(body.Labels) > maxBatch {
		WriteProblem(w, r, http.StatusBadRequest, fmt.Sprintf("name between 1 and %d labels", maxBatch))
		return
	}
	reqs := make([]server.Request, len(body.Labels))
	for i, id := range body.Labels {
		reqs[i] = server.Request{Label: id, Action: assess.LabelAction(body.Action), Reason: body.Reason}
	}
	out, err := a.App.Decide(r.Context(), who(r), reqs...)
	if err != nil {
		fail(w, r, err)
		return
	}
	res := struct {
		Decided int                 `json:"decided"`
		Refused int                 `json:"refused"`
		Results []labelDecisionJSON `json:"results"`
	}{Results: make([]labelDecisionJSON, len(out))}
	for i, o := range out {
		res.Results[i] = labelDecisionJSON{ID: body.Labels[i], Status: o.Status, Decision: a.decisionJSON(body.Labels[i], o.DecisionID)}
		if o.Err != nil {
			status, detail := problemFor(o.Err)
			res.Results[i].Error = &ProblemJSON{Status: status, Detail: detail}
			res.Refused++
		} else {
			res.Decided++
		}
	}
	// Nothing decided, for one reason: answer with that reason's status,
	// so a client (or a caller who may not act at all) sees it at once.
	status := http.StatusOK
	if res.Decided == 0 {
		status = res.Results[0].Error.Status
		for _, r := range res.Results {
			if r.Error.Status != status {
				status = http.StatusConflict
			}
		}
	}
	writeJSON(w, status, res)
}

// Registry.

// nextLink is the link to a list's following page: the filters stay, the
// cursor replaces any offset.
func (a *API) nextLink(path string, q url.Values, cursor string, limit int) string {
	q.Del("offset")
	q.Set("cursor", cursor)
	q.Set("limit", strconv.Itoa(limit))
	return a.App.Config().PublicURL + path + "?" + q.Encode()
}

func (a *API) products(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	pq := store.ProductQuery{Text: q.Get("q"), Category: q.Get("category"), Limit: limit, Offset: offset}
	if c := q.Get("cursor"); c != "" {
		if pq.After, err = store.ParseProductKey(c); err != nil {
			WriteProblem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		if offset != 0 {
			WriteProblem(w, r, http.StatusBadRequest, "give either cursor or offset, not both")
			return
		}
	}
	list, total, err := a.App.Products(r.Context(), who(r), pq)
	if err != nil {
		fail(w, r, err)
		return
	}
	if list == nil {
		list = []registry.Product{}
	}
	out := List[registry.Product]{Items: list, Total: total, Limit: limit, Offset: offset}
	if len(list) == limit {
		out.Cursor = store.ProductKeyOf(list[len(list)-1]).Encode()
		out.Next = a.nextLink("/api/v1/products", q, out.Cursor, limit)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) createProduct(w http.ResponseWriter, r *http.Request) {
	var p registry.Product
	if !decode(w, r, 64<<10, &p) {
		return
	}
	id, err := a.App.CreateProduct(r.Context(), who(r), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/products/%d", id))
	writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

func (a *API) product(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	v, err := a.App.ProductView(r.Context(), who(r), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	if v.Versions == nil {
		v.Versions = []registry.Version{}
	}
	writeJSON(w, http.StatusOK, struct {
		registry.Product
		Versions []registry.Version `json:"versions"`
	}{v.Product, v.Versions})
}

func (a *API) createVersion(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var v registry.Version
	if !decode(w, r, 64<<10, &v) {
		return
	}
	v.ProductID = id
	vid, err := a.App.CreateVersion(r.Context(), who(r), v, nil)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": vid})
}

// putSBOM takes the SBOM file itself as the body (CycloneDX or SPDX).
func (a *API) putSBOM(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	ct := strings.Split(r.Header.Get("Content-Type"), ";")[0]
	switch ct {
	case "application/json", "application/vnd.cyclonedx+json", "application/vnd.cyclonedx+xml", "application/xml", "text/xml",
		"application/spdx+json", "text/spdx", "text/plain":
	default:
		WriteProblem(w, r, http.StatusUnsupportedMediaType, "send a CycloneDX (JSON or XML) or SPDX (JSON or tag-value) SBOM with its content type")
		return
	}
	if err := a.App.CheckVersionOwner(r.Context(), who(r), id); err != nil {
		fail(w, r, err)
		return
	}
	sb, err := a.App.ReceiveSBOM(r.Context(), who(r), http.MaxBytesReader(w, r.Body, sbom.MaxSize+1), r.ContentLength)
	if err != nil {
		fail(w, r, err)
		return
	}
	if err := a.App.UploadSBOM(r.Context(), who(r), id, sb); err != nil {
		fail(w, r, err)
		return
	}
	warnings := sb.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"format": sb.Format, "components": len(sb.Components), "sha256": sb.Digest, "warnings": warnings})
}

type appJSON struct {
	ID            int64        `json:"id"`
	VersionID     int64        `json:"version_id"`
	Product       string       `json:"product"`
	Manufacturer  string       `json:"manufacturer"`
	Scheme        string       `json:"scheme"`
	SchemeVersion int          `json:"scheme_version"`
	Level         string       `json:"level"`
	State         assess.State `json:"state"`
	AssessorOrgID int64        `json:"assessor_org_id,omitempty"`
	Label         string       `json:"label,omitempty"`
	Updated       time.Time    `json:"updated"`
}

func toAppJSON(a registry.Application) appJSON {
	return appJSON{a.ID, a.VersionID, a.ProductName + " " + a.SoftwareVersion, a.Manufacturer, a.SchemeID, a.SchemeVersion,
		a.LevelID, a.State, a.AssessorOrgID, a.LabelID, a.Updated}
}

func (a *API) applications(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	q := store.AppQuery{Limit: limit, Offset: offset}
	if s := r.URL.Query().Get("state"); s != "" {
		q.States = []assess.State{assess.State(s)}
	}
	list, total, err := a.App.Applications(r.Context(), who(r), q)
	if err != nil {
		fail(w, r, err)
		return
	}
	items := []appJSON{}
	for _, x := range list {
		items = append(items, toAppJSON(x))
	}
	writeJSON(w, http.StatusOK, List[appJSON]{Items: items, Total: total, Limit: limit, Offset: offset})
}

func (a *API) createApplication(w http.ResponseWriter, r *http.Request) {
	var body struct {
		VersionID int64  `json:"version_id"`
		Level     string `json:"level"` // scheme@level
	}
	if !decode(w, r, 16<<10, &body) {
		return
	}
	id, err := a.App.Apply(r.Context(), who(r), body.VersionID, body.Level)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

func (a *API) application(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	v, err := a.App.ApplicationView(r.Context(), who(r), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	findings, required := []assess.Finding{}, []string{}
	for _, n := range v.Needs.Needs {
		required = append(required, n.Requirement.ID)
		if f, ok := v.Findings[n.Requirement.ID]; ok {
			findings = append(findings, f)
		}
	}
	steps := []assess.Step{}
	steps = append(steps, v.Steps...)
	writeJSON(w, http.StatusOK, struct {
		appJSON
		Required []string         `json:"required"`
		Findings []assess.Finding `json:"findings"`
		Allowed  []assess.Step    `json:"allowed_steps"`
	}{toAppJSON(v.App), required, findings, steps})
}

func (a *API) applicationStep(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var body struct {
		Step        string `json:"step"`
		Note        string `json:"note"`
		AssessorOrg int64  `json:"assessor_org_id"`
	}
	if !decode(w, r, 16<<10, &body) {
		return
	}
	o, err := a.App.Step(r.Context(), who(r), id, assess.Step(body.Step), body.Note, body.AssessorOrg)
	if err != nil {
		fail(w, r, err)
		return
	}
	res := struct {
		ID       int64        `json:"id"`
		State    assess.State `json:"state"`
		Label    *labelRef    `json:"label,omitempty"`
		Decision *decisionRef `json:"decision,omitempty"`
	}{ID: id, State: o.State}
	if o.Label.ID != "" {
		res.Label = &labelRef{ID: o.Label.ID, Status: o.Label.Status, Page: a.App.LabelURL(o.Label.ID),
			Credential: a.App.Config().PublicURL + "/api/v1/labels/" + o.Label.ID + "/credential"}
		res.Decision = a.decisionJSON(o.Label.ID, o.DecisionID)
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *API) recordFinding(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var f assess.Finding
	if !decode(w, r, 64<<10, &f) {
		return
	}
	if err := a.App.RecordFinding(r.Context(), who(r), id, f); err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"requirement": f.Requirement, "verdict": string(f.Verdict)})
}

// addEvidence takes the file as the body; ?name= names it.
func (a *API) addEvidence(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, server.MaxEvidenceSize+1)
	eid, err := a.App.AddEvidence(r.Context(), who(r), id, r.URL.Query().Get("name"), r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("an evidence file is at most %d MiB", server.MaxEvidenceSize>>20))
			return
		}
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": eid})
}

func contextWith(r *http.Request, p auth.Principal) context.Context {
	return context.WithValue(r.Context(), principalKey{}, p)
}

// ReceiptJSON is one logged decision about a label with its receipt: the
// exact log entry and a C2SP tlog-proof that the log holds it.
type ReceiptJSON struct {
	Kind     string    `json:"kind"`
	Status   string    `json:"status,omitempty"`
	At       time.Time `json:"at"`
	Logged   bool      `json:"logged"`
	LogIndex int64     `json:"log_index"`
	Entry    string    `json:"entry"`
	Receipt  string    `json:"receipt,omitempty"`
}

func (a *API) labelReceipts(w http.ResponseWriter, r *http.Request) {
	if _, _, err := a.App.Label(r.Context(), r.PathValue("id")); err != nil {
		fail(w, r, err)
		return
	}
	ds, err := a.App.Receipts(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	out := []ReceiptJSON{}
	for _, d := range ds {
		out = append(out, ReceiptJSON{Kind: d.Kind, Status: d.Status, At: d.At, Logged: d.Logged, LogIndex: d.LogIndex,
			Entry: string(a.App.EntryBytes(d)), Receipt: d.Receipt})
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, struct {
		Label     string        `json:"label"`
		Origin    string        `json:"log_origin"`
		Verifiers []string      `json:"log_verifiers"`
		Receipts  []ReceiptJSON `json:"receipts"`
	}{r.PathValue("id"), a.App.LogOrigin(), a.App.LogVerifiers(), out})
}

// auditTrail answers the newest audit entries (authorities only);
// ?type=&id= narrow it to one object, ?limit= (1-1000) sets how many.
func (a *API) auditTrail(w http.ResponseWriter, r *http.Request) {
	limit, _, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	entries, err := a.App.AuditTrail(r.Context(), who(r), r.URL.Query().Get("type"), r.URL.Query().Get("id"), limit)
	if err != nil {
		fail(w, r, err)
		return
	}
	type entry struct {
		At         time.Time `json:"at"`
		UserID     int64     `json:"user_id,omitempty"`
		OrgID      int64     `json:"org_id,omitempty"`
		Action     string    `json:"action"`
		ObjectType string    `json:"object_type"`
		ObjectID   string    `json:"object_id"`
		Detail     string    `json:"detail,omitempty"`
	}
	out := []entry{}
	for _, e := range entries {
		out = append(out, entry{e.At, e.UserID, e.OrgID, e.Action, e.ObjectType, e.ObjectID, e.Detail})
	}
	writeJSON(w, http.StatusOK, List[entry]{Items: out, Total: len(out), Limit: limit})
}

// ingestAdvisory takes one CSAF, OSV, KEV or VEX document (an authority's
// token) and answers what the post-market watch did with it;
// ?confirm=true applies label changes past the hold threshold.
func (a *API) ingestAdvisory(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, advisory.MaxDocumentSize))
	if err != nil {
		WriteProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("a document is at most %d MiB", advisory.MaxDocumentSize>>20))
		return
	}
	if err := a.App.CheckIngest(who(r)); err != nil { // before parsing anything
		fail(w, r, err)
		return
	}
	doc, err := advisory.Parse(b)
	if err != nil {
		WriteProblem(w, r, http.StatusUnprocessableEntity, err.Error()+"; nothing was stored")
		return
	}
	rep, err := a.App.Ingest(r.Context(), who(r), []*advisory.Document{doc}, server.IngestOptions{Confirm: r.URL.Query().Get("confirm") == "true"})
	if err != nil {
		fail(w, r, err)
		return
	}
	status := http.StatusOK
	if rep.Held {
		status = http.StatusAccepted
	}
	writeJSON(w, status, rep)
}

type findingJSON struct {
	ID         int64                `json:"id"`
	Advisory   string               `json:"advisory"`
	VersionID  int64                `json:"version_id"`
	Product    string               `json:"product"`
	Version    string               `json:"software_version"`
	Label      string               `json:"label,omitempty"`
	Scheme     string               `json:"scheme,omitempty"`
	Basis      string               `json:"basis"`
	Confidence float64              `json:"confidence"`
	Component  string               `json:"component"`
	Fixed      []string             `json:"fixed,omitempty"`
	State      string               `json:"state"`
	Response   string               `json:"response"`
	Clocks     map[string]time.Time `json:"deadlines,omitempty"`
	Source     string               `json:"source_sha256"`
	FirstSeen  time.Time            `json:"first_seen"`
}

// findings lists the post-market findings the caller works on;
// ?state= narrows them (open, review, not-affected, fixed, retracted, disputed).
func (a *API) findings(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	rows, total, err := a.App.Findings(r.Context(), who(r), r.URL.Query().Get("state"), limit, offset)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := make([]findingJSON, len(rows))
	for i, f := range rows {
		out[i] = findingJSON{ID: f.ID, Advisory: f.AdvisoryID, VersionID: f.VersionID, Product: f.ProductName, Version: f.SoftwareVersion,
			Label: f.LabelID, Scheme: f.SchemeID, Basis: f.Basis, Confidence: f.Confidence, Component: f.Component, Fixed: f.Fixed,
			State: f.State, Response: f.Response, Clocks: f.Clocks, Source: f.DocSHA256, FirstSeen: f.FirstSeen}
	}
	writeJSON(w, http.StatusOK, List[findingJSON]{Items: out, Total: total, Limit: limit, Offset: offset})
}

// respondFinding takes a manufacturer's answer (acknowledged, fix-planned,
// disputed) or an authority's review (confirmed, rejected).
func (a *API) respondFinding(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var body struct {
		Response string `json:"response"`
	}
	if !decode(w, r, 4<<10, &body) {
		return
	}
	run, err := a.App.RespondFinding(r.Context(), who(r), id, body.Response)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// putVEX takes a manufacturer's VEX document for one of its versions.
func (a *API) putVEX(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.App.CheckVersionOwner(r.Context(), who(r), id); err != nil { // before parsing
		fail(w, r, err)
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, advisory.MaxRecordSize))
	if err != nil {
		WriteProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("a VEX document is at most %d MiB", advisory.MaxRecordSize>>20))
		return
	}
	doc, err := advisory.Parse(b)
	if err != nil {
		WriteProblem(w, r, http.StatusUnprocessableEntity, err.Error()+"; nothing was stored")
		return
	}
	rep, err := a.App.UploadVEX(r.Context(), who(r), id, doc)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request) {
	limit, _, err := page(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	ns, err := a.App.Notifications(r.Context(), who(r), limit)
	if err != nil {
		fail(w, r, err)
		return
	}
	if ns == nil {
		ns = []registry.Notification{}
	}
	writeJSON(w, http.StatusOK, struct {
		Items []registry.Notification `json:"items"`
	}{ns})
}

// runWatch re-matches every stored advisory against every labelled
// version and applies the rules (an authority's full re-match on demand);
// ?confirm=true applies label changes past the hold threshold.
func (a *API) runWatch(w http.ResponseWriter, r *http.Request) {
	run, err := a.App.RunWatch(r.Context(), who(r), server.IngestOptions{Confirm: r.URL.Query().Get("confirm") == "true"})
	if err != nil {
		fail(w, r, err)
		return
	}
	status := http.StatusOK
	if run.Held {
		status = http.StatusAccepted
	}
	writeJSON(w, status, run)
}
