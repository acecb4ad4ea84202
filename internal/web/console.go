package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/i18n"
	"github.com/hallmark-iot/hallmark/internal/notify"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// pageSize is how many rows a console list shows per page.
const pageSize = 50

// pager reads ?page= and says where a list stands. Its links keep every
// other query parameter (the list's filters).
type pager struct {
	Page, Pages, Total int
	// Beyond: the page asked for is past the last one (the list is empty
	// there; the page says so and links to the last).
	Beyond bool
	// The links of a list read by key (the registry, products): each
	// carries a cursor (?after=, ?before=) or asks for the last page
	// (?last=1), so following one costs the server the same at any depth,
	// unlike ?page= alone. Empty where there is no such page.
	FirstHref, PrevHref, NextHref, LastHref string
	keyed                                   bool
	query                                   url.Values // the other query parameters
	lang                                    i18n.Lang
}

// T says a pager message in the visitor's language.
func (pg pager) T(key string, args ...any) string { return pg.lang.T(key, args...) }

func newPager(r *http.Request, total int) pager {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := max(1, (total+pageSize-1)/pageSize)
	p = max(p, 1)
	q := r.URL.Query()
	for _, k := range []string{"page", "after", "before", "last"} {
		q.Del(k)
	}
	return pager{Page: p, Pages: pages, Total: total, Beyond: p > pages, query: q, lang: requestLang(r)}
}

// URL is the link to page n of the same list.
func (pg pager) URL(n int) string { return pg.with(nil, n) }

// with is the list's link with the extra parameters and page number n
// (1 is left out).
func (pg pager) with(extra url.Values, n int) string {
	q := url.Values{}
	for k, v := range pg.query {
		q[k] = v
	}
	for k, v := range extra {
		q[k] = v
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return "?"
	}
	return "?" + q.Encode()
}

// listPage reads the offset of ?page= alone (with a cursor the number is
// only shown, and the offset is 0). A ?page= deeper than
// store.MaxOffset rows is refused: the database would walk every row it
// skips. ok is false when the answer has been written.
func (h *Web) listPage(w http.ResponseWriter, r *http.Request) (offset int, ok bool) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 0, true
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 {
		h.badRequest(w, r, "The page number must be a whole number of 1 or more, not \""+v+"\".")
		return 0, false
	}
	q := r.URL.Query()
	if q.Get("after") != "" || q.Get("before") != "" || q.Get("last") != "" {
		return 0, true // the number is only shown: the cursor says where
	}
	if p-1 > store.MaxOffset/pageSize {
		h.badRequest(w, r, fmt.Sprintf("Page %d is too deep to open by its number (at most page %d). Follow Next or Last from the first page, or narrow the search.",
			p, store.MaxOffset/pageSize+1))
		return 0, false
	}
	return (p - 1) * pageSize, true
}

// lastRows is how many rows the last page holds, so pages read by key
// line up with pages read by number.
func lastRows(total int) int {
	if n := total % pageSize; n > 0 {
		return n
	}
	return pageSize
}

// byKey sets the links of a list read by key. The page number travels in
// the links (a cursor knows its place, not its number) and is kept
// within the list; first and last are the cursors of the rows shown.
func (pg *pager) byKey(r *http.Request, rows int, first, last string) {
	pg.keyed = true
	q := r.URL.Query()
	switch {
	case q.Get("last") != "":
		pg.Page, pg.Beyond = pg.Pages, false
	case q.Get("after") != "" || q.Get("before") != "":
		pg.Page, pg.Beyond = min(pg.Page, pg.Pages), false
	}
	if pg.Page > 1 {
		pg.FirstHref = pg.URL(1)
		pg.PrevHref = pg.FirstHref
		if pg.Page > 2 && first != "" {
			pg.PrevHref = pg.with(url.Values{"before": {first}}, pg.Page-1)
		}
	}
	if pg.Page < pg.Pages || pg.Beyond {
		pg.LastHref = pg.with(url.Values{"last": {"1"}}, pg.Pages)
	}
	if pg.Page < pg.Pages {
		if rows == pageSize && last != "" {
			pg.NextHref = pg.with(url.Values{"after": {last}}, pg.Page+1)
		}
	}
}

// The links the pager template shows; empty hides one. A list read by
// number links only to pages within store.MaxOffset.
func (pg pager) PrevURL() string {
	if pg.keyed {
		return pg.PrevHref
	}
	if n := pg.Prev(); n > 0 && pg.byNumber(n) {
		return pg.URL(n)
	}
	return ""
}

