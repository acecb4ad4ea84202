package auth

import (
	"maps"
	"slices"
)

// OrgKind is the kind of organisation an account belongs to.
type OrgKind string

// The organisation kinds.
const (
	KindAuthority    OrgKind = "authority"    // runs a scheme: grants, suspends and revokes labels
	KindAssessorLab  OrgKind = "assessor-lab" // tests products against a scheme
	KindManufacturer OrgKind = "manufacturer" // makes products and applies for labels
)

// Role is what a user may do within their organisation.
type Role string

// The roles. Each account role belongs to exactly one kind of organisation;
// RolePublic is the anonymous visitor and belongs to none.
const (
	RoleAuthorityAdmin Role = "authority-admin"
	RoleAssessor       Role = "assessor"
	RoleManufacturer   Role = "manufacturer"
	RolePublic         Role = "public"
)

// roleKind is the one organisation kind each account role is valid in.
var roleKind = map[Role]OrgKind{
	RoleAuthorityAdmin: KindAuthority,
	RoleAssessor:       KindAssessorLab,
	RoleManufacturer:   KindManufacturer,
}

// ValidRole reports whether role may be held in an organisation of kind.
// Tying roles to kinds means a manufacturer's user can never be made an
// assessor of its own products, whatever a form or a database row says.
func ValidRole(kind OrgKind, role Role) bool {
	k, ok := roleKind[role]
	return ok && k == kind
}

// ValidOrgKind reports whether kind is one of the organisation kinds.
func ValidOrgKind(kind OrgKind) bool {
	return kind == KindAuthority || kind == KindAssessorLab || kind == KindManufacturer
}

// Principal is who is making a request. The zero Principal is anonymous.
type Principal struct {
	UserID  int64
	OrgID   int64
	OrgKind OrgKind
	Role    Role
	Email   string
	// Schemes are the schemes an authority's organisation runs, read with
	// the session or token so object checks need no further query.
	Schemes []string
	// system marks Hallmark itself acting (expiry, post-market rules, the
	// demo loader). Unexported: no session, token or form can produce it.
	system bool
}

// Anonymous is the principal of a request without a valid session or token.
var Anonymous = Principal{Role: RolePublic}

// RoleSystem is Hallmark acting on its own: labels expiring, post-market
// rules suspending and restoring. It holds no account.
const RoleSystem Role = "system"

// System is the principal of automatic decisions.
var System = Principal{Role: RoleSystem, system: true}

// IsSystem reports whether p is Hallmark itself.
func (p Principal) IsSystem() bool { return p.system }

// IsAnonymous reports whether p is not a signed-in user. A principal with no
// user, or whose role does not fit its organisation kind, counts as
// anonymous: a half-built or corrupted principal must not get more than
// the public does.
func (p Principal) IsAnonymous() bool {
	if p.system {
		return false
	}
	return p.UserID == 0 || p.OrgID == 0 || !ValidRole(p.OrgKind, p.Role)
}

// Actions. Can answers whether a role may ever perform an action; whether
// it may on a given object (its own organisation's product, an application
// assigned to its lab) is Allow's second check (policy.go), as noted per
// action. What is public to everyone without condition — the catalogue,
// schemes, the label register and label pages, status lists, the log —
// needs no permission and has no action here: every action in the table is
// checked by some code (internal/auth/coverage_test.go).
const (
	// ActionProductRead: see a product. Published ones: everyone,
	// including anonymous visitors. Unpublished ones: the manufacturer that
	// owns it, an assessor of a lab assigned to it, and the authority
	// running a scheme it applied for.
	ActionProductRead = "product.read"
	// ActionProductCreate: register a product. Manufacturers, for their own
	// organisation.
	ActionProductCreate = "product.create"
	// ActionApplicationSubmit: apply for a label for a product. Manufacturers,
	// for their own products (SameOrg).
	ActionApplicationSubmit = "application.submit"
	// ActionApplicationRead: see an application, its findings and history.
	// The manufacturer that applied (SameOrg), the lab assigned to it, the
	// authority running its scheme.
	ActionApplicationRead = "application.read"
	// ActionApplicationAssign: give an application to an assessor lab. The
	// authority, so a manufacturer cannot pick a friendly lab on its own.
	ActionApplicationAssign = "application.assign"
	// ActionFindingRecord: record an assessment finding against a
	// requirement. Assessors, on applications assigned to their lab.
	ActionFindingRecord = "finding.record"
	// ActionApplicationDecide: grant or refuse the label. The authority
	// only: the lab that assessed does not also decide (separation of
	// duties).
	ActionApplicationDecide = "application.decide"
	// ActionLabelSuspend: suspend a label pending investigation. Authority.
	ActionLabelSuspend = "label.suspend"
	// ActionLabelRestore: lift a suspension. Authority.
	ActionLabelRestore = "label.restore"
	// ActionLabelRevoke: withdraw a label for good. Authority.
	ActionLabelRevoke = "label.revoke"
	// ActionLabelSurrender: give up one's own label voluntarily, e.g. at end
	// of support. Manufacturers, for their own labels (SameOrg).
	ActionLabelSurrender = "label.surrender"
	// ActionLabelExpire: end a label whose validity has passed. Hallmark
	// itself, on a schedule.
	ActionLabelExpire = "label.expire"
	// ActionApplicationComplete: declare an assessment complete once every
	// required requirement has a verdict. Assessors of the assigned lab.
	ActionApplicationComplete = "application.complete"
	// ActionAdvisoryIngest: feed advisories, exploitation data and VEX to
	// the post-market watch, and run it. Authorities, and Hallmark itself
	// (scheduled feeds, the operator's command line).
	ActionAdvisoryIngest = "advisory.ingest"
	// ActionFindingRespond: answer a post-market finding on one's own
	// product (acknowledge it, dispute a name match, submit VEX). The
	// manufacturer (SameOrg).
	ActionFindingRespond = "finding.respond"
	// ActionFindingReview: confirm or reject a fuzzy match before it acts.
	// The authority running the scheme of the label concerned.
	ActionFindingReview = "finding.review"
	// ActionEvidenceRead: read test evidence (reports, firmware, documents),
	// which is commercially confidential. The owning manufacturer (SameOrg),
	// assessors of the assigned lab, and the authority.
	ActionEvidenceRead = "evidence.read"
	// ActionSchemeWrite: edit scheme definitions and their versions.
	// Authority.
	ActionSchemeWrite = "scheme.write"
	// ActionUserManage: create authorities' and labs' accounts, disable
	// and enable users, reset passwords. The operator only (the command line, as the system principal):
	// manufacturers register themselves, and no organisation's member can
	// add accounts, so none can escalate.
	ActionUserManage = "user.manage"
	// ActionAuditRead: read the audit log. Authorities, and only what they
	// oversee: their own organisation's entries and those about the
	// applications, labels and products of the schemes they run (the
	// listing form of this rule is the store's audit query).
	ActionAuditRead = "audit.read"
	// ActionWebhookManage: register, list and delete webhook endpoints and
	// read their delivery log. Manufacturers and authorities, the ones
	// notifications are for, each for its own organisation (Owner).
	ActionWebhookManage = "webhook.manage"
	// ActionTokenManage: create, list and revoke API tokens. Every account,
	// for its own tokens only (User); the operator (the command line, as
	// the system principal) for any user.
	ActionTokenManage = "token.manage"
	// ActionPasswordChange: change one's own password, giving the current
	// one. Every account, for itself only (User); the operator resets
	// passwords and disables users through user.manage.
	ActionPasswordChange = "password.change"
	// ActionTargetDeclare: declare a target on an indicator (or revise
	// one, which supersedes it). Any organisation, for itself (Owner):
	// each sets its own targets and is measured against them.
	ActionTargetDeclare = "target.declare"
	// ActionReportPublish: publish a transparency report on one's own
	// targets for a period (Owner); Hallmark itself publishes each month's.
	ActionReportPublish = "report.publish"
)

