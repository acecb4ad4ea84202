package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/brief"
	"github.com/hallmark-iot/hallmark/internal/insight"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// openInsight opens a data directory for reading figures: the store and an
// application without a log of its own (it reads the checkpoint the
// server published), naming the instance by publicURL in citations.
func (d *dataFlags) openInsight(ctx context.Context, publicURL string) (*server.Server, func(), error) {
	if d.db == "" {
		if _, err := os.Stat(d.dsn()); err != nil {
			return nil, nil, fmt.Errorf("no Hallmark data in %s (give --data, or --db)", d.data)
		}
	}
	st, err := store.Open(ctx, d.dsn())
	if err != nil {
		return nil, nil, err
	}
	srv, err := server.New(ctx, st, server.Config{DataDir: d.data, WithoutLog: true, PublicURL: publicURL})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return srv, func() { srv.Close(context.Background()); st.Close() }, nil
}

func runBrief(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("brief", "brief [flags] KIND NAME [key=value ...]",
		`Writes a briefing as the pages serve it at /briefings/KIND/NAME?key=value:
  hallmark brief indicators support-5y by=category
  hallmark brief whatif sg-cls@2 add=support>=5 add=HM-UPD-4
  hallmark brief replay all rule=@proposed-rule.yaml      (or a scheme id for all)
  hallmark brief targets T-XXXX-XXXX
  hallmark brief compare 'sg-cls@3~fi-traficom@label'
A value starting with @ is read from that file (at most 16 KiB). The figures
cite the log checkpoint the server last published in the data directory.`, stderr)
	var d dataFlags
	d.register(fs)
	format := fs.String("format", "md", "md, html or pdf")
	out := fs.String("o", "", "write to this file instead of standard output")
	public := fs.String("public-url", envOr("HALLMARK_PUBLIC_URL", "http://localhost:8080"), "the instance's public URL, for the briefing's links and citation")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usagef("give the kind of briefing and its name, e.g. brief indicators support-5y")
	}
	if *format != "md" && *format != "html" && *format != "pdf" {
		return usagef("--format is md, html or pdf, not %q", *format)
	}
	kind, name := fs.Arg(0), fs.Arg(1)
	q := url.Values{}
	for _, kv := range fs.Args()[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("%q: give parameters as key=value", kv)
		}
		if strings.HasPrefix(v, "@") {
			b, err := peer.ReadFileLimited(v[1:], 16<<10)
			if err != nil {
				return err
			}
			v = string(b)
		}
		q.Add(k, v)
	}
	srv, closeAll, err := d.openInsight(ctx, *public)
	if err != nil {
		return err
	}
	defer closeAll()
	full := strings.TrimRight(*public, "/") + "/briefings/" + kind + "/" + url.PathEscape(name)
	if enc := q.Encode(); enc != "" {
		full += "?" + enc
	}
	b, err := brief.For(ctx, srv, kind, name, q, full)
	if err != nil {
		return err
	}
	var body []byte
	switch *format {
	case "md":
		body = b.Markdown()
	default:
		if body, err = b.HTML(); err != nil {
			return err
		}
		if *format == "pdf" {
			if body, err = brief.PDF(ctx, body, ""); err != nil {
				return err
			}
		}
	}
	if *out == "" {
		_, err = stdout.Write(body)
		return err
	}
	if err := os.WriteFile(*out, body, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes): %s\n", *out, len(body), b.Citation)
	return nil
}

// figureDiffers is figure verify's exit when the figure does not recompute.
type figureDiffers struct{}

func (figureDiffers) Error() string { return "the figure does not recompute" }
func (figureDiffers) ExitCode() int { return 3 }

