package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The registry and the workflow on both engines: a manufacturer registers,
// applies, is assessed and labelled; stale transitions and failed issuance
// leave nothing behind.
func TestWorkflowStore(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		if _, _, err := s.PutScheme(ctx, &scheme.Scheme{ID: "x", Levels: []scheme.Level{{ID: "1"}}, Status: scheme.Active}, store.SchemeBuiltin, now); err != nil {
			t.Fatal(err)
		}
		authID, err := s.CreateOrganisation(ctx, registry.Organisation{Name: "Authority", Kind: registry.Authority, Schemes: []string{"x"}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if org, _ := s.Organisation(ctx, authID); len(org.Schemes) != 1 {
			t.Errorf("authority schemes %v", org.Schemes)
		}
		labID, _ := s.CreateOrganisation(ctx, registry.Organisation{Name: "Lab", Kind: registry.AssessorLab}, now)
		mfrID, userID, err := s.Register(ctx, registry.Organisation{Name: "Acme", Kind: registry.Manufacturer}, registry.User{Email: "a@acme.example", Name: "A", Role: "manufacturer"}, "hash", now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Register(ctx, registry.Organisation{Name: "Acme 2", Kind: registry.Manufacturer}, registry.User{Email: "a@acme.example", Name: "A", Role: "manufacturer"}, "hash", now); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate e-mail: %v", err)
		}
		if orgs, _ := s.Organisations(ctx, registry.Manufacturer); len(orgs) != 1 {
			t.Fatalf("a failed registration left an organisation: %d manufacturers", len(orgs))
		}
		pid, err := s.CreateProduct(ctx, registry.Product{ManufacturerID: mfrID, Name: "Cam", Category: "camera", ModelNumber: "C1"}, userID, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateProduct(ctx, registry.Product{ManufacturerID: mfrID, Name: "Cam again", Category: "camera", ModelNumber: "C1"}, userID, now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate model number: %v", err)
		}
		comps := []registry.Component{{Name: "zlib", Version: "1.2.11", PURL: "pkg:apk/alpine/zlib@1.2.11", Ecosystem: "apk"}}
		vid, err := s.CreateVersion(ctx, registry.Version{ProductID: pid, SoftwareVersion: "1.0", Facts: registry.Facts{SupportEnd: "2030-01-01"}}, &store.SBOM{Format: "cyclonedx-json 1.6", Components: comps}, userID, mfrID, now)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Version(ctx, vid)
		if err != nil || v.Components != 1 || v.Facts.SupportEnd != "2030-01-01" {
			t.Fatalf("version %+v %v", v, err)
		}
		// Unpublished products are hidden from others, shown to their maker.
		if _, n, _ := s.Products(ctx, store.ProductQuery{Limit: 10}); n != 0 {
			t.Errorf("public listing shows %d unpublished products", n)
		}
		if _, n, _ := s.Products(ctx, store.ProductQuery{OwnerOrg: mfrID, Limit: 10}); n != 1 {
			t.Errorf("maker sees %d of its products", n)
		}

		app, err := s.CreateApplication(ctx, vid, "x", 1, "1", userID, mfrID, now)
		if err != nil {
			t.Fatal(err)
		}
		step := func(from, to assess.State, st assess.Step, lab int64) error {
			return s.WriteAppChange(ctx, store.AppChange{AppID: app, From: from, To: to, Step: st, UserID: userID, OrgID: mfrID, Lab: lab, At: now})
		}
		if err := step(assess.Draft, assess.Submitted, assess.Submit, 0); err != nil {
			t.Fatal(err)
		}
		if err := step(assess.Draft, assess.Submitted, assess.Submit, 0); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a stale transition: %v, want conflict", err)
		}
		if err := s.RecordFinding(ctx, app, assess.Finding{Requirement: "HM-AUTH-1", Verdict: assess.Pass}, userID, labID, now); !errors.Is(err, assess.ErrIllegal) {
			t.Errorf("finding before assessment: %v", err)
		}
		if err := step(assess.Submitted, assess.InAssessment, assess.Assign, labID); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordFinding(ctx, app, assess.Finding{Requirement: "HM-AUTH-1", Verdict: assess.Fail, Rationale: "x", Evidence: []int64{3}}, userID, labID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordFinding(ctx, app, assess.Finding{Requirement: "HM-AUTH-1", Verdict: assess.Pass}, userID, labID, now); err != nil {
			t.Fatal(err)
		}
		fs, _ := s.Findings(ctx, app)
		if len(fs) != 1 || fs[0].Verdict != assess.Pass {
			t.Errorf("findings %+v: a re-recorded finding replaces the old one", fs)
		}
		if err := step(assess.InAssessment, assess.Assessed, assess.Complete, 0); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Application(ctx, app); a.AssessorOrgID != labID || a.State != assess.Assessed {
			t.Errorf("application %+v", a)
		}
		// A failing build (say, signing fails) stores nothing.
		approve := store.AppChange{AppID: app, From: assess.Assessed, To: assess.Approved, Step: assess.Approve, Note: "meets level 1", UserID: userID, OrgID: authID, At: now}
		if _, _, err := s.WriteIssue(ctx, approve, func(int) (registry.Label, registry.Decision, error) {
			return registry.Label{}, registry.Decision{}, errors.New("signer down")
		}); err == nil {
			t.Fatal("issue with a failing signer succeeded")
		}
		if a, _ := s.Application(ctx, app); a.State != assess.Assessed || a.LabelID != "" {
			t.Fatalf("a failed issuance changed the application: %+v", a)
		}
		l, did, err := s.WriteIssue(ctx, approve, func(idx int) (registry.Label, registry.Decision, error) {
			return registry.Label{ID: "L1", VersionID: vid, SchemeID: "x", SchemeVersion: 1, LevelID: "1", Status: assess.Active, Issued: now,
					ValidUntil: now.AddDate(2, 0, 0), Credential: "jws", CredentialHash: "h", KID: "k"},
				registry.Decision{Kind: "label.issued", Subject: "L1", Digest: "h", Status: "active", StatusIndex: idx, At: now}, nil
		})
		if err != nil || did == 0 || l.StatusIndex < 0 || l.StatusIndex >= store.StatusListSize {
			t.Fatalf("issue: %+v %v", l, err)
		}
		change := func(from, to assess.LabelStatus, a assess.LabelAction, reason string) error {
			_, skipped, err := s.WriteLabelChanges(ctx, []store.LabelChange{{LabelID: "L1", From: from, To: to, Action: a, Reason: reason, UserID: userID, OrgID: authID,
				Decision: registry.Decision{Kind: "label." + string(to), Subject: "L1", Status: string(to), StatusIndex: l.StatusIndex, At: now}}})
			if err != nil {
				return err
			}
			return skipped[0]
		}
		if err := change(assess.Active, assess.Suspended, assess.SuspendLabel, "exploited flaw"); err != nil {
			t.Fatal(err)
		}
		if err := change(assess.Active, assess.Revoked, assess.RevokeLabel, "stale"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("stale label change: %v", err)
		}
		if idx, _ := s.StatusIndexes(ctx, assess.Suspended); len(idx) != 1 || idx[0] != l.StatusIndex {
			t.Errorf("suspended indexes %v", idx)
		}
		if ev, _ := s.LabelEvents(ctx, "L1"); len(ev) != 2 || ev[1].Reason != "exploited flaw" {
			t.Errorf("label events %+v", ev)
		}
		if due, _ := s.DueForExpiry(ctx, now.AddDate(3, 0, 0)); len(due) != 1 {
			t.Errorf("%d labels due for expiry", len(due))
		}
		if ls, n, _ := s.Labels(ctx, store.LabelQuery{Text: "acme"}); n != 1 || ls[0].Manufacturer != "Acme" {
			t.Errorf("label search: %d", n)
		}
		if trail, _ := s.AuditTrail(ctx, store.AuditQuery{ObjectType: "label", ObjectID: "L1", Limit: 10}); len(trail) != 2 {
			t.Errorf("audit trail for the label has %d entries", len(trail))
		}
	})
}

// Every decision lands in the log outbox in the same transaction: a label
// change that fails writes no decision, and one that succeeds writes one.
func TestDecisionOutbox(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		sc := &scheme.Scheme{ID: "x", Levels: []scheme.Level{{ID: "1"}}, Status: scheme.Active}
		if _, _, err := s.PutScheme(ctx, sc, store.SchemeBuiltin, now); err != nil {
			t.Fatal(err)
		}
		pending, err := s.PendingDecisions(ctx, 10)
		if err != nil || len(pending) != 1 || pending[0].Kind != "scheme.published" || pending[0].Subject != "x@1" {
			t.Fatalf("after publishing a scheme: %+v %v", pending, err)
		}
		if err := s.MarkLogged(ctx, []store.Logged{{ID: pending[0].ID, Index: 0, Receipt: "receipt"}}); err != nil {
			t.Fatal(err)
		}
		_, skipped, err := s.WriteLabelChanges(ctx, []store.LabelChange{{LabelID: "nope", From: assess.Active, To: assess.Suspended, Action: assess.SuspendLabel, Reason: "r",
			Decision: registry.Decision{Kind: "label.suspended", Subject: "nope", At: now}}})
		if err != nil || !errors.Is(skipped[0], store.ErrConflict) {
			t.Fatalf("changing an unknown label: %v %v", err, skipped)
		}
		if p, _ := s.PendingDecisions(ctx, 10); len(p) != 0 {
			t.Fatalf("a failed decision left %d pending log entries", len(p))
		}
		ds, _ := s.Decisions(ctx, "x@1")
		if len(ds) != 1 || !ds[0].Logged || ds[0].Receipt != "receipt" {
			t.Errorf("decisions for x@1: %+v", ds)
		}
	})
}
