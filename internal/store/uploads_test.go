package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/store"
)

func manyComponents(n int, tag string) []registry.Component {
	out := make([]registry.Component, n)
	for i := range out {
		out[i] = registry.Component{Name: fmt.Sprintf("%s-%d", tag, i), Version: "1.0", PURL: fmt.Sprintf("pkg:generic/%s-%d@1.0", tag, i), Ecosystem: "generic"}
	}
	return out
}

// uploadFixture makes a manufacturer with one product.
func uploadFixture(t *testing.T, s *store.Store) (org, user, product int64) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	org, user, err := s.Register(ctx, registry.Organisation{Name: "Acme", Kind: registry.Manufacturer}, registry.User{Email: "a@acme.example", Name: "A", Role: "manufacturer"}, "hash", now)
	if err != nil {
		t.Fatal(err)
	}
	product, err = s.CreateProduct(ctx, registry.Product{ManufacturerID: org, Name: "Cam", Category: "camera", ModelNumber: "C1"}, user, now)
	if err != nil {
		t.Fatal(err)
	}
	return org, user, product
}

// Issue 10, item 2: a large SBOM is written in chunks, each its own
// transaction, so other writes go on meanwhile; readers see the old SBOM,
// whole, until the new one is, and the old one's rows are then deleted.
func TestSBOMStoredInChunks(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, user, pid := uploadFixture(t, s)
		now := time.Now().UTC()
		first := manyComponents(2500, "old")
		vid, err := s.CreateVersion(ctx, registry.Version{ProductID: pid, SoftwareVersion: "1.0"}, &store.SBOM{Format: "f", Digest: "d1", Components: first}, user, org, now)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Version(ctx, vid); v.Components != 2500 || v.SBOMDigest != "d1" {
			t.Fatalf("created: %d components, digest %q", v.Components, v.SBOMDigest)
		}
		got, err := s.Components(ctx, vid, 5000, 0)
		if err != nil || len(got) != 2500 || got[0] != first[0] || got[2499] != first[2499] {
			t.Fatalf("components %d %v", len(got), err)
		}

		// Replace it, pausing after every chunk: another write must go
		// through at once, and readers must see the old SBOM whole.
		chunks := 0
		s.SetChunkHook(func(done, total int) {
			chunks++
			start := time.Now()
			if _, err := s.CreateProduct(ctx, registry.Product{ManufacturerID: org, Name: "Other", Category: "camera", ModelNumber: fmt.Sprint("M", done)}, user, now); err != nil {
				t.Errorf("a write during the upload: %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("a write during the upload (%d of %d written) took %v", done, total, d)
			}
			v, _ := s.Version(ctx, vid)
			cs, _ := s.Components(ctx, vid, 5000, 0)
			if v.Components != 2500 || len(cs) != 2500 || cs[0].Name != "old-0" || v.SBOMDigest != "d1" {
				t.Errorf("mid-upload (%d of %d), readers see %d components (%d listed), digest %q", done, total, v.Components, len(cs), v.SBOMDigest)
			}
		})
		second := manyComponents(3100, "new")
		if err := s.ReplaceSBOM(ctx, vid, store.SBOM{Format: "f", Digest: "d2", Bytes: 1234, Components: second}, user, org, now); err != nil {
			t.Fatal(err)
		}
		s.SetChunkHook(nil)
		if chunks != 7 {
			t.Errorf("%d chunks for 3,100 components, want 7", chunks)
		}
		v, _ := s.Version(ctx, vid)
		got, _ = s.Components(ctx, vid, 5000, 0)
		if v.Components != 3100 || v.SBOMDigest != "d2" || len(got) != 3100 || got[0].Name != "new-0" || got[3099].Name != "new-3099" {
			t.Fatalf("after: %d components (%d listed), digest %q", v.Components, len(got), v.SBOMDigest)
		}
		// The old rows are gone; the quota counts what is stored.
		u, err := s.UploadUsage(ctx, org, now.Add(-time.Hour))
		if err != nil || u.StoredComponents != 3100 || u.Uploads != 2 || u.Bytes != 1234 {
			t.Errorf("usage %+v %v", u, err)
		}
		if n, err := s.PurgeUploads(ctx, now); err != nil || n != 0 {
			t.Errorf("a sweep after the replacement found %d uploads to purge (%v); the replacement should have", n, err)
		}
	})
}

