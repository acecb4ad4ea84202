package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/datadir"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/feed"
	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/publish"
	"github.com/hallmark-iot/hallmark/internal/quota"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
	"github.com/hallmark-iot/hallmark/internal/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]",
		"Runs the Hallmark web pages and JSON API, the public label registry and the authority's\n"+
			"transparency log. The catalogue and schemes built into this binary are stored in the\n"+
			"database at start-up; imported frameworks and authority schemes are kept. Signing keys,\n"+
			"the log and evidence live in --data.", stderr)
	var d dataFlags
	d.register(fs)
	addr := fs.String("addr", envOr("HALLMARK_ADDR", ":8080"), "address to listen on (with --demo, default 127.0.0.1:8080: the demo's passwords are public)")
	withDemo := fs.Bool("demo", false, "load the demo dataset (100 manufacturers, 2,000 products) on first start")
	checkpointEvery := fs.Duration("log-checkpoint-interval", time.Second, "how often the transparency log may publish a checkpoint (bounds how long a decision waits for its receipt)")
	var witnessFor, witnesses multiFlag
	fs.Var(&witnessFor, "witness-for", "act as a witness for a peer's log: ORIGIN=VERIFIER_KEY (repeatable)")
	fs.Var(&witnesses, "witness", "publish checkpoints only when cosigned by this peer witness: URL=VERIFIER_KEY (repeatable)")
	threshold := fs.Int("witness-threshold", 0, "how many of the --witness peers must cosign each checkpoint (default: all)")
	demoSize := fs.String("demo-size", "full", "size of the demo market: full (100 manufacturers, 2,000 products) or small (6, 30)")
	adminToken := fs.String("admin-token", os.Getenv("HALLMARK_ADMIN_TOKEN"), "token that allows API writes (Authorization: Bearer …); empty disables writes")
	verbose := fs.Bool("v", false, "log every request")
	publishDir := fs.String("publish", "", "also keep the public read path as static files in this directory, written again after every decision (see hallmark publish)")
	publishEvery := fs.Duration("publish-interval", 2*time.Second, "with --publish: the shortest time between two publications (changes in between are gathered)")
	publicURL := fs.String("public-url", os.Getenv("HALLMARK_PUBLIC_URL"), "URL the public reaches this instance at, written into labels and QR codes (default http://localhost<addr>)")
	var csafProviders multiFlag
	fs.Var(&csafProviders, "csaf-provider", "poll this CSAF provider (domain or provider-metadata.json URL) for the watch, state in --data/feeds (repeatable)")
	feedEvery := fs.Duration("feed-interval", time.Hour, "how often each --csaf-provider is polled")
	var peers multiFlag
	fs.Var(&peers, "peer", "recognise the authority at this URL: pin its trust list in DATA/peers.json (retrying until it answers) and mirror it (repeatable)")
	mirrorEvery := fs.Duration("mirror-interval", time.Minute, "how often the peers recognised in DATA/peers.json are mirrored and checked (0: never)")
	holdShare := fs.Float64("watch-hold-share", server.DefaultHoldShare, "the share of all labels one ingest may change before it is held for an authority to confirm (0 to 1)")
	trusted := fs.String("trusted-proxy", os.Getenv("HALLMARK_TRUSTED_PROXIES"), "reverse proxies whose X-Forwarded-For names the client, as addresses or CIDR prefixes, comma-separated (e.g. 10.0.0.0/8,192.0.2.7); empty: the header is ignored")
	issuer := fs.String("issuer-name", envOr("HALLMARK_ISSUER_NAME", "Hallmark demonstration authority"), "name of the issuing authority in label credentials")
	maxComponents := fs.Int("sbom-max-components", quota.Default.SBOMComponents, "the most component entries one SBOM may list (nested and repeated ones count)")
	storedComponents := fs.Int("org-stored-components", quota.Default.StoredComponents, "the most SBOM components one organisation keeps stored over all its versions")
	dailyUploads := fs.Int("org-daily-uploads", quota.Default.DailyUploads, "the most SBOM and evidence uploads one organisation may send in 24 hours")
	dailyMiB := fs.Int64("org-daily-upload-mib", quota.Default.DailyBytes>>20, "the most MiB of uploads one organisation may send in 24 hours")
	registrations := fs.Int("registrations-per-hour", server.DefaultRegistrationsPerHour, "the most registrations one address may attempt in an hour")
	clustered := fs.Bool("cluster", false, "share the PostgreSQL database (--db) and the data directory with other instances: one holds the writer role, the others serve reads and forward writes to it")
	advertise := fs.String("advertise", os.Getenv("HALLMARK_ADVERTISE"), "with --cluster: the URL the other instances reach this one at, to forward writes to while it is the writer (at most 47 characters)")
	readDB := fs.String("read-db", os.Getenv("HALLMARK_READ_DB"), "with --cluster: a postgres:// URL of a streaming replica public reads come from while this instance is a reader")
	readLag := fs.Duration("read-max-lag", server.DefaultReadMaxLag, "with --read-db: how stale a read from the replica may be before reads go to the primary")
	if err := parse(fs, args); err != nil {
		return err
	}
	for name, v := range map[string]int64{"--sbom-max-components": int64(*maxComponents), "--org-stored-components": int64(*storedComponents),
		"--org-daily-uploads": int64(*dailyUploads), "--org-daily-upload-mib": *dailyMiB, "--registrations-per-hour": int64(*registrations)} {
		if v < 1 {
			return usagef("%s is at least 1, not %d", name, v)
		}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *withDemo && os.Getenv("HALLMARK_ADDR") == "" && !flagSet(fs, "addr") {
		// The demo's passwords are public: it listens on this machine
		// only, unless --addr says otherwise.
		*addr = "127.0.0.1:8080"
	}
	if *holdShare <= 0 || *holdShare > 1 {
		return usagef("--watch-hold-share is a share above 0 and at most 1, not %v", *holdShare)
	}
	proxies, err := auth.ParseTrustedProxies(*trusted)
	if err != nil {
		return usagef("--trusted-proxy: %v", err)
	}
	if *feedEvery < time.Minute {
		return usagef("--feed-interval is at least a minute, not %s", *feedEvery)
	}
	for _, p := range csafProviders {
		if _, err := feed.MetadataURL(p); err != nil {
			return usagef("--csaf-provider: %v", err)
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))

	if *clustered && !isPostgres(d.dsn()) {
		return usagef("--cluster needs a PostgreSQL database (--db postgres://...): an SQLite database serves one instance")
	}
	if *clustered && *advertise == "" {
		// The public URL is usually a load balancer, which may hand a
		// forwarded write back to a reader.
		return usagef("--cluster needs --advertise: the URL the other instances reach this one at (not the load balancer's)")
	}
	if *readDB != "" && (!*clustered || !isPostgres(*readDB)) {
		return usagef("--read-db takes a postgres:// URL of a replica, with --cluster")
	}
	// The instances of a cluster share the data directory (the writer
	// role, an advisory lock in the database, decides who writes to it),
	// but not with a command that needs it alone.
	if *clustered {
		l, err := datadir.AcquireShared(d.data, "hallmark serve --cluster")
		if err != nil {
			return err
		}
		defer l.Release()
	} else {
		unlock, err := d.lock("hallmark serve")
		if err != nil {
			return err
		}
		defer unlock()
	}
	st, err := store.Open(ctx, d.dsn())
	if err != nil {
		return err
	}
	defer st.Close()
	var replica *store.Store
	if *readDB != "" {
		if replica, err = store.OpenReplica(ctx, *readDB); err != nil {
			return err
		}
		defer replica.Close()
	}
	if *publicURL == "" {
		*publicURL = "http://" + displayAddr(*addr)
	}
	cfg := server.Config{}
	if len(witnessFor) > 0 {
		cfg.WitnessFor = map[string]string{}
		for _, w := range witnessFor {
			origin, vkey, ok := strings.Cut(w, "=")
			if !ok {
				return usagef("--witness-for takes ORIGIN=VERIFIER_KEY, not %q", w)
			}
			cfg.WitnessFor[origin] = vkey
		}
	}
	if len(witnesses) > 0 {
		pol := &tlog.WitnessPolicy{Threshold: *threshold}
		for _, w := range witnesses {
			u, vkey, ok := strings.Cut(w, "=")
			if !ok {
				return usagef("--witness takes URL=VERIFIER_KEY, not %q", w)
			}
			v, err := tlog.NewWitnessVerifier(vkey)
			if err != nil {
				return usagef("--witness %s: %v", u, err)
			}
			pol.URLs, pol.Verifiers, pol.Keys = append(pol.URLs, u), append(pol.Verifiers, v), append(pol.Keys, vkey)
		}
		if pol.Threshold == 0 {
			pol.Threshold = len(pol.URLs)
		}
		cfg.Witnesses = pol
	}
	srv, err := server.New(ctx, st, server.Config{WatchHoldShare: *holdShare, WitnessFor: cfg.WitnessFor, Witnesses: cfg.Witnesses, AdminToken: *adminToken, DataDir: d.data, PublicURL: *publicURL,
		IssuerName: *issuer, SecureCookies: strings.HasPrefix(*publicURL, "https://"), LogCheckpointInterval: *checkpointEvery, TrustedProxies: proxies,
		Uploads:              quota.Limits{SBOMComponents: *maxComponents, StoredComponents: *storedComponents, DailyUploads: *dailyUploads, DailyBytes: *dailyMiB << 20},
		RegistrationsPerHour: *registrations, Cluster: *clustered, Advertise: *advertise, ReadStore: replica, ReadMaxLag: *readLag})
	if err != nil {
		return err
	}
	if *withDemo {
		size := demo.Full
		switch *demoSize {
		case "full":
		case "small":
			size = demo.Small
		default:
			return usagef("--demo-size is full or small, not %q", *demoSize)
		}
		if err := srv.LoadDemo(ctx, size); err != nil {
			return fmt.Errorf("load the demo dataset: %w", err)
		}
	}
	defer srv.Close(context.Background())
	if n, err := srv.ExpireDue(ctx); err != nil && !errors.Is(err, server.ErrDecisionsHeld) {
		return err
	} else if n > 0 {
		slog.Info("labels expired", "count", n)
	}
	go srv.Maintain(ctx, 10*time.Second)
	go srv.RunMirrors(ctx, *mirrorEvery)
	for _, p := range peers {
		go recognisePeer(ctx, srv, p)
	}
	go srv.PollFeeds(ctx, feed.New(feed.Options{}), csafProviders, *feedEvery)
	h, err := httpd.Handler(srv)
	if err != nil {
		return err
	}
	if *publishDir != "" {
		p := &publish.Publisher{App: srv, Handler: h, Dir: *publishDir, Static: web.StaticFiles()}
		go p.Follow(ctx, *publishEvery, func(rep publish.Report, err error) {
			if err != nil {
				slog.Error("publishing the static read path failed", "dir", *publishDir, "err", err)
				return
			}
			slog.Info("static read path published", "dir", *publishDir, "written", rep.Written, "files", rep.Files, "bytes", rep.Bytes, "took", rep.Took)
		})
	}
	c := srv.Catalog()
	slog.Info("hallmark is serving", "addr", *addr, "db", string(st.Dialect()),
		"requirements", len(c.Requirements), "frameworks", len(c.Frameworks),
		"catalogue", "http://"+displayAddr(*addr)+"/catalog")
	return httpd.ListenAndServe(ctx, *addr, h)
}

func displayAddr(addr string) string {
	if len(addr) > 0 && addr[0] == ':' {
		return "localhost" + addr
	}
	return addr
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// recognisePeer pins a --peer's trust list, retrying for a few minutes
// while it fails (two demo authorities start together), then mirrors it.
func recognisePeer(ctx context.Context, srv *server.Server, url string) {
	var last string
	for range 100 {
		chk, err := srv.RecognisePeer(ctx, url)
		if err == nil {
			slog.Info("peer recognised", "peer", chk.Issuer.ID, "name", chk.Issuer.Name, "trust_list", chk.List.List.Sequence, "new", chk.New)
			if _, err := srv.MirrorPeers(ctx); err != nil {
				slog.Warn("mirroring peers", "err", err)
			}
			return
		}
		if err.Error() != last {
			slog.Warn("peer not recognised yet; retrying", "peer", url, "err", err)
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(3 * time.Second):
		}
	}
	slog.Error("peer not recognised: gave up", "peer", url, "err", last)
}
