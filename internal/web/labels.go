package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/cdn"
	"github.com/hallmark-iot/hallmark/internal/i18n"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The public registry search, in the visitor's language, naming schemes
// and levels as people do.
func (h *Web) labels(w http.ResponseWriter, r *http.Request) {
	q := store.LabelQuery{Text: strings.TrimSpace(r.URL.Query().Get("q")), SchemeID: r.URL.Query().Get("scheme"),
		Status: assess.LabelStatus(r.URL.Query().Get("status")), Category: r.URL.Query().Get("category"), Limit: pageSize}
	pg := h.translatedPage(r, "", "labels")
	pg.Title = pg.T("registry.title")
	if len(q.Text) > 200 {
		h.badRequest(w, r, "The search text is longer than 200 characters.")
		return
	}
	list, pgr, ok := h.keyedLabels(w, r, q, h.App.Labels)
	if !ok {
		return
	}
	type row struct {
		registry.Label
		Kind       scheme.Kind
		Level      string
		StatusWord string
		IssuedText string
	}
	kinds := h.App.RecordKinds()
	rows := make([]row, len(list))
	for i, l := range list {
		rows[i] = row{Label: l, Kind: kinds[l.SchemeID], Level: h.levelName(l.SchemeID, l.LevelID),
			StatusWord: statusWord(pg.Lang, kinds[l.SchemeID], l.Status), IssuedText: pg.Date(l.Issued)}
	}
	type option struct{ Value, Text string }
	var categories, statuses []option
	for _, c := range registry.Categories {
		categories = append(categories, option{c, pg.T("category." + c)})
	}
	for _, s := range []assess.LabelStatus{assess.Active, assess.Suspended, assess.Revoked, assess.Surrendered, assess.Expired} {
		statuses = append(statuses, option{string(s), statusWord(pg.Lang, scheme.KindLabel, s)})
	}
	publicCache(w, r)
	h.render(w, r, http.StatusOK, "labels", struct {
		page
		Labels     []row
		Pager      pager
		Q          string
		Scheme     string
		Status     string
		Category   string
		Schemes    []*scheme.Scheme
		Categories []option
		Statuses   []option
	}{pg, rows, pgr, q.Text, q.SchemeID, string(q.Status), q.Category,
		h.App.Schemes().Sorted(), categories, statuses})
}

// keyedLabels reads one page of a label listing by key: ?after= and
// ?before= carry a cursor, ?last=1 asks for the oldest labels, and ?page=
// alone is read by number only near the start. The last page holds what
// is left over, as by number, so that Previous from it lines up with the
// pages Next reached. ok is false when the answer has been written.
func (h *Web) keyedLabels(w http.ResponseWriter, r *http.Request, q store.LabelQuery,
	read func(context.Context, store.LabelQuery) ([]registry.Label, int, error)) (list []registry.Label, pgr pager, ok bool) {
	var err error
	if q.Offset, ok = h.listPage(w, r); !ok {
		return nil, pgr, false
	}
	v := r.URL.Query()
	if err = parseCursors(v, store.ParseLabelKey, &q.After, &q.Before); err != nil {
		h.badRequest(w, r, err.Error())
		return nil, pgr, false
	}
	q.Oldest = v.Get("last") != ""
	list, total, err := read(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return nil, pgr, false
	}
	if q.Oldest {
		list = list[len(list)-min(len(list), lastRows(total)):]
	}
	pgr = newPager(r, total)
	var first, last string
	if len(list) > 0 {
		first, last = store.KeyOf(list[0]).Encode(), store.KeyOf(list[len(list)-1]).Encode()
	}
	pgr.byKey(r, len(list), first, last)
	return list, pgr, true
}

// refName names "scheme@level" (or a scheme alone) as people do.
func (h *Web) refName(ref string) string {
	id, level, ok := strings.Cut(ref, "@")
	s, known := h.App.Schemes()[id]
	switch {
	case !known:
		return ref
	case !ok && len(s.Levels) == 1:
		level = s.Levels[0].ID
	case !ok:
		return s.Name
	}
	return h.levelName(id, level)
}