// permissions is the whole access policy as data: action → roles allowed.
// Anything not listed is refused.
var permissions = map[string][]Role{
	ActionProductRead:         {RolePublic, RoleManufacturer, RoleAssessor, RoleAuthorityAdmin},
	ActionProductCreate:       {RoleManufacturer},
	ActionApplicationSubmit:   {RoleManufacturer},
	ActionApplicationRead:     {RoleManufacturer, RoleAssessor, RoleAuthorityAdmin},
	ActionApplicationAssign:   {RoleAuthorityAdmin},
	ActionFindingRecord:       {RoleAssessor},
	ActionApplicationDecide:   {RoleAuthorityAdmin},
	ActionApplicationComplete: {RoleAssessor},
	ActionLabelSuspend:        {RoleAuthorityAdmin, RoleSystem},
	ActionLabelRestore:        {RoleAuthorityAdmin, RoleSystem},
	ActionLabelRevoke:         {RoleAuthorityAdmin, RoleSystem},
	ActionLabelExpire:         {RoleSystem},
	ActionAdvisoryIngest:      {RoleAuthorityAdmin, RoleSystem},
	ActionFindingRespond:      {RoleManufacturer},
	ActionFindingReview:       {RoleAuthorityAdmin},
	ActionLabelSurrender:      {RoleManufacturer},
	ActionEvidenceRead:        {RoleManufacturer, RoleAssessor, RoleAuthorityAdmin},
	ActionSchemeWrite:         {RoleAuthorityAdmin, RoleSystem},
	ActionUserManage:          {RoleSystem},
	ActionAuditRead:           {RoleAuthorityAdmin},
	ActionWebhookManage:       {RoleManufacturer, RoleAuthorityAdmin},
	ActionTokenManage:         {RoleManufacturer, RoleAssessor, RoleAuthorityAdmin, RoleSystem},
	ActionPasswordChange:      {RoleManufacturer, RoleAssessor, RoleAuthorityAdmin},
	ActionTargetDeclare:       {RoleAuthorityAdmin, RoleManufacturer, RoleAssessor},
	ActionReportPublish:       {RoleAuthorityAdmin, RoleManufacturer, RoleAssessor, RoleSystem},
}

// Can reports whether p's role may perform action. Unknown actions are
// refused, so a typo in a handler denies rather than allows. A principal
// that IsAnonymous gets the public's permissions only.
func Can(p Principal, action string) bool {
	role := p.Role
	switch {
	case p.system:
		role = RoleSystem
	case p.IsAnonymous() || role == RoleSystem:
		role = RolePublic
	}
	return slices.Contains(permissions[action], role)
}

// SameOrg reports whether p belongs to the organisation that owns an
// object. Anonymous principals own nothing, and org 0 is nobody's.
func SameOrg(p Principal, ownerOrgID int64) bool {
	return !p.IsAnonymous() && ownerOrgID != 0 && p.OrgID == ownerOrgID
}

// Actions lists every action in the permission table, sorted, for
// documentation pages and tests.
func Actions() []string {
	return slices.Sorted(maps.Keys(permissions))
}

// RolesFor lists the roles that may perform action (nil if unknown).
func RolesFor(action string) []Role {
	return slices.Clone(permissions[action])
}
