package watch

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/hallmark-iot/hallmark/internal/advisory"
)

// Identity is a package as matching knows it.
type Identity struct {
	// Key is type, namespace and name with the case rules of the purl
	// type: "golang/github.com/BurntSushi/toml", "pypi/zope-interface",
	// "maven/org.apache.logging.log4j/log4j-core", "deb/debian/openssl".
	// Two packages are the same package exactly when their keys are equal.
	Key string
	// Ecosystem is the OSV ecosystem, with the distribution release when
	// the purl names one: "Go", "PyPI", "Debian:12", "Alpine:v3.19". It
	// selects the version order, and for distributions the release an
	// advisory must be for.
	Ecosystem string
}

// purlToOSV maps purl types to OSV ecosystems. Distribution types (deb,
// rpm, apk) take their ecosystem from the namespace and distro qualifier
// instead; see distroEcosystem.
var purlToOSV = map[string]string{
	"golang":   "Go",
	"pypi":     "PyPI",
	"npm":      "npm",
	"maven":    "Maven",
	"nuget":    "NuGet",
	"cargo":    "crates.io",
	"gem":      "RubyGems",
	"composer": "Packagist",
	"hex":      "Hex",
	"pub":      "Pub",
	"cran":     "CRAN",
	"hackage":  "Hackage",
	"swift":    "SwiftURL",
}

var osvToPURL = func() map[string]string {
	m := make(map[string]string, len(purlToOSV))
	for k, v := range purlToOSV {
		m[v] = k
	}
	return m
}()

// distros maps a distribution's purl namespace to its OSV ecosystem and
// purl type, and says how the release is written in OSV.
var distros = map[string]struct {
	typ, eco string
	vPrefix  bool // Alpine releases are "v3.19" in OSV, "3.19" in purls
}{
	"debian":     {"deb", "Debian", false},
	"ubuntu":     {"deb", "Ubuntu", false},
	"alpine":     {"apk", "Alpine", true},
	"redhat":     {"rpm", "Red Hat", false},
	"rocky":      {"rpm", "Rocky Linux", false},
	"almalinux":  {"rpm", "AlmaLinux", false},
	"opensuse":   {"rpm", "openSUSE", false},
	"suse":       {"rpm", "SUSE", false},
	"mageia":     {"rpm", "Mageia", false},
	"openeuler":  {"rpm", "openEuler", false},
	"wolfi":      {"apk", "Wolfi", false},
	"chainguard": {"apk", "Chainguard", false},
}

// distroByEco is distros keyed by OSV ecosystem.
var distroByEco = func() map[string]string {
	m := make(map[string]string, len(distros))
	for ns, d := range distros {
		m[d.eco] = ns
	}
	return m
}()

// PURLIdentity returns the identity of a purl (a version and qualifiers
// other than distro are ignored). The OSV ecosystem is empty for purl
// types OSV has no ecosystem for; the key is still usable for matching
// purl against purl.
func PURLIdentity(purl string) (Identity, error) {
	p, err := parsePURL(purl)
	if err != nil {
		return Identity{}, fmt.Errorf("purl %q: %w", purl, err)
	}
	return identityOf(p), nil
}

func identityOf(p packageurl.PackageURL) Identity {
	typ := strings.ToLower(p.Type)
	ns, name := p.Namespace, p.Name
	id := Identity{Ecosystem: purlToOSV[typ]}
	switch typ {
	case "golang":
		// Module paths are case-sensitive (the module proxy escapes
		// capitals for that reason); lower-casing them is how osv-scanner
		// v2.4.0 misses github.com/BurntSushi/toml-style modules.
	case "pypi":
		ns, name = "", pep503(name)
	case "npm", "nuget", "cargo", "composer", "hex", "pub", "github", "bitbucket":
		ns, name = strings.ToLower(ns), strings.ToLower(name)
	case "deb", "apk", "rpm":
		ns = strings.ToLower(ns)
		if typ != "rpm" {
			name = strings.ToLower(name)
		}
		id.Ecosystem = distroEcosystem(ns, p.Qualifiers.Map()["distro"])
	}
	id.Key = typ + "/" + name
	if ns != "" {
		id.Key = typ + "/" + ns + "/" + name
	}
	return id
}

var releaseRe = regexp.MustCompile(`[0-9]+(\.[0-9]+)*`)

