package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/server"
)

const catalogHelp = `Usage: hallmark catalog <subcommand> [flags]

Subcommands:
  list                 list the requirements (or --frameworks)
  show ID              show one requirement, or one framework
  export               write the catalogue as OSCAL, CSV or JSON
  crosswalk FROM TO    how framework TO covers framework FROM, item by item
  import FILE          import an authority's OSCAL catalog as a framework
  check [DIR]          validate catalogue data files (default: the built-in ones)

Run 'hallmark catalog <subcommand> --help' for its flags.
`

func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, catalogHelp)
		return usagef("name a subcommand")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, catalogHelp)
		return nil
	case "list":
		return catalogList(ctx, rest, stdout, stderr)
	case "show":
		return catalogShow(ctx, rest, stdout, stderr)
	case "export":
		return catalogExport(ctx, rest, stdout, stderr)
	case "crosswalk":
		return catalogCrosswalk(ctx, rest, stdout, stderr)
	case "import":
		return catalogImport(ctx, rest, stdout, stderr)
	case "check":
		return catalogCheck(ctx, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, catalogHelp)
	return usagef("unknown subcommand %q", sub)
}

// openCatalog loads the whole catalogue, imported frameworks included, from
// the data directory, or the built-in one when there is none yet (see
// openReader). close releases what it opened.
func openCatalog(ctx context.Context, d dataFlags) (*catalog.Catalog, func(), error) {
	srv, close, err := d.openReader(ctx)
	if err != nil {
		return nil, nil, err
	}
	return srv.Catalog(), close, nil
}

func catalogList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("catalog list", "catalog list [flags]", "Lists the requirements, or the frameworks with --frameworks.", stderr)
	var d dataFlags
	d.register(fs)
	q := fs.String("q", "", "only requirements containing all these words")
	topic := fs.String("topic", "", "only requirements of this topic (e.g. UPD)")
	frameworks := fs.Bool("frameworks", false, "list frameworks instead of requirements")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, closeCatalog, err := openCatalog(ctx, d)
	if err != nil {
		return err
	}
	defer closeCatalog()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if *frameworks {
		fmt.Fprintln(tw, "ID\tITEMS\tUNMAPPED\tSOURCE\tTITLE")
		for _, f := range c.Frameworks {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", f.ID, len(f.Items), len(c.Unmapped(f.ID)), f.Source, f.Title)
		}
		return tw.Flush()
	}
	if *topic != "" {
		if _, ok := c.Topic(strings.ToUpper(*topic)); !ok {
			return usagef("unknown topic %q", *topic)
		}
	}
	fmt.Fprintln(tw, "ID\tTOPIC\tTITLE")
	for _, r := range c.Search(*q, *topic) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Topic, r.Title)
	}
	return tw.Flush()
}

func catalogShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("catalog show", "catalog show [flags] ID", "Shows one requirement (e.g. HM-UPD-2) or one framework (e.g. uk-psti-2023).", stderr)
	var d dataFlags
	d.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("name one requirement or framework id")
	}
	c, closeCatalog, err := openCatalog(ctx, d)
	if err != nil {
		return err
	}
	defer closeCatalog()
	id := fs.Arg(0)
	if r, ok := c.Requirement(strings.ToUpper(id)); ok {
		topic, _ := c.Topic(r.Topic)
		fmt.Fprintf(stdout, "%s  %s\nTopic: %s\n\nIn plain words\n  %s\n\nWhy it matters\n  %s\n", r.ID, r.Title, topic.Name, wrap(r.Summary), wrap(r.Why))
		if r.Incident != "" {
			fmt.Fprintf(stdout, "  Incident: %s\n", r.Incident)
		}
		fmt.Fprintf(stdout, "\nFor engineers\n  %s\n\nVerification: ", wrap(r.Technical))
		for i, m := range r.Verification {
			if i > 0 {
				fmt.Fprint(stdout, ", ")
			}
			fmt.Fprint(stdout, m)
		}
		fmt.Fprintln(stdout)
		if r.Unsecurable {
			fmt.Fprintf(stdout, "Un-securable if unmet: %s\n", r.UnsecurableNote)
		}
		fmt.Fprintln(stdout, "\nMappings")
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, m := range r.Mappings {
			it, _ := c.Item(m.Framework, m.Item)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", m.Framework, m.Item, m.Rel, it.Title)
		}
		return tw.Flush()
	}
	if f, ok := c.Framework(id); ok {
		fmt.Fprintf(stdout, "%s\n%s, version %s, published %s\n%s\n\n%s\n\n", f.Title, f.Publisher, f.Version, f.Published, f.URL, wrap(f.Description))
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ITEM\tSTATUS\tTITLE\tREQUIREMENTS")
		for _, it := range f.Items {
			var reqs []string
			for _, l := range c.MappedBy(f.ID, it.ID) {
				reqs = append(reqs, l.Requirement)
			}
			mapped := strings.Join(reqs, " ")
			if mapped == "" {
				mapped = "(gap) " + it.Gap
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.ID, it.Status, it.Title, mapped)
		}
		return tw.Flush()
	}
	return fmt.Errorf("no requirement or framework %q (try 'hallmark catalog list' or 'hallmark catalog list --frameworks')", id)
}

