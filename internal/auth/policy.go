package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrDenied is the answer when a principal may not act on an object.
var ErrDenied = errors.New("not permitted")

// ErrHidden is the answer when the principal may not even know the object
// exists: callers answer "not found", never confirming it.
var ErrHidden = errors.New("not found")

// Object is what an action is performed on, as far as access depends on it.
// The zero Object is "nothing in particular" (creating one's own product,
// reading the public register).
type Object struct {
	// Manufacturer is the organisation that makes the product concerned.
	Manufacturer int64
	// Labs are the assessor labs assigned to it (an application's lab, or
	// every lab assigned to any application for a product).
	Labs []int64
	// Schemes are the schemes it concerns: an application's or a label's
	// scheme, every scheme a product applied for, or a scheme itself.
	Schemes []string
	// Published objects are public to read.
	Published bool
	// Owner is the organisation an object of its own belongs to (a webhook
	// endpoint), whatever kind of organisation it is.
	Owner int64
	// User is the user an object of one's own belongs to (an API token, a
	// password).
	User int64
}

// Allow is the one permission check: may p perform action on o? The role
// table (Can) answers whether the role may ever; the rules below whether it
// may on this object. Refusals an outsider must not learn from say
// ErrHidden; the rest ErrDenied, with words the user can act on.
func Allow(p Principal, action string, o Object) error {
	if !Can(p, action) {
		if p.IsAnonymous() {
			return fmt.Errorf("%w: sign in first", ErrDenied)
		}
		return fmt.Errorf("%w: your account may not %s", ErrDenied, strings.ReplaceAll(action, ".", " "))
	}
	if p.system {
		return nil
	}
	owner := SameOrg(p, o.Manufacturer)
	assigned := !p.IsAnonymous() && slices.Contains(o.Labs, p.OrgID)
	oversees := p.Role == RoleAuthorityAdmin && !p.IsAnonymous() && slices.ContainsFunc(o.Schemes, func(s string) bool { return slices.Contains(p.Schemes, s) })
	switch action {
	case ActionProductRead:
		if o.Published || owner || assigned || oversees {
			return nil
		}
		return ErrHidden
	case ActionProductCreate, ActionApplicationSubmit:
		// Creating for one's own organisation (no object yet); adding to
		// an existing product or application (a version, an SBOM,
		// evidence, a step) only if it is one's own.
		if o.Manufacturer == 0 || owner {
			return nil
		}
		return ErrHidden
	case ActionEvidenceRead, ActionApplicationRead:
		if owner || assigned || oversees {
			return nil
		}
		return ErrHidden
	case ActionLabelSurrender, ActionFindingRespond:
		if owner {
			return nil
		}
		return ErrHidden
	case ActionFindingRecord, ActionApplicationComplete:
		if assigned {
			return nil
		}
		return ErrHidden
	case ActionApplicationAssign, ActionApplicationDecide, ActionLabelSuspend, ActionLabelRestore, ActionLabelRevoke, ActionFindingReview:
		if oversees {
			return nil
		}
		return fmt.Errorf("%w: your authority does not run %s", ErrDenied, strings.Join(o.Schemes, ", "))
	case ActionSchemeWrite:
		// A new scheme (no schemes named) or one this authority runs.
		if len(o.Schemes) == 0 || oversees {
			return nil
		}
		return fmt.Errorf("%w: your authority does not run %s", ErrDenied, strings.Join(o.Schemes, ", "))
	case ActionAuditRead, ActionUserManage, ActionAdvisoryIngest:
		return nil
	case ActionTokenManage:
		// Creating or listing one's own (no user named), or one's own
		// token; another user's is not even there.
		if o.User == 0 || (!p.IsAnonymous() && o.User == p.UserID) {
			return nil
		}
		return ErrHidden
	case ActionPasswordChange:
		if !p.IsAnonymous() && o.User == p.UserID {
			return nil
		}
		return fmt.Errorf("%w: you may change only your own password", ErrDenied)
	case ActionTargetDeclare, ActionReportPublish:
		// Only for one's own organisation: a target or report names
		// whose it is, and nobody declares for another.
		if SameOrg(p, o.Owner) {
			return nil
		}
		return fmt.Errorf("%w: an organisation declares and reports only its own targets", ErrDenied)
	case ActionWebhookManage:
		// Creating or listing one's own (no owner named), or an endpoint
		// of one's own organisation; another's is not even there.
		if o.Owner == 0 || SameOrg(p, o.Owner) {
			return nil
		}
		return ErrHidden
	}
	return fmt.Errorf("%w: no rule for %s", ErrDenied, action)
}