// An upload that fails mid-way leaves the version as it was and no rows
// behind; a version whose SBOM could not be stored is not created.
func TestSBOMUploadFailsWhole(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, user, pid := uploadFixture(t, s)
		now := time.Now().UTC()
		vid, err := s.CreateVersion(ctx, registry.Version{ProductID: pid, SoftwareVersion: "1.0"}, &store.SBOM{Format: "f", Digest: "d1", Components: manyComponents(10, "old")}, user, org, now)
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s.SetChunkHook(func(done, total int) {
			if done >= 2000 {
				cancel() // the client went away mid-upload
			}
		})
		defer s.SetChunkHook(nil)
		if err := s.ReplaceSBOM(cctx, vid, store.SBOM{Format: "f", Digest: "d2", Components: manyComponents(5000, "new")}, user, org, now); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled mid-way: %v", err)
		}
		if v, _ := s.Version(ctx, vid); v.Components != 10 || v.SBOMDigest != "d1" {
			t.Errorf("after a failed upload: %d components, digest %q", v.Components, v.SBOMDigest)
		}
		if u, _ := s.UploadUsage(ctx, org, now.Add(-time.Hour)); u.StoredComponents != 10 {
			t.Errorf("%d components counted as stored after a failed upload", u.StoredComponents)
		}
		// A new version whose large SBOM fails is not created either.
		cctx, cancel = context.WithCancel(ctx)
		defer cancel()
		if _, err := s.CreateVersion(cctx, registry.Version{ProductID: pid, SoftwareVersion: "2.0"}, &store.SBOM{Format: "f", Digest: "d3", Components: manyComponents(5000, "v2")}, user, org, now); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled mid-way: %v", err)
		}
		if vs, _ := s.Versions(ctx, pid); len(vs) != 1 {
			t.Errorf("%d versions after a failed creation, want 1", len(vs))
		}
		// The same version again, whole: accepted.
		s.SetChunkHook(nil)
		if _, err := s.CreateVersion(ctx, registry.Version{ProductID: pid, SoftwareVersion: "2.0"}, &store.SBOM{Format: "f", Digest: "d3", Components: manyComponents(5000, "v2")}, user, org, now); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.UploadUsage(ctx, org, now.Add(-time.Hour)); u.StoredComponents != 5010 {
			t.Errorf("%d components counted as stored", u.StoredComponents)
		}
	})
}

// A crash mid-upload leaves staged rows no version names; the sweep at
// start-up deletes them once they are an hour old, not before.
func TestAbandonedUploadPurged(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, user, pid := uploadFixture(t, s)
		now := time.Now().UTC()
		vid, err := s.CreateVersion(ctx, registry.Version{ProductID: pid, SoftwareVersion: "1.0"}, nil, user, org, now)
		if err != nil {
			t.Fatal(err)
		}
		// Simulate the crash: stop the upload from inside the hook, with
		// a panic the purge on failure never sees.
		s.SetChunkHook(func(done, total int) { panic("crash") })
		func() {
			defer func() { recover() }()
			s.ReplaceSBOM(ctx, vid, store.SBOM{Format: "f", Digest: "d", Components: manyComponents(2500, "x")}, user, org, now)
		}()
		s.SetChunkHook(nil)
		if u, _ := s.UploadUsage(ctx, org, now.Add(-time.Hour)); u.StoredComponents != 2500 {
			t.Fatalf("staged: %d", u.StoredComponents)
		}
		if n, _ := s.PurgeUploads(ctx, now.Add(30*time.Minute)); n != 0 {
			t.Errorf("an upload staging for 30 minutes was purged")
		}
		if n, err := s.PurgeUploads(ctx, now.Add(2*time.Hour)); n != 1 || err != nil {
			t.Errorf("sweep: %d purged, %v", n, err)
		}
		if u, _ := s.UploadUsage(ctx, org, now.Add(-time.Hour)); u.StoredComponents != 0 {
			t.Errorf("after the sweep: %d components", u.StoredComponents)
		}
		if v, _ := s.Version(ctx, vid); v.Components != 0 || v.SBOMDigest != "" {
			t.Errorf("the version gained an SBOM: %+v", v)
		}
	})
}

// Four large uploads at once all succeed, and other writes meanwhile are
// neither refused nor kept waiting for long. On SQLite this needs the
// write gate: a writer polling for the lock every 100 ms between the
// uploads' back-to-back chunks was starved until the busy timeout.
func TestConcurrentUploadsAndWrites(t *testing.T) {
	eachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org, user, pid := uploadFixture(t, s)
		errs := make(chan error, 4)
		for i := range 4 {
			go func() {
				_, err := s.CreateVersion(ctx, registry.Version{ProductID: pid, SoftwareVersion: fmt.Sprint("v", i)},
					&store.SBOM{Format: "f", Components: manyComponents(10_000, fmt.Sprint("u", i))}, user, org, time.Now().UTC())
				errs <- err
			}()
		}
		var worst time.Duration
		writes := 0
		for finished := 0; finished < 4; {
			select {
			case err := <-errs:
				if err != nil {
					t.Errorf("an upload of four at once: %v", err)
				}
				finished++
				continue
			case <-time.After(50 * time.Millisecond):
			}
			t0 := time.Now()
			_, err := s.CreateProduct(ctx, registry.Product{ManufacturerID: org, Name: "P", Category: "camera", ModelNumber: fmt.Sprint("w", writes)}, user, time.Now().UTC())
			worst = max(worst, time.Since(t0))
			writes++
			if err != nil {
				t.Errorf("a write during the uploads: %v", err)
			}
		}
		t.Logf("%d writes during four uploads of 10,000 components; the slowest took %v", writes, worst.Round(time.Millisecond))
		if worst > 3*time.Second {
			t.Errorf("a write during the uploads took %v", worst)
		}
		if u, _ := s.UploadUsage(ctx, org, time.Now().Add(-time.Hour)); u.StoredComponents != 40_000 {
			t.Errorf("%d components stored", u.StoredComponents)
		}
	})
}
