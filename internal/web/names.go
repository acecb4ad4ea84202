package web

import (
	"strings"

	"github.com/hallmark-iot/hallmark/internal/scheme"
)

// shortSchemes are the names people use for the built-in schemes, where
// the full name is too long for a chart's axis or a table cell. An
// authority's own scheme is named in full.
var shortSchemes = map[string]string{
	"sg-cls": "CLS", "kr-kisa-iot": "Korea CIC", "uk-psti": "UK PSTI", "eu-cra-default": "EU CRA default",
	"eu-cra-important-1": "EU CRA important I", "eu-red-da": "EU RED", "de-bsi-label": "BSI label",
	"fi-traficom": "Finnish label", "us-cyber-trust-mark": "Cyber Trust Mark", "jp-jc-star": "JC-STAR",
	"au-smart-devices": "Australia smart devices", "csa-product-security": "CSA Product Security",
	"etsi-baseline": "EN 303 645 baseline",
}

// shortName names a level briefly, never as "sg-cls@2": "CLS Level 2",
// "EU RED Article 3(3)(d)", "BSI label".
func shortName(r scheme.Resolved) string {
	s, ok := shortSchemes[r.Scheme.ID]
	if !ok {
		return r.Name()
	}
	if len(r.Scheme.Levels) == 1 {
		return s
	}
	level, _, _ := strings.Cut(r.Level.Name, ":")
	return s + " " + level
}
