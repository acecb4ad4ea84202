// Package tlogpolicy reads and writes transparency-log witness policies in
// the C2SP tlog-policy text format (https://c2sp.org/tlog-policy): the
// logs, the witnesses, and the quorum of cosignatures a checkpoint needs,
// possibly through nested groups. An authority publishes its log's policy;
// a verifier checks a checkpoint against it.
package tlogpolicy

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// Limits: the specification recommends supporting at least 32 of each;
// these are what a policy from a stranger may hold.
const (
	MaxBytes     = 64 << 10
	MaxLogs      = 32
	MaxWitnesses = 32
	MaxGroups    = 32
)

// ErrPolicy is wrapped by every parse error.
var ErrPolicy = errors.New("witness policy")

// Log is one log line.
type Log struct {
	VKey string
	URL  string
}

// Witness is one witness line.
type Witness struct {
	Name string
	VKey string
	URL  string
}

// Group is one group line: at least K of Members (witness or group
// names) must have witnessed.
type Group struct {
	Name    string
	K       int
	Members []string
}

// Policy is a parsed policy. Quorum is a witness or group name, or "none".
type Policy struct {
	Logs      []Log
	Witnesses []Witness
	Groups    []Group
	Quorum    string
}

// Simple is the policy of one log with k of n witnesses (k = 0: none).
func Simple(log Log, witnesses []Witness, k int) *Policy {
	p := &Policy{Logs: []Log{log}, Witnesses: witnesses, Quorum: "none"}
	if k > 0 && len(witnesses) > 0 {
		names := make([]string, len(witnesses))
		for i, w := range witnesses {
			names[i] = w.Name
		}
		p.Groups = []Group{{Name: "quorum-of-witnesses", K: k, Members: names}}
		p.Quorum = "quorum-of-witnesses"
	}
	return p
}

// Format writes the policy as tlog-policy text, under a comment header.
func (p *Policy) Format(comment string) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(comment), "\n") {
		if line != "" {
			fmt.Fprintf(&b, "# %s\n", clean(line))
		}
	}
	for _, l := range p.Logs {
		fmt.Fprintf(&b, "log %s%s\n", l.VKey, opt(l.URL))
	}
	for _, w := range p.Witnesses {
		fmt.Fprintf(&b, "witness %s %s%s\n", w.Name, w.VKey, opt(w.URL))
	}
	for _, g := range p.Groups {
		k := strconv.Itoa(g.K)
		if g.K == len(g.Members) {
			k = "all"
		}
		fmt.Fprintf(&b, "group %s %s %s\n", g.Name, k, strings.Join(g.Members, " "))
	}
	fmt.Fprintf(&b, "quorum %s\n", p.Quorum)
	return b.Bytes()
}