// distroEcosystem turns a distribution namespace and distro qualifier into
// an OSV ecosystem: ("debian", "debian-12") → "Debian:12", ("alpine",
// "alpine-3.19") → "Alpine:v3.19". A codename ("bookworm") or a missing
// qualifier leaves the release off: the caller then cannot tell releases
// apart, and findings say so.
func distroEcosystem(ns, distro string) string {
	d, ok := distros[ns]
	if !ok {
		return ""
	}
	rel := releaseRe.FindString(distro)
	if rel == "" {
		return d.eco
	}
	if d.eco == "Alpine" {
		// OSV uses major.minor for Alpine: 3.19.1 → v3.19.
		if parts := strings.SplitN(rel, ".", 3); len(parts) >= 2 {
			rel = parts[0] + "." + parts[1]
		}
	}
	if d.vPrefix {
		rel = "v" + rel
	}
	return d.eco + ":" + rel
}

// PackageIdentity returns the identity of an OSV package. Its purl is used
// when present (OSV gives it without a version); otherwise the identity is
// built from ecosystem and name. ok is false for an ecosystem with no purl
// type, which matching can then not look up by identity.
func PackageIdentity(pkg advisory.Package) (Identity, bool) {
	if pkg.PURL != "" {
		if p, err := parsePURL(pkg.PURL); err == nil {
			id := identityOf(p)
			if pkg.Ecosystem != "" {
				id.Ecosystem = pkg.Ecosystem // the advisory's release is the authority
			}
			return id, true
		}
	}
	base := baseEcosystem(pkg.Ecosystem)
	var p packageurl.PackageURL
	if typ, ok := osvToPURL[base]; ok {
		p.Type, p.Name = typ, pkg.Name
		switch typ {
		case "maven":
			p.Namespace, p.Name, _ = cutLast(pkg.Name, ":")
		case "golang", "npm", "composer", "swift":
			p.Namespace, p.Name, _ = cutLast(pkg.Name, "/")
		}
	} else if ns, ok := distroByEco[base]; ok {
		p.Type, p.Namespace, p.Name = distros[ns].typ, ns, pkg.Name
	} else {
		return Identity{}, false
	}
	if p.Name == "" {
		return Identity{}, false
	}
	id := identityOf(p)
	id.Ecosystem = pkg.Ecosystem
	return id, true
}

// cutLast splits s at the last sep: "a/b/c" → "a/b", "c".
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// pep503 normalises a Python distribution name as PEP 503 does:
// lower case, and every run of "-", "_" and "." becomes one "-".
func pep503(name string) string {
	return pep503Re.ReplaceAllString(strings.ToLower(name), "-")
}

var pep503Re = regexp.MustCompile(`[-_.]+`)

// sameRelease says whether a component of ecosystem comp may be matched by
// an advisory for ecosystem adv. The base ecosystems must agree; when both
// name a release, so must the releases. known is false when the component
// names no release but the advisory does: it may or may not apply.
func sameRelease(comp, adv string) (ok, known bool) {
	cb, cr, _ := strings.Cut(comp, ":")
	ab, ar, _ := strings.Cut(adv, ":")
	if cb != ab {
		return false, true
	}
	if ar == "" || cr == ar {
		return true, true
	}
	if cr == "" {
		return true, false
	}
	return false, true
}

// parsePURL is packageurl.FromString, except that a golang purl keeps its
// module path as written. packageurl-go lower-cases golang namespaces and
// names (an old reading of the purl spec), which merges distinct modules
// and makes github.com/BurntSushi/toml miss its advisories.
func parsePURL(s string) (packageurl.PackageURL, error) {
	p, err := packageurl.FromString(s)
	if err != nil || p.Type != packageurl.TypeGolang {
		return p, err
	}
	path := s[len("pkg:"):]
	path = strings.TrimLeft(path, "/")
	_, path, _ = strings.Cut(path, "/") // the type
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if i := strings.LastIndexByte(path, '@'); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, sg := range segs {
		if segs[i], err = url.PathUnescape(sg); err != nil {
			return p, nil // packageurl-go accepted it; keep its reading
		}
	}
	raw := strings.Join(segs, "/")
	if !strings.EqualFold(raw, strings.TrimPrefix(p.Namespace+"/"+p.Name, "/")) {
		return p, nil // not the path packageurl-go read: keep its reading
	}
	p.Namespace, p.Name, _ = cutLast(raw, "/")
	return p, nil
}
