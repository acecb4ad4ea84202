package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Copy copies the regular file src to dst (created; it must not exist)
// with the given permissions, fsynced, and describes it as the backup
// file rel. When want is not nil the copy must match it, or it is removed
// and the error says so (a restore from a damaged backup stops there).
func Copy(src, dst, rel string, perm fs.FileMode, want *File) (File, error) {
	in, err := os.Open(src)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return File{}, err
	}
	if !fi.Mode().IsRegular() {
		return File{}, fmt.Errorf("%s is not a regular file; a backup holds files only", src)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return File{}, err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	f := File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Mode: uint32(perm.Perm())}
	if err == nil && want != nil && (f.Size != want.Size || f.SHA256 != want.SHA256) {
		err = fmt.Errorf("%s does not match the manifest (%d bytes, sha256 %s…; the manifest says %d bytes, %s…): the backup is damaged",
			rel, f.Size, f.SHA256[:12], want.Size, want.SHA256[:12])
	}
	if err != nil {
		os.Remove(dst)
		return File{}, err
	}
	return f, nil
}

// CopyTree copies every file under src into dst (relative paths kept),
// describing each as rel + its path, except those skip names (slash
// paths relative to src). Symbolic links and other special files are
// refused rather than followed.
func CopyTree(src, dst, rel string, skip func(p string) bool) ([]File, error) {
	var out []File
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		r = filepath.ToSlash(r)
		if r != "." && skip != nil && skip(r) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file (a link?); a backup holds files only", p)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		f, err := Copy(p, filepath.Join(dst, filepath.FromSlash(r)), rel+r, fi.Mode().Perm(), nil)
		if err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// Describe hashes the files under dir (written there by someone else, such
// as a log snapshot) as backup files rel + their path.
func Describe(dir, rel string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		r, _ := filepath.Rel(dir, p)
		f, err := describe1(p, rel+filepath.ToSlash(r))
		out = append(out, f)
		return err
	})
	return out, err
}

func describe1(path, rel string) (File, error) {
	in, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(h, in)
	return File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Mode: uint32(fi.Mode().Perm())}, err
}

// WriteManifest writes m into the backup dir, last and durably: every
// directory of the backup is fsynced first, so a manifest never describes
// files a crash could lose.
func WriteManifest(dir string, m Manifest) error {
	m.Format = FormatV1
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	if err := m.validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := syncDirs(dir); err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, ManifestFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	return err
}

// ReadManifest reads and checks the manifest of the backup in dir.
func ReadManifest(dir string) (Manifest, error) {
	f, err := os.Open(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%s has no %s: it is not a hallmark backup, or the backup did not finish", dir, ManifestFile)
	}
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxManifestBytes+1))
	if err != nil {
		return Manifest{}, err
	}
	return ParseManifest(b)
}

// Verify checks every file the manifest lists against its size and
// SHA-256, and reports each one missing or different.
func Verify(dir string, m Manifest) []string {
	var problems []string
	for _, want := range m.Files {
		got, err := describe1(filepath.Join(dir, filepath.FromSlash(want.Path)), want.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, want.Path+" is missing")
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s cannot be read: %v", want.Path, err))
		case got.Size != want.Size || got.SHA256 != want.SHA256:
			problems = append(problems, fmt.Sprintf("%s is not the file backed up (%d bytes, want %d; the SHA-256 differs)", want.Path, got.Size, want.Size))
		}
	}
	return problems
}

// Extract copies the backup's data/ files into the data directory dst,
// each checked against the manifest as it is copied.
func Extract(dir string, m Manifest, dst string) error {
	for _, f := range m.Files {
		rel, ok := strings.CutPrefix(f.Path, DataPrefix)
		if !ok {
			continue
		}
		if _, err := Copy(filepath.Join(dir, filepath.FromSlash(f.Path)), filepath.Join(dst, filepath.FromSlash(rel)), f.Path, fs.FileMode(f.Mode), &f); err != nil {
			return err
		}
	}
	return syncDirs(dst)
}

// syncDirs fsyncs dir and every directory under it, so the names of the
// files written there are durable too.
func syncDirs(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(p)
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
