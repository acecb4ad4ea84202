package repocheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every fuzz target in the tree is run by `make fuzz`, in its own package:
// a target the Makefile does not list is never fuzzed.
func TestMakeFuzzListsEveryTarget(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{} // "./internal/x FuzzY"
	for _, m := range regexp.MustCompile(`test (\./\S+) -run '\^\$\$' -fuzz '\^(Fuzz\w+)\$\$'`).FindAllStringSubmatch(string(mk), -1) {
		listed[m[1]+" "+m[2]] = true
	}
	target := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	found := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg := "./" + filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, root+string(filepath.Separator))))
		for _, m := range target.FindAllStringSubmatch(string(b), -1) {
			found++
			if !listed[pkg+" "+m[1]] {
				t.Errorf("%s in %s is not run by make fuzz: add it to the Makefile's fuzz target", m[1], pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("no fuzz target found: the walk is broken")
	}
}