func (pg pager) NextURL() string {
	if pg.keyed {
		return pg.NextHref
	}
	if n := pg.Next(); n > 0 && pg.byNumber(n) {
		return pg.URL(n)
	}
	return ""
}

// LastURL is the last page, for the pager and for a page asked past it.
func (pg pager) LastURL() string {
	if pg.keyed {
		return pg.LastHref
	}
	if pg.byNumber(pg.Pages) {
		return pg.URL(pg.Pages)
	}
	return ""
}

func (pg pager) byNumber(n int) bool { return (n-1)*pageSize <= store.MaxOffset }

func (pg pager) Prev() int { return min(pg.Page-1, pg.Pages) }
func (pg pager) Next() int {
	if pg.Page < pg.Pages {
		return pg.Page + 1
	}
	return 0
}

// workList is one part of a console home page: the first applications
// and a link to all of them.
type workList struct {
	Apps  []registry.Application
	Total int
	More  string // the full list
}

// homeStates says, per role, which application states need the user's
// action and which wait on someone else.
func homeStates(role auth.Role) (mine, others []assess.State) {
	switch role {
	case auth.RoleAuthorityAdmin:
		return []assess.State{assess.Submitted, assess.Assessed}, []assess.State{assess.InAssessment}
	case auth.RoleAssessor:
		return []assess.State{assess.InAssessment}, []assess.State{assess.Assessed}
	}
	return []assess.State{assess.Draft}, []assess.State{assess.Submitted, assess.InAssessment, assess.Assessed}
}

// homeShown is how many applications each part of the home page lists.
const homeShown = 10

