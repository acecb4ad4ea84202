// Package watch is the matching layer of Hallmark's post-market watch: it
// decides which certified product versions an advisory touches, and on what
// basis, so that the schemes' rules can suspend or restore labels.
//
// It is pure: no HTTP, no SQL, no clock. Inputs are the advisory model
// (internal/advisory) and the components and identifiers a product version
// was certified with (internal/sbom); outputs are Findings.
//
// Decisions a caller should know:
//
//   - Version order is osv-scanner's: versions are compared by
//     github.com/google/osv-scalibr/semantic, per OSV ecosystem.
//   - A package is known by an identity key derived from its purl (or OSV
//     ecosystem and name) with the case rules of its type; Go module paths
//     stay case-sensitive.
//   - What cannot be evaluated (GIT ranges, unparseable version text,
//     unknown ecosystems) is reported as StatusNotEvaluated with a reason,
//     never dropped and never treated as a match.
//   - Only exact identifier bases (purl, CPE, model number, SKU, hash) are
//     automatic; a name-fuzzy finding waits for a person.
//   - Matching looks up postings by identity; it never scans every SBOM.
package watch
