// Package server wires Hallmark together: the store, the current catalogue,
// and the one route table that mounts the API and the web pages.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/backup"
	"github.com/hallmark-iot/hallmark/internal/bcache"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/notify"
	"github.com/hallmark-iot/hallmark/internal/quota"
	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// Config is what a Hallmark instance needs to start.
type Config struct {
	AdminToken string
	// DataDir holds the signing keys, the CSRF secret and evidence files.
	DataDir string
	// PublicURL is where the public reaches this instance (label pages, QR
	// codes, status lists); it is written into every credential.
	PublicURL string
	// IssuerName names the issuing authority in credentials.
	IssuerName string
	// SecureCookies marks session cookies Secure (serve over HTTPS).
	SecureCookies bool
	// PasswordParams overrides argon2id costs (tests use cheap ones).
	PasswordParams *auth.Params
	// Clock overrides the time (tests and the demo's history).
	Clock func() time.Time
	// Witnesses, when set, makes the log publish checkpoints only with
	// enough peer cosignatures.
	Witnesses *tlog.WitnessPolicy
	// WitnessFor lists peer logs this instance witnesses: origin -> the
	// peer log's note verifier key. Empty: not a witness.
	WitnessFor map[string]string
	// LogCheckpointInterval is how often the log may publish a checkpoint,
	// which bounds how long a decision waits for its receipt (default 1s).
	LogCheckpointInterval time.Duration
	// LogPublishTimeout bounds how long appending a decision waits for a
	// published checkpoint (e.g. while witnesses are unreachable).
	LogPublishTimeout time.Duration
	// WatchHoldShare is the share of all labels one ingest may change
	// before it is held for confirmation (default DefaultHoldShare).
	WatchHoldShare float64
	// WatchHoldMin is the fewest changes ever held (default DefaultHoldMin).
	WatchHoldMin int
	// WithoutLog opens no transparency log: for command-line tools that
	// only read, or write nothing that is decided. Decisions they record
	// stay pending until a server with the log starts.
	WithoutLog bool
	// WebhookSchedule overrides the waits between webhook delivery
	// attempts (notify.DefaultSchedule); tests make it short.
	WebhookSchedule notify.Schedule
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (serve --trusted-proxy); empty: the header is ignored and
	// the connection's address is the client's.
	TrustedProxies []netip.Prefix
	// WebhooksInsecure admits http:// webhook URLs and loopback
	// addresses, for tests that receive on 127.0.0.1. Never in
	// production: any account could make Hallmark call its own host.
	WebhooksInsecure bool
	// Uploads are the per-organisation upload limits; zero fields take
	// quota.Default's.
	Uploads quota.Limits
	// RegistrationsPerHour is how many registrations one address may
	// attempt in an hour (default DefaultRegistrationsPerHour).
	RegistrationsPerHour int
	// MirrorGrace is how long a peer's registry may show a status its log
	// does not yet hold before it is an alarm (default DefaultMirrorGrace).
	MirrorGrace time.Duration
	// Cluster: several instances share this PostgreSQL database; the one
	// holding the writer role decides, the others serve reads (cluster.go).
	Cluster bool
	// Advertise is the URL the other instances forward writes to while
	// this one is the writer (default PublicURL).
	Advertise string
	// ReadStore, if set, is a streaming replica public reads come from on
	// a reader, while it is at most ReadMaxLag behind (default
	// DefaultReadMaxLag).
	ReadStore  *store.Store
	ReadMaxLag time.Duration
}

// Server holds an open store and the catalogue read from it.
type Server struct {
	store       *store.Store
	catalog     atomic.Pointer[catalog.Catalog]
	schemes     atomic.Pointer[schemeState]
	cfg         Config
	keys        *label.KeyRing
	hasher      *auth.Hasher
	limiter     *auth.LoginLimiter
	csrfSecret  []byte
	clock       func() time.Time
	statusLists statusListCache
	labels      labelCache
	listings    *bcache.Cache[listing]      // registry pages (Labels)
	counts      *bcache.Cache[listing]      // their counts, by filter
	tlogPtr     atomic.Pointer[decisionLog] // the log, while this instance is the writer (dlog)
	witness     *tlog.Witness
	witnessKey  string
	watchMu     sync.Mutex // one watch pass at a time
	hooks       *webhookSender

	// held is non-nil while the database is behind the log (holdIfBehindLog).
	held atomic.Pointer[backup.Gap]
	// slots and registrations bound uploads and registrations (uploads.go).
	slots         *quota.Slots
	registrations *quota.Rate
	insight       insightCache // the market indicators compute on (insight.go)
	trustList     trustListCache
	mirrors       mirrorState
	cl            cluster // several instances on one database (cluster.go)
}