// levelName names a scheme level as people do ("Cybersecurity Labelling
// Scheme (CLS) Level 2"), never "sg-cls@2"; an unknown one keeps its id.
func (h *Web) levelName(schemeID, levelID string) string {
	s, ok := h.App.Schemes()[schemeID]
	if !ok {
		return schemeID + " " + levelID
	}
	l, ok := s.Level(levelID)
	if !ok {
		return s.Name + " " + levelID
	}
	return scheme.Resolved{Scheme: s, Level: l}.Name()
}

// LabelPage is everything the public page of a label shows, in the
// visitor's language: the status first (what it means for the owner, why,
// the support end date and the security contact), then the product, the
// QR code, what the level means, the declared facts, known
// vulnerabilities and the history in plain words.
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
	// status when the label is not in good standing; Watch is that reason
	// read back when the post-market watch took the decision.
	Why   string
	Watch *server.WatchReason

	Conformity bool
	StatusWord string
	Means      string // what the status means for the owner
	Support    string // the support end date in a sentence, or why there is none
	SupportOld bool   // the support period is over
	Contact    fact   // the security contact, a link when it is one
	Facts      []fact
	History    []historyLine
	FindingsIn []string // the findings, a sentence each in the reader's language
	Method     string
	Needs      []needLine
}

// fact is one declared fact with its value in words; Href makes it a link.
type fact struct {
	Name, Value, Href string
}

type historyLine struct {
	Date   string
	Text   string
	Reason string
}

type needLine struct {
	ID, Title string
	Lang      i18n.Lang // the title's language
}

func (h *Web) labelPage(r *http.Request, id string, lang i18n.Lang) (LabelPage, error) {
	lp, err := h.labelFactsOf(r, id)
	if err != nil {
		return lp, err
	}
	l := lp.Label
	if l.ValidUntil.IsZero() {
		lp.ValidText = lang.T("label.noend")
	} else {
		lp.ValidText = lang.Date(l.ValidUntil)
	}
	lp.Actions = h.App.LabelActionsFor(principal(r), l)
	lp.describe(lang, func(r catalog.Requirement) (string, i18n.Lang) {
		t, in := h.App.RequirementText(r, string(lang))
		return t.Title, i18n.Lang(in)
	})
	return lp, nil
}

// labelFactsOf reads what a label page shows, the same in every language:
// for anonymous visitors (and the static tree, which asks for a label in
// each language in turn) once until the label changes.
func (h *Web) labelFactsOf(r *http.Request, id string) (LabelPage, error) {
	anonymous := principal(r).IsAnonymous()
	if anonymous {
		if lp, ok := h.labelFacts.Get(id); ok {
			return lp, nil
		}
	}
	gen := h.App.LabelGeneration()
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
	if lp.Findings, lp.FindingsTotal, err = h.App.LabelFindings(r.Context(), l); err != nil {
		return lp, err
	}
	if n := len(events); n > 0 && l.Status != assess.Active {
		last := events[n-1]
		lp.Why = last.Reason
		if w, ok := server.ParseWatchReason(lp.Why); ok && last.UserID == 0 {
			lp.Watch = &w
		} else if last.Action == string(assess.ExpireLabel) && last.UserID == 0 {
			lp.Why = "" // Hallmark's own "the validity period ended": the status says it
		}
	}
	if anonymous {
		// Roughly what it holds: the credential, the events, the findings.
		cost := 4<<10 + len(l.Credential) + 512*len(events) + 512*len(lp.Findings)
		h.App.IfUnchanged(gen, func() { h.labelFacts.Put(id, lp, cost) })
	}
	return lp, nil
}