func (h *Web) console(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	org, err := h.App.OrganisationOf(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data := struct {
		page
		Org             registry.Organisation
		Mine            workList
		Others          workList
		Products        int
		Tokens          []consoleToken
		PasswordChanged bool
	}{page: h.page(r, "Console", "console"), Org: org, PasswordChanged: r.URL.Query().Get("password") == "changed"}
	toks, err := h.App.APITokens(r.Context(), p, p.UserID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.App.Now()
	for _, t := range toks {
		data.Tokens = append(data.Tokens, consoleToken{t, t.State(now)})
	}
	if p.Role == auth.RoleManufacturer {
		_, data.Products, _ = h.App.Products(r.Context(), p, store.ProductQuery{OnlyOrg: p.OrgID, Limit: 1})
	}
	mine, others := homeStates(p.Role)
	for _, part := range []struct {
		states []assess.State
		into   *workList
	}{{mine, &data.Mine}, {others, &data.Others}} {
		apps, total, err := h.App.Applications(r.Context(), p, store.AppQuery{States: part.states, Limit: homeShown})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		q := url.Values{}
		for _, st := range part.states {
			q.Add("state", string(st))
		}
		*part.into = workList{Apps: apps, Total: total, More: "/console/applications?" + q.Encode()}
	}
	h.render(w, r, http.StatusOK, "console", data)
}

func (h *Web) products(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	q := store.ProductQuery{Text: r.URL.Query().Get("q"), Category: r.URL.Query().Get("category"), Limit: pageSize}
	if p.Role == auth.RoleManufacturer {
		q.OnlyOrg = p.OrgID
	}
	var ok bool
	if q.Offset, ok = h.listPage(w, r); !ok {
		return
	}
	v := r.URL.Query()
	if err := parseCursors(v, store.ParseProductKey, &q.After, &q.Before); err != nil {
		h.badRequest(w, r, err.Error())
		return
	}
	q.Last = v.Get("last") != ""
	list, total, err := h.App.Products(r.Context(), p, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if q.Last {
		list = list[len(list)-min(len(list), lastRows(total)):]
	}
	pgr := newPager(r, total)
	var first, last string
	if len(list) > 0 {
		first, last = store.ProductKeyOf(list[0]).Encode(), store.ProductKeyOf(list[len(list)-1]).Encode()
	}
	pgr.byKey(r, len(list), first, last)
	h.render(w, r, http.StatusOK, "products", struct {
		page
		Products   []registry.Product
		Pager      pager
		Q          string
		Category   string
		Categories []string
		CanCreate  bool
		Error      string
	}{h.page(r, "Products", "console"), list, pgr, q.Text, q.Category, registry.Categories, auth.Can(p, auth.ActionProductCreate), r.URL.Query().Get("error")})
}

func (h *Web) createProduct(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	prod := registry.Product{Name: r.PostFormValue("name"), Brand: r.PostFormValue("brand"), Category: r.PostFormValue("category"),
		ModelNumber: r.PostFormValue("model_number"), GTIN: r.PostFormValue("gtin"), PURL: r.PostFormValue("purl"),
		CPE: r.PostFormValue("cpe"), Published: r.PostFormValue("published") == "on"}
	id, err := h.App.CreateProduct(r.Context(), principal(r), prod)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/products/%d", id), http.StatusSeeOther)
}

func (h *Web) product(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such product.")
		return
	}
	v, err := h.App.ProductView(r.Context(), principal(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var levels []scheme.Resolved
	for _, l := range mustLevels(h) {
		if l.Scheme.Status.TakesApplications() {
			levels = append(levels, l)
		}
	}
	h.render(w, r, http.StatusOK, "product", struct {
		page
		server.ProductView
		Levels        []scheme.Resolved
		UpdateModes   []string
		PasswordTypes []string
		Sensors       []string
	}{h.page(r, v.Product.Name, "console"), v, levels, registry.UpdateModes, registry.PasswordTypes, registry.Sensors})
}

func mustLevels(h *Web) []scheme.Resolved {
	all, _ := h.App.Schemes().AllLevels(h.App.Catalog())
	return all
}

// maxUpload bounds a version form with its SBOM.
const maxUpload = 33 << 20

func (h *Web) createVersion(w http.ResponseWriter, r *http.Request) {
	pid, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such product.")
		return
	}
	if err := h.App.CheckProductOwner(r.Context(), principal(r), pid); err != nil {
		h.fail(w, r, err)
		return
	}
	v := registry.Version{ProductID: pid, SoftwareVersion: r.FormValue("software_version"), HardwareVersion: r.FormValue("hardware_version"),
		ReleaseDate: r.FormValue("release_date"), Facts: registry.Facts{
			SupportEnd: r.FormValue("support_end_date"), UpdateMode: r.FormValue("update_mode"), PasswordType: r.FormValue("password_type"),
			PasswordChange: r.FormValue("password_change_method"), HowToSecure: r.FormValue("how_to_secure"),
			SecurityContact: r.FormValue("security_contact"), DisclosurePolicyURL: r.FormValue("disclosure_policy_url"),
			Sensors: r.Form["sensors"], DataDeletion: r.FormValue("data_deletion"), AccountDeactivation: r.FormValue("account_deactivation"),
			Encryption: r.FormValue("encryption"), HBOMAvailable: r.FormValue("hbom_available") == "on",
			FirmwareHashes: strings.Fields(r.FormValue("firmware_hashes")),
		}}
	var sb *server.ParsedSBOM
	if f, fh, err := r.FormFile("sbom"); err == nil {
		if fh.Size > 0 {
			sb, err = h.App.ReceiveSBOM(r.Context(), principal(r), f, fh.Size)
		}
		f.Close()
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if _, err := h.App.CreateVersion(r.Context(), principal(r), v, sb); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/products/%d", pid), http.StatusSeeOther)
}

func (h *Web) apply(w http.ResponseWriter, r *http.Request) {
	vid, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such version.")
		return
	}
	id, err := h.App.Apply(r.Context(), principal(r), vid, r.PostFormValue("level"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/applications/%d", id), http.StatusSeeOther)
}

func (h *Web) applications(w http.ResponseWriter, r *http.Request) {
	q := store.AppQuery{Limit: pageSize}
	var ok bool
	if q.Offset, ok = h.listPage(w, r); !ok {
		return
	}
	// One state or several (the console home links to "needs your action").
	for _, st := range r.URL.Query()["state"] {
		if !slices.Contains(assess.States, assess.State(st)) {
			h.badRequest(w, r, "There is no application state "+st+".")
			return
		}
		if !slices.Contains(q.States, assess.State(st)) {
			q.States = append(q.States, assess.State(st))
		}
	}
	state := r.URL.Query().Get("state")
	list, total, err := h.App.Applications(r.Context(), principal(r), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "applications", struct {
		page
		Apps   []registry.Application
		Pager  pager
		State  string
		States []assess.State
	}{h.page(r, "Applications", "console"), list, newPager(r, total), state, assess.States})
}

func (h *Web) application(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such application.")
		return
	}
	v, err := h.App.ApplicationView(r.Context(), principal(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	h.render(w, r, http.StatusOK, "application", struct {
		page
		server.AppView
		Assessing bool
		Manufact  bool
		Types     string
	}{h.page(r, fmt.Sprintf("Application %d", id), "console"), v,
		p.Role == auth.RoleAssessor && v.App.State == assess.InAssessment,
		p.Role == auth.RoleManufacturer, strings.Join(server.EvidenceTypes, ",")})
}

func (h *Web) step(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such application.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if _, err := h.App.Step(r.Context(), principal(r), id, assess.Step(r.PostFormValue("step")), r.PostFormValue("note"), formInt(r, "assessor")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/applications/%d", id), http.StatusSeeOther)
}

func (h *Web) addEvidence(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such application.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, server.MaxEvidenceSize+(1<<20))
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		h.badRequest(w, r, fmt.Sprintf("The upload could not be read; an evidence file is at most %d MiB.", server.MaxEvidenceSize>>20))
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		h.badRequest(w, r, "Choose a file to upload.")
		return
	}
	defer f.Close()
	if _, err := h.App.AddEvidence(r.Context(), principal(r), id, hdr.Filename, hdr.Header.Get("Content-Type"), f); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/applications/%d#evidence", id), http.StatusSeeOther)
}

func (h *Web) evidence(w http.ResponseWriter, r *http.Request) {
	id, ok1 := pathInt(r, "id")
	ev, ok2 := pathInt(r, "ev")
	if !ok1 || !ok2 {
		h.NotFound(w, r, "There is no such file.")
		return
	}
	e, f, err := h.App.OpenEvidence(r.Context(), principal(r), id, ev)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	// Served as a download, never rendered in the site's origin.
	w.Header().Set("Content-Type", e.ContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", e.Name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	io.Copy(w, f)
}

// recordFindings takes the assessor's whole findings form: one verdict and
// rationale per requirement; blank rows are left as they were.
func (h *Web) recordFindings(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such application.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read.")
		return
	}
	var problems []string
	for _, req := range r.Form["requirement"] {
		verdict := r.PostFormValue("verdict_" + req)
		if verdict == "" {
			continue
		}
		var ev []int64
		for _, s := range strings.FieldsFunc(r.PostFormValue("evidence_"+req), func(c rune) bool { return c == ',' || c == ' ' }) {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				ev = append(ev, n)
			}
		}
		f := assess.Finding{Requirement: req, Verdict: assess.Verdict(verdict), Rationale: strings.TrimSpace(r.PostFormValue("rationale_" + req)), Evidence: ev}
		if err := h.App.RecordFinding(r.Context(), principal(r), id, f); err != nil {
			problems = append(problems, userMessage(err))
		}
	}
	if len(problems) > 0 {
		h.badRequest(w, r, "Some findings were not recorded: "+strings.Join(problems, "; ")+". The others were saved.")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/applications/%d#findings", id), http.StatusSeeOther)
}

func (h *Web) consoleLabels(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	q := store.LabelQuery{SchemeID: r.URL.Query().Get("scheme"), Status: assess.LabelStatus(r.URL.Query().Get("status")),
		Text: r.URL.Query().Get("q"), Limit: pageSize}
	list, pgr, ok := h.keyedLabels(w, r, q, func(ctx context.Context, q store.LabelQuery) ([]registry.Label, int, error) {
		return h.App.LabelsFor(ctx, p, q)
	})
	if !ok {
		return
	}
	org, _ := h.App.OrganisationOf(r.Context(), p)
	type row struct {
		registry.Label
		Actions []assess.LabelAction
	}
	var rows []row
	for _, l := range list {
		rows = append(rows, row{l, h.App.LabelActionsFor(p, l)})
	}
	h.render(w, r, http.StatusOK, "console_labels", struct {
		page
		Labels  []row
		Pager   pager
		Org     registry.Organisation
		Scheme  string
		Status  string
		Q       string
		Authors bool
	}{h.page(r, "Labels", "console"), rows, pgr, org, q.SchemeID, string(q.Status), q.Text, p.Role == auth.RoleAuthorityAdmin})
}

func (h *Web) changeLabel(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	if _, err := h.App.ChangeLabel(r.Context(), principal(r), id, assess.LabelAction(r.PostFormValue("action")), r.PostFormValue("reason")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/labels/"+id, http.StatusSeeOther)
}

// userMessage drops the error's kind prefix ("invalid: …") for people.
func userMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"invalid: ", "not permitted: ", "not allowed: ", "conflict: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// consoleToken is a token as the console lists it.
type consoleToken struct {
	registry.APIToken
	State string
}

// newToken creates an API token and shows it once; only its hash is kept.
func (h *Web) newToken(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	expires, err := auth.ParseTokenExpiry(r.PostFormValue("expires"), h.App.Now())
	if err != nil {
		h.badRequest(w, r, userMessage(err)+".")
		return
	}
	p := principal(r)
	tok, t, err := h.App.CreateAPIToken(r.Context(), p, p.UserID, name, expires)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "token", struct {
		page
		Name, Token string
		Expires     time.Time
	}{h.page(r, "API token", "console"), t.Name, tok, t.Expires})
}

// revokeToken revokes one of the user's own tokens.
func (h *Web) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such token.")
		return
	}
	if _, err := h.App.RevokeAPIToken(r.Context(), principal(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console#tok-h", http.StatusSeeOther)
}

// consoleFindings lists the post-market findings the user works on, with
// the answers the user may give.
func (h *Web) consoleFindings(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	state := r.URL.Query().Get("state")
	offset, ok := h.listPage(w, r)
	if !ok {
		return
	}
	list, total, err := h.App.Findings(r.Context(), p, state, pageSize, offset)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	notes, err := h.App.Notifications(r.Context(), p, 10)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hooks, err := h.webhookViews(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "console_findings", struct {
		page
		Findings      []store.FindingRow
		Pager         pager
		State         string
		States        []string
		Notifications []registry.Notification
		Maker         bool
		Authority     bool
		CanWebhooks   bool
		Webhooks      []webhookView
		MaxWebhooks   int
	}{h.page(r, "Findings", "console"), list, newPager(r, total), state,
		[]string{registry.FindingOpen, registry.FindingReview, registry.FindingDisputed, registry.FindingFixed, registry.FindingNotAffected, registry.FindingRetracted},
		notes, p.Role == auth.RoleManufacturer, p.Role == auth.RoleAuthorityAdmin,
		auth.Can(p, auth.ActionWebhookManage), hooks, notify.MaxEndpoints})
}

// webhookView is an endpoint with the latest lines of its delivery log.
type webhookView struct {
	store.Webhook
	Log []store.WebhookAttempt
}

// webhookViews are the user's organisation's endpoints, for those who
// have webhooks at all.
func (h *Web) webhookViews(r *http.Request) ([]webhookView, error) {
	p := principal(r)
	if !auth.Can(p, auth.ActionWebhookManage) {
		return nil, nil
	}
	list, err := h.App.Webhooks(r.Context(), p)
	if err != nil {
		return nil, err
	}
	out := make([]webhookView, len(list))
	for i, wh := range list {
		out[i].Webhook = wh
		if out[i].Log, err = h.App.WebhookDeliveries(r.Context(), p, wh.ID, 5); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// createWebhook registers an endpoint and shows its secret once.
func (h *Web) createWebhook(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	hook, err := h.App.CreateWebhook(r.Context(), principal(r), r.PostFormValue("url"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "webhook", struct {
		page
		Hook server.NewWebhook
	}{h.page(r, "Webhook", "console"), hook})
}

func (h *Web) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such webhook.")
		return
	}
	if err := h.App.DeleteWebhook(r.Context(), principal(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/findings#webhooks-h", http.StatusSeeOther)
}

func (h *Web) respondFinding(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such finding.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if _, err := h.App.RespondFinding(r.Context(), principal(r), id, r.PostFormValue("response")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/findings", http.StatusSeeOther)
}

// uploadVEX takes a manufacturer's VEX file for one of its versions.
func (h *Web) uploadVEX(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		h.NotFound(w, r, "There is no such version.")
		return
	}
	if err := h.App.CheckVersionOwner(r.Context(), principal(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, advisory.MaxRecordSize+(64<<10))
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		h.badRequest(w, r, fmt.Sprintf("The upload could not be read; a VEX file is at most %d MiB.", advisory.MaxRecordSize>>20))
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		h.badRequest(w, r, "Choose a VEX file (OpenVEX, CSAF VEX or CycloneDX VEX) to upload.")
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, advisory.MaxRecordSize+1))
	if err != nil || len(b) > advisory.MaxRecordSize {
		h.badRequest(w, r, fmt.Sprintf("A VEX file is at most %d MiB.", advisory.MaxRecordSize>>20))
		return
	}
	doc, err := advisory.Parse(b)
	if err != nil {
		h.badRequest(w, r, "The VEX file could not be read: "+err.Error())
		return
	}
	if _, err := h.App.UploadVEX(r.Context(), principal(r), id, doc); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/findings", http.StatusSeeOther)
}

// parseCursors reads a keyed list's ?after= and ?before= cursors.
func parseCursors[K any](v url.Values, parse func(string) (K, error), after, before *K) error {
	for name, into := range map[string]*K{"after": after, "before": before} {
		if c := v.Get(name); c != "" {
			k, err := parse(c)
			if err != nil {
				return err
			}
			*into = k
		}
	}
	return nil
}