func opt(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// clean keeps a comment to the allowed characters (no control characters).
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Parse reads a policy, refusing anything the specification does not
// allow: unknown lines, duplicate keys or names, forward references, a
// threshold out of range, not exactly one quorum line.
func Parse(b []byte) (*Policy, error) {
	bad := func(n int, format string, a ...any) error {
		return fmt.Errorf("%w: line %d: %s", ErrPolicy, n, fmt.Sprintf(format, a...))
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrPolicy, len(b), MaxBytes)
	}
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			return nil, fmt.Errorf("%w: control character 0x%02x at byte %d", ErrPolicy, c, i)
		}
	}
	p := &Policy{}
	names := map[string]bool{"none": true}
	keys := map[string]bool{}
	quorums := 0
	for i, line := range strings.Split(string(b), "\n") {
		n := i + 1
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "log":
			if len(f) < 2 || len(f) > 3 {
				return nil, bad(n, "log <vkey> [<url>]")
			}
			v, err := note.NewVerifier(f[1])
			if err != nil {
				return nil, bad(n, "log key: %v", err)
			}
			if k := keyOf(f[1]); keys[k] {
				return nil, bad(n, "duplicate key %s", v.Name())
			}
			keys[keyOf(f[1])] = true
			p.Logs = append(p.Logs, Log{VKey: f[1], URL: at(f, 2)})
		case "witness":
			if len(f) < 3 || len(f) > 4 {
				return nil, bad(n, "witness <name> <vkey> [<url>]")
			}
			if names[f[1]] {
				return nil, bad(n, "name %q defined twice", f[1])
			}
			if _, err := tlog.NewWitnessVerifier(f[2]); err != nil {
				return nil, bad(n, "witness key: %v", err)
			}
			if k := keyOf(f[2]); keys[k] {
				return nil, bad(n, "duplicate key for witness %s", f[1])
			}
			keys[keyOf(f[2])], names[f[1]] = true, true
			p.Witnesses = append(p.Witnesses, Witness{Name: f[1], VKey: f[2], URL: at(f, 3)})
		case "group":
			if len(f) < 4 {
				return nil, bad(n, "group <name> all|any|<k> <name>...")
			}
			if names[f[1]] {
				return nil, bad(n, "name %q defined twice", f[1])
			}
			members := f[3:]
			seen := map[string]bool{}
			for _, m := range members {
				if m == "none" || !names[m] || seen[m] {
					return nil, bad(n, "member %q is not defined above, is none, or is listed twice", m)
				}
				seen[m] = true
			}
			k := 0
			switch f[2] {
			case "all":
				k = len(members)
			case "any":
				k = 1
			default:
				v, err := strconv.Atoi(f[2])
				if err != nil || v < 1 || v > len(members) || strconv.Itoa(v) != f[2] {
					return nil, bad(n, "threshold %q is not all, any or 1..%d", f[2], len(members))
				}
				k = v
			}
			names[f[1]] = true
			p.Groups = append(p.Groups, Group{Name: f[1], K: k, Members: members})
		case "quorum":
			if len(f) != 2 || !names[f[1]] {
				return nil, bad(n, "quorum must name a witness or group defined above, or none")
			}
			quorums++
			p.Quorum = f[1]
		default:
			return nil, bad(n, "unknown line %q", f[0])
		}
		if len(p.Logs) > MaxLogs || len(p.Witnesses) > MaxWitnesses || len(p.Groups) > MaxGroups {
			return nil, bad(n, "more than %d logs, %d witnesses or %d groups", MaxLogs, MaxWitnesses, MaxGroups)
		}
	}
	if quorums != 1 {
		return nil, fmt.Errorf("%w: %d quorum lines, exactly one is required", ErrPolicy, quorums)
	}
	return p, nil
}

func at(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

// keyOf is the key material of a vkey (its last field), so that one key
// under two names counts as a duplicate.
func keyOf(vkey string) string {
	if i := strings.LastIndexByte(vkey, '+'); i >= 0 {
		return vkey[i+1:]
	}
	return vkey
}

// Check verifies a checkpoint against the policy: signed by one of its
// logs and cosigned to its quorum. It returns the names of the witnesses
// whose cosignatures verify.
func (p *Policy) Check(checkpoint []byte) ([]string, error) {
	var logs []note.Verifier
	for _, l := range p.Logs {
		v, err := note.NewVerifier(l.VKey)
		if err != nil {
			return nil, err
		}
		logs = append(logs, v)
	}
	if len(logs) > 0 {
		if _, err := note.Open(checkpoint, note.VerifierList(logs...)); err != nil {
			return nil, fmt.Errorf("the checkpoint is not signed by a log of the policy: %v", err)
		}
	}
	witnessed := map[string]bool{"none": true}
	var cosigners []string
	for _, w := range p.Witnesses {
		v, err := tlog.NewWitnessVerifier(w.VKey)
		if err != nil {
			return nil, err
		}
		if _, err := note.Open(checkpoint, note.VerifierList(v)); err == nil {
			witnessed[w.Name] = true
			cosigners = append(cosigners, w.Name)
		}
	}
	for _, g := range p.Groups { // each refers only to names above it
		k := 0
		for _, m := range g.Members {
			if witnessed[m] {
				k++
			}
		}
		witnessed[g.Name] = k >= g.K
	}
	if !witnessed[p.Quorum] {
		return cosigners, fmt.Errorf("the checkpoint's cosignatures (%d: %s) do not meet the quorum %q", len(cosigners), strings.Join(cosigners, ", "), p.Quorum)
	}
	return cosigners, nil
}