// describe fills the words of the page in lang.
func (lp *LabelPage) describe(lang i18n.Lang, title func(catalog.Requirement) (string, i18n.Lang)) {
	l := lp.Label
	lp.Conformity = lp.Scheme.Kind == scheme.KindConformity
	lp.StatusWord = statusWord(lang, lp.Scheme.Kind, l.Status)
	prefix := "label.means."
	if lp.Conformity {
		prefix = "record.means."
	}
	switch {
	case l.Status == assess.Suspended && lp.Watch != nil:
		lp.Means = lang.T(prefix + "watch")
		if lp.Conformity {
			lp.StatusWord = lang.T("label.watch.record")
		} else {
			lp.StatusWord = lang.T("label.watch")
		}
	case l.Status == assess.Expired:
		end := l.ValidUntil
		if end.IsZero() && len(lp.Events) > 0 {
			end = lp.Events[len(lp.Events)-1].At
		}
		lp.Means = lang.T(prefix+"expired", lang.Date(end))
	case l.Status == assess.Active && lp.Conformity:
		lp.Means = lang.T(prefix+"active", lp.Scheme.Name)
	default:
		lp.Means = lang.T(prefix + string(l.Status))
	}
	// The support period and the security contact come first, when the
	// scheme publishes them: they decide whether the product stays safe
	// to use, and where to turn when it is not.
	published := func(f string) bool { return slices.Contains(lp.Scheme.PublicFields, f) }
	switch end := lp.Public.SupportEndDate; {
	case !published("support_end_date"):
		lp.Support = lang.T("label.support.hidden")
	case end == "":
		lp.Support = lang.T("label.support.none")
	case end < time.Now().UTC().Format(time.DateOnly):
		lp.Support, lp.SupportOld = lang.T("label.support.ended", lang.DateText(end)), true
	default:
		lp.Support = lang.T("label.support.until", lang.DateText(end))
	}
	if c := strings.TrimSpace(lp.Public.SecurityContact); c != "" {
		lp.Contact = fact{Name: lang.T("label.contact"), Value: c, Href: contactHref(c)}
	} else if !published("security_contact") {
		lp.Contact = fact{Name: lang.T("label.contact.hidden")}
	}
	pub := lp.Public
	add := func(key, value, href string) {
		if value != "" {
			lp.Facts = append(lp.Facts, fact{Name: lang.T("fact." + key), Value: value, Href: href})
		}
	}
	word := func(prefix, v string) string {
		if v == "" {
			return ""
		}
		if k := prefix + v; lang.Has(k) {
			return lang.T(k)
		}
		return v
	}
	add("update_mode", word("value.update.", pub.UpdateMode), "")
	add("password_type", word("value.password.", pub.PasswordType), "")
	add("password_change_method", pub.PasswordChangeMethod, "")
	add("disclosure_policy_url", pub.DisclosurePolicyURL, webHref(pub.DisclosurePolicyURL))
	var sensors []string
	for _, s := range pub.Sensors {
		sensors = append(sensors, word("value.sensor.", s))
	}
	add("sensors", strings.Join(sensors, ", "), "")
	add("data_deletion", pub.DataDeletion, webHref(pub.DataDeletion))
	add("account_deactivation", pub.AccountDeactivation, webHref(pub.AccountDeactivation))
	add("encryption", pub.Encryption, "")
	add("how_to_secure", pub.HowToSecure, webHref(pub.HowToSecure))
	if b := pub.SBOMAvailable; b != nil {
		add("sbom_available", map[bool]string{true: lang.T("value.yes"), false: lang.T("value.no")}[*b], "")
	}
	add("brand", pub.Brand, "")
	add("product_category", word("category.", pub.ProductCategory), "")
	add("hardware_version", pub.HardwareVersion, "")
	add("authorization_date", lang.DateText(pub.AuthorizationDate), "")
	add("certifying_body", pub.CertifyingBody, "")
	add("testing_lab", pub.TestingLab, "")
	lp.Method = lang.T("method." + string(lp.Level.Level.Method))
	for _, f := range lp.Findings {
		lp.FindingsIn = append(lp.FindingsIn, findingSentence(lang, f))
	}
	for _, n := range lp.Level.Needs {
		t, in := title(n.Requirement)
		lp.Needs = append(lp.Needs, needLine{ID: n.Requirement.ID, Title: t, Lang: in})
	}
	// The history in plain words, each event on the day it happened: an
	// expiry on the day the validity ended, not the day it was recorded.
	for _, e := range lp.Events {
		at := e.At
		line := historyLine{Reason: e.Reason}
		switch assess.LabelAction(e.Action) {
		case assess.ExpireLabel:
			if !l.ValidUntil.IsZero() && l.ValidUntil.Before(at) {
				at = l.ValidUntil
			}
			line.Text, line.Reason = lang.T("history.expire"), ""
		case assess.SuspendLabel, assess.RestoreLabel, assess.RevokeLabel:
			line.Text = lang.T("history." + e.Action)
			if w, ok := server.ParseWatchReason(e.Reason); ok && e.UserID == 0 {
				switch assess.LabelAction(e.Action) {
				case assess.SuspendLabel:
					line.Text = lang.T("history.watch")
				case assess.RestoreLabel:
					line.Text = lang.T("history.watch.restore")
				}
				line.Reason = w.Description
				if len(w.Flaws) > 0 {
					line.Reason += " " + lang.T("label.flaws") + " " + strings.Join(w.Flaws, ", ") + lang.T("finding.end")
				}
			}
		case "issue":
			// The approval note is the authority's to the manufacturer,
			// not a public statement.
			line.Text, line.Reason = lang.T("history.issue", lp.Scheme.Owner), ""
		default:
			line.Text = lang.T("history." + e.Action)
		}
		line.Date = lang.Date(at)
		lp.History = append(lp.History, line)
	}
}

