package watch

import (
	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/sbom"
)

// Component is a component of a product version as internal/sbom reads
// it; matching by package identity needs its PURL and Version.
type Component = sbom.Component

// Basis is what a finding rests on.
type Basis string

// The bases. All but BasisNameFuzzy compare identifiers exactly.
const (
	BasisPURL        Basis = "purl-exact"   // component purl identity and version range
	BasisCPE         Basis = "cpe-exact"    // the product's registered CPE
	BasisModelNumber Basis = "model-number" // a registered model number
	BasisSKU         Basis = "sku"          // a CSAF SKU against a registered GTIN
	BasisHash        Basis = "hash"         // a firmware file hash
	BasisNameFuzzy   Basis = "name-fuzzy"   // vendor and product names only
)

// Automatic says whether a finding on this basis may act without a
// person: only identifiers compared exactly may.
func (b Basis) Automatic() bool {
	switch b {
	case BasisPURL, BasisCPE, BasisModelNumber, BasisSKU, BasisHash:
		return true
	}
	return false
}

// ProductIDs are the identifiers a product version was registered with,
// beyond its SBOM.
type ProductIDs struct {
	Vendor, Product, Version string
	CPEs                     []string
	ModelNumbers             []string
	GTINs                    []string
	Hashes                   []advisory.Hash // firmware images
}

// Finding is one advisory matched to one product version (or, from
// AdvisoryIndex, to one component of the SBOM scanned).
//
// It names the advisory by id only: its aliases are the advisory's, the
// same for each of the thousands of findings a common module's advisory
// makes.
type Finding struct {
	AdvisoryID string
	// AffectedIndex is the index, in the advisory's Affected list, of the
	// entry matched. The entry itself is not copied: a common module's
	// advisory makes thousands of findings, and copying each entry was
	// most of the cost of matching it.
	AffectedIndex int
	VersionID     int64 // 0 from AdvisoryIndex
	Basis         Basis
	// Confidence is 1 for an exact basis, the name similarity for
	// name-fuzzy, and 0.9 for a model number found in a product name
	// rather than given as an identifier.
	Confidence float64
	// Component is the purl matched (BasisPURL); Product is the product
	// identifier matched otherwise: a CPE, model number, GTIN, "alg:hex"
	// hash, or the registered product name.
	Component string
	Product   string
	// Status is StatusAffected or StatusNotEvaluated: versions found not
	// affected are not findings.
	Status Status
	Fixed  []string
	Reason string
}

// Automatic says whether the finding may act without a person: an exact
// basis given as an identifier (a model number read out of a product name,
// confidence below 1, could be a sibling product's), and a version known to
// be affected.
func (f Finding) Automatic() bool {
	return f.Basis.Automatic() && f.Confidence >= 1 && f.Status == StatusAffected
}