// wrap indents continuation lines of a paragraph for terminal output.
func wrap(s string) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if col+len(w) > 88 {
				b.WriteString("\n  ")
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

func catalogExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("catalog export", "catalog export [flags]",
		"Writes the catalogue. --format oscal writes an OSCAL catalog (or, with --mappings,\n"+
			"an OSCAL 1.2 mapping-collection); csv writes a spreadsheet; json writes everything.", stderr)
	var d dataFlags
	d.register(fs)
	format := fs.String("format", "oscal", "oscal, csv or json")
	framework := fs.String("framework", "", "export this framework's items instead of the Hallmark requirements")
	mappings := fs.Bool("mappings", false, "export the requirement-to-framework mappings")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *framework != "" && *mappings && *format == "csv" {
		return usagef("--framework and --mappings do not combine for csv")
	}
	c, closeCatalog, err := openCatalog(ctx, d)
	if err != nil {
		return err
	}
	defer closeCatalog()
	if *framework != "" {
		if _, ok := c.Framework(*framework); !ok {
			return fmt.Errorf("no framework %q (see 'hallmark catalog list --frameworks')", *framework)
		}
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	switch *format {
	case "oscal":
		switch {
		case *mappings && *framework != "":
			doc, err := c.OSCALMappings(*framework)
			if err != nil {
				return err
			}
			return enc.Encode(doc)
		case *mappings:
			doc, err := c.OSCALMappings()
			if err != nil {
				return err
			}
			return enc.Encode(doc)
		case *framework != "":
			doc, err := c.FrameworkOSCAL(*framework)
			if err != nil {
				return err
			}
			return enc.Encode(doc)
		}
		return enc.Encode(c.OSCAL())
	case "csv":
		switch {
		case *mappings:
			return c.WriteMappingsCSV(w)
		case *framework != "":
			return c.WriteFrameworkCSV(w, *framework)
		}
		return c.WriteRequirementsCSV(w)
	case "json":
		return enc.Encode(struct {
			Topics       []catalog.Topic       `json:"topics"`
			Requirements []catalog.Requirement `json:"requirements"`
			Frameworks   []catalog.Framework   `json:"frameworks"`
			Glossary     []catalog.Term        `json:"glossary"`
		}{c.Topics, c.Requirements, c.Frameworks, c.Glossary})
	}
	return usagef("--format must be oscal, csv or json, not %q", *format)
}

func catalogCrosswalk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("catalog crosswalk", "catalog crosswalk [flags] FROM TO",
		"Shows how far meeting framework TO goes towards meeting framework FROM, item by item.", stderr)
	var d dataFlags
	d.register(fs)
	asCSV := fs.Bool("csv", false, "write CSV instead of a table")
	gapsOnly := fs.Bool("gaps", false, "show only the items not fully covered")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("name two frameworks: FROM TO (see 'hallmark catalog list --frameworks')")
	}
	c, closeCatalog, err := openCatalog(ctx, d)
	if err != nil {
		return err
	}
	defer closeCatalog()
	x, err := c.Crosswalk(fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	if *asCSV {
		return catalog.WriteCrosswalkCSV(stdout, x)
	}
	fmt.Fprintln(stdout, x.Sentence())
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tCOVERAGE\t%s\tEXPLANATION\n", strings.ToUpper(x.From.Short), strings.ToUpper(x.To.Short))
	for _, r := range x.Rows {
		if *gapsOnly && r.Strength == catalog.Full {
			continue
		}
		var ts []string
		for _, t := range r.Targets {
			ts = append(ts, t.Item.ID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Item.ID, r.Strength, strings.Join(ts, " "), r.Summary)
	}
	return tw.Flush()
}

func catalogImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("catalog import", "catalog import [flags] --id ID FILE",
		"Imports an authority's own requirements, as an OSCAL catalog in JSON, as a new framework.\n"+
			"Nothing is stored unless the whole file is valid.", stderr)
	var d dataFlags
	d.register(fs)
	id := fs.String("id", "", "id for the new framework, e.g. acme-baseline-2026 (required)")
	replace := fs.Bool("replace", false, "replace a framework imported earlier under the same id")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *id == "" {
		return usagef("give --id and one OSCAL catalog file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	fw, err := catalog.ImportOSCAL(*id, f)
	if err != nil {
		return fmt.Errorf("%s: not imported:\n%w", fs.Arg(0), err)
	}
	srv, _, closeServer, err := d.openServer(ctx)
	if err != nil {
		return err
	}
	defer closeServer()
	if err := srv.ImportFramework(ctx, fw, *replace); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %s: %d items from %s\n", fw.ID, len(fw.Items), fs.Arg(0))
	return nil
}

func catalogCheck(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("catalog check", "catalog check [DIR]",
		"Validates catalogue data files (topics.yaml, requirements/, frameworks/, gaps.yaml,\n"+
			"glossary.yaml) and reports every problem with its file and line.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	var c *catalog.Catalog
	var err error
	switch fs.NArg() {
	case 0:
		c, err = server.LoadBuiltin()
	case 1:
		c, err = catalog.Load(os.DirFS(fs.Arg(0)), ".")
	default:
		return usagef("name at most one directory")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %d topics, %d requirements, %d frameworks, %d glossary terms\n",
		len(c.Topics), len(c.Requirements), len(c.Frameworks), len(c.Glossary))
	return nil
}
