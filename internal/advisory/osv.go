package advisory

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// osvRecord is the part of the OSV schema (1.x) the model keeps.
// database_specific and ecosystem_specific are left out on purpose: they
// are free-form per database, and matching must not depend on them.
type osvRecord struct {
	SchemaVersion string         `json:"schema_version" yaml:"schema_version"`
	ID            string         `json:"id" yaml:"id"`
	Modified      string         `json:"modified" yaml:"modified"`
	Published     string         `json:"published" yaml:"published"`
	Withdrawn     string         `json:"withdrawn" yaml:"withdrawn"`
	Aliases       []string       `json:"aliases" yaml:"aliases"`
	Upstream      []string       `json:"upstream" yaml:"upstream"`
	Summary       string         `json:"summary" yaml:"summary"`
	Details       string         `json:"details" yaml:"details"`
	Severity      []osvSeverity  `json:"severity" yaml:"severity"`
	Affected      []osvAffected  `json:"affected" yaml:"affected"`
	References    []osvReference `json:"references" yaml:"references"`
}

type osvSeverity struct {
	Type  string `json:"type" yaml:"type"`
	Score string `json:"score" yaml:"score"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem" yaml:"ecosystem"`
		Name      string `json:"name" yaml:"name"`
		PURL      string `json:"purl" yaml:"purl"`
	} `json:"package" yaml:"package"`
	Severity []osvSeverity `json:"severity" yaml:"severity"`
	Ranges   []struct {
		Type   string `json:"type" yaml:"type"`
		Repo   string `json:"repo" yaml:"repo"`
		Events []struct {
			Introduced   string `json:"introduced" yaml:"introduced"`
			Fixed        string `json:"fixed" yaml:"fixed"`
			LastAffected string `json:"last_affected" yaml:"last_affected"`
			Limit        string `json:"limit" yaml:"limit"`
		} `json:"events" yaml:"events"`
	} `json:"ranges" yaml:"ranges"`
	Versions []string `json:"versions" yaml:"versions"`
}

type osvReference struct {
	Type string `json:"type" yaml:"type"`
	URL  string `json:"url" yaml:"url"`
}

// ParseOSV reads one OSV record, JSON or YAML (told apart by the first
// byte: a JSON record is an object). Its Document has one Advisory;
// Revision is the record's modified time.
func ParseOSV(b []byte) (*Document, error) {
	if err := checkSize(b, MaxRecordSize, "OSV record"); err != nil {
		return nil, err
	}
	var rec osvRecord
	if isJSON(b) {
		if err := checkJSON(b); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, named(jsonError(b, err), osvName(b))
		}
	} else {
		if err := yaml.Unmarshal(b, &rec); err != nil {
			return nil, &Error{Doc: osvName(b), Msg: "malformed OSV YAML", Err: err}
		}
	}
	return osvDocument(&rec, b)
}

func isJSON(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// osvName finds an id in a record that did not decode, so that its error
// still names it; it gives "" when it cannot.
func osvName(b []byte) string {
	var head struct {
		ID string `json:"id" yaml:"id"`
	}
	if isJSON(b) {
		_ = json.Unmarshal(b, &head)
	} else {
		_ = yaml.Unmarshal(b, &head)
	}
	return clip(head.ID)
}

func osvDocument(rec *osvRecord, b []byte) (*Document, error) {
	id := rec.ID
	fail := func(path, format string, args ...any) error {
		return errorf(clip(id), path, format, args...)
	}
	if id == "" {
		return nil, fail("id", "missing")
	}
	modified, err := osvTime(rec.Modified)
	if err != nil || rec.Modified == "" {
		return nil, fail("modified", "missing or not an RFC 3339 time: %q", clip(rec.Modified))
	}
	published, err := osvTime(rec.Published)
	if err != nil {
		return nil, fail("published", "not an RFC 3339 time: %q", clip(rec.Published))
	}
	withdrawn, err := osvTime(rec.Withdrawn)
	if err != nil {
		return nil, fail("withdrawn", "not an RFC 3339 time: %q", clip(rec.Withdrawn))
	}
	adv := Advisory{
		ID:        id,
		Aliases:   nonEmpty(rec.Aliases),
		Upstream:  nonEmpty(rec.Upstream),
		Summary:   rec.Summary,
		Details:   rec.Details,
		Published: published,
		Modified:  modified,
		Withdrawn: withdrawn,
	}
	for i, s := range rec.Severity {
		if err := adv.addSeverity(s, fmt.Sprintf("severity[%d]", i)); err != nil {
			return nil, named(err, clip(id))
		}
	}
	for i, r := range rec.References {
		if r.URL != "" {
			adv.References = append(adv.References, r.URL)
		} else {
			return nil, fail(fmt.Sprintf("references[%d].url", i), "missing")
		}
	}
	if len(rec.Affected) > maxStatements {
		return nil, fail("affected", "%d entries, over the limit of %d", len(rec.Affected), maxStatements)
	}
	for i, a := range rec.Affected {
		at := fmt.Sprintf("affected[%d]", i)
		if a.Package.Name == "" && a.Package.PURL == "" && len(a.Ranges) == 0 {
			return nil, fail(at, "names no package and no ranges")
		}
		if a.Package.Name != "" && a.Package.Ecosystem == "" {
			return nil, fail(at+".package.ecosystem", "missing for package %q", clip(a.Package.Name))
		}
		for j, s := range a.Severity {
			if err := adv.addSeverity(s, fmt.Sprintf("%s.severity[%d]", at, j)); err != nil {
				return nil, named(err, clip(id))
			}
		}
		aff := Affected{
			Package:  Package{Ecosystem: a.Package.Ecosystem, Name: a.Package.Name, PURL: a.Package.PURL},
			Versions: nonEmpty(a.Versions),
		}
		for j, r := range a.Ranges {
			rat := fmt.Sprintf("%s.ranges[%d]", at, j)
			rt := RangeType(r.Type)
			switch rt {
			case RangeSemver, RangeEcosystem:
			case RangeGit:
				if r.Repo == "" {
					return nil, fail(rat+".repo", "missing for a GIT range")
				}
			default:
				return nil, fail(rat+".type", "unknown range type %q", clip(r.Type))
			}
			if len(r.Events) == 0 {
				return nil, fail(rat+".events", "empty")
			}
			rng := Range{Type: rt, Repo: r.Repo, Events: make([]Event, 0, len(r.Events))}
			for k, e := range r.Events {
				set := 0
				for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
					if v != "" {
						set++
					}
				}
				if set != 1 {
					return nil, fail(fmt.Sprintf("%s.events[%d]", rat, k), "an event must set exactly one of introduced, fixed, last_affected, limit")
				}
				rng.Events = append(rng.Events, Event{Introduced: e.Introduced, Fixed: e.Fixed, LastAffected: e.LastAffected, Limit: e.Limit})
				if e.Fixed != "" && rt != RangeGit {
					aff.Fixed = append(aff.Fixed, e.Fixed)
				}
			}
			aff.Ranges = append(aff.Ranges, rng)
		}
		adv.Affected = append(adv.Affected, aff)
	}
	return &Document{
		Format:     FormatOSV,
		ID:         id,
		Revision:   rec.Modified,
		Published:  published,
		Modified:   modified,
		SHA256:     sum256(b),
		Advisories: []Advisory{adv},
	}, nil
}

