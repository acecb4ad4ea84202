package advisory

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseOSVCorpusGo(t *testing.T) {
	dir := corpus(t, "osv/go")
	n, withdrawn, upstream := 0, 0, 0
	err := ReadDir(os.DirFS(dir), ".", func(path string, d *Document) error {
		n++
		if d.Format != FormatOSV || len(d.Advisories) != 1 || d.ID+".json" != path {
			t.Errorf("%s: got format %s, id %s, %d advisories", path, d.Format, d.ID, len(d.Advisories))
		}
		a := d.Advisories[0]
		if !a.Withdrawn.IsZero() {
			withdrawn++
		}
		if len(a.Upstream) > 0 {
			upstream++
		}
		for _, af := range a.Affected {
			if af.Package.Ecosystem != "Go" || af.Package.Name == "" {
				t.Errorf("%s: affected package %+v", path, af.Package)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4000 {
		t.Fatalf("read %d Go records, want the whole corpus (4,291)", n)
	}
	t.Logf("%d Go OSV records read, %d withdrawn, %d with upstream", n, withdrawn, upstream)
}

func TestParseOSVCorpusPyPIYAML(t *testing.T) {
	dir := corpus(t, "osv/pypi-yaml")
	n, scored := 0, 0
	err := ReadDir(os.DirFS(dir), ".", func(path string, d *Document) error {
		n++
		a := d.Advisories[0]
		if !strings.HasSuffix(path, "/"+d.ID+".yaml") {
			t.Errorf("%s: id %s", path, d.ID)
		}
		if a.CVSSVector != "" {
			scored++
			if a.CVSS <= 0 || a.Severity == SeverityUnknown {
				t.Errorf("%s: vector %s gave %v %q", path, a.CVSSVector, a.CVSS, a.Severity)
			}
		}
		if d.Revision == "" {
			t.Errorf("%s: no modified time", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 2600 {
		t.Fatalf("read %d PyPI records, want the whole corpus (2,662)", n)
	}
	t.Logf("%d PyPI YAML records read, %d with a CVSS vector", n, scored)
}

func TestParseOSVFields(t *testing.T) {
	b, err := os.ReadFile("testdata/PYSEC-2020-342.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseOSV(b)
	if err != nil {
		t.Fatal(err)
	}
	a := d.Advisories[0]
	if a.ID != "PYSEC-2020-342" || a.Aliases[0] != "CVE-2020-13921" || a.CVSS != 9.8 || a.Severity != SeverityCritical {
		t.Errorf("got %s %v %v %q", a.ID, a.Aliases, a.CVSS, a.Severity)
	}
	af := a.Affected[0]
	if af.Package != (Package{Ecosystem: "PyPI", Name: "apache-skywalking", PURL: "pkg:pypi/apache-skywalking"}) || len(af.Versions) != 10 || af.Ranges[0].Events[0].Introduced != "0" {
		t.Errorf("affected %+v", af)
	}
	if d.Revision != "2023-11-07T20:24:23.946863Z" || d.SHA256 == "" {
		t.Errorf("revision %q sha %q", d.Revision, d.SHA256)
	}
}

func TestParseOSVRefused(t *testing.T) {
	for name, in := range map[string]struct{ doc, want string }{
		"no id":        {`{"modified":"2024-01-01T00:00:00Z"}`, "id: missing"},
		"bad time":     {`{"id":"X-1","modified":"yesterday"}`, "X-1: modified:"},
		"range type":   {`{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"a"},"ranges":[{"type":"X","events":[{"introduced":"0"}]}]}]}`, "X-1: affected[0].ranges[0].type: unknown range type"},
		"git no repo":  {`{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"GIT","events":[{"introduced":"0"}]}]}]}`, "affected[0].ranges[0].repo"},
		"two in event": {`{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`, "affected[0].ranges[0].events[0]"},
		"bad vector":   {`{"id":"X-1","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:Q"}]}`, "X-1: severity[0].score: invalid CVSS vector"},
		"type error":   {`{"id":"X-1","modified":"2024-01-01T00:00:00Z","aliases":"CVE-1"}`, "X-1: aliases: string where []string"},
		"syntax":       {"{\"id\":\"X-1\",\n\"modified\" 1}", "line 2, column 12: malformed JSON"},
		"yaml":         {"id: X-1\nmodified: [", "malformed OSV YAML"},
		"deep":         {strings.Repeat(`{"a":`, 200), "nested deeper than 100"},
	} {
		_, err := ParseOSV([]byte(in.doc))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), in.want) {
			t.Errorf("%s: got %v, want an ErrInvalid containing %q", name, err, in.want)
		}
	}
	big := bytes.Repeat([]byte(" "), MaxRecordSize+1)
	if _, err := ParseOSV(big); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized record: %v", err)
	}
}

func TestParseOSVGitAndUpstream(t *testing.T) {
	d, err := ParseOSV([]byte(`{"schema_version":"1.6.0","id":"DEBIAN-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
	"upstream":["CVE-2024-1"],"severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
	"affected":[{"ranges":[{"type":"GIT","repo":"https://example.com/r.git","events":[{"introduced":"abc"},{"fixed":"def"}]}],"database_specific":{"x":1}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a := d.Advisories[0]
	if a.Withdrawn.IsZero() || a.Upstream[0] != "CVE-2024-1" || a.CVSS != 9.3 || a.Severity != SeverityCritical {
		t.Errorf("got %+v", a)
	}
	if r := a.Affected[0].Ranges[0]; r.Type != RangeGit || r.Repo == "" || r.Events[1].Fixed != "def" || len(a.Affected[0].Fixed) != 0 {
		t.Errorf("git range %+v fixed %v", r, a.Affected[0].Fixed)
	}
}

func zipOf(t testing.TB, files map[string][]byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, b := range files {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(b)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadOSVZip(t *testing.T) {
	rec, err := os.ReadFile("testdata/GO-2022-1002.json")
	if err != nil {
		t.Fatal(err)
	}
	z := zipOf(t, map[string][]byte{"GO-2022-1002.json": rec, "README": []byte("skipped")})
	var ids []string
	if err := ReadOSVZip(bytes.NewReader(z), int64(len(z)), func(d *Document) error {
		ids = append(ids, d.ID)
		return nil
	}); err != nil || len(ids) != 1 || ids[0] != "GO-2022-1002" {
		t.Fatalf("got %v, %v", ids, err)
	}

	// A zip bomb: one small entry that inflates past the record limit.
	bomb := zipOf(t, map[string][]byte{"bomb.json": bytes.Repeat([]byte(" "), MaxRecordSize+10)})
	err = ReadOSVZip(bytes.NewReader(bomb), int64(len(bomb)), func(*Document) error { return nil })
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "bomb.json") {
		t.Errorf("zip bomb: %v", err)
	}
	bad := zipOf(t, map[string][]byte{"X.json": []byte(`{"id":"X"}`)})
	err = ReadOSVZip(bytes.NewReader(bad), int64(len(bad)), func(*Document) error { return nil })
	if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "X.json: X: modified") {
		t.Errorf("bad entry: %v", err)
	}
	if err := ReadOSVZip(bytes.NewReader([]byte("nope")), 4, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("not a zip: %v", err)
	}
}

func TestReadDirNamesFile(t *testing.T) {
	fsys := fstest.MapFS{
		"a/ok.json":  {Data: []byte(`{"id":"A-1","modified":"2024-01-01T00:00:00Z"}`)},
		"a/bad.yaml": {Data: []byte("id: B-1\n")},
		"a/x.asc":    {Data: []byte("ignored")},
	}
	err := ReadDir(fsys, "a", func(string, *Document) error { return nil })
	if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "B-1: modified") && !strings.Contains(err.Error(), "a/bad.yaml") {
		t.Errorf("got %v", err)
	}
}
