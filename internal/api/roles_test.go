package api_test

// TestRoleTable is the authorisation matrix of the JSON API: every route the
// API registers, with real ids from the demo market, against every kind of
// caller, each cell asserting the outcome class. Mutating requests are sent
// by the callers that must be refused first, and the state they would have
// changed is re-read after each of them; then by the caller that may, whose
// request must succeed. A route added to the mux but not to the table fails
// the test.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The callers. Every cell of the table names one of them.
const (
	rtAnon        = "anonymous"
	rtM1          = "manufacturer M1"      // owns application A, an unpublished product, labels
	rtM2          = "manufacturer M2"      // another manufacturer
	rtLabA        = "assessor of A's lab"  // the lab assigned to A
	rtLabOther    = "assessor, other lab"  // a lab not assigned to A
	rtAuthA       = "authority running A"  // administers A's scheme
	rtAuthOther   = "authority, not A's"   // administers other schemes only
	rtAdminBearer = "admin token (bearer)" // the operator's scheme-writing token
)

var rtRoles = []string{rtAnon, rtM1, rtM2, rtLabA, rtLabOther, rtAuthA, rtAuthOther, rtAdminBearer}

// rtOutcome is an outcome class a cell expects.
type rtOutcome struct {
	name    string
	accept  func(status int) bool
	success bool // the request is meant to succeed (and may change state)
	same    bool // a success that finds the work done already (idempotent): no change required
}

func rtStatus(codes ...int) rtOutcome {
	return rtOutcome{name: fmt.Sprint(codes), accept: func(s int) bool { return slices.Contains(codes, s) }}
}

var (
	// rtOK: allowed, any 2xx.
	rtOK = rtOutcome{name: "2xx", accept: func(s int) bool { return s >= 200 && s < 300 }, success: true}
	// rtUnauth: an anonymous caller (or an unknown token) on an endpoint that
	// needs an account.
	rtUnauth = rtStatus(http.StatusUnauthorized)
	// rtDenied: a signed-in caller who may not; 404 where it may not even
	// know the object exists.
	rtDenied = rtStatus(http.StatusForbidden, http.StatusNotFound)
	// rtHidden: must not learn the object exists.
	rtHidden = rtStatus(http.StatusNotFound)
	// rtNotAdmin: a scheme or framework write without the admin token.
	rtNotAdmin = rtStatus(http.StatusUnauthorized, http.StatusForbidden)
	// rtRefused: any 4xx, never 2xx (for the other callers of a row whose
	// body is deliberately invalid).
	rtRefused = rtOutcome{name: "4xx", accept: func(s int) bool { return s >= 400 && s < 500 }}
)

// rtTaken: a create that another caller, earlier in the row, already made.
var rtTaken = rtOutcome{name: "409 (created earlier in the row)", accept: func(s int) bool { return s == http.StatusConflict }, success: true, same: true}

// rtSame: 2xx, finding the same document stored already.
var rtSame = rtOutcome{name: "2xx (unchanged)", accept: func(s int) bool { return s >= 200 && s < 300 }, success: true, same: true}

func rtCreated() rtOutcome {
	o := rtStatus(http.StatusCreated)
	o.success = true
	return o
}

// rtCells gives every caller def, then applies the (role, outcome) pairs.
func rtCells(def rtOutcome, overrides ...any) map[string]rtOutcome {
	m := map[string]rtOutcome{}
	for _, r := range rtRoles {
		m[r] = def
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		m[overrides[i].(string)] = overrides[i+1].(rtOutcome)
	}
	return m
}

// rtAccount is the default for an endpoint that needs an account: the
// anonymous caller and the admin token (not an account) get 401, every
// account users, then the overrides.
func rtAccount(users rtOutcome, overrides ...any) map[string]rtOutcome {
	return rtCells(users, append([]any{rtAnon, rtUnauth, rtAdminBearer, rtUnauth}, overrides...)...)
}

// rtRow is one request of the table.
type rtRow struct {
	route string // "METHOD /api/v1/pattern", exactly as registered
	name  string
	path  func() string // path and query, evaluated when the row runs
	ctype string
	body  string
	want  map[string]rtOutcome
	// state, for mutating rows, reads what the request could change; a
	// refused request must leave it as it was.
	state func() string
	// changes: a successful request must change state.
	changes bool
	// check looks at a cell's answer beyond its status.
	check func(role string, status int, body []byte) error
}

func rtPath(s string) func() string { return func() string { return s } }

// rtFixture is one server with the callers and the objects the table uses.
type rtFixture struct {
	t      *testing.T
	ctx    context.Context
	inst   *servertest.Instance
	tokens map[string]string
	who    map[string]auth.Principal

	m1, m2, labA, labOther, authA, authOther int64  // organisation ids
	scheme, level                            string // A's scheme and level

	appA          int64  // M1's application in assessment, assigned to labA
	appM2         int64  // some application of M2
	viewersM2     []any  // (role, outcome) pairs of those who may read it
	draft1        int64  // M1's draft application on the hidden product
	draft2        int64  // M1's submitted application on the hidden product
	pubProduct    int64  // M1's published product (A's)
	hiddenProduct int64  // M1's unpublished product
	hiddenVersion int64  // its version
	lastNeed      string // the one requirement of A left without a finding
	labelM1       string // an active label of M1 (to be surrendered)
	labelS        string // another active label of A's scheme (suspended, restored, revoked)
	labelSOwner   int64
	hookM1        int64 // M1's webhook endpoint
	tokenM1       int64 // a second API token of M1's (to be revoked)
}

