// Package advisory reads the documents the post-market watch acts on —
// CSAF 2.0 advisories and VEX, OSV records, CISA's KEV catalogue, OpenVEX
// and CycloneDX VEX — into one model. It is pure: no HTTP, no SQL, no
// clock; every parser is bounded and fuzzed, and a document is either read
// whole or refused with an error naming the document and the place.
//
// The model keeps what matching and the schemes' post-market rules need,
// and the hash of the source bytes so that every finding can name exactly
// which document caused it.
package advisory

import "time"

// Format is the kind of source document.
type Format string

// The formats read.
const (
	FormatCSAF         Format = "csaf"          // CSAF 2.0 security advisory
	FormatCSAFVEX      Format = "csaf-vex"      // CSAF 2.0 document of category csaf_vex
	FormatOSV          Format = "osv"           // OSV record, JSON or YAML
	FormatKEV          Format = "kev"           // CISA Known Exploited Vulnerabilities catalogue
	FormatOpenVEX      Format = "openvex"       // OpenVEX 0.0.1 / 0.2.0
	FormatCycloneDXVEX Format = "cyclonedx-vex" // CycloneDX BOM with vulnerabilities[].analysis
)

// Document is one source document read into the model. A document carries
// advisories (what is vulnerable), VEX statements (whether a given product
// is affected), exploitation records (KEV), or a mix: a CSAF advisory may
// hold both advisories and statements about fixed products.
type Document struct {
	Format Format
	// ID is the document's own identifier: a CSAF tracking id, an OSV id,
	// the KEV catalogue version, an OpenVEX @id or a CycloneDX serial number.
	ID string
	// Revision orders revisions of the same document: CSAF
	// tracking.version, OSV modified, KEV catalogVersion. A newer revision
	// replaces an older one wholesale.
	Revision  string
	Publisher string
	Published time.Time
	Modified  time.Time
	// SHA256 is the hex SHA-256 of the exact bytes read.
	SHA256 string

	Advisories []Advisory
	Statements []Statement
	Exploited  []Exploitation
}

// Severity is a qualitative severity, ordered none < low < medium < high <
// critical (CVSS v3 bands).
type Severity string

// The severities.
const (
	SeverityUnknown  Severity = ""
	SeverityNone     Severity = "none"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Advisory is one flaw: an OSV record, or one vulnerability of a CSAF
// document.
type Advisory struct {
	// ID is the flaw's primary id in its source (GO-2024-0001,
	// GHSA-xxxx, CVE-2024-1234, or CSAF "<tracking id>#<n>" when the
	// vulnerability names no CVE).
	ID string
	// Aliases are other ids of the same flaw (symmetric, as OSV defines
	// them); CVE ids from CSAF go here too. Upstream ids are flaws this one
	// derives from: not the same flaw, so never grouped with it.
	Aliases  []string
	Upstream []string
	Summary  string
	Details  string

	Published time.Time
	Modified  time.Time
	// Withdrawn is set when the source retracted the flaw: everything it
	// caused is retracted with it.
	Withdrawn time.Time

	Severity Severity
	// CVSS is the highest CVSS base score given (0 when none).
	CVSS       float64
	CVSSVector string

	Affected   []Affected
	References []string
}

// Affected says which products or packages a flaw touches, in whichever
// terms the source gives: a package identity with ranges (OSV), or a
// product with identification helpers and a version expression (CSAF).
type Affected struct {
	// Package identity, when the source names one.
	Package Package
	// Ranges and Versions say which versions are affected (OSV).
	Ranges   []Range
	Versions []string

	// CSAF product identification.
	ProductID     string // the CSAF product_id the status names
	Vendor        string // vendor branch name
	Product       string // product name (branch or full_product_name)
	Version       string // one version (product_version branch), or ""
	VersionRange  string // a "vers:" range or free text such as "<=4.1.2" or "all versions"
	CPE           string
	ModelNumbers  []string
	SKUs          []string
	SerialNumbers []string
	Hashes        []Hash

	// Fixed lists versions or product ids the source names as fixed.
	Fixed []string
	// Remediation is the vendor's fix text, when given.
	Remediation string
	// PartOf is set for a CSAF relationship product (default_component_of,
	// installed_on, ...): the fields above then describe the component, and
	// PartOf the product it is part of or installed on.
	PartOf *ProductRef
}

// Package is a package identity: an OSV ecosystem and name, and a purl
// (without version) when the source gives one.
type Package struct {
	Ecosystem string // OSV ecosystem: Go, PyPI, npm, Maven, Debian:12, Alpine:v3.19, ...
	Name      string
	PURL      string
}

// RangeType is how a range's events are ordered.
type RangeType string

// The range types of OSV.
const (
	RangeSemver    RangeType = "SEMVER"
	RangeEcosystem RangeType = "ECOSYSTEM"
	RangeGit       RangeType = "GIT" // commit hashes: reported, never evaluated
)

// Range is an OSV range: events in order.
type Range struct {
	Type   RangeType
	Repo   string
	Events []Event
}

// Event is one range event; exactly one field is set.
type Event struct {
	Introduced   string
	Fixed        string
	LastAffected string
	Limit        string
}

// Hash is a file hash from a CSAF identification helper.
type Hash struct {
	Algorithm string // sha256, sha512, ...
	Value     string // lower-case hex
	FileName  string
}

// VEXStatus is the one status model of OpenVEX, CSAF VEX and CycloneDX VEX.
type VEXStatus string

// The statuses.
const (
	StatusNotAffected        VEXStatus = "not_affected"
	StatusAffected           VEXStatus = "affected"
	StatusFixed              VEXStatus = "fixed"
	StatusUnderInvestigation VEXStatus = "under_investigation"
)

// Statement is one VEX statement, scoped to a vulnerability, a product
// (version) and optionally a component inside it.
type Statement struct {
	Vulnerability string
	Aliases       []string
	// Product names the product version: a purl, a CPE, or CSAF product
	// identification.
	Product ProductRef
	// Component, when set, scopes the statement to one component (a purl)
	// of the product.
	Component     string
	Status        VEXStatus
	Justification string // for not_affected
	Impact        string
	Action        string // for affected
	Timestamp     time.Time
}

// ProductRef identifies a product in a VEX statement.
type ProductRef struct {
	ID           string // the source's product id or bom-ref
	PURL         string
	CPE          string
	Vendor       string
	Name         string
	Version      string
	ModelNumbers []string
	SKUs         []string
	Hashes       []Hash
	// VersionRange is a CSAF product_version_range ("vers:..." or free
	// text such as "<= 4.60"); SerialNumbers come from its
	// identification helper.
	VersionRange  string
	SerialNumbers []string
}

// Exploitation records that a flaw is known to be actively exploited.
type Exploitation struct {
	CVE        string
	Vendor     string
	Product    string
	Name       string
	DateAdded  time.Time // when exploitation became known (KEV dateAdded)
	DueDate    time.Time
	Ransomware bool // knownRansomwareCampaignUse is "Known"
	Action     string
}
