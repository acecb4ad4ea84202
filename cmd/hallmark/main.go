// Command hallmark runs the Hallmark platform: the web server and API, and
// command-line tools over the same data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
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
	{"audit", "audit an authority's transparency log and its registry against it", runAudit},
	{"ingest", "feed advisories, KEV and VEX to the post-market watch", runIngest},
	{"scan", "match one SBOM against the stored advisories, offline", runScan},
	{"account", "create an organisation and its first user (authorities, assessor labs)", runAccount},
	{"keys", "list, rotate or mark compromised the label-signing keys; rotate the log key", runKeys},
	{"backup", "write a consistent backup of the database, log, keys and evidence", runBackup},
	{"restore", "restore a backup into a new data directory and database, or check one", runRestore},
	{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		fmt.Fprintln(stdout, "hallmark", version)
		return nil
	}},
}

var version = "dev"

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

// parse parses flags, turning errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError(err.Error())
	}
	return nil
}
