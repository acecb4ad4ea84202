// Command benchsum summarises `go test -bench` output read on stdin: for
// each benchmark, the median of every metric over its runs (-count), with
// the number of runs. -min UNIT=X marks a metric's median against a target.
//
//	go test -run '^$' -bench . -count 5 ./bench/ | go run ./bench/benchsum -min ratio-vs-ed25519=0.3
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

type targets map[string]float64

func (t targets) String() string { return fmt.Sprint(map[string]float64(t)) }

func (t targets) Set(s string) error {
	unit, v, ok := strings.Cut(s, "=")
	f, err := strconv.ParseFloat(v, 64)
	if !ok || err != nil {
		return fmt.Errorf("want UNIT=NUMBER, got %q", s)
	}
	t[unit] = f
	return nil
}

func main() {
	mins := targets{}
	flag.Var(mins, "min", "UNIT=X: report whether the median of UNIT is at least X (repeatable)")
	flag.Parse()

	var order []string
	values := map[string]map[string][]float64{} // benchmark -> unit -> values
	var units = map[string][]string{}           // benchmark -> units in order
	add := func(name string, f []string) {
		if values[name] == nil {
			values[name] = map[string][]float64{}
			order = append(order, name)
		}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			u := f[i+1]
			if values[name][u] == nil {
				units[name] = append(units[name], u)
			}
			values[name][u] = append(values[name][u], v)
		}
	}
	// A result line is "BenchmarkName[-P] N value unit value unit ...". A
	// library's log line can land between the name and the figures; then
	// the figures follow on a line of their own, and belong to that name.
	pending := ""
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if strings.HasPrefix(f[0], "Benchmark") {
			if len(f) >= 4 && isInt(f[1]) && f[3] == "ns/op" {
				add(f[0], f[2:])
				pending = ""
			} else {
				pending = f[0]
			}
			continue
		}
		if pending != "" && len(f) >= 3 && isInt(f[0]) && f[2] == "ns/op" {
			add(pending, f[1:])
			pending = ""
		}
	}
	for _, name := range order {
		var parts []string
		runs := 0
		for _, u := range units[name] {
			vs := values[name][u]
			runs = max(runs, len(vs))
			m := median(vs)
			s := fmt.Sprintf("%s %s", format(m), u)
			if min, ok := mins[u]; ok {
				verdict := "meets"
				if m < min {
					verdict = "MISSES"
				}
				s += fmt.Sprintf(" [%s target >= %g]", verdict, min)
			}
			parts = append(parts, s)
		}
		fmt.Printf("%-34s %d run(s)  %s\n", name, runs, strings.Join(parts, "  "))
	}
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func format(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
