package insight

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Unit is what a figure counts in.
type Unit string

const (
	Share Unit = "share" // a proportion from 0 to 1
	Days  Unit = "days"
	Years Unit = "years"
)

// Direction says which way is better, for targets and for reading a chart.
type Direction string

const (
	HigherBetter Direction = "higher-is-better"
	LowerBetter  Direction = "lower-is-better"
	Neutral      Direction = "neither"
)

// Definition is one version of an indicator: what it means in plain
// words, how it is computed, what it cannot say, and what it reads. A
// definition once published is never changed: a change is a new version,
// and older versions stay computable, so an old figure can be checked.
type Definition struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Published string    `json:"published"` // the day this version took effect
	Name      string    `json:"name"`
	Meaning   string    `json:"meaning"`
	Formula   string    `json:"formula"`
	Unit      Unit      `json:"unit"`
	Direction Direction `json:"direction"`
	Caveats   []string  `json:"caveats"`
	Reads     []string  `json:"reads"`
	Parts     []string  `json:"parts,omitempty"`
	Cuts      []string  `json:"cuts"`
	// Glossary names the glossary terms the definition uses.
	Glossary []string `json:"glossary,omitempty"`
	// RulesDependent: the figure depends on the schemes' post-market
	// rules, so figures of schemes with different rules are not
	// comparable.
	RulesDependent bool `json:"rules_dependent"`
	// Series is false when the figure has no monthly history.
	Series bool `json:"series"`

	eval func(e *evaluator, t time.Time)
}

