package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/feed"
	"github.com/hallmark-iot/hallmark/internal/feed/feedtest"
)

// 'hallmark ingest csaf URL' polls the provider, ingests what verifies,
// keeps the state in --data/feeds, and asks for nothing new the second
// time; a refused document fails the run and is named.
func TestIngestFromProvider(t *testing.T) {
	p := feedtest.Serve(t, feedtest.ROLIETree)
	feedOptions = feed.Options{HTTPClient: p.Client()}
	t.Cleanup(func() { feedOptions = feed.Options{} })
	dir := t.TempDir()

	code, out, errs := hallmark(t, "", "ingest", "--data", dir, "csaf", p.MetadataURL())
	if code != 0 || !strings.Contains(out, "1 fetched, 0 unchanged, 1 ingested, 0 refused") || !strings.Contains(out, "Advisories   ") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errs)
	}
	states, _ := filepath.Glob(filepath.Join(dir, "feeds", "*.json"))
	if len(states) != 1 {
		t.Fatalf("state files: %v", states)
	}
	if fi, err := os.Stat(states[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "feeds")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode: %v %v", fi.Mode(), err)
	}

	code, out, errs = hallmark(t, "", "ingest", "--data", dir, "csaf", p.MetadataURL())
	if code != 0 || !strings.Contains(out, "1 read, 1 unchanged") || !strings.Contains(out, "0 fetched") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
	if n := p.Hits("white/" + feedtest.Corpus); n != 1 {
		t.Errorf("the document was fetched %d times", n)
	}

	const name = "avendor-advisory-0200.json"
	p.Publish(t, name, p.Document("Avendor-advisory-0200"), p.Key.PrimaryKey.CreationTime.AddDate(1, 0, 0), p.Key)
	p.Set("white/"+name, bytes.Replace(p.File("white/"+name), []byte("ACME"), []byte("ACMF"), 1))
	code, out, errs = hallmark(t, "", "ingest", "--data", dir, "csaf", p.MetadataURL())
	if code != 1 || !strings.Contains(errs, "refused: "+p.URL+"/white/"+name) || !strings.Contains(errs, "digest differs") {
		t.Errorf("tampered: exit %d\n%s%s", code, out, errs)
	}

	if code, _, errs := hallmark(t, "", "ingest", "--data", dir, "--provider", "osv", "provider.example"); code != 2 || !strings.Contains(errs, "only csaf") {
		t.Errorf("osv from a provider: exit %d, %s", code, errs)
	}
}
