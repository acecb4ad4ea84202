package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// statusListTTL is how long a published status list credential is valid:
// short, so a verifier cannot be fed an old list for long.
const statusListTTL = 24 * time.Hour

// newLabelID returns a short public id such as HM-7K2Q-9XWD, unambiguous
// when read aloud or typed from a box (no 0/O, 1/I).
func newLabelID() string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	var b [8]byte
	rand.Read(b[:])
	out := []byte("HM-")
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// MaxSearchText bounds a search text: longer ones are refused, not run.
const MaxSearchText = 200

// LabelURL is a label's public page.
func (s *Server) LabelURL(id string) string { return s.cfg.PublicURL + "/labels/" + id }

// StatusListURL is where a status list credential is published.
func (s *Server) StatusListURL(purpose string, list int) string {
	return fmt.Sprintf("%s/status/%s/%d", s.cfg.PublicURL, purpose, list)
}

func (s *Server) issuer() label.Issuer {
	return label.Issuer{ID: s.cfg.PublicURL, Name: s.cfg.IssuerName}
}

// issueLabel signs the label credential for an application being approved
// and writes the approval, the label and its decision in one transaction.
func (s *Server) issueLabel(ctx context.Context, c store.AppChange, a registry.Application) (registry.Label, int64, error) {
	res, err := s.Needs(ctx, a)
	if err != nil {
		return registry.Label{}, 0, err
	}
	v, err := s.store.Version(ctx, a.VersionID)
	if err != nil {
		return registry.Label{}, 0, err
	}
	prod, err := s.store.Product(ctx, a.ProductID)
	if err != nil {
		return registry.Label{}, 0, err
	}
	var supportEnd time.Time
	if v.Facts.SupportEnd != "" {
		supportEnd, _ = time.Parse(time.DateOnly, v.Facts.SupportEnd)
	}
	issued := c.At.Truncate(time.Second)
	validUntil := res.Scheme.LevelValidity(res.Level).Until(issued, supportEnd)
	key := s.keys.Active()
	return s.store.WriteIssue(ctx, c, func(idx int) (registry.Label, registry.Decision, error) {
		id := newLabelID()
		list, bit := idx/label.MinListBits, idx%label.MinListBits
		claims := label.LabelClaims{
			ID: s.LabelURL(id), Issuer: s.issuer(), ValidFrom: issued, ValidUntil: validUntil,
			LabelID: id, SchemeID: a.SchemeID, SchemeVersion: a.SchemeVersion, SchemeVersionName: res.Scheme.Version,
			LevelID: a.LevelID, LevelName: res.Name(),
			Product: label.Product{Name: prod.Name, ModelNumber: prod.ModelNumber, Manufacturer: prod.Manufacturer,
				SoftwareVersion: v.SoftwareVersion, PURL: prod.PURL, CPE: prod.CPE, GTIN: prod.GTIN},
			SupportEndDate: supportEnd, PageURL: s.LabelURL(id),
			Revocation: label.StatusRef{ListURL: s.StatusListURL(label.PurposeRevocation, list), Index: bit},
			Suspension: label.StatusRef{ListURL: s.StatusListURL(label.PurposeSuspension, list), Index: bit},
			Message:    label.StatusRef{ListURL: s.StatusListURL(label.PurposeMessage, list), Index: bit},
		}
		jws, err := label.Issue(claims, key)
		if err != nil {
			return registry.Label{}, registry.Decision{}, fmt.Errorf("sign the label: %w", err)
		}
		l := registry.Label{ID: id, VersionID: a.VersionID, SchemeID: a.SchemeID, SchemeVersion: a.SchemeVersion, LevelID: a.LevelID,
			Status: assess.Active, Issued: issued, ValidUntil: validUntil, Credential: jws, CredentialHash: label.Hash(jws), KID: key.KID}
		d := registry.Decision{Kind: tlog.KindLabelIssued, Subject: id, Digest: l.CredentialHash, Status: string(l.Status), StatusIndex: idx,
			ReasonHash: tlog.ReasonHash(c.Note), At: c.At}
		return l, d, nil
	})
}

// ChangeLabel applies a lifecycle action (suspend, restore, revoke,
// surrender) to one label on the principal's authority.
func (s *Server) ChangeLabel(ctx context.Context, p Principal, id string, action assess.LabelAction, reason string) (Outcome, error) {
	return s.decideOne(ctx, p, Request{Label: id, Action: action, Reason: reason})
}

// LabelActionsFor lists what the principal may do to the label now: an
// authority only on labels of schemes it runs, a manufacturer only on its own.
func (s *Server) LabelActionsFor(p Principal, l registry.Label) []assess.LabelAction {
	var out []assess.LabelAction
	for _, a := range assess.LabelActions(l.Status, actorOf(p)) {
		if allow(p, labelActions[a].perm, labelObject(l)) == nil {
			out = append(out, a)
		}
	}
	return out
}

