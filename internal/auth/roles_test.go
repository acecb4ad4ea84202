package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var (
	allKinds = []OrgKind{KindAuthority, KindAssessorLab, KindManufacturer, "", "public", "Authority", "assessor"}
	allRoles = []Role{RoleAuthorityAdmin, RoleAssessor, RoleManufacturer, RolePublic, "", "admin", "Assessor"}
)

func TestValidRole(t *testing.T) {
	valid := map[OrgKind]Role{
		KindAuthority:    RoleAuthorityAdmin,
		KindAssessorLab:  RoleAssessor,
		KindManufacturer: RoleManufacturer,
	}
	for _, k := range allKinds {
		for _, r := range allRoles {
			want := valid[k] == r && r != ""
			if got := ValidRole(k, r); got != want {
				t.Errorf("ValidRole(%q, %q) = %v, want %v", k, r, got, want)
			}
		}
		if got, want := ValidOrgKind(k), valid[k] != ""; got != want {
			t.Errorf("ValidOrgKind(%q) = %v", k, got)
		}
	}
}

func TestIsAnonymous(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Principal
		want bool
	}{
		{"zero", Principal{}, true},
		{"Anonymous", Anonymous, true},
		{"authority admin", Principal{UserID: 1, OrgID: 1, OrgKind: KindAuthority, Role: RoleAuthorityAdmin}, false},
		{"assessor", Principal{UserID: 2, OrgID: 2, OrgKind: KindAssessorLab, Role: RoleAssessor}, false},
		{"manufacturer", Principal{UserID: 3, OrgID: 3, OrgKind: KindManufacturer, Role: RoleManufacturer}, false},
		{"no user", Principal{OrgID: 1, OrgKind: KindAuthority, Role: RoleAuthorityAdmin}, true},
		{"no org", Principal{UserID: 1, OrgKind: KindAuthority, Role: RoleAuthorityAdmin}, true},
		{"role from another kind", Principal{UserID: 1, OrgID: 3, OrgKind: KindManufacturer, Role: RoleAuthorityAdmin}, true},
		{"signed-in public", Principal{UserID: 1, OrgID: 1, OrgKind: KindAuthority, Role: RolePublic}, true},
	} {
		if got := c.p.IsAnonymous(); got != c.want {
			t.Errorf("%s: IsAnonymous = %v, want %v", c.name, got, c.want)
		}
	}
}

// The expected policy, written out independently of roles.go: A =
// authority-admin, S = assessor, M = manufacturer, P = public, Y = the
// system itself (expiry, post-market rules).
var wantMatrix = map[string]string{
	"product.read":         "ASMP",
	"product.create":       "M",
	"application.submit":   "M",
	"application.read":     "ASM",
	"application.assign":   "A",
	"application.complete": "S",
	"finding.record":       "S",
	"application.decide":   "A",
	"label.suspend":        "AY",
	"label.restore":        "AY",
	"label.revoke":         "AY",
	"label.expire":         "Y",
	"advisory.ingest":      "AY",
	"finding.respond":      "M",
	"finding.review":       "A",
	"label.surrender":      "M",
	"evidence.read":        "ASM",
	"scheme.write":         "AY",
	"user.manage":          "Y",
	"audit.read":           "A",
	"webhook.manage":       "AM",
	"token.manage":         "ASMY",
	"password.change":      "ASM",
	"target.declare":       "ASM",
	"report.publish":       "ASMY",
}

var principals = map[byte]Principal{
	'A': {UserID: 1, OrgID: 10, OrgKind: KindAuthority, Role: RoleAuthorityAdmin, Email: "admin@authority.example"},
	'S': {UserID: 2, OrgID: 20, OrgKind: KindAssessorLab, Role: RoleAssessor, Email: "tester@lab.example"},
	'M': {UserID: 3, OrgID: 30, OrgKind: KindManufacturer, Role: RoleManufacturer, Email: "pm@maker.example"},
	'P': Anonymous,
	'Y': System,
}

func TestCanMatrix(t *testing.T) {
	// Every action in the table is in the expected matrix and vice versa,
	// so adding an action forces a decision here.
	if got, want := Actions(), sortedKeys(wantMatrix); !slices.Equal(got, want) {
		t.Fatalf("actions in table %v\nactions expected %v", got, want)
	}
	for action, who := range wantMatrix {
		for code, p := range principals {
			want := slices.Contains([]byte(who), code)
			if got := Can(p, action); got != want {
				t.Errorf("Can(%s, %q) = %v, want %v", p.Role, action, got, want)
			}
		}
		// The table itself lists exactly those roles.
		var roles []Role
		for _, code := range []byte(who) {
			roles = append(roles, principals[code].Role)
		}
		if got := RolesFor(action); !sameSet(got, roles) {
			t.Errorf("RolesFor(%q) = %v, want %v", action, got, roles)
		}
	}
}

