package web

import (
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/i18n"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/server"
)

// In English the label page says a finding exactly as the server's
// sentence does (the API and the tests read that one); in German it is
// German, dates included.
func TestFindingSentences(t *testing.T) {
	day := time.Date(2027, 1, 14, 0, 0, 0, 0, time.UTC)
	for _, f := range []server.PublicFinding{
		{Advisory: "CVE-2099-0001", Severity: "critical", Exploited: true, Deadline: day},
		{Advisory: "CVE-2099-0002", Severity: "high", Fixed: []string{"1.6.0"}, Deadline: day, Overdue: true},
		{Advisory: "CVE-2099-0003", Severity: "medium", State: registry.FindingReview, Since: day},
		{Advisory: "CVE-2099-0004", State: registry.FindingNotAffected},
		{Advisory: "CVE-2099-0005", State: registry.FindingFixed},
		{Advisory: "CVE-2099-0006", State: registry.FindingDisputed},
	} {
		if got, want := findingSentence(i18n.English, f), f.Sentence(); got != want {
			t.Errorf("English %q, the server says %q", got, want)
		}
	}
	got := findingSentence(i18n.German, server.PublicFinding{Advisory: "CVE-2099-0001", Severity: "critical", Exploited: true, Deadline: day})
	if want := "CVE-2099-0001, kritisch, wird aktiv ausgenutzt; noch keine Korrektur veröffentlicht; der Hersteller hat bis 14. Januar 2027 Zeit, die Korrektur auszuliefern."; got != want {
		t.Errorf("German %q, want %q", got, want)
	}
}
