package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/bcache"
	"github.com/hallmark-iot/hallmark/internal/cdn"
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

// PublicCacheControl is the lifetime of every public answer that shows a
// label's status: the label page, the status API, the status lists and the
// registry listings. Hallmark's own caches follow a change at once, so a
// suspension reaches every reader, through any shared cache, within this
// bound (README, "Public read path").
const PublicCacheControl = "public, max-age=60"

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

// What the public read path keeps in memory, whatever the registry's size
// (README, "Public read path"): labels with their history, and registry
// listings. Pages and compressed answers have their own budgets (package
// web, package cdn).
const (
	LabelCacheBudget   = 64 << 20
	ListingCacheBudget = 16 << 20
	// CountCacheBudget keeps the counts apart from the pages: a page of
	// 1,000 labels costs 2 MB, and pages evicting a count made every page
	// of a walk through a million labels count them all again (15 s on
	// PostgreSQL).
	CountCacheBudget = 1 << 20
)

// A label's status as it sits in the status lists.
const (
	codeNone uint8 = iota // active or expired: no bit set
	codeSuspended
	codeRevoked
	codeSurrendered
)

func statusCode(st assess.LabelStatus) uint8 {
	switch st {
	case assess.Suspended:
		return codeSuspended
	case assess.Revoked:
		return codeRevoked
	case assess.Surrendered:
		return codeSurrendered
	}
	return codeNone
}

var purposes = [...]string{label.PurposeRevocation, label.PurposeSuspension, label.PurposeMessage}

// listValue is the value a status has in the list of a purpose. A
// surrendered label sets its revocation bit (a generic verifier must see
// it as terminated); the message list's two bits tell surrendered from
// revoked (see package label).
func listValue(purpose int, code uint8) uint {
	switch purposes[purpose] {
	case label.PurposeRevocation:
		if code == codeRevoked || code == codeSurrendered {
			return 1
		}
	case label.PurposeSuspension:
		if code == codeSuspended {
			return 1
		}
	case label.PurposeMessage:
		switch code {
		case codeSuspended:
			return label.MessageSuspended
		case codeRevoked:
			return label.MessageRevoked
		case codeSurrendered:
			return label.MessageSurrendered
		}
	}
	return 0
}

// statusListCache keeps each status list's statuses in memory, read once
// from the database and then kept up to date from the labels that change,
// and the signed credentials until a label in the list changes or they
// near expiry: a status lookup never reaches the database in between, and
// a change costs one small read, not a re-read of every label.
type statusListCache struct {
	mu    sync.Mutex
	max   int // the highest status index given out, when known
	known bool
	epoch uint64 // counts resets, so a read begun before one is not kept
	lists map[int]*listState
}

type listState struct {
	// mu is held while the list is loaded or signed: readers arriving
	// meanwhile wait and share the result (one rebuild, not one per reader).
	mu     sync.Mutex
	loaded bool
	codes  []uint8 // per entry
	signed [len(purposes)]atomic.Pointer[cachedList]
	// resigns bounds re-signing after changes, per purpose (under mu).
	resigns [len(purposes)]resignBudget
}

// resignBudget lets a list be re-signed at once after a change while
// changes are few, and at most resignRate times a second once they
// flood in: a re-sign costs about 0.4 ms (compressing and signing the
// list), and 1,500 suspensions a second, one decision each, had readers
// re-signing back to back on a whole core. Under a flood a reader may so
// get a list up to 1/resignRate behind the latest change.
type resignBudget struct {
	tokens float64
	at     time.Time // real time: the server's clock may stand still in tests
}

const (
	resignRate  = 50.0 // a second, once the burst allowance is spent
	resignBurst = 50.0
)