func rtSetup(t *testing.T, d store.Dialect) *rtFixture {
	t.Helper()
	// Webhook endpoints on loopback are admitted (they are never called:
	// no notification is made here).
	inst := servertest.StartWith(t, d, func(c *server.Config) { c.WebhooksInsecure = true })
	f := &rtFixture{t: t, ctx: context.Background(), inst: inst, tokens: map[string]string{}, who: map[string]auth.Principal{}}
	st, srv, ctx := f.inst.Store, f.inst.Server, f.ctx

	// A: an application in assessment; M1 is the manufacturer that made it.
	apps, _, err := st.Applications(ctx, store.AppQuery{States: []assess.State{assess.InAssessment}, Limit: 1000})
	if err != nil || len(apps) == 0 {
		t.Fatalf("the demo market has no application in assessment (%v)", err)
	}
	// Prefer one whose maker also holds an active label.
	a := apps[0]
	for _, x := range apps {
		if _, n, _ := st.Labels(ctx, store.LabelQuery{Status: assess.Active, ManufacturerID: x.ManufacturerID, Limit: 1}); n > 0 {
			a = x
			break
		}
	}
	f.appA, f.m1, f.labA, f.scheme, f.level, f.pubProduct = a.ID, a.ManufacturerID, a.AssessorOrgID, a.SchemeID, a.LevelID, a.ProductID
	if p, err := st.Product(ctx, a.ProductID); err != nil || !p.Published {
		t.Fatalf("A's product %d: published=%v, %v; want a published product", a.ProductID, p.Published, err)
	}

	orgs := func(kind registry.OrgKind) []registry.Organisation {
		list, err := st.Organisations(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	for _, o := range orgs(registry.Manufacturer) { // one with an application
		if _, n, _ := st.Applications(ctx, store.AppQuery{ManufacturerID: o.ID, Limit: 1}); o.ID != f.m1 && f.m2 == 0 && n > 0 {
			f.m2 = o.ID
		}
	}
	for _, o := range orgs(registry.AssessorLab) {
		if o.ID != f.labA && f.labOther == 0 {
			f.labOther = o.ID
		}
	}
	for _, o := range orgs(registry.Authority) {
		full, err := st.Organisation(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(full.Schemes, f.scheme) {
			f.authA = o.ID
		} else if f.authOther == 0 && len(full.Schemes) > 0 {
			f.authOther = o.ID
		}
	}
	if f.m2 == 0 || f.labOther == 0 || f.authA == 0 || f.authOther == 0 {
		t.Fatalf("demo market lacks a caller: m2=%d labOther=%d authA=%d authOther=%d", f.m2, f.labOther, f.authA, f.authOther)
	}

	// Every account signs in with the demo password and gets an API token.
	for role, org := range map[string]int64{rtM1: f.m1, rtM2: f.m2, rtLabA: f.labA, rtLabOther: f.labOther, rtAuthA: f.authA, rtAuthOther: f.authOther} {
		users, err := st.Users(ctx, org)
		if err != nil || len(users) == 0 {
			t.Fatalf("%s (org %d) has no user: %v", role, org, err)
		}
		_, p, err := srv.Login(ctx, users[0].Email, demo.Password, "127.0.0.1")
		if err != nil {
			t.Fatalf("log in as %s (%s): %v", role, users[0].Email, err)
		}
		tok, err := srv.NewAPIToken(ctx, p, "role table")
		if err != nil {
			t.Fatal(err)
		}
		f.who[role], f.tokens[role] = p, tok
	}
	f.tokens[rtAdminBearer] = servertest.AdminToken
	_, spare, err := srv.CreateAPIToken(ctx, f.who[rtM1], f.who[rtM1].UserID, "spare", srv.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f.tokenM1 = spare.ID
	hook, err := srv.CreateWebhook(ctx, f.who[rtM1], "http://127.0.0.1:9/m1")
	if err != nil {
		t.Fatal(err)
	}
	f.hookM1 = hook.ID

	// Some application of M2, to show M1 cannot read it either.
	m2apps, _, err := st.Applications(ctx, store.AppQuery{ManufacturerID: f.m2, Limit: 1})
	if err != nil || len(m2apps) == 0 {
		t.Fatalf("M2 has no application: %v", err)
	}
	f.appM2 = m2apps[0].ID
	// Who besides M2 may read it: its lab, its scheme's authority.
	f.viewersM2 = []any{rtM2, rtOK, rtM1, rtHidden}
	for role, org := range map[string]int64{rtLabA: f.labA, rtLabOther: f.labOther} {
		if m2apps[0].AssessorOrgID == org {
			f.viewersM2 = append(f.viewersM2, role, rtOK)
		}
	}
	for role, org := range map[string]int64{rtAuthA: f.authA, rtAuthOther: f.authOther} {
		if full, _ := st.Organisation(ctx, org); slices.Contains(full.Schemes, m2apps[0].SchemeID) {
			f.viewersM2 = append(f.viewersM2, role, rtOK)
		}
	}

	// Labels: an active one of M1, and another active one of A's scheme.
	labels, _, err := st.Labels(ctx, store.LabelQuery{Status: assess.Active, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labels {
		if l.ManufacturerID == f.m1 && f.labelM1 == "" && l.SchemeID != f.scheme {
			f.labelM1 = l.ID
		}
	}
	for _, l := range labels {
		if l.ManufacturerID == f.m1 && f.labelM1 == "" {
			f.labelM1 = l.ID
		}
	}
	for _, l := range labels { // preferably another manufacturer's
		if l.SchemeID == f.scheme && l.ID != f.labelM1 && (f.labelS == "" || l.ManufacturerID != f.m1 && f.labelSOwner == f.m1) {
			f.labelS, f.labelSOwner = l.ID, l.ManufacturerID
		}
	}
	if f.labelM1 == "" || f.labelS == "" {
		t.Fatalf("demo market lacks labels: M1's active %q, active of %s %q", f.labelM1, f.scheme, f.labelS)
	}

	// M1's unpublished product, with a version and two applications for
	// A's scheme: one draft, one submitted.
	m1 := f.who[rtM1]
	if f.hiddenProduct, err = srv.CreateProduct(ctx, m1, registry.Product{Name: "Roles Test Prototype", Category: "camera", ModelNumber: "RT-PROTO-1"}); err != nil {
		t.Fatal(err)
	}
	if f.hiddenVersion, err = srv.CreateVersion(ctx, m1, registry.Version{ProductID: f.hiddenProduct, SoftwareVersion: "0.9.0"}, nil); err != nil {
		t.Fatal(err)
	}
	ref := f.scheme + "@" + f.level
	if f.draft1, err = srv.Apply(ctx, m1, f.hiddenVersion, ref); err != nil {
		t.Fatal(err)
	}
	if f.draft2, err = srv.Apply(ctx, m1, f.hiddenVersion, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Step(ctx, m1, f.draft2, assess.Submit, "", 0); err != nil {
		t.Fatal(err)
	}

	// A's lab records a pass for every requirement but one; the table
	// records the last one.
	view, err := srv.ApplicationView(ctx, f.who[rtLabA], f.appA)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range view.Needs.Needs {
		if i == len(view.Needs.Needs)-1 {
			f.lastNeed = n.Requirement.ID
			break
		}
		if err := srv.RecordFinding(ctx, f.who[rtLabA], f.appA, assess.Finding{Requirement: n.Requirement.ID, Verdict: assess.Pass}); err != nil {
			t.Fatal(err)
		}
	}
	if f.lastNeed == "" {
		t.Fatal("A's level needs no requirement")
	}
	return f
}

// Snapshots of what a request could change.

func (f *rtFixture) appState(id int64) func() string {
	return func() string {
		a, err := f.inst.Store.Application(f.ctx, id)
		if err != nil {
			return "error: " + err.Error()
		}
		ev, _ := f.inst.Store.AppEvents(f.ctx, id)
		fs, _ := f.inst.Store.Findings(f.ctx, id)
		evid, _ := f.inst.Store.EvidenceList(f.ctx, id)
		var findings []string
		for _, x := range fs {
			findings = append(findings, x.Requirement+"="+string(x.Verdict))
		}
		return fmt.Sprintf("state=%s lab=%d label=%q events=%d evidence=%d findings=%v", a.State, a.AssessorOrgID, a.LabelID, len(ev), len(evid), findings)
	}
}

func (f *rtFixture) labelState(id string) func() string {
	return func() string {
		l, err := f.inst.Store.Label(f.ctx, id)
		if err != nil {
			return "error: " + err.Error()
		}
		ev, _ := f.inst.Store.LabelEvents(f.ctx, id)
		return fmt.Sprintf("status=%s events=%d", l.Status, len(ev))
	}
}

func (f *rtFixture) productCount() string {
	_, n, err := f.inst.Store.Products(f.ctx, store.ProductQuery{All: true, Limit: 1})
	return fmt.Sprint(n, err)
}

func (f *rtFixture) applicationCount() string {
	_, n, err := f.inst.Store.Applications(f.ctx, store.AppQuery{Limit: 1})
	return fmt.Sprint(n, err)
}

func (f *rtFixture) versionsState() string {
	vs, err := f.inst.Store.Versions(f.ctx, f.hiddenProduct)
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%d:%s:%s:%s:%d", v.ID, v.SoftwareVersion, v.SBOMFormat, v.SBOMDigest, v.Components))
	}
	return fmt.Sprint(out, err)
}

func (f *rtFixture) schemeVersions(id string) func() string {
	return func() string {
		h, err := f.inst.Server.SchemeHistory(f.ctx, id)
		return fmt.Sprint(len(h), err)
	}
}

func (f *rtFixture) frameworkExists(id string) func() string {
	return func() string {
		_, ok := f.inst.Server.Catalog().Framework(id)
		return fmt.Sprint(ok)
	}
}

func (f *rtFixture) webhookCount() string {
	n := 0
	for _, org := range []int64{f.m1, f.m2, f.labA, f.labOther, f.authA, f.authOther} {
		l, err := f.inst.Store.Webhooks(f.ctx, org)
		if err != nil {
			return err.Error()
		}
		n += len(l)
	}
	return fmt.Sprint(n)
}

func (f *rtFixture) targetCount() string {
	l, err := f.inst.Store.Targets(f.ctx, 0, 1000)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(len(l))
}

func (f *rtFixture) reportCount() string {
	n := 0
	for _, org := range []int64{f.m1, f.m2, f.labA, f.labOther, f.authA, f.authOther} {
		l, err := f.inst.Store.Reports(f.ctx, org, 100)
		if err != nil {
			return err.Error()
		}
		n += len(l)
	}
	return fmt.Sprint(n)
}

func (f *rtFixture) webhookExists(id int64) func() string {
	return func() string {
		_, err := f.inst.Store.Webhook(f.ctx, id)
		return fmt.Sprint(err)
	}
}

// ownSignIns: an authority's audit trail shows sign-ins of its own
// organisation only.
func (f *rtFixture) ownSignIns(role string, status int, body []byte) error {
	if status != http.StatusOK {
		return nil
	}
	var l struct {
		Items []struct {
			Action string `json:"action"`
			OrgID  int64  `json:"org_id"`
		}
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return err
	}
	own := 0
	for _, e := range l.Items {
		if e.Action == "user.login" && e.OrgID != f.who[role].OrgID {
			return fmt.Errorf("sees a sign-in of organisation %d", e.OrgID)
		}
		if e.Action == "user.login" {
			own++
		}
	}
	if own == 0 {
		return errors.New("does not see its own sign-in")
	}
	return nil
}

func (f *rtFixture) tokenState(id int64) func() string {
	return func() string {
		t, err := f.inst.Store.APIToken(f.ctx, id)
		return fmt.Sprint(t.Revoked, err)
	}
}

func (f *rtFixture) advisoryStored(id string) func() string {
	return func() string {
		revs, err := f.inst.Store.AdvisoryRevisions(f.ctx)
		_, ok := revs[id]
		return fmt.Sprint(ok, err)
	}
}

// listHas checks that a list answer holds the id exactly for the callers
// that may see it.
func listHas(id int64, seers ...string) func(string, int, []byte) error {
	return func(role string, status int, body []byte) error {
		if status != http.StatusOK {
			return nil
		}
		var l struct{ Items []struct{ ID int64 } }
		if err := json.Unmarshal(body, &l); err != nil {
			return fmt.Errorf("not a list: %v", err)
		}
		has := slices.ContainsFunc(l.Items, func(x struct{ ID int64 }) bool { return x.ID == id })
		if want := slices.Contains(seers, role); has != want {
			return fmt.Errorf("list holds %d: %v, want %v", id, has, want)
		}
		return nil
	}
}

const rtSBOM = `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
 "components": [{"type": "library", "name": "zlib", "version": "1.3", "purl": "pkg:generic/zlib@1.3"}]}`

func (f *rtFixture) rows() []rtRow {
	t := f.t
	oscal, err := os.ReadFile(filepath.Join("..", "catalog", "testdata", "oscal", "authority.json"))
	if err != nil {
		t.Fatal(err)
	}
	draft, err := os.ReadFile(filepath.Join("..", "scheme", "testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(draft), "- HM-VULN-1", "- HM-VULN-1\n      - HM-SBOM-1", 1)
	invalidScheme := strings.Replace(string(draft), "- HM-VULN-1", "- HM-NOPE-1", 1)

	id := func(n int64) string { return fmt.Sprint(n) }
	lastMonth := time.Now().AddDate(0, -1, 0).Format("2006-01")
	nextYear := time.Now().AddDate(1, 0, 0).Format("2006-01")
	appPath := func(n int64, tail string) func() string {
		return rtPath("/api/v1/applications/" + id(n) + tail)
	}
	jsonBody := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	step := func(s string, note string, lab int64) string {
		return jsonBody(map[string]any{"step": s, "note": note, "assessor_org_id": lab})
	}
	action := func(a, reason string) string { return jsonBody(map[string]string{"action": a, "reason": reason}) }
	public := rtCells(rtOK)
	label := f.labelM1
	viewersA := []any{rtM1, rtOK, rtLabA, rtOK, rtAuthA, rtOK}

	rows := []rtRow{
		// Public reference data: everyone, with or without a token.
		{route: "GET /api/v1/openapi.json", path: rtPath("/api/v1/openapi.json"), want: public},
		{route: "GET /api/v1/topics", path: rtPath("/api/v1/topics"), want: public},
		{route: "GET /api/v1/requirements", path: rtPath("/api/v1/requirements?q=password"), want: public},
		{route: "GET /api/v1/requirements/{id}", path: rtPath("/api/v1/requirements/HM-AUTH-1"), want: public},
		{route: "GET /api/v1/frameworks", path: rtPath("/api/v1/frameworks"), want: public},
		{route: "GET /api/v1/frameworks/{id}", path: rtPath("/api/v1/frameworks/uk-psti-2023"), want: public},
		{route: "GET /api/v1/crosswalk", path: rtPath("/api/v1/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1"), want: public},
		{route: "GET /api/v1/glossary", path: rtPath("/api/v1/glossary"), want: public},
		{route: "GET /api/v1/export/oscal/catalog", path: rtPath("/api/v1/export/oscal/catalog"), want: public},
		{route: "GET /api/v1/export/oscal/frameworks/{id}", path: rtPath("/api/v1/export/oscal/frameworks/uk-psti-2023"), want: public},
		{route: "GET /api/v1/export/oscal/mappings", path: rtPath("/api/v1/export/oscal/mappings?frameworks=uk-psti-2023"), want: public},
		{route: "GET /api/v1/export/csv/requirements", path: rtPath("/api/v1/export/csv/requirements"), want: public},
		{route: "GET /api/v1/export/csv/mappings", path: rtPath("/api/v1/export/csv/mappings"), want: public},
		{route: "GET /api/v1/export/csv/frameworks/{id}", path: rtPath("/api/v1/export/csv/frameworks/uk-psti-2023"), want: public},
		{route: "GET /api/v1/export/csv/crosswalk", path: rtPath("/api/v1/export/csv/crosswalk?from=uk-psti-2023&to=etsi-en-303-645-v2.1.1"), want: public},
		{route: "GET /api/v1/schemes", path: rtPath("/api/v1/schemes"), want: public},
		{route: "GET /api/v1/schemes/{id}", path: rtPath("/api/v1/schemes/sg-cls"), want: public},
		{route: "GET /api/v1/schemes/{id}/versions", path: rtPath("/api/v1/schemes/sg-cls/versions"), want: public},
		{route: "GET /api/v1/schemes/{id}/levels/{level}", path: rtPath("/api/v1/schemes/sg-cls/levels/3"), want: public},
		{route: "GET /api/v1/schemes/{id}/levels/{level}/oscal", path: rtPath("/api/v1/schemes/sg-cls/levels/3/oscal"), want: public},
		{route: "GET /api/v1/schemes/{id}/levels/{level}/whatif", path: rtPath("/api/v1/schemes/sg-cls/levels/3/whatif?add=HM-USE-3"), want: public},
		{route: "GET /api/v1/compare", path: rtPath("/api/v1/compare?a=sg-cls@3&b=fi-traficom"), want: public},
		{route: "GET /api/v1/agreements", path: rtPath("/api/v1/agreements"), want: public},
		{route: "GET /api/v1/matrix", path: rtPath("/api/v1/matrix"), want: public},

		// Evidence for policy: figures, what-ifs, replays, targets and
		// reports are public to read; declaring and publishing are each
		// organisation's own.
		{route: "GET /api/v1/indicators", path: rtPath("/api/v1/indicators"), want: public},
		{route: "GET /api/v1/indicators/{id}", path: rtPath("/api/v1/indicators/support-5y?by=scheme"), want: public},
		{route: "GET /api/v1/whatif", path: rtPath("/api/v1/whatif?level=" + f.scheme + "@" + f.level + "&add=support>=5"), want: public},
		{route: "POST /api/v1/replay", ctype: "application/json",
			body: `{"rule": {"id": "roles-replay", "description": "Critical and exploited: suspend.", "when": {"severity": ["critical"], "actively_exploited": true}, "then": [{"action": "suspend"}]}}`,
			want: public},
		{route: "GET /api/v1/targets", path: rtPath("/api/v1/targets"), want: public},
		{route: "GET /api/v1/targets/{id}", name: "an unknown target", path: rtPath("/api/v1/targets/T-NONE-0000"), want: rtCells(rtHidden)},
		{route: "GET /api/v1/reports", path: rtPath("/api/v1/reports?organisation=" + id(f.authA) + "&period=" + lastMonth), want: public},
		{route: "GET /api/v1/reports/{id}", name: "an unknown report", path: rtPath("/api/v1/reports/R-0-2000-01"), want: rtCells(rtHidden)},
		{route: "GET /api/v1/reports/{id}/published", name: "an unknown report's bytes", path: rtPath("/api/v1/reports/R-0-2000-01/published"), want: rtCells(rtHidden)},
		{route: "POST /api/v1/targets", name: "every organisation declares its own targets", ctype: "application/json",
			body: jsonBody(map[string]any{"title": "Roles test: 90% with 5 years of support", "indicator": "support-5y", "reference_month": lastMonth,
				"reference_value": 0.5, "target_value": 0.9, "target_month": nextYear}),
			want: rtAccount(rtCreated()), state: f.targetCount, changes: true},
		{route: "POST /api/v1/reports", name: "every organisation publishes its own report, once a month is over", ctype: "application/json",
			body: jsonBody(map[string]string{"period": lastMonth}), want: rtAccount(rtCreated()), state: f.reportCount, changes: true},

		// The public label register.
		{route: "GET /api/v1/labels", path: rtPath("/api/v1/labels?limit=1000"), want: public},
		{route: "GET /api/v1/labels/{id}", path: rtPath("/api/v1/labels/" + label), want: public},
		{route: "GET /api/v1/labels/{id}/credential", path: rtPath("/api/v1/labels/" + label + "/credential"), want: public},
		{route: "GET /api/v1/labels/{id}/status", path: rtPath("/api/v1/labels/" + label + "/status"), want: public},
		{route: "GET /api/v1/labels/{id}/cta2120", path: rtPath("/api/v1/labels/" + label + "/cta2120"), want: public},
		{route: "GET /api/v1/labels/{id}/receipts", path: rtPath("/api/v1/labels/" + label + "/receipts"), want: public},

		// Federation: mirrors, alarms and mirrored labels are public.
		{route: "GET /api/v1/federation", path: rtPath("/api/v1/federation"), want: public},
		{route: "GET /api/v1/federation/alarms", path: rtPath("/api/v1/federation/alarms"), want: public},
		{route: "GET /api/v1/federation/mirrored", path: rtPath("/api/v1/federation/mirrored?label=" + label), want: public},
		{route: "GET /api/v1/federation/agreements", path: rtPath("/api/v1/federation/agreements"), want: public},
		{route: "POST /api/v1/federation/agreements", name: "only authorities record agreements; with no recognised peer, refused after the permission check",
			ctype: "application/json", body: `{"id":"roles-test","title":"t","scheme":"no-such-scheme","level":"L1","peer":"https://peer.example","peer_scheme":"x","peer_level":"y"}`,
			want: rtCells(rtDenied, rtAnon, rtUnauth, rtAuthA, rtStatus(422), rtAuthOther, rtStatus(422), rtAdminBearer, rtStatus(422))},

		// Registry reads. Products are public once published; an unpublished
		// one only for its maker and the authorities (market oversight); an
		// assessor only once its lab is assigned an application for it. The
		// admin token is not an account: 401.
		{route: "GET /api/v1/products", name: "list: M1's unpublished product only for those who may see it",
			path: rtPath("/api/v1/products?limit=1000"), want: rtCells(rtOK, rtAdminBearer, rtUnauth),
			check: listHas(f.hiddenProduct, rtM1, rtAuthA)},
		{route: "GET /api/v1/products/{id}", name: "M1's published product", path: rtPath("/api/v1/products/" + id(f.pubProduct)),
			want: rtCells(rtOK, rtAdminBearer, rtUnauth)},
		{route: "GET /api/v1/products/{id}", name: "key: M1's unpublished product is never shown to another manufacturer",
			path: rtPath("/api/v1/products/" + id(f.hiddenProduct)),
			want: rtCells(rtOK, rtAnon, rtHidden, rtM2, rtHidden, rtLabA, rtHidden, rtLabOther, rtHidden, rtAuthOther, rtHidden, rtAdminBearer, rtUnauth)},
		{route: "GET /api/v1/audit", name: "key: the audit trail is for authorities, each only what it oversees (no one else's sign-ins)",
			path: rtPath("/api/v1/audit?limit=1000"), want: rtAccount(rtDenied, rtAuthA, rtOK, rtAuthOther, rtOK), check: f.ownSignIns},
		{route: "GET /api/v1/applications", name: "list: A only for its maker, its lab and its authority",
			path: rtPath("/api/v1/applications?limit=1000"), want: rtAccount(rtOK),
			check: listHas(f.appA, rtM1, rtLabA, rtAuthA)},
		{route: "GET /api/v1/applications/{id}", name: "key: A (in assessment) to its maker, lab and authority only",
			path: appPath(f.appA, ""), want: rtAccount(rtHidden, viewersA...)},
		{route: "GET /api/v1/applications/{id}", name: "key: M1's application on its unpublished product, before a lab is assigned",
			path: appPath(f.draft1, ""), want: rtAccount(rtHidden, rtM1, rtOK, rtAuthA, rtOK)},
		{route: "GET /api/v1/applications/{id}", name: "M2's application is not M1's to read",
			path: appPath(f.appM2, ""), want: rtAccount(rtHidden, f.viewersM2...)},

		// Deliberately invalid input: the caller who may gets the specific
		// answer, nobody gets a 2xx, and nothing changes.
		{route: "POST /api/v1/products", name: "invalid: unknown category", ctype: "application/json",
			body: `{"name": "Roles Test Bad", "category": "spaceship", "model_number": "RT-BAD-1"}`,
			want: rtAccount(rtDenied, rtM1, rtStatus(422), rtM2, rtStatus(422)), state: f.productCount},
		{route: "POST /api/v1/products", name: "invalid: unknown field", ctype: "application/json",
			body: `{"name": "Roles Test Bad", "category": "camera", "model_number": "RT-BAD-2", "manufacturer_name": "x"}`,
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(400)), state: f.productCount},
		{route: "POST /api/v1/products", name: "invalid: not JSON", ctype: "text/plain", body: `name=x`,
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(415)), state: f.productCount},
		{route: "POST /api/v1/products/{id}/versions", name: "invalid: no software version", ctype: "application/json",
			path: rtPath("/api/v1/products/" + id(f.hiddenProduct) + "/versions"), body: `{"software_version": ""}`,
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(422)), state: f.versionsState},
		{route: "PUT /api/v1/versions/{id}/sbom", name: "invalid: not an SBOM", ctype: "text/plain",
			path: rtPath("/api/v1/versions/" + id(f.hiddenVersion) + "/sbom"), body: "this is not an SBOM\n",
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(422)), state: f.versionsState},
		{route: "POST /api/v1/applications", name: "invalid: no such level", ctype: "application/json",
			body: jsonBody(map[string]any{"version_id": f.hiddenVersion, "level": f.scheme + "@99"}),
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(422)), state: f.applicationCount},
		{route: "POST /api/v1/applications/{id}/evidence", name: "invalid: an executable is not evidence", ctype: "application/x-msdownload",
			path: appPath(f.appA, "/evidence?name=setup.exe"), body: "MZ\x90\x00 not really a program",
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(422)), state: f.appState(f.appA)},
		{route: "POST /api/v1/applications/{id}/evidence", name: "invalid: empty file", ctype: "application/pdf",
			path: appPath(f.appA, "/evidence?name=empty.pdf"), body: "",
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(422)), state: f.appState(f.appA)},
		{route: "POST /api/v1/applications/{id}/findings", name: "invalid: a requirement the level does not need", ctype: "application/json",
			path: appPath(f.appA, "/findings"), body: `{"requirement": "HM-NOPE-1", "verdict": "pass"}`,
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtLabA, rtStatus(422)), state: f.appState(f.appA)},
		{route: "POST /api/v1/applications/{id}/findings", name: "invalid: a fail without rationale", ctype: "application/json",
			path: appPath(f.appA, "/findings"), body: jsonBody(map[string]string{"requirement": f.lastNeed, "verdict": "fail"}),
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtLabA, rtStatus(422)), state: f.appState(f.appA)},
		{route: "POST /api/v1/applications/{id}/steps", name: "invalid: approve an application still in assessment", ctype: "application/json",
			path: appPath(f.appA, "/steps"), body: step("approve", "looks fine", 0),
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtAuthA, rtStatus(409)), state: f.appState(f.appA)},
		{route: "POST /api/v1/labels/{id}/actions", name: "invalid: surrender without a reason", ctype: "application/json",
			path: rtPath("/api/v1/labels/" + f.labelM1 + "/actions"), body: action("surrender", " "),
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(422)), state: f.labelState(f.labelM1)},
		{route: "POST /api/v1/labels/{id}/actions", name: "invalid: unknown action", ctype: "application/json",
			path: rtPath("/api/v1/labels/" + f.labelM1 + "/actions"), body: action("explode", "because"),
			want: rtCells(rtRefused, rtAnon, rtUnauth, rtAdminBearer, rtUnauth, rtM1, rtStatus(422)), state: f.labelState(f.labelM1)},
		{route: "POST /api/v1/schemes", name: "invalid: unknown requirement", ctype: "application/yaml", body: invalidScheme,
			want: rtCells(rtDenied, rtAnon, rtUnauth, rtAuthA, rtStatus(422), rtAuthOther, rtStatus(422), rtAdminBearer, rtStatus(422)), state: f.schemeVersions("test-scheme")},

		// Registry writes, in workflow order, with bodies that succeed for
		// the caller who may.
		{route: "POST /api/v1/products", name: "any manufacturer registers products for itself", ctype: "application/json",
			body: `{"name": "Roles Test Kettle", "category": "appliance", "model_number": "RT-KETTLE-1", "published": true}`,
			want: rtAccount(rtDenied, rtM1, rtCreated(), rtM2, rtCreated()), state: f.productCount, changes: true},
		{route: "POST /api/v1/products/{id}/versions", name: "only M1 adds versions to its product", ctype: "application/json",
			path: rtPath("/api/v1/products/" + id(f.hiddenProduct) + "/versions"), body: `{"software_version": "1.0.0"}`,
			want: rtAccount(rtDenied, rtM1, rtCreated(), rtM2, rtHidden), state: f.versionsState, changes: true},
		{route: "PUT /api/v1/versions/{id}/sbom", name: "only M1 replaces its version's SBOM", ctype: "application/vnd.cyclonedx+json",
			path: rtPath("/api/v1/versions/" + id(f.hiddenVersion) + "/sbom"), body: rtSBOM,
			want: rtAccount(rtDenied, rtM1, rtOK, rtM2, rtHidden), state: f.versionsState, changes: true},
		{route: "POST /api/v1/applications", name: "only M1 applies for its version", ctype: "application/json",
			body: jsonBody(map[string]any{"version_id": f.hiddenVersion, "level": f.scheme + "@" + f.level}),
			want: rtAccount(rtDenied, rtM1, rtCreated(), rtM2, rtHidden), state: f.applicationCount, changes: true},
		{route: "POST /api/v1/applications/{id}/evidence", name: "only M1 attaches evidence to its application", ctype: "application/pdf",
			path: appPath(f.appA, "/evidence?name=test-report.pdf"), body: "%PDF-1.4\n% roles test evidence\n%%EOF\n",
			want:  rtAccount(rtDenied, rtM1, rtCreated(), rtM2, rtHidden),
			state: f.appState(f.appA), changes: true},
		{route: "POST /api/v1/applications/{id}/findings", name: "key: only the assigned lab records findings", ctype: "application/json",
			path: appPath(f.appA, "/findings"), body: jsonBody(map[string]string{"requirement": f.lastNeed, "verdict": "pass", "rationale": "checked"}),
			want: rtAccount(rtDenied, rtLabA, rtOK, rtLabOther, rtHidden), state: f.appState(f.appA), changes: true},
		{route: "POST /api/v1/applications/{id}/steps", name: "only M1 submits its draft", ctype: "application/json",
			path: appPath(f.draft1, "/steps"), body: step("submit", "", 0),
			want: rtAccount(rtDenied, rtM1, rtOK, rtM2, rtHidden), state: f.appState(f.draft1), changes: true},
		{route: "POST /api/v1/applications/{id}/steps", name: "only the scheme's authority assigns a lab", ctype: "application/json",
			path: appPath(f.draft1, "/steps"), body: step("assign", "", f.labA),
			want: rtAccount(rtDenied, rtAuthA, rtOK, rtAuthOther, rtHidden, rtM2, rtHidden), state: f.appState(f.draft1), changes: true},
		{route: "POST /api/v1/applications/{id}/steps", name: "key: an authority only decides for the schemes it runs (reject)", ctype: "application/json",
			path: appPath(f.draft2, "/steps"), body: step("reject", "The evidence is missing.", 0),
			want: rtAccount(rtDenied, rtAuthA, rtOK, rtAuthOther, rtHidden, rtM2, rtHidden), state: f.appState(f.draft2), changes: true},
		{route: "POST /api/v1/applications/{id}/steps", name: "only the assigned lab completes the assessment", ctype: "application/json",
			path: appPath(f.appA, "/steps"), body: step("complete", "", 0),
			want: rtAccount(rtDenied, rtLabA, rtOK, rtLabOther, rtHidden, rtM2, rtHidden), state: f.appState(f.appA), changes: true},
		{route: "POST /api/v1/applications/{id}/steps", name: "key: M1 cannot approve its own application; another authority cannot decide", ctype: "application/json",
			path: appPath(f.appA, "/steps"), body: step("approve", "All requirements met.", 0),
			want: rtAccount(rtDenied, rtAuthA, rtOK, rtAuthOther, rtHidden, rtM2, rtHidden, rtLabOther, rtHidden), state: f.appState(f.appA), changes: true},

		// Label lifecycle.
		{route: "POST /api/v1/labels/{id}/actions", name: "key: only the scheme's authority suspends", ctype: "application/json",
			path: rtPath("/api/v1/labels/" + f.labelS + "/actions"), body: action("suspend", "An exploited flaw is being investigated."),
			want: rtAccount(rtDenied, rtAuthA, rtOK), state: f.labelState(f.labelS), changes: true},
		{route: "POST /api/v1/labels/{id}/actions", name: "only the scheme's authority restores", ctype: "application/json",
			path: rtPath("/api/v1/labels/" + f.labelS + "/actions"), body: action("restore", "The flaw is fixed."),
			want: rtAccount(rtDenied, rtAuthA, rtOK), state: f.labelState(f.labelS), changes: true},
		{route: "POST /api/v1/labels/{id}/actions", name: "key: only the manufacturer surrenders its own label", ctype: "application/json",
			path: rtPath("/api/v1/labels/" + f.labelM1 + "/actions"), body: action("surrender", "The product is withdrawn from sale."),
			want: rtAccount(rtDenied, rtM1, rtOK, rtM2, rtHidden), state: f.labelState(f.labelM1), changes: true},
		{route: "POST /api/v1/advisories", name: "key: only authorities feed the post-market watch", ctype: "application/json",
			body: `{"schema_version": "1.6.0", "id": "HM-ROLES-0001", "modified": "2026-11-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Go", "name": "example.test/none"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`,
			want: rtAccount(rtDenied, rtAuthA, rtOK, rtAuthOther, rtOK), state: f.advisoryStored("HM-ROLES-0001")}, // the second authority finds it stored already: idempotent
		{route: "POST /api/v1/watch/run", name: "only authorities run the watch on demand", path: rtPath("/api/v1/watch/run"),
			want: rtCells(rtDenied, rtAnon, rtUnauth, rtAuthA, rtOK, rtAuthOther, rtOK, rtAdminBearer, rtUnauth)},
		{route: "GET /api/v1/findings", name: "findings: manufacturers and authorities, each their own", path: rtPath("/api/v1/findings?limit=10"),
			want: rtCells(rtOK, rtAnon, rtUnauth, rtLabA, rtDenied, rtLabOther, rtDenied, rtAdminBearer, rtUnauth)},
		{route: "GET /api/v1/notifications", name: "notifications: an organisation's own", path: rtPath("/api/v1/notifications?limit=10"),
			want: rtCells(rtOK, rtAnon, rtUnauth, rtAdminBearer, rtUnauth)},
		{route: "POST /api/v1/webhooks", name: "manufacturers and authorities register webhooks for themselves; labs have none", ctype: "application/json",
			body: `{"url": "http://127.0.0.1:9/hallmark"}`,
			want: rtAccount(rtDenied, rtM1, rtCreated(), rtM2, rtCreated(), rtAuthA, rtCreated(), rtAuthOther, rtCreated()), state: f.webhookCount, changes: true},
		{route: "GET /api/v1/webhooks", name: "key: each organisation lists its own webhooks only", path: rtPath("/api/v1/webhooks"),
			want: rtAccount(rtOK, rtLabA, rtDenied, rtLabOther, rtDenied), check: listHas(f.hookM1, rtM1)},
		{route: "GET /api/v1/webhooks/{id}/deliveries", name: "key: only M1 reads its endpoint's delivery log", path: rtPath("/api/v1/webhooks/" + id(f.hookM1) + "/deliveries"),
			want: rtAccount(rtHidden, rtM1, rtOK, rtLabA, rtDenied, rtLabOther, rtDenied)},
		{route: "DELETE /api/v1/webhooks/{id}", name: "key: only M1 deletes its endpoint", path: rtPath("/api/v1/webhooks/" + id(f.hookM1)),
			want: rtAccount(rtHidden, rtM1, rtOK, rtLabA, rtDenied, rtLabOther, rtDenied), state: f.webhookExists(f.hookM1), changes: true},
		{route: "GET /api/v1/tokens", name: "key: every account lists its own API tokens only", path: rtPath("/api/v1/tokens"),
			want: rtAccount(rtOK), check: listHas(f.tokenM1, rtM1)},
		{route: "DELETE /api/v1/tokens/{id}", name: "key: only M1 revokes its token", path: rtPath("/api/v1/tokens/" + id(f.tokenM1)),
			want: rtAccount(rtHidden, rtM1, rtOK), state: f.tokenState(f.tokenM1), changes: true},
		{route: "POST /api/v1/findings/{id}/response", name: "an unknown finding is no one's to answer", ctype: "application/json",
			path: rtPath("/api/v1/findings/999999/response"), body: `{"response": "acknowledged"}`,
			want: rtCells(rtHidden, rtAnon, rtUnauth, rtAdminBearer, rtUnauth)},
		{route: "PUT /api/v1/versions/{id}/vex", name: "only M1 states VEX for its version", ctype: "application/json",
			path: rtPath("/api/v1/versions/" + id(f.hiddenVersion) + "/vex"),
			body: `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex/roles", "author": "M1", "timestamp": "2026-12-01T00:00:00Z", "version": 1, "statements": [{"vulnerability": {"name": "CVE-2099-0002"}, "products": [{"@id": "pkg:generic/roles/test@1.0.0"}], "status": "not_affected", "justification": "component_not_present"}]}`,
			want: rtAccount(rtDenied, rtM1, rtOK, rtM2, rtHidden)},
		{route: "POST /api/v1/label-actions", name: "key: a batch suspends only the scheme's authority's labels", ctype: "application/json",
			body: jsonBody(map[string]any{"action": "suspend", "reason": "An advisory names an exploited flaw.", "labels": []string{f.labelS}}),
			want: rtAccount(rtDenied, rtAuthA, rtOK), state: f.labelState(f.labelS), changes: true},
		{route: "POST /api/v1/label-actions", name: "a batch restores as the scheme's authority", ctype: "application/json",
			body: jsonBody(map[string]any{"action": "restore", "reason": "The fix shipped.", "labels": []string{f.labelS}}),
			want: rtAccount(rtDenied, rtAuthA, rtOK), state: f.labelState(f.labelS), changes: true},
		{route: "POST /api/v1/labels/{id}/actions", name: "only the scheme's authority revokes", ctype: "application/json",
			path: rtPath("/api/v1/labels/" + f.labelS + "/actions"), body: action("revoke", "The deadline for a fix passed."),
			want: rtAccount(rtDenied, rtAuthA, rtOK), state: f.labelState(f.labelS), changes: true},

		// Operator writes: the admin token only, whatever account calls;
		// schemes: an authority writes its own (and the operator's token,
		// acting as Hallmark itself, any authority scheme).
		{route: "POST /api/v1/frameworks", name: "key: importing a framework needs the admin token", ctype: "application/json",
			path: rtPath("/api/v1/frameworks?id=roles-test-baseline"), body: string(oscal),
			want: rtCells(rtNotAdmin, rtAnon, rtUnauth, rtAdminBearer, rtCreated()), state: f.frameworkExists("roles-test-baseline"), changes: true},
		{route: "POST /api/v1/schemes", name: "key: an authority creates a scheme (and then runs it); no manufacturer or lab can", ctype: "application/yaml", body: string(draft),
			want: rtCells(rtDenied, rtAnon, rtUnauth, rtAuthA, rtCreated(), rtAuthOther, rtTaken, rtAdminBearer, rtTaken), state: f.schemeVersions("test-scheme"), changes: true},
		{route: "PUT /api/v1/schemes/{id}", name: "key: only the authority running a scheme versions it", ctype: "application/yaml",
			path: rtPath("/api/v1/schemes/test-scheme"), body: changed,
			want: rtCells(rtDenied, rtAnon, rtUnauth, rtAuthA, rtOK, rtAdminBearer, rtSame), state: f.schemeVersions("test-scheme"), changes: true},
	}
	for i := range rows {
		if rows[i].path == nil {
			rows[i].path = rtPath(strings.SplitN(rows[i].route, " ", 2)[1])
		}
	}
	return rows
}

