package watch

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/advisory"
)

// OSVScannerJSON renders findings in the shape of osv-scanner's JSON
// output (results → packages → package{name, version, ecosystem},
// vulnerabilities[{id, aliases}]), for `hallmark scan --format json`, so
// tools written for osv-scanner read ours. Only affected purl findings
// are reported, as osv-scanner reports only what it matched; source is
// the SBOM's path; advs are the advisories matched, for their aliases.
func OSVScannerJSON(source string, findings []Finding, advs []advisory.Advisory) ([]byte, error) {
	aliasesOf := make(map[string][]string, len(advs))
	for _, a := range advs {
		aliasesOf[a.ID] = a.Aliases
	}
	type vuln struct {
		ID      string   `json:"id"`
		Aliases []string `json:"aliases"`
	}
	type pkg struct {
		Package struct {
			Name      string `json:"name"`
			Version   string `json:"version"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Vulnerabilities []vuln `json:"vulnerabilities"`
	}
	type result struct {
		Source struct {
			Path string `json:"path"`
			Type string `json:"type"`
		} `json:"source"`
		Packages []pkg `json:"packages"`
	}
	var r result
	r.Source.Path, r.Source.Type = source, "sbom"
	r.Packages = []pkg{}
	at := map[string]int{}
	for _, f := range findings {
		if f.Status != StatusAffected || f.Basis != BasisPURL {
			continue
		}
		i, ok := at[f.Component]
		if !ok {
			var p pkg
			info, err := packageName(f.Component)
			if err != nil {
				continue
			}
			p.Package.Name, p.Package.Version, p.Package.Ecosystem = info.Name, info.Version, info.Ecosystem
			i = len(r.Packages)
			at[f.Component] = i
			r.Packages = append(r.Packages, p)
		}
		vs := &r.Packages[i].Vulnerabilities
		if !slices.ContainsFunc(*vs, func(v vuln) bool { return v.ID == f.AdvisoryID }) {
			aliases := aliasesOf[f.AdvisoryID]
			if aliases == nil {
				aliases = []string{}
			}
			*vs = append(*vs, vuln{ID: f.AdvisoryID, Aliases: aliases})
		}
	}
	slices.SortFunc(r.Packages, func(a, b pkg) int {
		return strings.Compare(a.Package.Ecosystem+"\x00"+a.Package.Name+"\x00"+a.Package.Version,
			b.Package.Ecosystem+"\x00"+b.Package.Name+"\x00"+b.Package.Version)
	})
	for i := range r.Packages {
		slices.SortFunc(r.Packages[i].Vulnerabilities, func(a, b vuln) int { return strings.Compare(a.ID, b.ID) })
	}
	out := struct {
		Results []result `json:"results"`
	}{[]result{r}}
	if len(r.Packages) == 0 {
		out.Results = []result{}
	}
	return json.MarshalIndent(out, "", "  ")
}

// pkgInfo is a package as osv-scanner names it.
type pkgInfo struct {
	Name, Version, Ecosystem string
}

// packageName names a purl's package the way OSV does: a Go module path
// or npm scope joined with "/", Maven group and artifact with ":". The
// version is the purl's, as written.
func packageName(purl string) (pkgInfo, error) {
	p, err := parsePURL(purl)
	if err != nil {
		return pkgInfo{}, err
	}
	name := p.Name
	if p.Namespace != "" {
		sep := "/"
		if p.Type == "maven" {
			sep = ":"
		}
		name = p.Namespace + sep + p.Name
	}
	if p.Type == "deb" || p.Type == "apk" || p.Type == "rpm" {
		name = p.Name
	}
	return pkgInfo{Name: name, Version: p.Version, Ecosystem: identityOf(p).Ecosystem}, nil
}
