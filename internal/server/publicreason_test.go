package server

import (
	"testing"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/watch"
)

// The label page reads the watch's reasons back: rule, description, flaws.
func TestParseWatchReason(t *testing.T) {
	r := watchReason(watch.Proposal{RuleID: "exploited-unfixed-suspend", Reason: "An exploited flaw stayed unfixed."},
		[]registry.Finding{{AdvisoryID: "CVE-2026-1111", DocSHA256: "abcdef0123456789"}, {AdvisoryID: "CVE-2026-2222"}})
	w, ok := ParseWatchReason(r)
	if !ok || w.Rule != "exploited-unfixed-suspend" || w.Description != "An exploited flaw stayed unfixed." ||
		len(w.Flaws) != 2 || w.Flaws[0] != "CVE-2026-1111" || w.Flaws[1] != "CVE-2026-2222" {
		t.Errorf("ParseWatchReason(%q) = %+v, %v", r, w, ok)
	}
	if _, ok := ParseWatchReason("An authority's own words."); ok {
		t.Error("an authority's reason read as the watch's")
	}
}