// addSeverity keeps the highest CVSS score of the record; other severity
// types (Ubuntu's words) are kept only as a band when nothing better is
// known.
func (a *Advisory) addSeverity(s osvSeverity, path string) error {
	switch s.Type {
	case "CVSS_V2", "CVSS_V3", "CVSS_V4":
		score, err := cvssScore(s.Score)
		if err != nil {
			return &Error{Path: path + ".score", Msg: "invalid CVSS vector", Err: err}
		}
		if score > a.CVSS || a.CVSSVector == "" {
			a.CVSS, a.CVSSVector = score, s.Score
			a.Severity = SeverityFromScore(score)
		}
	case "Ubuntu":
		if a.CVSSVector == "" && a.Severity == SeverityUnknown {
			a.Severity = parseSeverity(s.Score)
		}
	}
	return nil
}

// osvTime reads an OSV timestamp. The Go database writes the zero time
// 0001-01-01T00:00:00Z for "not known"; it reads as the zero time.Time.
func osvTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Zip limits: osv.dev's per-ecosystem all.zip for npm holds a few hundred
// thousand records; no record is near MaxRecordSize.
const (
	maxZipEntries = 1_000_000
	maxZipTotal   = 4 << 30 // uncompressed bytes read from one archive
)

// ReadOSVZip reads an OSV archive such as osv.dev's per-ecosystem
// all.zip, calling fn for each record in archive order. It stops at the
// first record that does not parse, or the first error fn returns.
// Entries that are not .json or .yaml files are skipped. The archive is
// refused when it has too many entries, when an entry inflates beyond
// MaxRecordSize, or when the whole inflates beyond 4 GiB: the sizes
// declared in the archive are not trusted, the bytes read are counted.
func ReadOSVZip(r io.ReaderAt, size int64, fn func(*Document) error) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return &Error{Msg: "not a zip archive", Err: err}
	}
	if len(zr.File) > maxZipEntries {
		return errorf("", "", "zip archive of %d entries, over the limit of %d", len(zr.File), maxZipEntries)
	}
	var total int64
	buf := new(bytes.Buffer)
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !recordFile(f.Name) {
			continue
		}
		if f.UncompressedSize64 > MaxRecordSize {
			return errorf(f.Name, "", "entry of %d bytes, over the limit of %d", f.UncompressedSize64, MaxRecordSize)
		}
		rc, err := f.Open()
		if err != nil {
			return &Error{Doc: f.Name, Msg: "unreadable zip entry", Err: err}
		}
		buf.Reset()
		n, err := io.Copy(buf, io.LimitReader(rc, MaxRecordSize+1))
		rc.Close()
		total += n
		switch {
		case err != nil:
			return &Error{Doc: f.Name, Msg: "unreadable zip entry", Err: err}
		case n > MaxRecordSize:
			return errorf(f.Name, "", "entry inflates beyond the limit of %d bytes", MaxRecordSize)
		case total > maxZipTotal:
			return errorf(f.Name, "", "archive inflates beyond the limit of %d bytes", int64(maxZipTotal))
		}
		doc, err := ParseOSV(buf.Bytes())
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	return nil
}

// recordFile reports whether a file name is one of the formats read.
func recordFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".json", ".yaml", ".yml":
		return true
	}
	return false
}

// ReadDir walks dir in fsys (in lexical order, as fs.WalkDir does) and
// reads every .json, .yaml and .yml file with Parse, calling fn with the
// file's path and its document. It stops at the first file that does not
// parse, naming it, or the first error fn returns. Other files (.asc,
// .sha512, README.md, ...) are skipped, as are files over MaxDocumentSize,
// which are refused without being read.
func ReadDir(fsys fs.FS, dir string, fn func(path string, doc *Document) error) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !recordFile(p) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > MaxDocumentSize {
			return errorf(p, "", "file of %d bytes, over the limit of %d", info.Size(), MaxDocumentSize)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		doc, err := Parse(b)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Doc == "" {
				return named(err, p)
			}
			return fmt.Errorf("%s: %w", p, err)
		}
		return fn(p, doc)
	})
}
