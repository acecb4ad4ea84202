package brief

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/insight"
)

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

// figure computes a small figure through the insight package's own API.
func figure(t *testing.T) (insight.Figure, *insight.Definition) {
	t.Helper()
	b := insight.NewBuilder(day("2025-12-15"), insight.Checkpoint{Origin: "example.test/log", Size: 42, Root: "cm9vdA=="},
		[]insight.SchemeInfo{{ID: "A", Name: "Scheme <A>", Jurisdiction: "SG"}, {ID: "B", Name: "Scheme | B", Jurisdiction: "DE"}}, nil)
	for i, end := range []string{"2031-01-01", "2027-01-01", "2032-01-01", "2026-06-01"} {
		b.AddVersion(insight.VersionRow{ID: int64(i + 1), Product: int64(i + 1), ManufacturerID: 9, Manufacturer: "Maker | One", Category: "camera",
			Release: day("2024-01-01"), SupportEnd: day(end)})
		sc := "A"
		if i%2 == 1 {
			sc = "B"
		}
		id := string(rune('a' + i))
		b.AddLabel(id, int64(i+1), sc, "1")
		b.AddEvent(id, day("2025-0"+string(rune('1'+i))+"-10"), "active", int64(i))
	}
	def, _ := insight.Lookup("support-5y", 0)
	f, err := insight.Compute(b.Market(), def, insight.Query{By: insight.ByScheme, From: "2025-01"})
	if err != nil {
		t.Fatal(err)
	}
	return f, def
}

func TestIndicatorBriefing(t *testing.T) {
	f, def := figure(t)
	b := Indicator(f, def, "https://hallmark.example", "https://hallmark.example/briefings/indicators/support-5y?by=scheme")
	html, err := b.HTML()
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	for _, want := range []string{"<svg", "Scheme &lt;A&gt;", "checkpoint 42", "Cite as:", "/glossary#term-support-period", "data.csv?by=scheme",
		"What the figures cannot say", "definition version 1"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(h, "<script") {
		t.Error("the briefing carries script")
	}
	md := string(b.Markdown())
	for _, want := range []string{"# Labelled products with at least 5 years of support", "| Month | Value | Counted |", "|---|---:|---:|",
		"Scheme \\| B", "Scheme &lt;A>", "log checkpoint 42", "## Cite as"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q\n%s", want, md)
		}
	}
	// 2 of 4 versions have 5+ years; the summary says so in words.
	if !strings.Contains(b.Summary[0], "50% (2 of 4)") {
		t.Errorf("summary: %q", b.Summary[0])
	}
}

// The PDF is printed by Chromium and reads back with its figures and its
// citation.
func TestPDFReadsBack(t *testing.T) {
	chromium, err := Chromium()
	pdftotext, perr := exec.LookPath("pdftotext")
	if err != nil || perr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs chromium and pdftotext (poppler-utils): %v %v", err, perr)
		}
		t.Skip("no chromium or pdftotext")
	}
	f, def := figure(t)
	b := Indicator(f, def, "https://hallmark.example", "https://hallmark.example/briefings/indicators/support-5y")
	html, _ := b.HTML()
	pdf, err := PDF(context.Background(), html, chromium)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(16, len(pdf))])
	}
	path := filepath.Join(t.TempDir(), "b.pdf")
	os.WriteFile(path, pdf, 0o600)
	out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"Labelled products with at least 5 years of support", "In short", "50% (2 of 4)", "Cite as:", "checkpoint 42 (root cm9vdA==)",
		"What the figures cannot say"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}
