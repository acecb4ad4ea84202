package server_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// Issue 10, durability: an evidence file, then the directory entry naming
// it, are fsynced before the row naming the file is committed, so no row
// can outlive its file through a power loss.
func TestEvidenceSyncedBeforeItsRow(t *testing.T) {
	inst := servertest.Start(t, store.SQLite)
	s, ctx := inst.Server, context.Background()
	p, err := s.Register(ctx, "Durable Devices", "NL", "Dee", "dee@durable.example", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := s.CreateProduct(ctx, p, registry.Product{Name: "D Cam", Category: "camera", ModelNumber: "D1"})
	if err != nil {
		t.Fatal(err)
	}
	vid, err := s.CreateVersion(ctx, p, registry.Version{ProductID: pid, SoftwareVersion: "1.0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Apply(ctx, p, vid, "etsi-baseline")
	if err != nil {
		t.Fatal(err)
	}
	evidence := filepath.Join(s.Config().DataDir, "evidence")
	var synced []string
	server.SetSyncObserver(func(path string) {
		synced = append(synced, path)
		if list, err := inst.Store.EvidenceList(ctx, app); err != nil || len(list) != 0 {
			t.Errorf("at the fsync of %s the evidence row is already committed (%v)", path, err)
		}
	})
	defer server.SetSyncObserver(nil)
	if _, err := s.AddEvidence(ctx, p, app, "report.txt", "text/plain", strings.NewReader("the lab's report")); err != nil {
		t.Fatal(err)
	}
	list, _ := inst.Store.EvidenceList(ctx, app)
	if len(list) != 1 {
		t.Fatalf("%d evidence rows", len(list))
	}
	file := filepath.Join(evidence, list[0].SHA256[:2], list[0].SHA256)
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	// The file's contents (written as a temporary file, then renamed),
	// then the directory holding the new name.
	i := slices.IndexFunc(synced, func(p string) bool { return strings.HasPrefix(filepath.Base(p), "upload-") })
	j := slices.IndexFunc(synced, func(p string) bool { return p == filepath.Dir(file) })
	if i < 0 || j < 0 || i > j || j != len(synced)-1 {
		t.Errorf("fsyncs %q: want the file's, then its directory's last", synced)
	}
}

// An upload is read whole up to its limit, whatever size it announced,
// and refused past it.
func TestReadLimited(t *testing.T) {
	body := strings.Repeat("x", 3<<20+5)
	for _, tc := range []struct {
		name            string
		limit, declared int64
		ok              bool
	}{
		{"size known", 4 << 20, int64(len(body)), true},
		{"size unknown", 4 << 20, 0, true},
		{"announced smaller than sent", 4 << 20, 100, true},
		{"over the limit, size unknown", 3 << 20, 0, false},
		{"over the limit, announced smaller", 3 << 20, 100, false},
	} {
		b, err := server.ReadLimited(strings.NewReader(body), tc.limit, tc.declared)
		if tc.ok && (err != nil || string(b) != body) {
			t.Errorf("%s: %d bytes, %v", tc.name, len(b), err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: accepted %d bytes over a limit of %d", tc.name, len(b), tc.limit)
		}
	}
}
