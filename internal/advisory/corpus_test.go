package advisory

import (
	"os"
	"path/filepath"
	"testing"
)

// corpus returns the path of a folder of the shared test corpus, which
// lives beside the repository (../shared/corpus from its root). Without
// it the test skips, except in CI, where a missing corpus is a failure.
func corpus(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus", sub)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus folder %s is missing (CI=true): %v", dir, err)
		}
		t.Skipf("corpus folder %s is absent: skipping (it fails instead when CI=true)", dir)
	}
	return dir
}
