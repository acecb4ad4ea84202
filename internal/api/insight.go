package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
)

// Evidence for policy: indicators, the market what-if, the replay of a
// proposed rule, declared targets and transparency reports.
func (a *API) registerInsight(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/indicators", a.indicators)
	mux.HandleFunc("GET /api/v1/indicators/{id}", a.indicator)
	mux.HandleFunc("GET /api/v1/whatif", a.marketWhatIf)
	mux.HandleFunc("POST /api/v1/replay", a.replay)
	mux.HandleFunc("GET /api/v1/targets", a.targets)
	mux.HandleFunc("POST /api/v1/targets", a.withToken(a.signedIn(a.declareTarget)))
	mux.HandleFunc("GET /api/v1/targets/{id}", a.target)
	mux.HandleFunc("GET /api/v1/reports", a.report)
	mux.HandleFunc("POST /api/v1/reports", a.withToken(a.signedIn(a.publishReport)))
	mux.HandleFunc("GET /api/v1/reports/{id}", a.publishedReport)
	mux.HandleFunc("GET /api/v1/reports/{id}/published", a.reportAsPublished)
}

// insightFail answers an error of the figures: a log with no checkpoint
// yet is a wait, not a fault.
func insightFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, server.ErrNoLog) {
		w.Header().Set("Retry-After", "5")
		WriteProblem(w, r, http.StatusServiceUnavailable, "figures cite a checkpoint of the transparency log, which has none yet; try again in a few seconds")
		return
	}
	fail(w, r, err)
}

type definitionJSON struct {
	*insight.Definition
	Digest   string            `json:"sha256"`
	Versions []int             `json:"versions"`
	Links    map[string]string `json:"links"`
}

func (a *API) definitionJSON(d *insight.Definition) definitionJSON {
	var vs []int
	for _, v := range insight.Versions(d.ID) {
		vs = append(vs, v.Version)
	}
	base := a.App.Config().PublicURL
	return definitionJSON{Definition: d, Digest: d.Digest(), Versions: vs, Links: map[string]string{
		"self": base + "/api/v1/indicators/" + d.ID, "page": base + "/indicators/" + d.ID, "definition": base + "/indicators/" + d.ID + "/definition"}}
}

func (a *API) indicators(w http.ResponseWriter, r *http.Request) {
	var out []definitionJSON
	for _, d := range a.App.Indicators() {
		out = append(out, a.definitionJSON(d))
	}
	paged(w, r, out)
}

type figureJSON struct {
	insight.Figure
	Definition definitionJSON    `json:"definition"`
	Citation   string            `json:"citation"`
	Links      map[string]string `json:"links"`
}

func (a *API) indicator(w http.ResponseWriter, r *http.Request) {
	q, err := insight.ParseQuery(r.URL.Query())
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "invalid: "))
		return
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			WriteProblem(w, r, http.StatusBadRequest, "version is a definition version, a whole number from 1")
			return
		}
	}
	id := r.PathValue("id")
	f, def, err := a.App.Indicator(r.Context(), id, version, q)
	if err != nil {
		insightFail(w, r, err)
		return
	}
	base := a.App.Config().PublicURL
	page := base + "/indicators/" + id
	if enc := f.Query.Values().Encode(); enc != "" {
		page += "?" + enc
	}
	dl := base + "/indicators/" + id + "/data"
	if enc := f.Query.Values().Encode(); enc != "" {
		dl += "?" + enc
	}
	writeJSON(w, http.StatusOK, figureJSON{Figure: f, Definition: a.definitionJSON(def), Citation: insight.Citation(f, base, page),
		Links: map[string]string{"page": page, "csv": strings.Replace(dl, "/data", "/data.csv", 1), "metadata": strings.Replace(dl, "/data", "/metadata.json", 1),
			"briefing": strings.Replace(page, "/indicators/", "/briefings/indicators/", 1)}})
}

