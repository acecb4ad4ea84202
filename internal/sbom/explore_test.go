package sbom

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestExplore(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/corpus/sbom/*/*")
	more, _ := filepath.Glob("../../../shared/corpus/sbom/*/*/*")
	files = append(files, more...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		start := time.Now()
		d, err := Parse(b)
		el := time.Since(start)
		if err != nil {
			t.Logf("%s: ERR %v", f, err)
			continue
		}
		t.Logf("%s: %s %s name=%q created=%v n=%d warnings=%d %v %v", f, d.Format, d.SpecVersion, d.Name, d.Created, len(d.Components), len(d.Warnings), el, first(d.Warnings, 3))
	}
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
