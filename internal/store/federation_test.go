package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// Mirrored labels, propagation samples and federation alarms behave the
// same on both engines: upserts, reopening, resolving, ordering.
func TestFederationRecords(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			st := openDB(t, d)
			t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			peer := "https://a.example"
			if err := st.SaveMirror(ctx, peer, []store.MirrorLabel{{LabelID: "L1", Status: "active", CredentialSHA: "aa", SeenAt: t0}},
				nil); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveMirror(ctx, peer, []store.MirrorLabel{{LabelID: "L1", Status: "suspended", CredentialSHA: "aa", SeenAt: t0.Add(time.Minute), DisagreesSince: t0}},
				[]store.Propagation{{LabelID: "L1", Status: "suspended", DecidedAt: t0.Add(50 * time.Second), SeenAt: t0.Add(time.Minute)}}); err != nil {
				t.Fatal(err)
			}
			ls, err := st.MirrorLabels(ctx, peer)
			if err != nil || len(ls) != 1 || ls["L1"].Status != "suspended" || !ls["L1"].DisagreesSince.Equal(t0) {
				t.Fatalf("mirror labels: %v %+v", err, ls)
			}
			if m, err := st.MirrorLabel(ctx, "L1"); err != nil || m.Peer != peer {
				t.Fatalf("mirror label: %v %+v", err, m)
			}
			if _, err := st.MirrorLabel(ctx, "nope"); err != store.ErrNotFound {
				t.Fatalf("missing mirror label: %v", err)
			}
			if err := st.SaveMirror(ctx, "https://b.example", []store.MirrorLabel{{LabelID: "B1", Status: "suspended", SeenAt: t0, GTIN: "04012345678901", ModelNumber: "M-1", Manufacturer: "Maker"},
				{LabelID: "B2", Status: "active", SeenAt: t0, ModelNumber: "M-1", Manufacturer: "Other maker"}}, nil); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ maker, model, gtin, purl, want string }{
				{"", "", "04012345678901", "", "B1"}, {"Maker", "M-1", "", "", "B1"}, {"Other maker", "M-1", "", "", "B2"}, {"", "", "", "", ""},
			} {
				got, err := st.LinkedMirrorLabels(ctx, c.maker, c.model, c.gtin, c.purl, 10)
				ids := ""
				for _, m := range got {
					ids += m.LabelID
				}
				if err != nil || ids != c.want {
					t.Errorf("linked %+v: %v %q", c, err, ids)
				}
			}
			ps, err := st.Propagations(ctx, 10)
			if err != nil || len(ps) != 1 || ps[0].SeenAt.Sub(ps[0].DecidedAt) != 10*time.Second {
				t.Fatalf("propagations: %v %+v", err, ps)
			}

			a := store.Alarm{Peer: peer, Kind: "registry-status", Subject: "L1", Summary: "s", Evidence: "{}"}
			if raised, err := st.RaiseAlarm(ctx, a, t0); err != nil || !raised {
				t.Fatalf("first raise: %v %v", raised, err)
			}
			if raised, err := st.RaiseAlarm(ctx, a, t0.Add(time.Minute)); err != nil || raised {
				t.Fatalf("raising an open alarm again reported new: %v %v", raised, err)
			}
			if err := st.ResolveAlarms(ctx, peer, "registry-status", nil, t0.Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			as, err := st.Alarms(ctx, 10)
			if err != nil || len(as) != 1 || as[0].ResolvedAt.IsZero() || !as[0].LastSeen.Equal(t0.Add(time.Minute)) {
				t.Fatalf("resolved alarm: %v %+v", err, as)
			}
			if raised, err := st.RaiseAlarm(ctx, a, t0.Add(3*time.Minute)); err != nil || !raised {
				t.Fatalf("reopening a resolved alarm: %v %v", raised, err)
			}
			as, _ = st.Alarms(ctx, 10)
			if len(as) != 1 || !as[0].ResolvedAt.IsZero() || !as[0].FirstSeen.Equal(t0) {
				t.Fatalf("reopened alarm: %+v", as)
			}
		})
	}
}

func TestFederationAgreementRecords(t *testing.T) {
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		a := store.FederationAgreement{ID: "x", Document: []byte(`{"id":"x"}`), Digest: "d1", RecordedAt: t0}
		if _, err := st.WriteFederationAgreement(ctx, a, registry.Decision{Kind: "agreement.recorded", Subject: "federation:x", Digest: "d1", StatusIndex: -1, At: t0}, 0); err != nil {
			t.Fatal(err)
		}
		if err := st.FlagFederationAgreement(ctx, "x", `[{"from":"a"}]`, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.FlagFederationAgreement(ctx, "x", `[{"from":"a"}]`, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		as, err := st.FederationAgreements(ctx)
		if err != nil || len(as) != 1 || as[0].Flag == "" || !as[0].FlaggedAt.Equal(t0.Add(time.Hour)) || !as[0].CheckedAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("flagged: %v %+v", err, as)
		}
		if err := st.FlagFederationAgreement(ctx, "x", "", t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		as, _ = st.FederationAgreements(ctx)
		if as[0].Flag != "" || !as[0].FlaggedAt.IsZero() {
			t.Fatalf("cleared: %+v", as[0])
		}
		ds, err := st.Decisions(ctx, "federation:x")
		if err != nil || len(ds) != 1 {
			t.Fatalf("decision: %v %+v", err, ds)
		}
	})
}
