// Command vulndb turns a directory of Go vulnerability OSV records (as in
// golang/vulndb's data/osv) into the database layout govulncheck reads with
// -db file:///..., so `make vuln` works without reaching vuln.go.dev.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

type osv struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Events []struct {
				Fixed string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

type modVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: vulndb OSV_DIR OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	files, err := filepath.Glob(filepath.Join(in, "GO-*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no GO-*.json records in %s", in)
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o755); err != nil {
		return err
	}
	os.MkdirAll(filepath.Join(out, "index"), 0o755)
	mods := map[string][]modVuln{}
	var vulns []map[string]any
	var latest time.Time
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var v osv
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", v.ID+".json"), b, 0o644); err != nil {
			return err
		}
		if v.Modified.After(latest) {
			latest = v.Modified
		}
		vulns = append(vulns, map[string]any{"id": v.ID, "modified": v.Modified, "aliases": v.Aliases})
		for _, a := range v.Affected {
			fixed := ""
			for _, r := range a.Ranges {
				for _, e := range r.Events {
					if e.Fixed != "" {
						fixed = e.Fixed
					}
				}
			}
			mods[a.Package.Name] = append(mods[a.Package.Name], modVuln{ID: v.ID, Modified: v.Modified, Fixed: fixed})
		}
	}
	var modules []map[string]any
	for _, p := range sortedKeys(mods) {
		modules = append(modules, map[string]any{"path": p, "vulns": mods[p]})
	}
	for name, v := range map[string]any{
		"db.json":      map[string]any{"modified": latest},
		"modules.json": modules,
		"vulns.json":   vulns,
	} {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(out, "index", name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
