// Package scheme models the world's IoT security schemes on Hallmark's
// common catalogue: levels, the requirements each level needs and how they
// are assessed, label validity, post-market rules, and the comparisons and
// mutual-recognition checks between schemes. It knows nothing of HTTP or SQL.
package scheme

import (
	"slices"
	"strconv"
	"time"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// Status of a scheme.
type Status string

const (
	Draft  Status = "draft"
	Active Status = "active"
	// Paused: the owner takes no new applications for now; what was issued
	// stands. The US Cyber Trust Mark has been so since 2025-06.
	Paused Status = "paused"
	Closed Status = "closed"
)

// TakesApplications reports whether new applications may be made.
func (s Status) TakesApplications() bool { return s == Active || s == Draft }

// Kind says what a scheme's records are: a consumer-facing label, or a
// conformity record of a legal duty (a statement of compliance, an EU
// declaration of conformity), which is not a label.
type Kind string

const (
	KindLabel      Kind = "label"
	KindConformity Kind = "conformity-record"
)

// legacyCompliance is the kind's earlier name; stored scheme versions and
// authorities' files written with it still read as conformity records.
const legacyCompliance = "compliance"

// UnmarshalText reads a kind, accepting its earlier name.
func (k *Kind) UnmarshalText(b []byte) error {
	if string(b) == legacyCompliance {
		*k = KindConformity
		return nil
	}
	*k = Kind(b)
	return nil
}

// Record names one record of this kind in plain words.
func (k Kind) Record() string {
	if k == KindConformity {
		return "conformity record"
	}
	return "label"
}

// Method is an assessment method, in increasing order of assurance.
type Method string

const (
	SelfDeclaration Method = "self-declaration"
	DocumentReview  Method = "document-review"
	LabTest         Method = "lab-test"
	PenetrationTest Method = "penetration-test"
)

// Methods lists the assessment methods from least to most assurance.
var Methods = []Method{SelfDeclaration, DocumentReview, LabTest, PenetrationTest}

// Rank orders methods by assurance; an unknown method ranks below all.
func (m Method) Rank() int { return slices.Index(Methods, m) }

// Describe says the method in plain words.
func (m Method) Describe() string {
	switch m {
	case SelfDeclaration:
		return "the manufacturer declares it"
	case DocumentReview:
		return "an assessor reviews the manufacturer's evidence"
	case LabTest:
		return "an approved laboratory tests the product"
	case PenetrationTest:
		return "an approved laboratory attacks the product (penetration test)"
	}
	return string(m)
}

// Scheme is one version of an authority's scheme.
type Scheme struct {
	ID           string `yaml:"id" json:"id"`
	Name         string `yaml:"name" json:"name"`
	Owner        string `yaml:"owner" json:"owner"`
	Version      string `yaml:"version" json:"version"`
	Jurisdiction string `yaml:"jurisdiction" json:"jurisdiction"`
	Status       Status `yaml:"status" json:"status"`
	Kind         Kind   `yaml:"kind" json:"kind"`
	URL          string `yaml:"url,omitempty" json:"url,omitempty"`
	Launched     string `yaml:"launched,omitempty" json:"launched,omitempty"`
	Description  string `yaml:"description" json:"description"`
	Notes        string `yaml:"notes,omitempty" json:"notes,omitempty"`
	// Sources are where the scheme's facts were checked, and when;
	// Unverified the facts that could not be confirmed (shown as such).
	Sources      []catalog.Source     `yaml:"sources,omitempty" json:"sources,omitempty"`
	Unverified   []catalog.Unverified `yaml:"unverified,omitempty" json:"unverified,omitempty"`
	Cumulative   bool                 `yaml:"cumulative,omitempty" json:"cumulative"`
	Validity     Validity             `yaml:"validity" json:"validity"`
	PublicFields []string             `yaml:"public_fields" json:"public_fields"`
	Levels       []Level              `yaml:"levels" json:"levels"`
	Rules        []Rule               `yaml:"rules,omitempty" json:"rules"`
}

// Level is one level of a scheme (a pass/fail scheme has one).
type Level struct {
	ID       string            `yaml:"id" json:"id"`
	Name     string            `yaml:"name" json:"name"`
	Summary  string            `yaml:"summary" json:"summary"`
	Method   Method            `yaml:"method" json:"method"`
	Evidence []string          `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	Validity *Validity         `yaml:"validity,omitempty" json:"validity,omitempty"`
	Refs     []string          `yaml:"requirements" json:"requirements"`
	Methods  map[string]Method `yaml:"methods,omitempty" json:"methods,omitempty"`
}

// Validity is how long a label stays valid: a fixed number of months, or
// until the product's declared support end date, optionally capped.
type Validity struct {
	Months          int  `yaml:"months,omitempty" json:"months,omitempty"`
	UntilSupportEnd bool `yaml:"until_support_end,omitempty" json:"until_support_end,omitempty"`
	CapMonths       int  `yaml:"cap_months,omitempty" json:"cap_months,omitempty"`
}

// Until returns when a label issued at issued expires, given the product's
// support end date (zero if undeclared). The zero time means "no end".
func (v Validity) Until(issued, supportEnd time.Time) time.Time {
	var end time.Time
	switch {
	case v.Months > 0:
		end = issued.AddDate(0, v.Months, 0)
	case v.UntilSupportEnd:
		end = supportEnd
	}
	if v.CapMonths > 0 {
		limit := issued.AddDate(0, v.CapMonths, 0)
		if end.IsZero() || limit.Before(end) {
			end = limit
		}
	}
	return end
}

// Describe says the validity rule in plain words.
func (v Validity) Describe() string {
	switch {
	case v.Months > 0:
		return plural(v.Months, "month") + " from issue"
	case v.UntilSupportEnd && v.CapMonths > 0:
		return "until the end of the declared support period, and at most " + plural(v.CapMonths, "month")
	case v.UntilSupportEnd:
		return "until the end of the declared support period"
	}
	return "no fixed end"
}

// PublicFields the schemes may show on a label's public page: the US
// registry's CTA-2120 data set, in Hallmark's names.
var PublicFields = []string{
	"product_name", "manufacturer", "brand", "model_number", "software_version", "hardware_version",
	"product_category", "authorisation_date", "certifying_body", "testing_lab", "qr_url", "password_type",
	"password_change_method", "how_to_secure", "update_mode", "support_end_date", "sensors", "data_deletion",
	"account_deactivation", "encryption", "security_contact", "disclosure_policy_url", "sbom_available",
	"hbom_available", "label_level", "valid_until", "status", "schema_version",
}

// Level returns the level with the given id. An empty id picks the only
// level of a single-level scheme.
func (s *Scheme) Level(id string) (*Level, bool) {
	if id == "" && len(s.Levels) == 1 {
		return &s.Levels[0], true
	}
	for i := range s.Levels {
		if s.Levels[i].ID == id {
			return &s.Levels[i], true
		}
	}
	return nil, false
}

// LevelValidity is the validity rule that applies to a level.
func (s *Scheme) LevelValidity(l *Level) Validity {
	if l.Validity != nil {
		return *l.Validity
	}
	return s.Validity
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
