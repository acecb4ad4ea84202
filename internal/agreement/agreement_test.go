package agreement

import (
	"strings"
	"testing"
	"time"
)

func sample() Record {
	a := Side{Authority: "https://a.example", Scheme: "cls", Version: 1, Level: "2"}
	b := Side{Authority: "https://b.example", Scheme: "cls", Version: 1, Level: "2"}
	r, _ := New("cls-l2", "CLS Level 2 both ways", a, b,
		Direction{From: name(a), To: name(b), Percent: 100, Covered: 30, Needs: 30},
		Direction{From: name(b), To: name(a), Percent: 100, Covered: 30, Needs: 30}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	return r
}

func TestDriftIsAFallInCoverage(t *testing.T) {
	r := sample()
	now := r.Parties
	now[1].Version = 2
	same := []Direction{r.Checked[0], r.Checked[1]}
	if d := Drift(r, now, same); len(d) != 0 {
		t.Fatalf("unchanged coverage drifted: %+v", d)
	}
	fell := []Direction{r.Checked[0], {From: r.Checked[1].From, To: r.Checked[1].To, Percent: 86, Covered: 26, Needs: 30, Gaps: []string{"HM-SEC-1", "HM-SEC-2"}}}
	d := Drift(r, now, fell)
	if len(d) != 1 || d[0].WasPercent != 100 || d[0].NowPercent != 86 || len(d[0].NewGaps) != 2 {
		t.Fatalf("drift: %+v", d)
	}
	if s := d[0].Summary(); !strings.Contains(s, "down from 100%") || !strings.Contains(s, "cls v1 -> v2") {
		t.Errorf("summary %q", s)
	}
	better := []Direction{r.Checked[0], {Percent: 100}}
	if d := Drift(r, now, better); len(d) != 0 {
		t.Fatalf("no loss, yet drift: %+v", d)
	}
}

func TestParseRoundTripAndRefusals(t *testing.T) {
	r := sample()
	got, err := Parse(r.Marshal())
	if err != nil || got.Digest() != r.Digest() {
		t.Fatalf("round trip: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field": strings.Replace(string(r.Marshal()), `"id"`, `"extra":1,"id"`, 1),
		"same party":    strings.Replace(string(r.Marshal()), "https://b.example", "https://a.example", 1),
		"bad id":        strings.Replace(string(r.Marshal()), `"cls-l2"`, `"CLS L2"`, 1),
		"too large":     strings.Repeat(" ", MaxBytes+1),
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample().Marshal())
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			return
		}
		if _, err := Parse(r.Marshal()); err != nil {
			t.Fatalf("a parsed agreement does not parse again: %v", err)
		}
	})
}
