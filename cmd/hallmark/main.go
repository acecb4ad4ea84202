// Command hallmark runs the Hallmark platform: the web server and API, and
// command-line tools over the same data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/hallmark-iot/hallmark/internal/datadir"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"serve", "run the web server and API", runServe},
	{"catalog", "browse, export and import the catalogue of requirements", runCatalog},
	{"scheme", "list, show, validate and compare schemes; check agreements", runScheme},
	{"verify", "verify a label credential: signature, validity and status, online or offline", runVerify},
	{"trust", "add, remove or list the issuers whose labels verify accepts", runTrust},
	{"peer", "add, remove or list peer authorities by their signed trust lists", runPeer},
	{"bundle", "write an offline bundle of a peer (trust list, keys, status lists, checkpoint)", runBundle},
	{"audit", "audit an authority's transparency log and its registry against it", runAudit},
	{"publish", "write the public read path (label pages, status lists, keys, log, registry) as static files", runPublish},
	{"ingest", "feed advisories, KEV and VEX to the post-market watch", runIngest},
	{"scan", "match one SBOM against the stored advisories, offline", runScan},
	{"account", "create an organisation and its first user; disable, enable or reset a user", runAccount},
	{"token", "create, list or revoke a user's API tokens", runToken},
	{"keys", "list, rotate or mark compromised the label-signing keys; rotate the log key", runKeys},
	{"backup", "write a consistent backup of the database, log, keys and evidence", runBackup},
	{"restore", "restore a backup into a new data directory and database, or check one", runRestore},
	{"brief", "write a briefing (an indicator, a what-if, a replay, a target, a comparison) as Markdown, HTML or PDF", runBrief},
	{"figure", "verify a published figure against a mirror of the registry and the log", runFigure},
	{"version", "print the version", runVersion},
}

var version = "dev"

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version", "Prints the version of this hallmark binary and of the Go toolchain that built it.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("takes no arguments")
	}
	fmt.Fprintln(stdout, "hallmark", version, runtime.Version())
	return nil
}

// usageError is an error the user fixes by changing the command line; it
// exits with status 2.
type usageError string

func (e usageError) Error() string { return string(e) }

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			if c.name != "serve" {
				// A command's answer is its output; the store's progress
				// lines are for a server's log.
				slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
			}
			err := c.run(ctx, args[1:], stdout, stderr)
			var ue usageError
			var coded interface{ ExitCode() int }
			switch {
			case err == nil:
				return 0
			case errors.As(err, &coded):
				// verify's outcomes have their own exit codes; its report is
				// already printed.
				return coded.ExitCode()
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, &ue):
				fmt.Fprintf(stderr, "hallmark %s: %s\n", c.name, ue)
				return 2
			default:
				fmt.Fprintln(stderr, "hallmark:", err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "hallmark: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Hallmark: one common language and one trusted record for IoT security labelling.")
	fmt.Fprintln(w, "\nUsage: hallmark <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'hallmark <command> --help' for a command's flags.")
}

// dataFlags are the storage flags every data command shares.
type dataFlags struct {
	data string
	db   string
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", envOr("HALLMARK_DATA", "./hallmark-data"), "data directory (database, keys, evidence)")
	fs.StringVar(&d.db, "db", os.Getenv("HALLMARK_DB"), "database: a postgres:// URL, or an SQLite file path (default: hallmark.db in the data directory)")
}

func (d *dataFlags) dsn() string {
	if d.db != "" {
		return d.db
	}
	return filepath.Join(d.data, "hallmark.db")
}

// lock takes the data directory for this command (and an SQLite database
// file), refusing when another hallmark process has it: a server and
// a second server, or a command writing behind a server's back, would
// disagree. The kernel drops the lock when the process ends.
func (d *dataFlags) lock(what string) (release func(), err error) {
	dl, err := datadir.Acquire(d.data, what)
	if err != nil {
		return nil, err
	}
	if db := d.dsn(); !isPostgres(db) {
		// Beside the file too: another data directory may name it.
		fl, err := datadir.AcquireFile(strings.TrimPrefix(db, "file:"), what)
		if err != nil {
			dl.Release()
			return nil, err
		}
		return func() { fl.Release(); dl.Release() }, nil
	}
	return func() { dl.Release() }, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openServer opens the store and an application without a transparency
// log, for commands that act on a data directory while no server runs
// (decisions they record are logged by the next serve). close releases
// both and the data directory's lock.
func (d *dataFlags) openServer(ctx context.Context) (srv *server.Server, st *store.Store, close func(), err error) {
	unlock, err := d.lock("hallmark " + strings.Join(os.Args[1:min(len(os.Args), 3)], " "))
	if err != nil {
		return nil, nil, nil, err
	}
	st, err = store.Open(ctx, d.dsn())
	if err != nil {
		unlock()
		return nil, nil, nil, err
	}
	srv, err = server.New(ctx, st, server.Config{DataDir: d.data, WithoutLog: true})
	if err != nil {
		st.Close()
		unlock()
		return nil, nil, nil, err
	}
	return srv, st, func() { srv.Close(context.Background()); st.Close(); unlock() }, nil
}

// openBeside is openServer without the data directory's lock, for the
// operator's hold on access (tokens, disabling users, passwords), which must
// work while the server runs: those commands write only account rows, which
// the database serialises, and the server reads them at every request.
func (d *dataFlags) openBeside(ctx context.Context) (srv *server.Server, close func(), err error) {
	st, err := store.Open(ctx, d.dsn())
	if err != nil {
		return nil, nil, err
	}
	srv, err = server.New(ctx, st, server.Config{DataDir: d.data, WithoutLog: true})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return srv, func() { srv.Close(context.Background()); st.Close() }, nil
}

// openReader is openServer for commands that only read: when no data
// directory exists yet (and no --db names a database), they read the
// built-in catalogue and schemes from a scratch store that is removed on
// close, so that `hallmark scheme list` in an empty directory creates
// nothing there.
func (d *dataFlags) openReader(ctx context.Context) (srv *server.Server, close func(), err error) {
	if d.db == "" {
		if _, err := os.Stat(d.dsn()); errors.Is(err, fs.ErrNotExist) {
			tmp, err := os.MkdirTemp("", "hallmark-read-*")
			if err != nil {
				return nil, nil, err
			}
			scratch := dataFlags{data: tmp}
			srv, _, closeServer, err := scratch.openServer(ctx)
			if err != nil {
				os.RemoveAll(tmp)
				return nil, nil, err
			}
			return srv, func() { closeServer(); os.RemoveAll(tmp) }, nil
		}
	}
	srv, _, closeServer, err := d.openServer(ctx)
	return srv, closeServer, err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// newFlagSet makes a FlagSet whose --help prints a usage line, a description
// and the flags, and whose errors are usage errors.
func newFlagSet(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hallmark %s\n\n%s\n", synopsis, description)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// flagSet reports whether the command line set the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parse parses flags wherever they stand among the arguments (the README
// writes `hallmark catalog crosswalk A B --csv`), turning errors into usage
// errors. After "--" everything is an argument; fs.Args() is then every
// argument in order.
func parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError(err.Error())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...) // the flag package stopped at "--"
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	// Parsing "--" alone sets no flag and leaves exactly pos as fs.Args().
	return fs.Parse(append([]string{"--"}, pos...))
}