func TestCanFailsClosed(t *testing.T) {
	admin := principals['A']
	for _, action := range []string{"", "label.delete", "Label.Revoke", "label.revoke ", "*", "label"} {
		if Can(admin, action) {
			t.Errorf("unknown action %q allowed", action)
		}
	}
	// A principal whose role does not fit its organisation gets only
	// what the public gets.
	forged := Principal{UserID: 3, OrgID: 30, OrgKind: KindManufacturer, Role: RoleAuthorityAdmin}
	for _, action := range Actions() {
		if Can(forged, action) != Can(Anonymous, action) {
			t.Errorf("inconsistent principal: Can(%q) = %v", action, Can(forged, action))
		}
	}
	// RolesFor hands out a copy: callers cannot edit the policy.
	r := RolesFor(ActionLabelRevoke)
	r[0] = RolePublic
	if Can(Anonymous, ActionLabelRevoke) {
		t.Fatal("RolesFor exposed the table")
	}
	if RolesFor("nope") != nil {
		t.Error("RolesFor(unknown) not nil")
	}
}

func TestSameOrg(t *testing.T) {
	m := principals['M']
	for _, c := range []struct {
		p     Principal
		owner int64
		want  bool
	}{
		{m, 30, true},
		{m, 31, false},
		{m, 0, false},
		{Anonymous, 0, false},
		{Principal{OrgID: 30}, 30, false}, // no user: anonymous
		{Principal{UserID: 3, OrgID: 30, OrgKind: KindAuthority, Role: RoleManufacturer}, 30, false},
		{principals['A'], 30, false}, // the authority is not the manufacturer
	} {
		if got := SameOrg(c.p, c.owner); got != c.want {
			t.Errorf("SameOrg(%+v, %d) = %v, want %v", c.p, c.owner, got, c.want)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sameSet(a, b []Role) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// The object rules: who may act on whose object. A = an authority running
// scheme "s1", M = the manufacturer 30, S = the lab 20, and outsiders of
// each kind.
func TestAllowObjects(t *testing.T) {
	auth := Principal{UserID: 1, OrgID: 10, OrgKind: KindAuthority, Role: RoleAuthorityAdmin, Schemes: []string{"s1"}}
	otherAuth := Principal{UserID: 4, OrgID: 11, OrgKind: KindAuthority, Role: RoleAuthorityAdmin, Schemes: []string{"s2"}}
	lab := principals['S']
	otherLab := Principal{UserID: 5, OrgID: 21, OrgKind: KindAssessorLab, Role: RoleAssessor}
	mfr := principals['M']
	otherMfr := Principal{UserID: 6, OrgID: 31, OrgKind: KindManufacturer, Role: RoleManufacturer}
	app := Object{Manufacturer: 30, Labs: []int64{20}, Schemes: []string{"s1"}}
	unpublished := Object{Manufacturer: 30, Schemes: []string{"s1"}}
	lbl := Object{Manufacturer: 30, Schemes: []string{"s1"}, Published: true}
	for _, c := range []struct {
		who    string
		p      Principal
		action string
		o      Object
		want   error // nil, ErrDenied or ErrHidden
	}{
		{"maker reads its application", mfr, ActionApplicationRead, app, nil},
		{"another maker", otherMfr, ActionApplicationRead, app, ErrHidden},
		{"assigned lab", lab, ActionApplicationRead, app, nil},
		{"unassigned lab", otherLab, ActionApplicationRead, app, ErrHidden},
		{"authority of the scheme", auth, ActionApplicationRead, app, nil},
		{"authority of another scheme", otherAuth, ActionApplicationRead, app, ErrHidden},
		{"public", Anonymous, ActionApplicationRead, app, ErrDenied},
		{"assign: own scheme", auth, ActionApplicationAssign, app, nil},
		{"assign: another scheme", otherAuth, ActionApplicationAssign, app, ErrDenied},
		{"assign: the maker", mfr, ActionApplicationAssign, app, ErrDenied},
		{"complete: assigned lab", lab, ActionApplicationComplete, app, nil},
		{"complete: other lab", otherLab, ActionApplicationComplete, app, ErrHidden},
		{"finding: assigned lab", lab, ActionFindingRecord, app, nil},
		{"finding: the authority", auth, ActionFindingRecord, app, ErrDenied},
		{"unpublished product: other maker", otherMfr, ActionProductRead, unpublished, ErrHidden},
		{"unpublished product: its authority", auth, ActionProductRead, unpublished, nil},
		{"unpublished product: another authority", otherAuth, ActionProductRead, unpublished, ErrHidden},
		{"published product: public", Anonymous, ActionProductRead, Object{Manufacturer: 30, Published: true}, nil},
		{"suspend: own scheme", auth, ActionLabelSuspend, lbl, nil},
		{"suspend: another scheme", otherAuth, ActionLabelSuspend, lbl, ErrDenied},
		{"suspend: system", System, ActionLabelSuspend, lbl, nil},
		{"expire: system", System, ActionLabelExpire, lbl, nil},
		{"expire: authority", auth, ActionLabelExpire, lbl, ErrDenied},
		{"surrender: maker", mfr, ActionLabelSurrender, lbl, nil},
		{"surrender: other maker", otherMfr, ActionLabelSurrender, lbl, ErrHidden},
		{"surrender: system", System, ActionLabelSurrender, lbl, ErrDenied},
		{"add a version to another's product", otherMfr, ActionProductCreate, Object{Manufacturer: 30}, ErrHidden},
		{"create one's own product", mfr, ActionProductCreate, Object{}, nil},
		{"new scheme", auth, ActionSchemeWrite, Object{}, nil},
		{"own scheme", auth, ActionSchemeWrite, Object{Schemes: []string{"s1"}}, nil},
		{"another's scheme", otherAuth, ActionSchemeWrite, Object{Schemes: []string{"s1"}}, ErrDenied},
		{"system reads nothing private", System, ActionEvidenceRead, app, ErrDenied},
		{"webhooks: a maker registers its own", mfr, ActionWebhookManage, Object{}, nil},
		{"webhooks: a maker's endpoint", mfr, ActionWebhookManage, Object{Owner: 30}, nil},
		{"webhooks: another maker's endpoint", otherMfr, ActionWebhookManage, Object{Owner: 30}, ErrHidden},
		{"webhooks: an authority's own endpoint", auth, ActionWebhookManage, Object{Owner: 10}, nil},
		{"webhooks: an authority, a maker's endpoint", auth, ActionWebhookManage, Object{Owner: 30}, ErrHidden},
		{"webhooks: not for labs", lab, ActionWebhookManage, Object{Owner: 20}, ErrDenied},
		{"webhooks: anonymous", Anonymous, ActionWebhookManage, Object{}, ErrDenied},
		{"tokens: one's own list", lab, ActionTokenManage, Object{}, nil},
		{"tokens: one's own token", mfr, ActionTokenManage, Object{User: 3}, nil},
		{"tokens: a colleague's token", Principal{UserID: 7, OrgID: 30, OrgKind: KindManufacturer, Role: RoleManufacturer}, ActionTokenManage, Object{User: 3}, ErrHidden},
		{"tokens: another organisation's", auth, ActionTokenManage, Object{User: 3}, ErrHidden},
		{"tokens: the operator, anyone's", System, ActionTokenManage, Object{User: 3}, nil},
		{"tokens: anonymous", Anonymous, ActionTokenManage, Object{}, ErrDenied},
		{"password: one's own", auth, ActionPasswordChange, Object{User: 1}, nil},
		{"password: another's", mfr, ActionPasswordChange, Object{User: 1}, ErrDenied},
		{"password: the system has none", System, ActionPasswordChange, Object{User: 1}, ErrDenied},
		{"users: only the operator disables", auth, ActionUserManage, Object{User: 3}, ErrDenied},
		{"targets: an authority declares its own", auth, ActionTargetDeclare, Object{Owner: 10}, nil},
		{"targets: a maker declares its own", mfr, ActionTargetDeclare, Object{Owner: 30}, nil},
		{"targets: a lab declares its own", lab, ActionTargetDeclare, Object{Owner: 20}, nil},
		{"targets: not for another organisation", otherMfr, ActionTargetDeclare, Object{Owner: 30}, ErrDenied},
		{"targets: an authority not for a maker", auth, ActionTargetDeclare, Object{Owner: 30}, ErrDenied},
		{"targets: anonymous", Anonymous, ActionTargetDeclare, Object{Owner: 30}, ErrDenied},
		{"targets: no owner named", mfr, ActionTargetDeclare, Object{}, ErrDenied},
		{"reports: the system publishes", System, ActionReportPublish, Object{Owner: 30}, nil},
		{"reports: not another's", otherMfr, ActionReportPublish, Object{Owner: 30}, ErrDenied},
		{"targets: the system declares none", System, ActionTargetDeclare, Object{Owner: 30}, ErrDenied},
	} {
		err := Allow(c.p, c.action, c.o)
		switch {
		case c.want == nil && err != nil:
			t.Errorf("%s: %s refused: %v", c.who, c.action, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("%s: %s = %v, want %v", c.who, c.action, err, c.want)
		}
	}
	// Every action of the table has an object rule: none falls through
	// to "no rule".
	for _, a := range Actions() {
		for _, p := range []Principal{auth, lab, mfr, System} {
			if err := Allow(p, a, Object{}); err != nil && strings.Contains(err.Error(), "no rule") {
				t.Errorf("%s has no object rule", a)
			}
		}
	}
}

func TestSystemCannotBeForged(t *testing.T) {
	// A row or form saying "system" is not the system.
	forged := Principal{UserID: 1, OrgID: 1, OrgKind: KindAuthority, Role: RoleSystem}
	if forged.IsSystem() || Can(forged, ActionLabelExpire) || Can(forged, ActionLabelSuspend) {
		t.Fatal("a principal with the system's role name acted as the system")
	}
}