// findingSentence says a known vulnerability in a sentence, in lang: the
// same facts as server.PublicFinding.Sentence, in the reader's words.
func findingSentence(lang i18n.Lang, f server.PublicFinding) string {
	var b strings.Builder
	b.WriteString(f.Advisory)
	if f.Severity != "" {
		sev := f.Severity
		if k := "severity." + sev; lang.Has(k) {
			sev = lang.T(k)
		}
		b.WriteString(lang.T("finding.sev", sev))
	}
	if f.Exploited {
		b.WriteString(lang.T("finding.exploited"))
	}
	switch f.State {
	case registry.FindingReview:
		return b.String() + lang.T("finding.review", lang.Date(f.Since))
	case registry.FindingDisputed:
		return b.String() + lang.T("finding.disputed")
	case registry.FindingNotAffected:
		return b.String() + lang.T("finding.notaffected")
	case registry.FindingFixed:
		return b.String() + lang.T("finding.fixed")
	}
	if len(f.Fixed) > 0 {
		b.WriteString(lang.T("finding.fixedin", strings.Join(f.Fixed, ", ")))
	} else {
		b.WriteString(lang.T("finding.nofix"))
	}
	switch {
	case f.Overdue:
		b.WriteString(lang.T("finding.overdue", lang.Date(f.Deadline)))
	case !f.Deadline.IsZero():
		b.WriteString(lang.T("finding.deadline", lang.Date(f.Deadline)))
	}
	return b.String() + lang.T("finding.end")
}

// contactHref makes a security contact a working link: an e-mail address
// becomes mailto:, a web address stays one; anything else is shown as text.
func contactHref(c string) string {
	c = strings.TrimSpace(c)
	if h := webHref(c); h != "" {
		return h
	}
	if a, err := mail.ParseAddress(strings.TrimPrefix(c, "mailto:")); err == nil && !strings.ContainsAny(a.Address, " <>") {
		return "mailto:" + a.Address
	}
	return ""
}

// webHref is s when it is an http(s) URL, else "".
func webHref(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.String()
}

// asOfMark stands in cached label pages for the time they are served at:
// the status on a page is known as of the moment it is sent.
const asOfMark = "HALLMARK-AS-OF-7Q2X"

// anonPage is a label page as rendered for anonymous visitors, kept until
// any label's status changes: most QR scans then cost no database read and
// no template rendering.
type anonPage struct {
	body []byte
	etag string // weak: the served bytes differ only in the as-of time
}