// LoadBuiltin reads the catalogue embedded in the binary.
func LoadBuiltin() (*catalog.Catalog, error) {
	c, err := catalog.Load(data.FS, "catalog")
	if err != nil {
		return nil, fmt.Errorf("the built-in catalogue is invalid: %w", err)
	}
	return c, nil
}

// New syncs the built-in catalogue into the store and loads the whole
// catalogue (built-in and imported) for serving.
func New(ctx context.Context, st *store.Store, cfg Config) (*Server, error) {
	builtin, err := LoadBuiltin()
	if err != nil {
		return nil, err
	}
	changed, err := st.SyncCatalog(ctx, builtin)
	if err != nil {
		return nil, fmt.Errorf("store the catalogue: %w", err)
	}
	if changed {
		slog.Info("catalogue stored", "requirements", len(builtin.Requirements), "frameworks", len(builtin.Frameworks))
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "hallmark-data"
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:8080"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.IssuerName == "" {
		cfg.IssuerName = "Hallmark demonstration authority"
	}
	s := &Server{store: st, cfg: cfg, clock: cfg.Clock, limiter: auth.NewLoginLimiter(),
		listings: bcache.New[listing](ListingCacheBudget), counts: bcache.New[listing](CountCacheBudget)}
	s.labels.cache = bcache.New[cachedLabel](LabelCacheBudget)
	s.initUploads()
	params := auth.DefaultParams
	if cfg.PasswordParams != nil {
		params = *cfg.PasswordParams
	}
	if s.hasher, err = auth.NewHasher(params); err != nil {
		return nil, err
	}
	if s.keys, err = label.LoadOrCreate(filepath.Join(cfg.DataDir, "keys"), s.now()); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	if s.csrfSecret, err = loadSecret(filepath.Join(cfg.DataDir, "csrf.key"), 32); err != nil {
		return nil, fmt.Errorf("CSRF secret: %w", err)
	}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	if err := s.openWitness(); err != nil {
		return nil, err
	}
	if err := s.startCluster(ctx); err != nil {
		return nil, err
	}
	if !s.IsWriter() {
		// A reader: the writer does the rest; promote does it on taking over.
		if err := s.reloadSchemes(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if !cfg.WithoutLog {
		if err := s.openLog(ctx); err != nil {
			return nil, err
		}
	}
	// Before anything is decided (the keys and built-in schemes below are
	// decisions too): a database behind its log must not decide.
	if err := s.holdIfBehindLog(ctx); err != nil {
		return nil, err
	}
	if s.DecisionsHeld() == nil {
		if err := s.logKeys(ctx); err != nil {
			return nil, err
		}
		if err := s.syncBuiltinSchemes(ctx); err != nil {
			return nil, err
		}
		// Whatever a crash left pending is logged behind, while serving.
		s.startLogger()
	}
	if !cfg.WithoutLog { // command-line tools leave deliveries to the server
		s.startSender()
		go s.purgeUploads() // what a crash left staging, behind serving
	}
	if err := s.reloadSchemes(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) reload(ctx context.Context) error {
	c, err := s.store.LoadCatalog(ctx)
	if err != nil {
		return err
	}
	s.catalog.Store(c)
	s.announce("catalog")
	return nil
}

// Catalog returns the catalogue being served.
func (s *Server) Catalog() *catalog.Catalog { return s.catalog.Load() }

// ImportFramework stores an authority's framework and serves it at once.
func (s *Server) ImportFramework(ctx context.Context, f catalog.Framework, replace bool) error {
	if err := checkFramework(f); err != nil {
		return err
	}
	if err := s.store.ImportFramework(ctx, f, replace); err != nil {
		return err
	}
	return s.reload(ctx)
}

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Ping checks the database answers, for health checks.
func (s *Server) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Now is the server's time (its clock in tests), for answers that depend
// on it such as whether a token has expired.
func (s *Server) Now() time.Time { return s.now() }
