package scheme

import (
	"fmt"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// MaxRuleSize bounds a proposed rule's text.
const MaxRuleSize = 16 << 10

// ParseRule reads one post-market rule as a scheme writes it (YAML, or
// JSON, which YAML reads too) and checks it as the scheme validator would:
// a proposed rule is replayed only if a scheme could adopt it as written.
func ParseRule(b []byte) (Rule, error) {
	if len(b) > MaxRuleSize {
		return Rule{}, fmt.Errorf("the rule is longer than %d KiB", MaxRuleSize>>10)
	}
	var r Rule
	if _, err := catalog.DecodeYAML("rule", b, &r); err != nil {
		return Rule{}, err
	}
	if probs := r.validate(); len(probs) > 0 {
		var es catalog.Errors
		for _, p := range probs {
			es = append(es, catalog.Error{File: "rule", Msg: p})
		}
		return Rule{}, es
	}
	return r, nil
}