// Digest is the SHA-256 of the definition's published text: a figure's
// metadata carries it, so a reader can tell which words it was computed by.
func (d *Definition) Digest() string {
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// The cuts a figure can be broken down by.
const (
	ByScheme       = "scheme"
	ByJurisdiction = "jurisdiction"
	ByCategory     = "category"
	ByManufacturer = "manufacturer"
	ByRequirement  = "requirement"
)

var versionCuts = []string{ByScheme, ByJurisdiction, ByCategory, ByManufacturer}

const (
	readLog      = "label issues and status changes: the decisions in the transparency log up to the cited checkpoint"
	readFacts    = "the declared facts of each product version in the registry (release date, support end date, update mode, password type, SBOM)"
	readFindings = "the post-market watch's findings on labelled product versions, with their advisories' publication dates and severities and the known-exploited list"
	readVEX      = "the manufacturers' VEX statements"
	readVerdicts = "assessors' verdicts per requirement in the registry's applications"
	readSchemes  = "the schemes' jurisdictions and post-market rules"
)

const (
	caveatLabelled = "A labelled product is a product version holding a label that has not ended (active or suspended) at the date; a version labelled by several schemes counts once in the total and once in each scheme."
	caveatDeclared = "Support periods and other facts are the manufacturers' declarations; Hallmark does not check them against what is delivered."
	caveatState    = "The watch keeps each finding's present state, not its history: a finding cleared after the date counts as unfixed at the date, and the day it was cleared is taken to be its last update."
	caveatMatches  = "Only findings matched on exact identifiers, or confirmed by an authority, count; possible matches by name are left out until a person confirms them."
	caveatRules    = "Schemes judge findings by their own post-market rules: figures of schemes whose rules differ are not comparable."
)

// catalogue holds every published definition version, newest last per id.
var catalogue = []*Definition{
	{
		ID: "support-2y", Version: 1, Published: "2026-12-01",
		Name:    "Labelled products with at least 2 years of support",
		Meaning: "Of the labelled products, the share whose manufacturer has declared security updates for at least two years from the version's release.",
		Formula: "labelled versions whose declared support end is at least 2 years after their release date ÷ all labelled versions. Without a release date, the period starts at the version's first label; without a support end date, the version counts as below 2 years.",
		Unit:    Share, Direction: HigherBetter,
		Caveats: []string{caveatLabelled, caveatDeclared, "A year is 365.25 days."},
		Reads:   []string{readLog, readFacts}, Cuts: versionCuts, Glossary: []string{"Support period", "Label"}, Series: true,
		eval: supportShare(2),
	},
	{
		ID: "support-5y", Version: 1, Published: "2026-12-01",
		Name:    "Labelled products with at least 5 years of support",
		Meaning: "Of the labelled products, the share whose manufacturer has declared security updates for at least five years from the version's release.",
		Formula: "labelled versions whose declared support end is at least 5 years after their release date ÷ all labelled versions. Without a release date, the period starts at the version's first label; without a support end date, the version counts as below 5 years.",
		Unit:    Share, Direction: HigherBetter,
		Caveats: []string{caveatLabelled, caveatDeclared, "A year is 365.25 days."},
		Reads:   []string{readLog, readFacts}, Cuts: versionCuts, Glossary: []string{"Support period", "Label"}, Series: true,
		eval: supportShare(5),
	},
	{
		ID: "support-median", Version: 1, Published: "2026-12-01",
		Name:    "Median support period",
		Meaning: "The middle of the declared support periods of labelled products: half promise less, half more.",
		Formula: "median over labelled versions with a declared support end of (support end − release date) in years; without a release date, from the first label.",
		Unit:    Years, Direction: HigherBetter,
		Caveats: []string{caveatLabelled, caveatDeclared, "Versions that declare no support end are left out; the denominator says how many remain."},
		Reads:   []string{readLog, readFacts}, Cuts: versionCuts, Glossary: []string{"Support period"}, Series: true,
		eval: supportMedian,
	},
	{
		ID: "vuln-unfixed", Version: 1, Published: "2026-12-01",
		Name:    "Labelled products with known unfixed vulnerabilities",
		Meaning: "Of the labelled products, the share in which the post-market watch knows of at least one vulnerability the manufacturer has not yet fixed or shown not to apply; the parts give each product's most severe one.",
		Formula: "labelled versions with at least one counted finding that is neither fixed, nor cleared by VEX, nor retracted at the date ÷ all labelled versions. Parts: the same, by the most severe such finding (critical, high, medium, low, unrated).",
		Unit:    Share, Direction: LowerBetter, Parts: []string{"critical", "high", "medium", "low", "unrated"},
		Caveats: []string{caveatLabelled, caveatMatches, caveatState, "A product is only as known-vulnerable as the advisories Hallmark has ingested: an authority with fewer feeds sees fewer vulnerabilities."},
		Reads:   []string{readLog, readFindings, readVEX}, Cuts: versionCuts, Glossary: []string{"Vulnerability", "CVSS", "VEX", "Advisory"}, Series: true,
		eval: vulnUnfixed,
	},
	{
		ID: "vuln-exploited", Version: 1, Published: "2026-12-01",
		Name:    "Labelled products with an actively exploited unfixed vulnerability",
		Meaning: "Of the labelled products, the share carrying a vulnerability that attackers are known to be using, not yet fixed.",
		Formula: "labelled versions with at least one counted unfixed finding whose flaw is on the known-exploited list by the date ÷ all labelled versions.",
		Unit:    Share, Direction: LowerBetter,
		Caveats: []string{caveatLabelled, caveatMatches, caveatState, "Known exploitation comes from the KEV catalogue as ingested; exploitation nobody reported is not counted."},
		Reads:   []string{readLog, readFindings}, Cuts: versionCuts, Glossary: []string{"Exploited vulnerability"}, Series: true,
		eval: vulnExploited,
	},
	{
		ID: "fix-days", Version: 1, Published: "2026-12-01",
		Name:    "Median days from advisory to fix",
		Meaning: "How long, in the middle case, a labelled product carried a published vulnerability before its manufacturer shipped the fix.",
		Formula: "median over counted findings on labelled versions fixed by the date of (day fixed − day the flaw was published); when the publication date is unknown, from the day the watch first saw it.",
		Unit:    Days, Direction: LowerBetter,
		Caveats: []string{caveatLabelled, caveatMatches, caveatState, caveatRules, "Flaws not yet fixed are not in the median: a low figure may hide many that are still open (see the unfixed-vulnerability indicator)."},
		Reads:   []string{readLog, readFindings}, Cuts: versionCuts, Glossary: []string{"Security update", "Advisory"}, RulesDependent: true, Series: true,
		eval: fixDays,
	},
	{
		ID: "vex-days", Version: 1, Published: "2026-12-01",
		Name:    "Median days from advisory to VEX",
		Meaning: "How long, in the middle case, a manufacturer took to state whether a published vulnerability affects its labelled product.",
		Formula: "median over counted findings on labelled versions with a VEX statement by the date of (day of the statement − day the flaw was published, or first seen when the publication date is unknown).",
		Unit:    Days, Direction: LowerBetter,
		Caveats: []string{caveatLabelled, caveatMatches, "A statement made before the flaw was published counts as 0 days."},
		Reads:   []string{readLog, readFindings, readVEX}, Cuts: versionCuts, Glossary: []string{"VEX"}, Series: true,
		eval: vexDays,
	},
	{
		ID: "clocks-met", Version: 1, Published: "2026-12-01",
		Name:    "Remediation clocks met",
		Meaning: "When a scheme's rule gave a manufacturer a deadline to fix a vulnerability, the share of deadlines that were met.",
		Formula: "remediation clocks on labelled versions due by the date whose finding was fixed, cleared by VEX or retracted by the due day ÷ all clocks due by the date. Cut by scheme, each clock counts in the scheme whose rule opened it.",
		Unit:    Share, Direction: HigherBetter,
		Caveats: []string{caveatLabelled, caveatState, caveatRules, "Clocks still running are left out."},
		Reads:   []string{readLog, readFindings, readSchemes}, Cuts: versionCuts, Glossary: []string{"Security update"}, RulesDependent: true, Series: true,
		eval: clocksMet,
	},
	{
		ID: "unsecurable", Version: 1, Published: "2026-12-01",
		Name:    "Un-securable labelled products",
		Meaning: "Of the labelled products, the share that by their own declaration cannot be made secure: they cannot receive updates, or cannot have unique credentials.",
		Formula: "labelled versions with update mode \"none\", or a shared default password, or declared incapable of unique credentials ÷ all labelled versions. Parts: each respect on its own (a product may have both).",
		Unit:    Share, Direction: LowerBetter, Parts: []string{"no-update-path", "no-unique-credentials"},
		Caveats: []string{caveatLabelled, caveatDeclared, "\"Not disclosed\" is not counted as incapacity."},
		Reads:   []string{readLog, readFacts}, Cuts: versionCuts, Glossary: []string{"Un-securable device", "Default password"}, Series: true,
		eval: unsecurable,
	},
	{
		ID: "label-status", Version: 1, Published: "2026-12-01",
		Name:    "Labels in good standing",
		Meaning: "Of every label issued so far, the share still active; the parts say how the others ended or stand.",
		Formula: "labels issued by the date whose logged status at the date is active ÷ all labels issued by the date. Parts: labels by status (active, suspended, revoked, surrendered, expired).",
		Unit:    Share, Direction: Neutral, Parts: StatusNames,
		Caveats: []string{"Counts labels, not products: a version labelled by two schemes counts twice.", caveatRules, "Conformity records (legal declarations, such as under PSTI or the CRA) count beside labels; cut by scheme to tell them apart."},
		Reads:   []string{readLog, readSchemes}, Cuts: versionCuts, Glossary: []string{"Label", "Conformity record", "Transparency log"}, RulesDependent: true, Series: true,
		eval: labelStatus,
	},
	{
		ID: "requirement-coverage", Version: 1, Published: "2026-12-01",
		Name:    "How much of the registered market meets each requirement",
		Meaning: "For each requirement of the catalogue, the share of registered products (each product's newest version) shown to meet it, by an assessment or by the manufacturer's declared facts.",
		Formula: "newest registered versions an assessment found to meet the requirement (pass or not applicable), or whose declared facts meet it where the requirement can be read from them, and that no assessment failed ÷ all newest registered versions. Parts: assessed, declared, fails, no evidence.",
		Unit:    Share, Direction: HigherBetter, Parts: []string{"assessed", "declared", "fails", "no-evidence"},
		Caveats: []string{"Most requirements are only ever assessed for the schemes that ask for them, so \"no evidence\" is not \"does not meet\".",
			caveatDeclared, "No monthly series: the figure is as of the date only.", "Cut by scheme, the products are those holding a live label of the scheme."},
		Reads: []string{readFacts, readVerdicts, readLog}, Cuts: []string{ByRequirement, ByScheme, ByJurisdiction, ByCategory, ByManufacturer},
		Glossary: []string{"Conformity assessment", "Self-declaration"}, Series: false,
		eval: requirementCoverage,
	},
}

// Definitions lists the current version of every indicator, in catalogue order.
func Definitions() []*Definition {
	var out []*Definition
	seen := map[string]int{}
	for _, d := range catalogue {
		if i, ok := seen[d.ID]; ok {
			if d.Version > out[i].Version {
				out[i] = d
			}
			continue
		}
		seen[d.ID] = len(out)
		out = append(out, d)
	}
	return out
}

// Lookup returns an indicator's definition at a version (0: the current one).
func Lookup(id string, version int) (*Definition, error) {
	var cur *Definition
	for _, d := range catalogue {
		if d.ID != id {
			continue
		}
		if version == d.Version {
			return d, nil
		}
		if cur == nil || d.Version > cur.Version {
			cur = d
		}
	}
	switch {
	case cur == nil:
		return nil, fmt.Errorf("%w: no indicator %q; the catalogue is at /api/v1/indicators", ErrInvalid, id)
	case version != 0:
		return nil, fmt.Errorf("%w: indicator %s has no definition version %d (the current is %d)", ErrInvalid, id, version, cur.Version)
	}
	return cur, nil
}

// Versions lists every published version of an indicator, oldest first.
func Versions(id string) []*Definition {
	var out []*Definition
	for _, d := range catalogue {
		if d.ID == id {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *Definition) int { return a.Version - b.Version })
	return out
}
