package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one line of test2json.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type key struct{ pkg, test string }

type summary struct {
	out                    map[key][]string // output so far, per test, until it ends
	skips                  []skip
	passed, failed, skippd int
	broken                 bool // a package failed to build or failed outside a test
}

type skip struct {
	pkg, test, why string
}

// maxKept bounds the lines kept per running test: a chatty test cannot
// make the summary hold its whole output.
const maxKept = 400

func newSummary() *summary { return &summary{out: map[key][]string{}} }

// line takes one line of `go test -json`; anything that is not an event
// (a build error on stderr) is passed through.
func (s *summary) line(b []byte, w io.Writer) {
	var e event
	if err := json.Unmarshal(b, &e); err != nil || e.Action == "" {
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	k := key{e.Package, e.Test}
	switch e.Action {
	case "output", "build-output":
		if e.Test == "" && e.Action == "output" {
			// Package lines: "ok", "FAIL", "?": print the results, keep
			// the rest in case the package fails.
			o := strings.TrimRight(e.Output, "\n")
			if strings.HasPrefix(o, "ok ") || strings.HasPrefix(o, "FAIL") || strings.HasPrefix(o, "?") || strings.HasPrefix(o, "panic:") {
				fmt.Fprintln(w, o)
				return
			}
		}
		if e.Action == "build-output" {
			fmt.Fprint(w, e.Output)
			return
		}
		if len(s.out[k]) < maxKept {
			s.out[k] = append(s.out[k], e.Output)
		}
	case "build-fail":
		s.broken = true
	case "pass":
		if e.Test != "" {
			s.passed++
		}
		delete(s.out, k)
	case "skip":
		if e.Test != "" {
			s.skippd++
			s.skips = append(s.skips, skip{e.Package, e.Test, skipReason(s.out[k])})
		}
		delete(s.out, k)
	case "fail":
		if e.Test != "" {
			s.failed++
		} else {
			s.broken = true
		}
		for _, o := range s.out[k] {
			fmt.Fprint(w, o)
		}
		delete(s.out, k)
	}
}

// skipReason is what the test said when it skipped: the lines after
// "--- SKIP", or its last line of output.
func skipReason(lines []string) string {
	var why []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		why = append(why, t)
	}
	if len(why) == 0 {
		return "no reason given"
	}
	return why[len(why)-1]
}

// report says what was skipped, and the closing count.
func (s *summary) report(w io.Writer) {
	if len(s.skips) > 0 {
		sort.Slice(s.skips, func(i, j int) bool {
			return s.skips[i].pkg+" "+s.skips[i].test < s.skips[j].pkg+" "+s.skips[j].test
		})
		fmt.Fprintf(w, "\nSkipped (%d):\n", len(s.skips))
		for _, sk := range s.skips {
			fmt.Fprintf(w, "  %s %s: %s\n", strings.TrimPrefix(sk.pkg, "github.com/hallmark-iot/hallmark/"), sk.test, sk.why)
		}
	} else {
		fmt.Fprintln(w, "\nNothing was skipped.")
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skippd)
}