// rtRoutes reads every route the API registers from its non-test sources.
func rtRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	re := regexp.MustCompile(`"(GET|POST|PUT|DELETE) (/api/v1/[^"]*)"`)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1]+" "+m[2])
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) < 40 {
		t.Fatalf("found only %d routes in internal/api; has the registration changed shape?", len(out))
	}
	return out
}

// rtPattern turns a route's path pattern into a regexp for request paths.
func rtPattern(route string) *regexp.Regexp {
	p := strings.SplitN(route, " ", 2)[1]
	p = regexp.QuoteMeta(p)
	p = regexp.MustCompile(`\\\{[^}]*\\\}`).ReplaceAllString(p, `[^/]+`)
	return regexp.MustCompile("^" + p + "$")
}

func (f *rtFixture) do(row rtRow, role string) (int, []byte) {
	t := f.t
	t.Helper()
	method := strings.SplitN(row.route, " ", 2)[0]
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader(row.body)
	}
	req, err := http.NewRequest(method, f.inst.URL+row.path(), body)
	if err != nil {
		t.Fatal(err)
	}
	if tok := f.tokens[role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if row.ctype != "" {
		req.Header.Set("Content-Type", row.ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (f *rtFixture) run(t *testing.T, row rtRow) (cells int) {
	t.Helper()
	label := row.route
	if row.name != "" {
		label += " [" + row.name + "]"
	}
	path := row.path()
	if p, _, _ := strings.Cut(path, "?"); !rtPattern(row.route).MatchString(p) {
		t.Errorf("%s: the row's path %s does not match its route", label, path)
	}
	// Those who must be refused go first, so that a refusal is checked
	// against the state before the allowed caller changes it.
	var order []string
	for _, pass := range []bool{false, true} {
		for _, r := range rtRoles {
			w, ok := row.want[r]
			if !ok {
				t.Fatalf("%s: no expectation for %s", label, r)
			}
			if w.success == pass {
				order = append(order, r)
			}
		}
	}
	for _, role := range order {
		want := row.want[role]
		before := ""
		if row.state != nil {
			before = row.state()
		}
		status, body := f.do(row, role)
		cells++
		if !want.accept(status) {
			t.Errorf("%s %s as %s: %d, want %s: %s", label, path, role, status, want.name, clip(body))
		}
		if row.check != nil {
			if err := row.check(role, status, body); err != nil {
				t.Errorf("%s as %s: %v", label, role, err)
			}
		}
		if row.state == nil {
			continue
		}
		after := row.state()
		switch {
		case !want.success && after != before:
			t.Errorf("%s as %s was refused with %d but changed the state:\n  before %s\n  after  %s", label, role, status, before, after)
		case want.success && !want.same && status < 300 && row.changes && after == before:
			t.Errorf("%s as %s answered %d but changed nothing: %s", label, role, status, after)
		}
	}
	return cells
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func TestRoleTable(t *testing.T) {
	routes := rtRoutes(t)
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			f := rtSetup(t, d)
			rows := f.rows()

			// Every registered route is in the table, and the table names no
			// route the API does not have.
			inTable := map[string]bool{}
			for _, r := range rows {
				inTable[r.route] = true
				if !slices.Contains(routes, r.route) {
					t.Errorf("the table has %q, which internal/api does not register", r.route)
				}
			}
			for _, r := range routes {
				if !inTable[r] {
					t.Errorf("route %q is registered in internal/api but missing from TestRoleTable: add a row for every caller", r)
				}
			}

			cells := 0
			for _, row := range rows {
				cells += f.run(t, row)
			}
			t.Logf("%d routes, %d rows × %d callers = %d cells", len(routes), len(rows), len(rtRoles), cells)

			// The workflow ended where the allowed callers took it.
			for id, want := range map[int64]assess.State{f.appA: assess.Approved, f.draft1: assess.InAssessment, f.draft2: assess.Rejected} {
				if a, err := f.inst.Store.Application(f.ctx, id); err != nil || a.State != want {
					t.Errorf("application %d ended %q (%v), want %q", id, a.State, err, want)
				}
			}
			if a, _ := f.inst.Store.Application(f.ctx, f.appA); a.LabelID == "" {
				t.Error("approving A issued no label")
			}
			for id, want := range map[string]assess.LabelStatus{f.labelM1: assess.Surrendered, f.labelS: assess.Revoked} {
				if l, err := f.inst.Store.Label(f.ctx, id); err != nil || l.Status != want {
					t.Errorf("label %s ended %q (%v), want %q", id, l.Status, err, want)
				}
			}
		})
	}
}
