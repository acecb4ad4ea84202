// Package data embeds Hallmark's reviewed reference data: the catalogue of
// requirements, the frameworks they map to, and the glossary. The files are
// YAML so that policy and technical reviewers can read a diff of them.
package data

import "embed"

// FS holds every reference data file, rooted at this directory.
//
//go:embed catalog demo schemes
var FS embed.FS
