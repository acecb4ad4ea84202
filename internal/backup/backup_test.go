package backup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

func entryOf(d registry.Decision) tlog.Entry {
	return tlog.Entry{Version: 1, Kind: d.Kind, Authority: "hallmark.example/log", Subject: d.Subject, Digest: d.Digest, Status: d.Status,
		StatusIndex: d.StatusIndex, Reason: d.ReasonHash, At: d.At.UTC().Truncate(time.Second), Ref: itoa(d.ID)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func decision(id int64, kind, subject, status string) registry.Decision {
	return registry.Decision{ID: id, Kind: kind, Subject: subject, Digest: strings.Repeat("ab", 32), Status: status, StatusIndex: int(id),
		ReasonHash: tlog.ReasonHash("because"), At: time.Date(2026, 3, 1, 12, 0, 0, int(id)*1000, time.UTC), Logged: true, LogIndex: id - 1}
}

// The log holds decisions 1-5 (entries 0-4). A database with receipts up to
// entry 2 and decision 4 pending is fine; one without 4 and 5 is behind,
// and the message names them; one whose decision 5 is another decision has
// reused an id; one with a receipt past the log's end has an older log.
func TestCompare(t *testing.T) {
	var logged []registry.Decision
	for id := int64(1); id <= 5; id++ {
		logged = append(logged, decision(id, tlog.KindLabelIssued, "HM-"+itoa(id), "active"))
	}
	logged[4] = decision(5, tlog.KindLabelRevoked, "HM-1", "revoked")
	var entries []tlog.Entry
	for _, d := range logged {
		entries = append(entries, entryOf(d))
	}
	db := func(ds ...registry.Decision) map[int64]registry.Decision {
		m := map[int64]registry.Decision{}
		for _, d := range ds {
			m[d.ID] = d
		}
		return m
	}
	last := logged[2] // receipt for entry 2
	pending := logged[3]
	pending.Logged, pending.LogIndex = false, -1

	if g := Compare(5, 2, entries[2:], 0, last, true, db(logged[2], pending, logged[4])); !g.OK() {
		t.Fatalf("a database holding everything: %s", g.Error())
	}
	if g := Compare(5, 0, entries, 0, registry.Decision{}, false, db(logged...)); !g.OK() {
		t.Fatalf("no receipts yet, everything pending: %s", g.Error())
	}

	g := Compare(5, 2, entries[2:], 0, last, true, db(logged[2]))
	if g.OK() || g.Missing != 2 {
		t.Fatalf("missing 4 and 5: %+v", g)
	}
	for _, want := range []string{"the database is behind the transparency log", "the log holds 2 decision(s) the database does not",
		"entry 4: label.revoked HM-1 at 2026-03-01T12:00:00Z (decision 5)", "New decisions are refused", "still served"} {
		if !strings.Contains(g.Error(), want) {
			t.Errorf("message %q does not say %q", g.Error(), want)
		}
	}

	reused := decision(5, tlog.KindLabelIssued, "HM-9", "active") // what an old database decides next
	g = Compare(5, 2, entries[2:], 0, last, true, db(logged[2], logged[3], reused))
	if g.OK() || g.Conflicts != 1 || !strings.Contains(g.Error(), "decision 5 in the database is label.issued HM-9") {
		t.Fatalf("a reused id: %+v %s", g, g.Error())
	}

	ahead := logged[4]
	ahead.LogIndex = 7
	g = Compare(5, 0, nil, 0, ahead, true, db())
	if g.OK() || !g.LogBehind || !strings.Contains(g.Error(), "the transparency log is behind the database") {
		t.Fatalf("receipt past the log: %+v", g)
	}

	other := decision(3, tlog.KindLabelIssued, "HM-other", "active") // a receipt for entry 2 that is not entry 2
	g = Compare(5, 2, entries[2:], 0, other, true, db(other, logged[3], logged[4]))
	if g.OK() || g.Foreign == "" || !strings.Contains(g.Error(), "different histories") {
		t.Fatalf("another history: %+v", g)
	}

	if g := Compare(200005, 2, entries[2:], 200000, last, true, db(logged[2:]...)); g.OK() || !strings.Contains(g.Error(), "200000 decision(s)") {
		t.Fatalf("a tail too long to read: %s", g.Error())
	}
}

func TestManifestRefusals(t *testing.T) {
	good := Manifest{Format: FormatV1, Database: Database{Kind: SQLite, File: "database/hallmark.db"},
		Files: []File{{Path: "database/hallmark.db", SHA256: strings.Repeat("0", 64), Mode: 0o600}}}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Manifest){
		"format": func(m *Manifest) { m.Format = "other/v9" },
		"kind":   func(m *Manifest) { m.Database.Kind = "mysql" },
		"escape": func(m *Manifest) {
			m.Files = append(m.Files, File{Path: "data/../../etc/passwd", SHA256: strings.Repeat("0", 64)})
		},
		"absolute": func(m *Manifest) {
			m.Files = append(m.Files, File{Path: "/etc/passwd", SHA256: strings.Repeat("0", 64)})
		},
		"outside":     func(m *Manifest) { m.Files = append(m.Files, File{Path: "other/x", SHA256: strings.Repeat("0", 64)}) },
		"backslash":   func(m *Manifest) { m.Files = append(m.Files, File{Path: `data/..\x`, SHA256: strings.Repeat("0", 64)}) },
		"twice":       func(m *Manifest) { m.Files = append(m.Files, m.Files[0]) },
		"hash":        func(m *Manifest) { m.Files[0].SHA256 = "zz" },
		"mode":        func(m *Manifest) { m.Files[0].Mode = 0o4755 },
		"no database": func(m *Manifest) { m.Database.File = "database/other.db" },
		"log root":    func(m *Manifest) { m.Log = LogState{Size: 3, Origin: "x/log"} },
		"lock": func(m *Manifest) {
			m.Files = append(m.Files, File{Path: "data/hallmark.lock", SHA256: strings.Repeat("0", 64)})
		},
	} {
		m := good
		m.Files = append([]File(nil), good.Files...)
		edit(&m)
		if err := m.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseManifest([]byte(`{"format":"hallmark-backup/v1","extra":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
}

// A backup's files are checked when restored: a damaged one stops the
// restore, naming the file, and leaves no half-copied file behind.
func TestExtractRefusesDamage(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "keys"), 0o700)
	os.WriteFile(filepath.Join(src, "keys", "k.json"), []byte("secret"), 0o600)
	os.WriteFile(filepath.Join(src, "hallmark.lock"), []byte("pid 1"), 0o600)
	bdir := t.TempDir()
	files, err := CopyTree(src, filepath.Join(bdir, "data"), DataPrefix, func(p string) bool { return p == "hallmark.lock" })
	if err != nil || len(files) != 1 || files[0].Path != "data/keys/k.json" || files[0].Mode != 0o600 {
		t.Fatalf("CopyTree: %+v %v", files, err)
	}
	os.MkdirAll(filepath.Join(bdir, "database"), 0o700)
	os.WriteFile(filepath.Join(bdir, "database", "hallmark.db"), []byte("db"), 0o600)
	dbf, _ := Describe(filepath.Join(bdir, "database"), DBPrefix)
	m := Manifest{Database: Database{Kind: SQLite, File: "database/hallmark.db"}, Files: append(files, dbf...)}
	if err := WriteManifest(bdir, m); err != nil {
		t.Fatal(err)
	}
	m, err = ReadManifest(bdir)
	if err != nil {
		t.Fatal(err)
	}
	if p := Verify(bdir, m); len(p) != 0 {
		t.Fatalf("fresh backup: %q", p)
	}
	dst := t.TempDir()
	if err := Extract(bdir, m, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "keys", "k.json")); string(b) != "secret" {
		t.Fatalf("extracted %q", b)
	}
	os.WriteFile(filepath.Join(bdir, "data", "keys", "k.json"), []byte("Secret"), 0o600)
	if p := Verify(bdir, m); len(p) != 1 || !strings.Contains(p[0], "data/keys/k.json is not the file backed up") {
		t.Fatalf("damaged backup: %q", p)
	}
	dst2 := t.TempDir()
	err = Extract(bdir, m, dst2)
	if err == nil || !strings.Contains(err.Error(), "data/keys/k.json does not match the manifest") {
		t.Fatalf("extract of a damaged file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst2, "keys", "k.json")); err == nil {
		t.Fatal("the damaged file was left in the target")
	}
	if _, err := ReadManifest(t.TempDir()); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("no manifest: %v", err)
	}
}