func (h *Web) label(w http.ResponseWriter, r *http.Request) {
	anonymous := principal(r).IsAnonymous()
	lang := requestLang(r)
	gen := h.App.LabelGeneration()
	key := pageKey(r.PathValue("id"), lang)
	serve := func(c anonPage) {
		publicCache(w, r)
		setPageHeaders(w)
		w.Header().Set("Etag", c.etag)
		w.Write(bytes.ReplaceAll(c.body, []byte(asOfMark), []byte(lang.Time(h.App.Now()))))
	}
	if anonymous {
		if c, ok := h.labelPages.Get(key); ok {
			serve(c)
			return
		}
	}
	lp, err := h.labelPage(r, r.PathValue("id"), lang)
	if err != nil {
		if server.IsNotFound(err) {
			h.labelNotFound(w, r, lang.T("label.notfound", r.PathValue("id")))
			return
		}
		h.fail(w, r, err)
		return
	}
	title := lang.T("label.title", lp.Label.ID)
	if lp.Scheme.Kind == scheme.KindConformity {
		title = lang.T("label.title.record", lp.Label.ID)
	}
	data := struct {
		page
		LabelPage
		AsOf string
	}{h.translatedPage(r, title, "labels"), lp, asOfMark}
	data.page.PageURL = lp.URL
	// The switcher leads to each language's own address, which the static
	// tree has too (the /language switch needs Hallmark), and the page
	// names the addresses of all its languages, canonical its own.
	data.page.Switch = nil
	base := h.App.Config().PublicURL
	data.page.Alternates = []alternate{{"x-default", lp.URL}}
	for _, l := range i18n.Supported {
		if l != lang {
			data.page.Switch = append(data.page.Switch, langLink{l, LabelPath(lp.Label.ID, l)})
		}
		data.page.Alternates = append(data.page.Alternates, alternate{string(l), base + LabelPath(lp.Label.ID, l)})
	}
	data.page.Canonical = base + LabelPath(lp.Label.ID, lang)
	body, err := h.renderBytes("label", data)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if !anonymous {
		// A signed-in user's page carries their account and forms: never cache it.
		setPageHeaders(w)
		w.Header().Set("Cache-Control", "private, no-store")
		w.Write(bytes.ReplaceAll(body, []byte(asOfMark), []byte(lang.Time(h.App.Now()))))
		return
	}
	c := anonPage{body: body, etag: cdn.WeakTag(string(body))}
	h.App.IfUnchanged(gen, func() { h.labelPages.Put(key, c, len(body)+len(c.etag)) })
	serve(c)
}

// LabelPath is the address of a label's page in one language, on serve
// and in the static tree alike.
func LabelPath(id string, l i18n.Lang) string {
	return "/labels/" + url.PathEscape(id) + "/" + string(l) + "/"
}

// labelIn is the label page in the language its address names; any other
// code is no page, so each language has one address.
func (h *Web) labelIn(w http.ResponseWriter, r *http.Request) {
	if _, ok := i18n.Code(r.PathValue("lang")); !ok {
		h.NotFound(w, r, "There is no page at this address.")
		return
	}
	h.label(w, r)
}

// labelInNoSlash leads /labels/{id}/de to /labels/{id}/de/, as a file
// server does for a directory.
func (h *Web) labelInNoSlash(w http.ResponseWriter, r *http.Request) {
	if _, ok := i18n.Code(r.PathValue("lang")); !ok {
		h.NotFound(w, r, "There is no page at this address.")
		return
	}
	http.Redirect(w, r, r.URL.EscapedPath()+"/", http.StatusMovedPermanently)
}

// pageKey names a cached label page: the label and the language it is
// in (nothing else of the request reaches the page).
func pageKey(id string, lang i18n.Lang) string {
	return id + "|" + string(lang)
}

// forgetPages drops the cached pages of labels that changed (all: nil).
func (h *Web) forgetPages(ids []string) {
	if ids == nil {
		h.labelPages.Clear()
		h.labelFacts.Clear()
		return
	}
	h.labelFacts.Delete(ids...)
	var keys []string
	for _, id := range ids {
		for _, l := range i18n.Supported {
			keys = append(keys, pageKey(id, l))
		}
	}
	h.labelPages.Delete(keys...)
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
	if strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
		// An auditor: the list as the database holds it now.
		if err := h.App.RecheckStatusList(r.Context(), n); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	sl, err := h.App.SignedStatusList(r.Context(), r.PathValue("purpose"), n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/vc+jwt")
	// As long as the label page and the status API: a change reaches all
	// three within the same bound.
	hd.Set("Cache-Control", server.PublicCacheControl)
	// Tagged when signed, and of known length: the cdn layer answers 304
	// or passes the kept bytes straight through, holding and hashing nothing.
	hd.Set("Etag", sl.ETag)
	hd.Set("Content-Length", strconv.Itoa(len(sl.JWS)))
	w.Write(sl.JWS)
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
	f := filepath.Join(h.App.LogDir(), filepath.FromSlash(p))
	// The file's size and time tag it; http.ServeFile answers 304 to a
	// request naming the tag and sends the file with sendfile otherwise.
	if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
		w.Header().Set("Etag", cdn.WeakTag(p, strconv.FormatInt(fi.Size(), 10), strconv.FormatInt(fi.ModTime().UnixNano(), 10)))
	}
	http.ServeFile(w, r, f)
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
