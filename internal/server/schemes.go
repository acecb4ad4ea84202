package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// schemeState is what the server serves about schemes, replaced as a whole.
type schemeState struct {
	set        scheme.Set
	sources    map[string]string // scheme id -> builtin | authority
	versions   map[string]int    // scheme id -> current stored version
	agreements []scheme.Agreement
}

// syncBuiltinSchemes stores the schemes and agreements shipped in the
// binary; a changed scheme becomes a new version, an unchanged one nothing.
func (s *Server) syncBuiltinSchemes(ctx context.Context) error {
	schemes, agreements, err := scheme.LoadDir(data.FS, "schemes", s.Catalog())
	if err != nil {
		return fmt.Errorf("the built-in schemes are invalid: %w", err)
	}
	for _, sc := range schemes {
		v, created, err := s.store.PutScheme(ctx, sc, store.SchemeBuiltin, time.Now())
		if err != nil {
			return fmt.Errorf("store scheme %s: %w", sc.ID, err)
		}
		if created {
			slog.Info("scheme version stored", "scheme", sc.ID, "version", v)
		}
	}
	return s.store.SyncAgreements(ctx, agreements)
}

// reloadSchemes reads the current version of every scheme. A stored scheme
// that no longer validates against the catalogue (say a requirement it
// named was withdrawn) is left out of service and logged, rather than
// stopping the server.
func (s *Server) reloadSchemes(ctx context.Context) error {
	vs, err := s.store.CurrentSchemes(ctx)
	if err != nil {
		return err
	}
	st := &schemeState{set: scheme.Set{}, sources: map[string]string{}, versions: map[string]int{}}
	for _, v := range vs {
		if err := v.Scheme.Validate(s.Catalog()); err != nil {
			slog.Error("scheme no longer valid against the catalogue; not served", "scheme", v.SchemeID, "version", v.Version, "err", err)
			continue
		}
		st.set[v.SchemeID] = v.Scheme
		st.sources[v.SchemeID] = v.Source
		st.versions[v.SchemeID] = v.Version
	}
	if st.agreements, err = s.store.Agreements(ctx); err != nil {
		return err
	}
	s.schemes.Store(st)
	s.announce("schemes")
	return nil
}

// Schemes returns the schemes being served.
func (s *Server) Schemes() scheme.Set { return s.schemes.Load().set }

// RecordKinds maps each served scheme to the kind of record it keeps. A
// scheme's kind never changes between its versions (PutScheme refuses it),
// so the current version answers for every record issued under it.
func (s *Server) RecordKinds() map[string]scheme.Kind {
	set := s.Schemes()
	out := make(map[string]scheme.Kind, len(set))
	for id, sc := range set {
		out[id] = sc.Kind
	}
	return out
}

// RecordKind is the kind of record a scheme keeps; a label when the scheme
// is not served.
func (s *Server) RecordKind(schemeID string) scheme.Kind {
	if sc, ok := s.Schemes()[schemeID]; ok {
		return sc.Kind
	}
	return scheme.KindLabel
}

// Agreements returns the recorded mutual-recognition agreements.
func (s *Server) Agreements() []scheme.Agreement { return s.schemes.Load().agreements }

// SchemeInfo says where a scheme comes from and its current stored version.
func (s *Server) SchemeInfo(id string) (source string, version int) {
	st := s.schemes.Load()
	return st.sources[id], st.versions[id]
}

// SchemeHistory lists a scheme's stored versions, newest first.
func (s *Server) SchemeHistory(ctx context.Context, id string) ([]store.SchemeVersion, error) {
	return s.store.SchemeHistory(ctx, id)
}

// PutScheme stores an authority's scheme (already validated) as a new
// version and serves it at once. An authority changes only the schemes it
// runs, and runs the ones it creates; the operator (the system principal,
// behind the admin token) may write any authority scheme.
func (s *Server) PutScheme(ctx context.Context, p Principal, sc *scheme.Scheme) (int, bool, error) {
	if err := s.CheckSchemeWrite(p, sc.ID); err != nil {
		return 0, false, err
	}
	if err := s.DecisionsHeld(); err != nil { // a published version is a decision
		return 0, false, err
	}
	if err := checkFields(input.Field{Name: "id", Value: sc.ID, Kind: input.Line}, input.Field{Name: "version", Value: sc.Version, Kind: input.Line},
		input.Field{Name: "status", Value: string(sc.Status), Kind: input.Line}); err != nil {
		return 0, false, err
	}
	// A label cannot turn into a conformity record or back: the records
	// already issued under the scheme keep the kind they were issued as.
	if old, ok := s.Schemes()[sc.ID]; ok && old.Kind != sc.Kind {
		return 0, false, fmt.Errorf("%w: %s keeps %ss; a new version cannot make it keep %ss (create a new scheme instead)", ErrInvalid, sc.ID, old.Kind.Record(), sc.Kind.Record())
	}
	var owner int64
	if !p.IsSystem() {
		owner = p.OrgID
	}
	v, created, err := s.store.PutOwnedScheme(ctx, sc, store.SchemeAuthority, owner, time.Now())
	if err != nil {
		return 0, false, err
	}
	if created {
		s.notifyLog()
	}
	if err := s.reloadSchemes(ctx); err != nil {
		return v, created, err
	}
	if created { // a new version may weaken an agreement resting on it
		if err := s.RecheckAgreements(ctx); err != nil {
			logWarn("rechecking agreements", err)
		}
	}
	return v, created, nil
}

// CheckSchemeWrite says whether the principal may write scheme id, before
// the request's document is acted on.
func (s *Server) CheckSchemeWrite(p Principal, id string) error {
	o := auth.Object{}
	if _, exists := s.Schemes()[id]; exists {
		o.Schemes = []string{id}
	}
	return allow(p, auth.ActionSchemeWrite, o)
}