func (a *API) marketWhatIf(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	level := q.Get("level")
	if level == "" {
		WriteProblem(w, r, http.StatusBadRequest, "give the level as ?level=scheme@level (for example sg-cls@2) and what it would also require as ?add=HM-UPD-4&add=support>=5&add=sbom")
		return
	}
	list := 0
	if v := q.Get("list"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > insight.MaxListed {
			WriteProblem(w, r, http.StatusBadRequest, "list is how many held-back products to list, from 1 to 10000")
			return
		}
		list = n
	}
	res, err := a.App.MarketWhatIf(r.Context(), level, q["add"], list)
	if err != nil {
		insightFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type replayRequest struct {
	Rule   scheme.Rule `json:"rule"`
	Scheme string      `json:"scheme,omitempty"`
	List   int         `json:"list,omitempty"`
}

func (a *API) replay(w http.ResponseWriter, r *http.Request) {
	var req replayRequest
	if !decode(w, r, server.MaxRuleBytes, &req) {
		return
	}
	res, err := a.App.Replay(r.Context(), req.Rule, req.Scheme, req.List)
	if err != nil {
		insightFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type targetJSON struct {
	insight.Target
	Progress   insight.Progress   `json:"progress"`
	Checkpoint insight.Checkpoint `json:"checkpoint"`
	Logged     bool               `json:"logged"`
	LogIndex   *int64             `json:"log_index,omitempty"`
	Intact     bool               `json:"matches_log"`
	Links      map[string]string  `json:"links"`
}

func (a *API) targetJSON(v server.TargetView) targetJSON {
	base := a.App.Config().PublicURL
	t := targetJSON{Target: v.Target, Progress: v.Progress, Checkpoint: v.Checkpoint, Logged: v.Logged.Logged, Intact: v.Intact,
		Links: map[string]string{"page": base + "/targets/" + v.Target.ID, "indicator": base + "/api/v1/indicators/" + v.Target.Indicator}}
	if v.Logged.Logged {
		idx := v.Logged.LogIndex
		t.LogIndex = &idx
	}
	return t
}

func (a *API) targets(w http.ResponseWriter, r *http.Request) {
	var org int64
	if v := r.URL.Query().Get("organisation"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			WriteProblem(w, r, http.StatusBadRequest, "organisation is an organisation id, a number")
			return
		}
		org = n
	}
	vs, err := a.App.Targets(r.Context(), org)
	if err != nil {
		insightFail(w, r, err)
		return
	}
	out := []targetJSON{}
	for _, v := range vs {
		out = append(out, a.targetJSON(v))
	}
	paged(w, r, out)
}

func (a *API) target(w http.ResponseWriter, r *http.Request) {
	v, err := a.App.Target(r.Context(), r.PathValue("id"))
	if err != nil {
		insightFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.targetJSON(v))
}

// targetRequest is a declaration as the API takes it.
type targetRequest struct {
	Title          string        `json:"title"`
	Indicator      string        `json:"indicator"`
	Scope          insight.Query `json:"scope"`
	ReferenceMonth string        `json:"reference_month"`
	ReferenceValue *float64      `json:"reference_value,omitempty"`
	TargetValue    float64       `json:"target_value"`
	TargetMonth    string        `json:"target_month"`
	Method         string        `json:"method,omitempty"`
	Supersedes     string        `json:"supersedes,omitempty"`
}

func (a *API) declareTarget(w http.ResponseWriter, r *http.Request) {
	var req targetRequest
	if !decode(w, r, 8<<10, &req) {
		return
	}
	t, err := a.App.DeclareTarget(r.Context(), who(r), server.TargetDeclaration{RefValue: req.ReferenceValue, Target: insight.Target{
		Title: req.Title, Indicator: req.Indicator, Scope: req.Scope, RefMonth: req.ReferenceMonth, Value: req.TargetValue, Due: req.TargetMonth,
		Method: insight.Method(req.Method), Supersedes: req.Supersedes}})
	if err != nil {
		insightFail(w, r, err)
		return
	}
	v, err := a.App.Target(r.Context(), t.ID)
	if err != nil {
		insightFail(w, r, err)
		return
	}
	out := a.targetJSON(v)
	w.Header().Set("Location", out.Links["page"])
	writeJSON(w, http.StatusCreated, struct {
		targetJSON
		Receipt string `json:"receipt"`
	}{out, "pending"})
}

func (a *API) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	org, err := strconv.ParseInt(q.Get("organisation"), 10, 64)
	if err != nil || org <= 0 || q.Get("period") == "" {
		WriteProblem(w, r, http.StatusBadRequest, "give ?organisation=ID&period=YYYY-MM")
		return
	}
	rep, err := a.App.TransparencyReport(r.Context(), org, q.Get("period"))
	if err != nil {
		insightFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *API) publishReport(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Period string `json:"period"`
	}
	if !decode(w, r, 1<<10, &req) {
		return
	}
	id, err := a.App.PublishReport(r.Context(), who(r), req.Period)
	if err != nil {
		insightFail(w, r, err)
		return
	}
	rep, _, err := a.App.PublishedReport(r.Context(), id)
	if err != nil {
		insightFail(w, r, err)
		return
	}
	w.Header().Set("Location", a.App.Config().PublicURL+"/api/v1/reports/"+id)
	writeJSON(w, http.StatusCreated, rep)
}

func (a *API) publishedReport(w http.ResponseWriter, r *http.Request) {
	rep, intact, err := a.App.PublishedReport(r.Context(), r.PathValue("id"))
	if err != nil {
		insightFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		server.Report
		Intact bool `json:"matches_log"`
	}{rep, intact})
}

// reportAsPublished answers a report's stored bytes unchanged, which hash
// to the digest in the log ('hallmark audit' checks them).
func (a *API) reportAsPublished(w http.ResponseWriter, r *http.Request) {
	body, err := a.App.ReportAsPublished(r.Context(), r.PathValue("id"))
	if err != nil {
		insightFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}
