package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/feed"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/sbom"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/watch"
)

const ingestDescription = `Feeds the post-market watch: reads advisories (CSAF 2.0, OSV JSON or YAML,
an OSV zip), CISA's KEV catalogue, or VEX (OpenVEX, CSAF VEX, CycloneDX VEX)
from a file or a directory, stores them, matches them against every labelled
product version and applies each scheme's post-market rules through the
decision gate. The kind (csaf, osv, kev, vex) says what the files must be;
a file of another kind is refused. Ingesting the same document twice changes
nothing. An ingest that would change more than 5% of all labels at once is
held: nothing changes until it is run again with --confirm.

With csaf, PATH may instead be a CSAF provider: the URL of its
provider-metadata.json, or its domain with --provider. Its keys are checked
against the metadata's fingerprints, its ROLIE feeds and directories walked,
and every document whose hash and signature verify is ingested; the rest
are refused and listed. What was seen is kept in --data/feeds/, so the next
run asks only for what changed.

Decisions are recorded with their log outbox rows; the next 'hallmark serve'
on the same --data appends them to the transparency log.`

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ingest", "ingest csaf|osv|kev|vex PATH [flags]", ingestDescription, stderr)
	var d dataFlags
	d.register(fs)
	confirm := fs.Bool("confirm", false, "apply label changes even when they exceed the hold threshold")
	provider := fs.Bool("provider", false, "PATH is a CSAF provider's domain (an http(s) URL always is a provider)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("give the kind (csaf, osv, kev or vex) and a file or directory")
	}
	kind, path := fs.Arg(0), fs.Arg(1)
	want := map[string][]advisory.Format{"csaf": {advisory.FormatCSAF}, "osv": {advisory.FormatOSV}, "kev": {advisory.FormatKEV},
		"vex": {advisory.FormatOpenVEX, advisory.FormatCSAFVEX, advisory.FormatCycloneDXVEX}}[kind]
	if want == nil {
		return usagef("the kind is csaf, osv, kev or vex, not %q", kind)
	}
	fromProvider := *provider || strings.HasPrefix(path, "https://") || strings.HasPrefix(path, "http://")
	if fromProvider && kind != "csaf" {
		return usagef("only csaf is read from a provider, not %s", kind)
	}
	srv, _, closeServer, err := d.openServer(ctx)
	if err != nil {
		return err
	}
	defer closeServer()
	if fromProvider {
		return ingestProvider(ctx, srv, path, server.IngestOptions{Confirm: *confirm}, stdout, stderr)
	}
	progress := newProgress(stderr)
	var total server.IngestReport
	var batch []*advisory.Document
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rep, err := srv.Ingest(ctx, auth.System, batch, server.IngestOptions{Confirm: *confirm})
		if err != nil {
			return err
		}
		total, batch = total.Add(rep), nil
		return nil
	}
	n := 0
	err = readDocuments(path, func(name string, doc *advisory.Document) error {
		if !containsFormat(want, doc.Format) {
			return fmt.Errorf("%s is %s, not %s", name, doc.Format, kind)
		}
		n++
		batch = append(batch, doc)
		progress.step(n, name)
		if len(batch) == ingestBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	progress.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Documents    %d\n", n)
	printIngest(stdout, total)
	return nil
}

// feedOptions configure the CSAF provider client (tests trust their
// server's certificate through it).
var feedOptions feed.Options

// ingestProvider polls a CSAF provider and ingests what it hands over.
func ingestProvider(ctx context.Context, srv *server.Server, provider string, opts server.IngestOptions, stdout, stderr io.Writer) error {
	progress := newProgress(stderr)
	rep, total, err := srv.PollProvider(ctx, feed.New(feedOptions), provider, opts, func(n int, doc *advisory.Document) {
		progress.step(n, doc.ID)
	})
	progress.done()
	if rep.Provider != "" {
		fmt.Fprintf(stdout, "Provider     %s (%s, %s)\nListings     %d read, %d unchanged\nDocuments    %d fetched, %d unchanged, %d ingested, %d refused\n",
			rep.Provider, rep.Publisher, rep.Role, rep.Listings, rep.ListingsUnchanged, rep.Fetched, rep.Unchanged, rep.Ingested, len(rep.Refused))
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	for _, r := range rep.Refused {
		fmt.Fprintf(stderr, "refused: %s\n", r)
	}
	if err != nil {
		return err
	}
	printIngest(stdout, total)
	if rep.Truncated {
		fmt.Fprintf(stdout, "Stopped at the limit of documents per poll: run again to go on.\n")
	}
	if len(rep.Refused) > 0 {
		return fmt.Errorf("%d of the provider's keys, listings or documents were refused (listed above)", len(rep.Refused))
	}
	return nil
}

func printIngest(stdout io.Writer, total server.IngestReport) {
	fmt.Fprintf(stdout, "Advisories   %d stored, %d unchanged, %d older revisions ignored\nExploited    %d CVEs\nVEX          %d statements on registered versions\n",
		total.Advisories, total.Unchanged, total.Older, total.Exploited, total.Statements)
	fmt.Fprintf(stdout, "Findings     %d (%d waiting for a person)\nNotified     %d\nDeadlines    %d\nLabels       %d suspended, %d restored, %d revoked, %d expired\n",
		total.Findings, total.Review, total.Notified, total.Deadlines, total.Suspended, total.Restored, total.Revoked, total.Expired)
	if total.Held {
		fmt.Fprintf(stdout, "HELD         %s\n", total.Why)
	}
}

// ingestBatch is how many documents one watch pass acts on.
const ingestBatch = 1000

func containsFormat(fs []advisory.Format, f advisory.Format) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// readDocuments reads one file, an OSV zip, or every document below a
// directory, in order.
func readDocuments(path string, fn func(name string, doc *advisory.Document) error) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() {
		return advisory.ReadDir(os.DirFS(path), ".", func(p string, doc *advisory.Document) error {
			return fn(filepath.Join(path, p), doc)
		})
	}
	if strings.HasSuffix(path, ".zip") {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		i := 0
		return advisory.ReadOSVZip(f, info.Size(), func(doc *advisory.Document) error {
			i++
			return fn(fmt.Sprintf("%s#%d", path, i), doc)
		})
	}
	b, err := peer.ReadFileLimited(path, advisory.MaxDocumentSize)
	if err != nil {
		return err
	}
	doc, err := advisory.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fn(path, doc)
}

// progress draws a one-line counter on a terminal, and nothing otherwise.
type progress struct {
	w   io.Writer
	tty bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) step(n int, name string) {
	if p.tty && (n%25 == 0 || n < 25) {
		if len(name) > 60 {
			name = "…" + name[len(name)-59:]
		}
		fmt.Fprintf(p.w, "\r\033[K%6d documents  %s", n, name)
	}
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

const scanDescription = `Matches one SBOM (CycloneDX JSON or XML, SPDX JSON or tag-value) against the
advisories stored in --data, offline, and prints the vulnerabilities found.
--format json follows osv-scanner's JSON output (results, packages,
vulnerabilities with id and aliases), so tools that read one read the other.
Exit status: 0 nothing found, 1 error, 2 usage, 4 vulnerabilities found.`

// scanFound is the exit status when a scan finds vulnerabilities.
type scanFound int

func (e scanFound) Error() string { return fmt.Sprintf("%d vulnerable package(s) found", int(e)) }
func (e scanFound) ExitCode() int { return 4 }

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scan", "scan SBOM [flags]", scanDescription, stderr)
	var d dataFlags
	d.register(fs)
	format := fs.String("format", "table", "table or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one SBOM file")
	}
	if *format != "table" && *format != "json" {
		return usagef("--format is table or json")
	}
	b, err := peer.ReadFileLimited(fs.Arg(0), 32<<20)
	if err != nil {
		return err
	}
	doc, err := sbom.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	st, err := store.Open(ctx, d.dsn())
	if err != nil {
		return err
	}
	defer st.Close()
	stored, err := st.Advisories(ctx)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		return errors.New("no advisories are stored in this --data: run 'hallmark ingest osv DIR' first")
	}
	advs := make([]advisory.Advisory, 0, len(stored))
	for _, sa := range stored {
		var a advisory.Advisory
		if err := json.Unmarshal(sa.Body, &a); err != nil {
			return err
		}
		advs = append(advs, a)
	}
	findings := watch.MatchComponents(doc.Components, advs)
	if *format == "json" {
		out, err := watch.OSVScannerJSON(fs.Arg(0), findings, advs)
		if err != nil {
			return err
		}
		stdout.Write(out)
	} else {
		fmt.Fprintf(stdout, "%d components, %d advisories\n", len(doc.Components), len(advs))
		for _, f := range findings {
			fixed := strings.Join(f.Fixed, ", ")
			if fixed == "" {
				fixed = "no fix listed"
			}
			fmt.Fprintf(stdout, "%-22s %-50s fixed in %s\n", f.AdvisoryID, f.Component, fixed)
		}
	}
	if len(findings) > 0 {
		return scanFound(len(findings))
	}
	return nil
}