// ExpireDue moves every label past its validity to expired, as the system.
func (s *Server) ExpireDue(ctx context.Context) (int, error) {
	due, err := s.store.DueForExpiry(ctx, s.now())
	if err != nil {
		return 0, err
	}
	reqs := make([]Request, len(due))
	for i, l := range due {
		reqs[i] = Request{Label: l.ID, Action: assess.ExpireLabel, Reason: "the validity period ended", At: l.ValidUntil}
	}
	out, err := s.Decide(ctx, auth.System, reqs...)
	n := 0
	for _, o := range out {
		if o.Err == nil && o.Status != "" {
			n++
		}
	}
	return n, err
}

// statusListCache keeps signed status list credentials until a label
// changes status or they near expiry: status lookups never hit the
// database in between.
type statusListCache struct {
	mu      sync.Mutex
	entries map[string]cachedList
}

type cachedList struct {
	jws     string
	expires time.Time
	gen     uint64 // the label generation the list was derived at
}

func (c *statusListCache) invalidate() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// StatusList returns the signed status list credential for a purpose and
// list number, derived from the labels' statuses. A surrendered label sets
// its revocation bit (a generic verifier must see it as terminated); the
// message list's two bits tell surrendered from revoked (see package label).
func (s *Server) StatusList(ctx context.Context, purpose string, list int) (string, error) {
	// The value each status has in the list of this purpose.
	var values map[assess.LabelStatus]uint
	switch purpose {
	case label.PurposeRevocation:
		values = map[assess.LabelStatus]uint{assess.Revoked: 1, assess.Surrendered: 1}
	case label.PurposeSuspension:
		values = map[assess.LabelStatus]uint{assess.Suspended: 1}
	case label.PurposeMessage:
		values = map[assess.LabelStatus]uint{assess.Suspended: label.MessageSuspended, assess.Revoked: label.MessageRevoked,
			assess.Surrendered: label.MessageSurrendered}
	default:
		return "", store.ErrNotFound
	}
	// Only lists that hold labels exist: anything else would let anyone
	// make the server sign and cache lists without end.
	maxIdx, err := s.reader().MaxStatusIndex(ctx)
	if err != nil {
		return "", err
	}
	if list < 0 || list > maxIdx/label.MinListBits || maxIdx < 0 {
		return "", store.ErrNotFound
	}
	key := fmt.Sprintf("%s/%d", purpose, list)
	now := s.now()
	// Read the generation before the statuses: a list derived while a
	// label changed carries the old generation and is never served after.
	gen := s.labels.gen.Load()
	s.statusLists.mu.Lock()
	if e, ok := s.statusLists.entries[key]; ok && now.Before(e.expires) && e.gen == gen {
		s.statusLists.mu.Unlock()
		return e.jws, nil
	}
	s.statusLists.mu.Unlock()
	size := 1
	if purpose == label.PurposeMessage {
		size = label.MessageStatusSize
	}
	bits, err := label.NewSizedBitstring(label.MinListBits, size)
	if err != nil {
		return "", err
	}
	for status, v := range values {
		idx, err := s.reader().StatusIndexes(ctx, status)
		if err != nil {
			return "", err
		}
		for _, i := range idx {
			if i/label.MinListBits == list {
				bits.SetValue(i%label.MinListBits, v)
			}
		}
	}
	from := now.Truncate(time.Second)
	vc, err := label.StatusListCredential(s.StatusListURL(purpose, list), purpose, bits, s.issuer(), from, from.Add(statusListTTL))
	if err != nil {
		return "", err
	}
	jws, err := vc.Sign(s.keys.Active())
	if err != nil {
		return "", err
	}
	s.statusLists.mu.Lock()
	if s.statusLists.entries == nil {
		s.statusLists.entries = map[string]cachedList{}
	}
	// Re-sign well before the credential expires.
	if s.labels.gen.Load() == gen {
		s.statusLists.entries[key] = cachedList{jws: jws, expires: from.Add(statusListTTL / 2), gen: gen}
	}
	s.statusLists.mu.Unlock()
	return jws, nil
}

// Label returns a label with its history; labels are public.
func (s *Server) Label(ctx context.Context, id string) (registry.Label, []registry.LabelEvent, error) {
	gen := s.labels.gen.Load()
	if c, ok := s.labels.entries.Load(id); ok && c.(cachedLabel).gen == gen {
		return c.(cachedLabel).label, c.(cachedLabel).events, nil
	}
	l, err := s.reader().Label(ctx, id)
	if err != nil {
		return l, nil, err
	}
	ev, err := s.reader().LabelEvents(ctx, id)
	if err != nil {
		return l, nil, err
	}
	s.labels.entries.Store(id, cachedLabel{gen: gen, label: l, events: ev})
	return l, ev, nil
}

