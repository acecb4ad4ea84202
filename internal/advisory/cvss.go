package advisory

import (
	"fmt"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// cvssScore computes the base score of a CVSS vector of any version:
// "CVSS:3.1/...", "CVSS:3.0/...", "CVSS:4.0/..." or a bare v2 vector
// ("AV:N/AC:L/Au:N/C:P/I:P/A:P"). OSV gives vectors, never numbers.
func cvssScore(vector string) (float64, error) {
	switch {
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return c.BaseScore(), nil
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return c.BaseScore(), nil
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return c.Score(), nil
	case strings.HasPrefix(vector, "AV:"):
		c, err := gocvss20.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return c.BaseScore(), nil
	}
	return 0, fmt.Errorf("unknown CVSS version in %q", clip(vector))
}

// SeverityFromScore is the CVSS v3/v4 qualitative band of a base score:
// 0 none, 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical.
// Scores outside 0..10 are unknown.
func SeverityFromScore(score float64) Severity {
	switch {
	case score < 0 || score > 10:
		return SeverityUnknown
	case score == 0:
		return SeverityNone
	case score < 4:
		return SeverityLow
	case score < 7:
		return SeverityMedium
	case score < 9:
		return SeverityHigh
	}
	return SeverityCritical
}

// Rank orders severities: unknown 0, none 1, up to critical 5, so that
// "at least high" is s.Rank() >= SeverityHigh.Rank().
func (s Severity) Rank() int {
	switch s {
	case SeverityNone:
		return 1
	case SeverityLow:
		return 2
	case SeverityMedium:
		return 3
	case SeverityHigh:
		return 4
	case SeverityCritical:
		return 5
	}
	return 0
}

// parseSeverity maps a source's word for a severity ("HIGH", "Moderate",
// "important") onto the bands; unknown words give SeverityUnknown.
func parseSeverity(s string) Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none", "info", "informational":
		return SeverityNone
	case "low":
		return SeverityLow
	case "medium", "moderate":
		return SeverityMedium
	case "high", "important":
		return SeverityHigh
	case "critical":
		return SeverityCritical
	}
	return SeverityUnknown
}
