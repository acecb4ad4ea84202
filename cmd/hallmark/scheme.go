package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
)

const schemeHelp = `Usage: hallmark scheme <subcommand> [flags]

Subcommands:
  list                 list the schemes
  show ID              show a scheme: levels, requirements, rules
  validate FILE...     check scheme files (YAML or JSON) against the catalogue
  compare A@x B@y      could a label of A at level x be recognised as B at level y?
  agreements           check the recorded mutual-recognition agreements
  matrix               coverage of every level by every other
  export ID@LEVEL      write a level as an OSCAL profile

Run 'hallmark scheme <subcommand> --help' for its flags.
`

func runScheme(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, schemeHelp)
		return usagef("name a subcommand")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, schemeHelp)
		return nil
	case "list", "show", "compare", "agreements", "matrix", "export":
		return schemeQuery(ctx, sub, rest, stdout, stderr)
	case "validate":
		return schemeValidate(ctx, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, schemeHelp)
	return usagef("unknown subcommand %q", sub)
}

var schemeSynopsis = map[string][2]string{
	"list":       {"scheme list [flags]", "Lists the schemes."},
	"show":       {"scheme show [flags] ID", "Shows a scheme: its levels, what each requires and how, its rules."},
	"compare":    {"scheme compare [flags] A@x B@y", "Says whether a label of A at level x could be recognised as B at level y, with the gaps\nand assurance differences. The level may be left out for single-level schemes."},
	"agreements": {"scheme agreements [flags]", "Checks each recorded mutual-recognition agreement against the catalogue."},
	"matrix":     {"scheme matrix [flags]", "Prints how much of each level (columns) every level (rows) covers, in percent."},
	"export":     {"scheme export [flags] ID@LEVEL", "Writes the level as an OSCAL profile over the Hallmark catalogue."},
}