// Labels searches the public registry of labels.
func (s *Server) Labels(ctx context.Context, q store.LabelQuery) ([]registry.Label, int, error) {
	if len(q.Text) > MaxSearchText {
		return nil, 0, fmt.Errorf("%w: the search text is longer than %d characters", ErrInvalid, MaxSearchText)
	}
	if err := checkFields(input.Field{Name: "search text", Value: q.Text, Kind: input.Line}, input.Field{Name: "scheme", Value: q.SchemeID, Kind: input.Line},
		input.Field{Name: "status", Value: string(q.Status), Kind: input.Line}, input.Field{Name: "category", Value: q.Category, Kind: input.Line}); err != nil {
		return nil, 0, err
	}
	return s.reader().Labels(ctx, q)
}

// labelCache keeps labels with their history between status changes, so
// the public read path (QR scans, status lookups) rarely reaches the
// database. Any label change empties it; a new label is simply a miss.
type labelCache struct {
	gen     atomic.Uint64
	entries sync.Map // id -> cachedLabel
}

type cachedLabel struct {
	gen    uint64
	label  registry.Label
	events []registry.LabelEvent
}

// labelsChanged forgets everything derived from label statuses.
func (s *Server) labelsChanged() {
	s.labels.gen.Add(1)
	s.labels.entries.Clear()
	s.statusLists.invalidate()
	s.announce("labels") // to the other instances, if any
}

// LabelGeneration changes whenever any label's status changes; callers
// caching pages keyed on it never serve a stale status.
func (s *Server) LabelGeneration() uint64 { return s.labels.gen.Load() }

// LabelRecord returns a label without its history (status lookups).
func (s *Server) LabelRecord(ctx context.Context, id string) (registry.Label, error) {
	l, _, err := s.Label(ctx, id)
	return l, err
}

// JWKS is the issuer's public key set.
func (s *Server) JWKS() []byte { return s.keys.JWKS() }

// Keys gives the key ring (for the CLI's key rotation).
func (s *Server) Keys() *label.KeyRing { return s.keys }

// LabelFacts turns a label and its version's declared facts into the
// CTA-2120 record's facts.
func LabelFacts(l registry.Label, v registry.Version, lvl scheme.Resolved, url string) label.Facts {
	f := label.Facts{ProductName: l.ProductName, Manufacturer: l.Manufacturer, ModelNumber: l.ModelNumber,
		SoftwareVersion: l.SoftwareVersion, HardwareVersion: v.HardwareVersion, ProductCategory: l.Category,
		AuthorizationDate: l.Issued, CertifyingBody: lvl.Scheme.Owner, TestingLab: l.TestingLab, QRURL: url,
		PasswordType: v.Facts.PasswordType, PasswordChangeMethod: v.Facts.PasswordChange, HowToSecure: v.Facts.HowToSecure,
		UpdateMode: v.Facts.UpdateMode, Sensors: v.Facts.Sensors, DataDeletion: v.Facts.DataDeletion,
		AccountDeactivation: v.Facts.AccountDeactivation, Encryption: v.Facts.Encryption, SecurityContact: v.Facts.SecurityContact,
		DisclosurePolicyURL: v.Facts.DisclosurePolicyURL, SBOMAvailable: &v.Facts.SBOMAvailable, HBOMAvailable: &v.Facts.HBOMAvailable,
		LabelLevel: lvl.Name(), ValidUntil: l.ValidUntil, Status: string(l.Status), Created: l.Issued, Modified: l.Issued}
	if t, err := time.Parse(time.DateOnly, v.Facts.SupportEnd); err == nil {
		f.SupportEndDate = t
	}
	return f
}

// PublicRecord is a label's CTA-2120 public record, limited to the fields
// its scheme publishes.
func (s *Server) PublicRecord(ctx context.Context, id string) (label.PublicRecord, error) {
	l, err := s.store.Label(ctx, id)
	if err != nil {
		return label.PublicRecord{}, err
	}
	lvl, err := s.Needs(ctx, registry.Application{SchemeID: l.SchemeID, SchemeVersion: l.SchemeVersion, LevelID: l.LevelID})
	if err != nil {
		return label.PublicRecord{}, err
	}
	v, err := s.store.Version(ctx, l.VersionID)
	if err != nil {
		return label.PublicRecord{}, err
	}
	return label.NewPublicRecord(LabelFacts(l, v, lvl, s.LabelURL(l.ID)), lvl.Scheme.PublicFields)
}