// take spends one re-sign if there is one to spend.
func (b *resignBudget) take(now time.Time) bool {
	if b.at.IsZero() {
		b.tokens = resignBurst
	} else {
		b.tokens = min(resignBurst, b.tokens+now.Sub(b.at).Seconds()*resignRate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

type cachedList struct {
	SignedList
	expires time.Time
	// stale: a label in the list changed since it was signed. The next
	// reader re-signs it; readers arriving meanwhile get this one (the
	// list as of a moment ago) rather than queue behind the signer.
	stale bool
}

func (c *statusListCache) list(n int) *listState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lists == nil {
		c.lists = map[int]*listState{}
	}
	ls := c.lists[n]
	if ls == nil {
		ls = &listState{}
		c.lists[n] = ls
	}
	return ls
}

func (c *statusListCache) reset() {
	c.mu.Lock()
	c.lists, c.known = nil, false
	c.epoch++
	c.mu.Unlock()
}

// apply brings the loaded lists up to date with labels' current states.
func (c *statusListCache) apply(states []store.LabelState) {
	byList := map[int][]store.LabelState{}
	c.mu.Lock()
	for _, st := range states {
		if c.known && st.Index > c.max {
			c.max = st.Index
		}
		if ls := c.lists[st.Index/label.MinListBits]; ls != nil {
			byList[st.Index/label.MinListBits] = append(byList[st.Index/label.MinListBits], st)
		}
	}
	lists := c.lists
	c.mu.Unlock()
	for n, sts := range byList {
		ls := lists[n]
		ls.mu.Lock()
		changed := false
		for _, st := range sts {
			if ls.loaded && ls.codes[st.Index%label.MinListBits] != statusCode(st.Status) {
				ls.codes[st.Index%label.MinListBits] = statusCode(st.Status)
				changed = true
			}
		}
		if changed || !ls.loaded {
			for i := range ls.signed {
				if c := ls.signed[i].Load(); c != nil {
					ls.signed[i].Store(&cachedList{SignedList: c.SignedList, expires: c.expires, stale: true})
				}
			}
		}
		ls.mu.Unlock()
	}
}

func (s *Server) maxStatusIndex(ctx context.Context) (int, error) {
	c := &s.statusLists
	c.mu.Lock()
	if c.known {
		defer c.mu.Unlock()
		return c.max, nil
	}
	epoch := c.epoch
	c.mu.Unlock()
	n, err := s.reader().MaxStatusIndex(ctx)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if c.epoch == epoch && !c.known {
		c.max, c.known = n, true
	}
	c.mu.Unlock()
	return n, nil
}

// SignedList is a signed status list credential (a JWS) and its strong
// entity tag, both made once when it is signed: a lookup then copies and
// hashes nothing.
type SignedList struct {
	JWS  []byte // shared: never modified
	ETag string
}

// StatusList returns the signed status list credential for a purpose and
// list number, derived from the labels' statuses.
func (s *Server) StatusList(ctx context.Context, purpose string, list int) (string, error) {
	sl, err := s.SignedStatusList(ctx, purpose, list)
	return string(sl.JWS), err
}

// SignedStatusList is StatusList with the bytes as kept, and their tag.
func (s *Server) SignedStatusList(ctx context.Context, purpose string, list int) (SignedList, error) {
	pi := slices.Index(purposes[:], purpose)
	if pi < 0 {
		return SignedList{}, store.ErrNotFound
	}
	// Only lists that hold labels exist: anything else would let anyone
	// make the server sign and cache lists without end.
	maxIdx, err := s.maxStatusIndex(ctx)
	if err != nil {
		return SignedList{}, err
	}
	if list < 0 || list > maxIdx/label.MinListBits || maxIdx < 0 {
		return SignedList{}, store.ErrNotFound
	}
	ls := s.statusLists.list(list)
	now := s.now()
	switch c := ls.signed[pi].Load(); {
	case c != nil && now.Before(c.expires) && !c.stale:
		return c.SignedList, nil
	case c != nil && now.Before(c.expires):
		// One reader re-signs; the others take the list as it was
		// a moment ago (within the public lifetime) instead of waiting.
		if !ls.mu.TryLock() {
			return c.SignedList, nil
		}
		if !ls.resigns[pi].take(time.Now()) {
			ls.mu.Unlock()
			return c.SignedList, nil // a flood of changes: re-signed shortly
		}
	default:
		ls.mu.Lock()
	}
	defer ls.mu.Unlock()
	if c := ls.signed[pi].Load(); c != nil && now.Before(c.expires) && !c.stale {
		return c.SignedList, nil // signed while this reader waited
	}
	if !ls.loaded {
		base := list * label.MinListBits
		sts, err := s.reader().StatusesIn(ctx, base, base+label.MinListBits)
		if err != nil {
			return SignedList{}, err
		}
		ls.codes = make([]uint8, label.MinListBits)
		for i, st := range sts {
			ls.codes[i-base] = statusCode(st)
		}
		ls.loaded = true
	}
	size := 1
	if purpose == label.PurposeMessage {
		size = label.MessageStatusSize
	}
	bits, err := label.NewSizedBitstring(label.MinListBits, size)
	if err != nil {
		return SignedList{}, err
	}
	for i, c := range ls.codes {
		if c != codeNone {
			if v := listValue(pi, c); v != 0 {
				bits.SetValue(i, v)
			}
		}
	}
	from := now.Truncate(time.Second)
	vc, err := label.StatusListCredential(s.StatusListURL(purpose, list), purpose, bits, s.issuer(), from, from.Add(statusListTTL))
	if err != nil {
		return SignedList{}, err
	}
	jws, err := vc.Sign(s.keys.Active())
	if err != nil {
		return SignedList{}, err
	}
	sl := SignedList{JWS: []byte(jws), ETag: cdn.Tag([]byte(jws))}
	// Re-sign well before the credential expires.
	ls.signed[pi].Store(&cachedList{SignedList: sl, expires: from.Add(statusListTTL / 2)})
	return sl, nil
}

// RecheckStatusList reads a loaded list's statuses again from the
// database and drops its signatures if they differ: for an auditor, who
// compares what is served with the rows (Cache-Control: no-cache).
func (s *Server) RecheckStatusList(ctx context.Context, list int) error {
	if list < 0 {
		return nil
	}
	s.statusLists.mu.Lock()
	ls := s.statusLists.lists[list]
	s.statusLists.mu.Unlock()
	if ls == nil {
		return nil
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if !ls.loaded {
		return nil
	}
	base := list * label.MinListBits
	sts, err := s.store.StatusesIn(ctx, base, base+label.MinListBits)
	if err != nil {
		return err
	}
	codes := make([]uint8, label.MinListBits)
	for i, st := range sts {
		codes[i-base] = statusCode(st)
	}
	if !slices.Equal(codes, ls.codes) {
		ls.codes = codes
		for i := range ls.signed {
			ls.signed[i].Store(nil)
		}
	}
	return nil
}

// RecheckLabel reads a label and its history past the caches, and has
// every cache follow if they held something else: for an auditor
// (Cache-Control: no-cache).
func (s *Server) RecheckLabel(ctx context.Context, id string) (registry.Label, []registry.LabelEvent, error) {
	l, err := s.store.Label(ctx, id)
	if err != nil {
		return l, nil, err
	}
	ev, err := s.store.LabelEvents(ctx, id)
	if err != nil {
		return l, nil, err
	}
	if c, ok := s.labels.cache.Get(id); ok && !(reflect.DeepEqual(c.label, l) && reflect.DeepEqual(c.events, ev)) {
		s.labelsChanged(Changed{Label: id})
	}
	return l, ev, nil
}

// Label returns a label with its history; labels are public.
func (s *Server) Label(ctx context.Context, id string) (registry.Label, []registry.LabelEvent, error) {
	if c, ok := s.labels.cache.Get(id); ok {
		return c.label, c.events, nil
	}
	gen := s.labels.gen.Load()
	l, err := s.reader().Label(ctx, id)
	if err != nil {
		return l, nil, err
	}
	ev, err := s.reader().LabelEvents(ctx, id)
	if err != nil {
		return l, nil, err
	}
	cost := len(l.Credential) + 512
	for _, e := range ev {
		cost += len(e.Reason) + 128
	}
	s.IfUnchanged(gen, func() { s.labels.cache.Put(id, cachedLabel{label: l, events: ev}, cost) })
	return l, ev, nil
}

// Labels searches the public registry of labels. Pages are kept until a
// label they show (or, for a status filter, any label) changes status, or
// a label is issued; counts until a label is issued or, for a status
// filter, changes status.
func (s *Server) Labels(ctx context.Context, q store.LabelQuery) ([]registry.Label, int, error) {
	if len(q.Text) > MaxSearchText {
		return nil, 0, fmt.Errorf("%w: the search text is longer than %d characters", ErrInvalid, MaxSearchText)
	}
	if err := checkFields(input.Field{Name: "search text", Value: q.Text, Kind: input.Line}, input.Field{Name: "scheme", Value: q.SchemeID, Kind: input.Line},
		input.Field{Name: "status", Value: string(q.Status), Kind: input.Line}, input.Field{Name: "category", Value: q.Category, Kind: input.Line}); err != nil {
		return nil, 0, err
	}
	filter := fmt.Sprintf("%q|%q|%q|%q|%d", strings.ToLower(q.Text), q.SchemeID, q.Status, q.Category, q.ManufacturerID)
	key := fmt.Sprintf("%s|%d|%d|%s|%s|%t", filter, q.Limit, q.Offset, q.After.Encode(), q.Before.Encode(), q.Oldest)
	if e, ok := s.listings.Get(key); ok && !q.Fresh {
		if c, ok := s.counts.Get(filter); ok || q.NoTotal {
			if !ok {
				c.total = -1
			}
			return e.labels, c.total, nil
		}
	}
	gen := s.labels.gen.Load()
	// The count is kept even for an auditor: it checks each label, and a
	// count per page would make reading the registry quadratic.
	total := -1
	if c, ok := s.counts.Get(filter); ok {
		total, q.NoTotal = c.total, true
	}
	list, n, err := s.reader().Labels(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	if !q.NoTotal {
		total = n
	}
	cost := 256
	ids := make(map[string]struct{}, len(list))
	for _, l := range list {
		cost += len(l.Credential) + 512 + 48
		ids[l.ID] = struct{}{}
	}
	s.IfUnchanged(gen, func() {
		if total >= 0 {
			s.counts.Put(filter, listing{total: total, status: q.Status != ""}, 64+len(filter))
		}
		s.listings.Put(key, listing{labels: list, ids: ids, status: q.Status != ""}, cost)
	})
	return list, total, nil
}

// listing is a cached page of the registry, or (labels nil) its count.
type listing struct {
	labels []registry.Label
	// ids are the labels shown, so a change finds the pages that show
	// its labels in a lookup or two per page, not a scan of every label
	// of every kept page (a burst of suspensions made that the decisions'
	// main cost: 80 pages of 1,000 labels scanned per decision).
	ids    map[string]struct{}
	total  int
	status bool // filtered by status: any status change may change it
}

// shows reports whether the page shows any of the changed labels.
func (e listing) shows(changed map[string]bool) bool {
	if len(changed) <= len(e.ids) {
		for id := range changed {
			if _, ok := e.ids[id]; ok {
				return true
			}
		}
		return false
	}
	return slices.ContainsFunc(e.labels, func(l registry.Label) bool { return changed[l.ID] })
}

// labelCache keeps labels with their history between status changes, so
// the public read path (QR scans, status lookups) rarely reaches the
// database. A change forgets only the labels it changed.
type labelCache struct {
	gen atomic.Uint64
	// mu orders keeping against forgetting: an entry read before a change
	// is never kept after it (IfUnchanged).
	mu        sync.RWMutex
	changeMu  sync.Mutex // one change at a time, each applying what it read
	cache     *bcache.Cache[cachedLabel]
	listeners []func(ids []string)
}

type cachedLabel struct {
	label  registry.Label
	events []registry.LabelEvent
}

// Changed names a label whose status changed, or that was issued (New).
type Changed struct {
	Label string
	New   bool
}

// labelsChanged is the one place that tells every cache derived from
// labels what changed: the label cache, the registry listings, the status
// lists and the pages (OnLabelsChanged). With no argument, anything may
// have changed (another instance's decisions, findings): all is forgotten.
func (s *Server) labelsChanged(cs ...Changed) {
	s.labels.changeMu.Lock()
	defer s.labels.changeMu.Unlock()
	var ids []string // nil: all
	issued := false
	for _, c := range cs {
		ids, issued = append(ids, c.Label), issued || c.New
	}
	var states []store.LabelState
	if len(cs) > 0 {
		// The current states, read after the change committed: changes
		// are applied one at a time, so the lists never go back to an
		// older state.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var err error
		states, err = s.store.LabelStates(ctx, ids)
		cancel()
		if err != nil {
			slog.Warn("re-reading changed labels failed; forgetting every derived cache", "err", err)
			cs, ids = nil, nil
		}
	}
	s.labels.mu.Lock()
	defer s.labels.mu.Unlock()
	s.labels.gen.Add(1)
	if len(cs) == 0 {
		s.labels.cache.Clear()
		s.listings.Clear()
		s.counts.Clear()
		s.statusLists.reset()
	} else {
		s.labels.cache.Delete(ids...)
		s.statusLists.apply(states)
		if issued {
			s.listings.Clear()
			s.counts.Clear()
		} else {
			changed := make(map[string]bool, len(ids))
			for _, id := range ids {
				changed[id] = true
			}
			s.listings.DeleteIf(func(_ string, e listing) bool {
				return e.status || e.shows(changed)
			})
			// A status change moves labels between status filters only.
			s.counts.DeleteIf(func(_ string, e listing) bool { return e.status })
		}
	}
	for _, f := range s.labels.listeners {
		f(ids)
	}
	s.announce("labels") // to the other instances, if any
}

// OnLabelsChanged has f told which labels changed (nil: any may have),
// before any reader can see the change; f must not call back into the
// server's caches. For caches of pages built from labels.
func (s *Server) OnLabelsChanged(f func(ids []string)) {
	s.labels.mu.Lock()
	s.labels.listeners = append(s.labels.listeners, f)
	s.labels.mu.Unlock()
}

// IfUnchanged runs keep unless a label changed since gen was read: a
// cache filled from reads begun at gen keeps nothing stale.
func (s *Server) IfUnchanged(gen uint64, keep func()) bool {
	s.labels.mu.RLock()
	defer s.labels.mu.RUnlock()
	if s.labels.gen.Load() != gen {
		return false
	}
	keep()
	return true
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
