package watch

import (
	"fmt"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// baseEcosystem is the OSV ecosystem without its release suffix:
// "Debian:12" → "Debian", "Alpine:v3.19" → "Alpine". That is the name
// semantic.Parse knows; the release matters for identity, not for order.
func baseEcosystem(eco string) string {
	base, _, _ := strings.Cut(eco, ":")
	return base
}

// normalizeVersion removes the forms an SBOM writes that OSV does not: Go
// module versions carry a leading "v" in SBOMs and go.mod while OSV SEMVER
// events do not ("v1.2.3" and "1.2.3" are the same version).
func normalizeVersion(eco, v string) string {
	v = strings.TrimSpace(v)
	if baseEcosystem(eco) == "Go" {
		v = strings.TrimPrefix(v, "v")
	}
	return v
}

// parseVersion parses v for the OSV ecosystem eco.
func parseVersion(eco, v string) (semantic.Version, error) {
	pv, err := semantic.Parse(normalizeVersion(eco, v), baseEcosystem(eco))
	if err != nil {
		return nil, fmt.Errorf("version %q in ecosystem %q: %w", v, eco, err)
	}
	return pv, nil
}

// CompareVersions orders a and b the way osv-scanner does for the OSV
// ecosystem eco (a release suffix such as "Debian:12" is allowed): -1 if
// a < b, 0 if equal, +1 if a > b. It fails for an ecosystem the semantic
// package does not know and for a version its ecosystem refuses.
func CompareVersions(eco, a, b string) (int, error) {
	va, err := parseVersion(eco, a)
	if err != nil {
		return 0, err
	}
	c, err := va.CompareStr(normalizeVersion(eco, b))
	if err != nil {
		return 0, fmt.Errorf("version %q in ecosystem %q: %w", b, eco, err)
	}
	return c, nil
}
