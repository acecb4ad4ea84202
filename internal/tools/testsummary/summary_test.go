package main

import (
	"strings"
	"testing"
)

const stream = `{"Action":"run","Package":"p/a","Test":"TestA"}
{"Action":"output","Package":"p/a","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p/a","Test":"TestA"}
{"Action":"run","Package":"p/a","Test":"TestPG"}
{"Action":"output","Package":"p/a","Test":"TestPG","Output":"=== RUN   TestPG\n"}
{"Action":"output","Package":"p/a","Test":"TestPG","Output":"    pg.go:10: no PostgreSQL (initdb not found); skipping\n"}
{"Action":"output","Package":"p/a","Test":"TestPG","Output":"--- SKIP: TestPG (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestPG"}
{"Action":"run","Package":"p/a","Test":"TestBad"}
{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    bad.go:3: want 2, got 3\n"}
{"Action":"fail","Package":"p/a","Test":"TestBad"}
{"Action":"output","Package":"p/a","Output":"FAIL\tp/a\t0.1s\n"}
{"Action":"fail","Package":"p/a"}
not json: a build error
`

func TestSummary(t *testing.T) {
	s := newSummary()
	var out strings.Builder
	if err := s.read(strings.NewReader(stream), &out); err != nil {
		t.Fatal(err)
	}
	s.report(&out)
	got := out.String()
	for _, want := range []string{"want 2, got 3", "FAIL\tp/a", "not json: a build error", "Skipped (1):",
		"p/a TestPG: pg.go:10: no PostgreSQL (initdb not found); skipping", "tests: 1 passed, 1 failed, 1 skipped\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "=== RUN") {
		t.Errorf("passing tests' output is printed:\n%s", got)
	}
	if !s.broken || s.failed != 1 {
		t.Errorf("failed %d, broken %v", s.failed, s.broken)
	}
}

func FuzzSummary(f *testing.F) {
	for _, l := range strings.Split(stream, "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s := newSummary()
		var out strings.Builder
		s.line([]byte(line), &out)
		s.report(&out)
	})
}
