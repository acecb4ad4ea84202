package insight

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Source says where evidence about a requirement came from.
type Source uint8

const (
	None     Source = iota
	Assessed        // an assessor's verdict in an application
	Declared        // the manufacturer's declared facts
)

func (s Source) String() string {
	switch s {
	case Assessed:
		return "assessed"
	case Declared:
		return "declared"
	}
	return "none"
}

// bitset is a set of version indexes.
type bitset []uint64

func (b *bitset) set(i int32) {
	w := int(i) / 64
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) % 64)
}

func (b bitset) has(i int32) bool {
	w := int(i) / 64
	return w < len(b) && b[w]&(1<<(uint(i)%64)) != 0
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// factRule reads a requirement from declared facts, where it can be read:
// Meets, Fails, or NoEvidence.
type factRule struct {
	says  string // what is read, in plain words
	judge func(v *Version) Verdict
}

// factRules are the requirements declared facts speak to. A declaration
// is the manufacturer's word, not an assessment; the what-if and the
// coverage indicator say which is which.
var factRules = map[string]factRule{
	"HM-AUTH-1": {"the declared password type: unique per device or set by the user meets it, a shared default fails it", func(v *Version) Verdict {
		return oneOf(v.PasswordType, []string{"unique-per-device", "user-defined"}, []string{"shared-default"})
	}},
	"HM-AUTH-2": {"the declared password type: unique per device or set by the user meets it, a shared default fails it", func(v *Version) Verdict {
		return oneOf(v.PasswordType, []string{"unique-per-device", "user-defined"}, []string{"shared-default"})
	}},
	"HM-UPD-1": {"the declared update mode: any way of updating meets it, \"none\" fails it", func(v *Version) Verdict {
		return oneOf(v.UpdateMode, []string{"automatic", "automatic-opt-out", "manual", "consent"}, []string{"none"})
	}},
	"HM-UPD-4": {"the declared update mode: automatic updates meet it, manual, by consent or none fail it", func(v *Version) Verdict {
		return oneOf(v.UpdateMode, []string{"automatic", "automatic-opt-out"}, []string{"manual", "consent", "none"})
	}},
	"HM-UPD-12": {"a declared support end date meets it", func(v *Version) Verdict {
		if !v.SupportEnd.IsZero() {
			return Meets
		}
		return NoEvidence
	}},
	"HM-VULN-1": {"a declared vulnerability disclosure policy meets it", func(v *Version) Verdict {
		if v.Disclosure {
			return Meets
		}
		return NoEvidence
	}},
	"HM-SBOM-1": {"an SBOM uploaded to the registry meets it", func(v *Version) Verdict {
		if v.SBOM {
			return Meets
		}
		return NoEvidence
	}},
}

// FactRule says how declared facts speak to a requirement, or "" if they do not.
func FactRule(requirement string) string { return factRules[requirement].says }

func oneOf(s string, meets, fails []string) Verdict {
	for _, m := range meets {
		if s == m {
			return Meets
		}
	}
	for _, f := range fails {
		if s == f {
			return Fails
		}
	}
	return NoEvidence
}

// Evidence says whether version v meets requirement r: an assessment's
// verdict first (a fail outweighs any pass), else the declared facts.
func (m *Market) Evidence(v int32, r int) (Verdict, Source) {
	if r < 0 || r >= len(m.Requirements) {
		return NoEvidence, None
	}
	if m.assessedFail[r].has(v) {
		return Fails, Assessed
	}
	if m.assessedPass[r].has(v) {
		return Meets, Assessed
	}
	if fr, ok := factRules[m.Requirements[r]]; ok {
		if x := fr.judge(&m.Versions[v]); x != NoEvidence {
			return x, Declared
		}
	}
	return NoEvidence, None
}

// Condition is one thing a proposal would add to a scheme level: a
// catalogue requirement, a minimum support period, or an SBOM.
type Condition struct {
	Kind        string  `json:"kind"` // requirement, support, sbom
	Requirement string  `json:"requirement,omitempty"`
	Years       float64 `json:"years,omitempty"`
}

// Condition kinds.
const (
	CondRequirement = "requirement"
	CondSupport     = "support"
	CondSBOM        = "sbom"
)

// MaxConditions bounds one what-if.
const MaxConditions = 20

// ParseCondition reads a condition: a requirement id (HM-UPD-4),
// "support>=5" (years, 1 to 15) or "sbom".
func ParseCondition(s string) (Condition, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "sbom"):
		return Condition{Kind: CondSBOM}, nil
	case strings.HasPrefix(strings.ToLower(s), "support>="):
		n := strings.TrimSuffix(strings.TrimSuffix(s[len("support>="):], "y"), " years")
		y, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil || y < 1 || y > 15 {
			return Condition{}, fmt.Errorf("%w: %q: write a support period as support>=N, N years from 1 to 15", ErrInvalid, clip(s))
		}
		return Condition{Kind: CondSupport, Years: y}, nil
	case strings.HasPrefix(s, "HM-") && len(s) <= 20:
		return Condition{Kind: CondRequirement, Requirement: s}, nil
	}
	return Condition{}, fmt.Errorf("%w: %q is not a condition: give a requirement id (HM-UPD-4), support>=N (years) or sbom", ErrInvalid, clip(s))
}

// String is the condition as ParseCondition reads it.
func (c Condition) String() string {
	switch c.Kind {
	case CondSupport:
		return "support>=" + strconv.FormatFloat(c.Years, 'f', -1, 64)
	case CondSBOM:
		return "sbom"
	}
	return c.Requirement
}

// Words says the condition in plain words ("a support period of at least 5 years").
func (c Condition) Words(title func(string) string) string {
	switch c.Kind {
	case CondSupport:
		return "a support period of at least " + strconv.FormatFloat(c.Years, 'f', -1, 64) + " years"
	case CondSBOM:
		return "an SBOM in the registry"
	}
	if title != nil {
		if t := title(c.Requirement); t != "" {
			return c.Requirement + " (" + t + ")"
		}
	}
	return c.Requirement
}

// Judge says whether version v meets the condition, and on what evidence.
func (m *Market) Judge(v int32, c Condition) (Verdict, Source) {
	ver := &m.Versions[v]
	switch c.Kind {
	case CondSupport:
		y, ok := ver.SupportYears()
		switch {
		case !ok:
			return NoEvidence, None
		case y >= c.Years:
			return Meets, Declared
		}
		return Fails, Declared
	case CondSBOM:
		if ver.SBOM {
			return Meets, Declared
		}
		return Fails, Declared // the registry is where the SBOM would be
	}
	return m.Evidence(v, m.RequirementIndex(c.Requirement))
}