func runFigure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stderr, "Usage: hallmark figure verify [flags] METADATA.json\n\nRecomputes a published figure from a mirror of the registry and the log.")
			return flag.ErrHelp
		}
		return usagef("the only figure command is verify: hallmark figure verify METADATA.json")
	}
	fs := newFlagSet("figure verify", "figure verify [flags] METADATA.json",
		`Recomputes a figure from its metadata file (the indicator page's "metadata (JSON)"
download): reads the log's first entries up to the checkpoint the figure cites, checks
that they hash to its root and that the log's current signed checkpoint extends it,
rebuilds the label histories from those entries, reads the rest from the registry, and
computes the figure again by the definition version it names. Exit 0: the same figure;
3: it differs (each difference is listed); 1: it could not be checked.`, stderr)
	var d dataFlags
	d.register(fs)
	logAt := fs.String("log", "", "the log to read: a directory, or the instance's URL (default: the log in --data)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one metadata file")
	}
	raw, err := peer.ReadFileLimited(fs.Arg(0), 64<<20)
	if err != nil {
		return err
	}
	md, err := insight.ReadMetadata(raw)
	if err != nil {
		return err
	}
	f := md.Figure
	def, err := insight.Lookup(f.Indicator, f.Version)
	if err != nil {
		return fmt.Errorf("this Hallmark cannot compute %s version %d: %w", f.Indicator, f.Version, err)
	}
	if md.DefinitionDigest != "" && md.DefinitionDigest != def.Digest() {
		fmt.Fprintf(stdout, "note: the metadata's definition text (SHA-256 %s) differs from this binary's %s version %d (%s)\n",
			md.DefinitionDigest, def.ID, def.Version, def.Digest())
	}
	// The log: its current signed checkpoint, then the cited prefix.
	fetch := tlog.DirFetcher(filepath.Join(d.data, "log"))
	switch {
	case strings.HasPrefix(*logAt, "http://") || strings.HasPrefix(*logAt, "https://"):
		fetch = tlog.HTTPFetcher(strings.TrimRight(*logAt, "/")+"/log", &http.Client{Timeout: 30 * time.Second})
	case *logAt != "":
		fetch = tlog.DirFetcher(*logAt)
	}
	vs, _, err := tlog.Verifiers(filepath.Join(d.data, "logkeys"))
	if err != nil {
		return fmt.Errorf("the log's keys (in %s): %w", filepath.Join(d.data, "logkeys"), err)
	}
	cpRaw, err := fetch(ctx, "checkpoint")
	if err != nil {
		return fmt.Errorf("read the log's checkpoint: %w", err)
	}
	cur, err := tlog.VerifyCheckpoint(cpRaw, vs)
	if err != nil {
		return err
	}
	cited, err := base64.StdEncoding.DecodeString(f.Checkpoint.Root)
	if err != nil {
		return fmt.Errorf("the figure's checkpoint root is not base64: %w", err)
	}
	if f.Checkpoint.Origin != "" && f.Checkpoint.Origin != cur.Origin {
		return fmt.Errorf("the figure cites log %s; this log is %s", f.Checkpoint.Origin, cur.Origin)
	}
	entries, root, err := tlog.PrefixEntries(ctx, fetch, f.Checkpoint.Size)
	if err != nil {
		return err
	}
	var problems []string
	if string(root) != string(cited) {
		problems = append(problems, fmt.Sprintf("the log's first %d entries hash to %s, not to the root the figure cites (%s): it was not computed from this log",
			f.Checkpoint.Size, base64.StdEncoding.EncodeToString(root), f.Checkpoint.Root))
	} else if err := tlog.ConsistentWith(ctx, fetch, f.Checkpoint.Size, root, cur); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, "DIFFERS:", p)
		}
		return figureDiffers{}
	}
	fmt.Fprintf(stdout, "log: the first %d entries hash to the cited root %s, and the signed checkpoint (size %d) extends them\n",
		f.Checkpoint.Size, f.Checkpoint.Root, cur.Size)
	var events []server.LabelEvent
	for _, e := range entries {
		if !strings.HasPrefix(e.Kind, "label.") {
			continue
		}
		seq, _ := strconv.ParseInt(e.Ref, 10, 64)
		events = append(events, server.LabelEvent{Label: e.Subject, Status: e.Status, At: e.At, Seq: seq})
	}
	srv, closeAll, err := d.openInsight(ctx, md.Instance)
	if err != nil {
		return err
	}
	defer closeAll()
	m, err := srv.BuildMarket(ctx, f.Checkpoint, f.At, events)
	if err != nil {
		return err
	}
	again, err := insight.Compute(m, def, f.Query)
	if err != nil {
		return err
	}
	diffs := insight.Compare(f, again)
	fmt.Fprintf(stdout, "figure: %s version %d, %s, as of %s, from %d label decisions in the log\n", f.Indicator, f.Version, f.Query.Scope(),
		f.At.UTC().Format(time.RFC3339), len(events))
	if len(diffs) == 0 {
		fmt.Fprintf(stdout, "OK: the figure recomputes exactly: %s (%d of %d)\n", def.Format(again.Total.Value), again.Total.Num, again.Total.Den)
		return nil
	}
	for _, d := range diffs {
		fmt.Fprintln(stdout, "DIFFERS:", d)
	}
	fmt.Fprintln(stdout, "The registry may have changed since the figure was computed (facts, findings, assessments); the label histories come from the log itself.")
	return figureDiffers{}
}