func schemeQuery(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	syn := schemeSynopsis[sub]
	fs := newFlagSet("scheme "+sub, syn[0], syn[1], stderr)
	var d dataFlags
	d.register(fs)
	asJSON := fs.Bool("json", false, "write JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	want := map[string]int{"list": 0, "show": 1, "compare": 2, "agreements": 0, "matrix": 0, "export": 1}[sub]
	if fs.NArg() != want {
		return usagef("%s takes %d argument(s): hallmark %s", sub, want, syn[0])
	}
	srv, closeServer, err := d.openReader(ctx)
	if err != nil {
		return err
	}
	defer closeServer()
	c, set := srv.Catalog(), srv.Schemes()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()

	switch sub {
	case "list":
		if *asJSON {
			return enc.Encode(set.Sorted())
		}
		fmt.Fprintln(tw, "ID\tSTATUS\tKIND\tLEVELS\tOWNER\tNAME")
		for _, s := range set.Sorted() {
			var ls []string
			for _, l := range s.Levels {
				ls = append(ls, l.ID)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Status, s.Kind, strings.Join(ls, ","), s.Owner, s.Name)
		}
	case "show":
		s, ok := set[fs.Arg(0)]
		if !ok {
			return fmt.Errorf("no scheme %q (see 'hallmark scheme list')", fs.Arg(0))
		}
		if *asJSON {
			return enc.Encode(s)
		}
		fmt.Fprintf(stdout, "%s (%s)\n%s · %s · %s · keeps %ss · version %s\n\n%s\n\n%ss last %s.\n", s.Name, s.ID, s.Owner, s.Jurisdiction, s.Status, s.Kind.Record(), s.Version,
			wrap(s.Description), strings.ToUpper(s.Kind.Record()[:1])+s.Kind.Record()[1:], s.Validity.Describe())
		for _, u := range s.Unverified {
			fmt.Fprintf(stdout, "Unverified: %s: %s\n", u.Fact, wrap(u.Note))
		}
		for _, src := range s.Sources {
			fmt.Fprintf(stdout, "Source: %s (checked %s)\n", src.Ref, src.Checked)
		}
		for _, l := range s.Levels {
			r, err := scheme.Resolve(c, s, l.ID)
			if err != nil {
				return err
			}
			// "Level 1 (1)" says the id twice; the id is shown only when
			// the name does not already carry it.
			name := l.Name
			if !strings.Contains(strings.ToLower(l.Name), strings.ToLower(l.ID)) {
				name += " (" + l.ID + ")"
			}
			fmt.Fprintf(stdout, "\n%s: %d requirements, %s\n  %s\n", name, len(r.Needs), l.Method.Describe(), wrap(l.Summary))
			for _, n := range r.Needs {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", n.Requirement.ID, n.Method, n.Requirement.Title)
			}
			tw.Flush()
		}
		if len(s.Rules) > 0 {
			fmt.Fprintln(stdout, "\nPost-market rules")
		}
		for _, r := range s.Rules {
			var acts []string
			for _, a := range r.Then {
				acts = append(acts, a.Describe())
			}
			fmt.Fprintf(stdout, "  %s: when %s: %s.\n", r.ID, r.When.Describe(), strings.Join(acts, ", then "))
		}
	case "compare":
		a, err := set.ResolveRef(c, fs.Arg(0))
		if err != nil {
			return err
		}
		b, err := set.ResolveRef(c, fs.Arg(1))
		if err != nil {
			return err
		}
		x := scheme.Compare(a, b)
		if *asJSON {
			return enc.Encode(struct {
				A, B     string
				Percent  int
				Verdict  scheme.Verdict
				Gaps     []string
				Shortage []string
			}{a.Label(), b.Label(), x.Percent(), x.Verdict, needIDs(x.Gaps), matchIDs(x.Shortfalls())})
		}
		fmt.Fprintf(stdout, "%s → %s: %d%% (%d of %d requirements)\n\n%s\n", a.Label(), b.Label(), x.Percent(), len(x.Covered), len(b.Needs), wrap(x.Verdict.Summary))
		for _, r := range x.Verdict.Reasons {
			fmt.Fprintf(stdout, "  - %s\n", wrap(r))
		}
	case "agreements":
		for _, ag := range srv.Agreements() {
			chk := set.Check(c, ag)
			fmt.Fprintf(stdout, "%s: %s (signed %s)\n  %s\n", ag.ID, ag.Title, ag.Signed, wrap(chk.Summary))
			for _, d := range chk.Directions {
				fmt.Fprintf(stdout, "  %s → %s: %s. %s\n", d.From, d.To, d.Support, wrap(d.Explanation))
			}
			fmt.Fprintln(stdout)
		}
	case "matrix":
		levels, err := set.AllLevels(c)
		if err != nil {
			return err
		}
		m := scheme.BuildMatrix(levels)
		fmt.Fprint(tw, "holder \\ target")
		for _, l := range m.Levels {
			fmt.Fprintf(tw, "\t%s", l.Label())
		}
		fmt.Fprintln(tw)
		for i, l := range m.Levels {
			fmt.Fprint(tw, l.Label())
			for _, cell := range m.Cells[i] {
				fmt.Fprintf(tw, "\t%d", cell.Percent)
			}
			fmt.Fprintln(tw)
		}
	case "export":
		r, err := set.ResolveRef(c, fs.Arg(0))
		if err != nil {
			return err
		}
		return enc.Encode(r.OSCALProfile("hallmark-catalog.oscal.json"))
	}
	return nil
}

func needIDs(ns []scheme.Need) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Requirement.ID)
	}
	return out
}

func matchIDs(ms []scheme.Match) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Requirement.ID)
	}
	return out
}

func schemeValidate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scheme validate", "scheme validate FILE...",
		"Checks scheme files (YAML or JSON) against the built-in catalogue and reports every\nproblem with its file and line. Exits 1 if any file is invalid.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("name at least one scheme file")
	}
	c, err := server.LoadBuiltin()
	if err != nil {
		return err
	}
	failed := 0
	for _, name := range fs.Args() {
		b, err := readLimited(name, 1<<20)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			failed++
			continue
		}
		s, err := scheme.Parse(name, b, c)
		if err != nil {
			fmt.Fprintln(stderr, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok: scheme %s, %d level(s), %d rule(s)\n", name, s.ID, len(s.Levels), len(s.Rules))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d file(s) invalid", failed, fs.NArg())
	}
	return nil
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d KiB; a scheme file is far smaller", limit>>10)
	}
	return b, nil
}
