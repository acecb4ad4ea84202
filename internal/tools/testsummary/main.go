// Command testsummary reads `go test -json` and prints what `go test`
// would (each package's result, the output of every failing test) and then
// what was skipped and why, with a closing count, so `make test` says what
// it did not run. It exits 1 when anything failed.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	s := newSummary()
	if err := s.read(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	s.report(os.Stdout)
	if s.failed > 0 || s.broken {
		os.Exit(1)
	}
}

// maxLine bounds one line of go test's output; longer lines are cut.
const maxLine = 1 << 20

func (s *summary) read(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		s.line(sc.Bytes(), w)
	}
	return sc.Err()
}
