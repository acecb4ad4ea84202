package backup

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// A backup is a directory:
//
//	manifest.json       this format: what the backup holds, each file's size and SHA-256
//	database/...        the database: hallmark.db (SQLite, VACUUM INTO) or hallmark.pgdump (pg_dump -Fc)
//	data/...            the data directory: keys, logkeys, evidence, ... and log/, the log as one checkpoint describes it
//
// The manifest is written last: a backup without one is incomplete.
const (
	ManifestFile = "manifest.json"
	FormatV1     = "hallmark-backup/v1"
	DataPrefix   = "data/"
	DBPrefix     = "database/"

	// MaxManifestBytes bounds the manifest read (about a million files).
	MaxManifestBytes = 256 << 20
	maxPathLen       = 1024
)

// Database kinds.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Manifest describes a backup.
type Manifest struct {
	Format   string    `json:"format"`
	Created  time.Time `json:"created"`
	Version  string    `json:"hallmark_version"`
	Database Database  `json:"database"`
	Log      LogState  `json:"log"`
	Files    []File    `json:"files"`
}

// Database names the database copy.
type Database struct {
	Kind string `json:"kind"` // SQLite or Postgres
	File string `json:"file"` // its path in the backup, one of Files
}

// LogState is the checkpoint the log copy ends at: Size 0 and no origin
// when the instance had no log yet. A restore makes every decision the
// database has a receipt for at Size or beyond pending again.
type LogState struct {
	Origin string `json:"origin,omitempty"`
	Size   uint64 `json:"size"`
	Root   string `json:"root,omitempty"` // hex
}

// File is one file of the backup.
type File struct {
	Path   string `json:"path"` // slash-separated, under data/ or database/
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   uint32 `json:"mode"` // permission bits
}

// ParseManifest reads a manifest strictly: unknown fields, paths outside
// the backup, duplicates and malformed hashes are refused, so a restore
// never writes where the manifest should not send it.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if len(b) > MaxManifestBytes {
		return m, fmt.Errorf("the manifest is larger than %d MiB", MaxManifestBytes>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("the manifest does not parse: %w", err)
	}
	if dec.More() {
		return Manifest{}, errors.New("the manifest has data after its JSON object")
	}
	if err := m.validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

func (m Manifest) validate() error {
	fail := func(format string, a ...any) error { return fmt.Errorf("the manifest: "+format, a...) }
	if m.Format != FormatV1 {
		return fail("format %q is not %q (made by another hallmark?)", clip(m.Format), FormatV1)
	}
	switch m.Database.Kind {
	case SQLite, Postgres:
	default:
		return fail("database kind %q is neither %s nor %s", clip(m.Database.Kind), SQLite, Postgres)
	}
	if m.Log.Size > 0 && (m.Log.Origin == "" || !isHex(m.Log.Root, 64)) {
		return fail("a log of %d entries needs its origin and a 64-digit hex root", m.Log.Size)
	}
	if len(m.Log.Origin) > maxPathLen || strings.ContainsAny(m.Log.Origin, "\n\r\x00") {
		return fail("the log origin is not one line")
	}
	seen := make(map[string]bool, len(m.Files))
	dbListed := false
	for i, f := range m.Files {
		if err := checkPath(f.Path); err != nil {
			return fail("files[%d]: %v", i, err)
		}
		if seen[f.Path] {
			return fail("files[%d]: %s is listed twice", i, f.Path)
		}
		seen[f.Path] = true
		if !isHex(f.SHA256, 64) {
			return fail("files[%d] (%s): sha256 must be 64 lowercase hex digits", i, f.Path)
		}
		if f.Size < 0 {
			return fail("files[%d] (%s): negative size", i, f.Path)
		}
		if f.Mode&^0o777 != 0 {
			return fail("files[%d] (%s): mode %o has bits beyond the permissions", i, f.Path, f.Mode)
		}
		dbListed = dbListed || f.Path == m.Database.File
	}
	if !strings.HasPrefix(m.Database.File, DBPrefix) || !dbListed {
		return fail("the database file %q is not one of the backup's database/ files", clip(m.Database.File))
	}
	return nil
}

// checkPath admits a relative, clean, slash-separated path under data/ or
// database/: nothing a restore could write outside its target.
func checkPath(p string) error {
	switch {
	case len(p) > maxPathLen:
		return fmt.Errorf("path longer than %d bytes", maxPathLen)
	case !fs.ValidPath(p) || p == "." || strings.Contains(p, "\\"):
		return fmt.Errorf("%q is not a clean relative path", clip(p))
	case !strings.HasPrefix(p, DataPrefix) && !strings.HasPrefix(p, DBPrefix):
		return fmt.Errorf("%q is outside data/ and database/", clip(p))
	case p == DataPrefix+"hallmark.lock":
		return fmt.Errorf("%q is a lock, never backed up", p)
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("%q holds a control character", clip(p))
		}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
