package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/tlog"
	"k8s.io/klog/v2"
)

// Several instances on one PostgreSQL database (Config.Cluster): one of
// them, the writer, holds the writer role (an advisory lock, see
// store.TryWriterLock) and with it the transparency log, the logger, the
// webhook sender and every decision; the others serve reads, and the HTTP
// front forwards the writes they receive to the writer (internal/httpd).
// A reader asks for the role every ElectEvery and takes it when the writer's
// session is gone. The writer announces what changed (NOTIFY); the readers
// invalidate what they derived from it (labelsChanged, the schemes, the
// catalogue).

// ElectEvery is how often a reader asks for the writer role, and how often
// the writer checks it still holds it: with the time PostgreSQL takes to
// notice a dead session (at once when the process dies and its socket
// closes), it bounds the failover.
const ElectEvery = 500 * time.Millisecond

// ErrNotWriter is the cause of a decision refused by an instance that does
// not hold the writer role (its HTTP front forwards writes to the writer,
// so only background work meets it).
var ErrNotWriter = errors.New("this instance does not hold the writer role")

// NotWriterNotice is what users are told for ErrNotWriter.
const NotWriterNotice = "This instance only serves reads and no instance holds the writer role right now " +
	"(one is taking over); nothing was changed. Try again in a few seconds."

type notWriterError struct{}

func (notWriterError) Error() string   { return ErrNotWriter.Error() }
func (notWriterError) Unwrap() []error { return []error{ErrNotWriter, ErrDecisionsHeld} }

// cluster is the instance's part in a cluster.
type cluster struct {
	on       bool
	id       string // this instance, in its announcements
	reader   atomic.Bool
	mu       sync.Mutex // promotion and demotion
	lock     *store.WriterLock
	stop     context.CancelFunc
	elected  chan struct{} // closed when elect has returned
	dirty    chan string   // kinds to announce
	replica  *store.Store
	maxLag   time.Duration
	fresh    atomic.Bool  // the replica is within maxLag
	lag      atomic.Int64 // its latest measured staleness, ns
	origin   string       // the log's, for a reader
	verifier []string     // the log's keys, for a reader
	writerAt atomic.Value // string: the writer's URL, cached
	writerOn atomic.Int64 // when writerAt was read, unix ns
}

// IsWriter reports whether this instance may decide: always outside a
// cluster, and in one while it holds the writer role.
func (s *Server) IsWriter() bool { return !s.cl.on || !s.cl.reader.Load() }

// Clustered reports whether this instance shares its database with others.
func (s *Server) Clustered() bool { return s.cl.on }

// InstanceID names this instance in a cluster.
func (s *Server) InstanceID() string { return s.cl.id }

// dlog is the transparency log, while this instance is the writer.
func (s *Server) dlog() *decisionLog { return s.tlogPtr.Load() }

// WriterURL is the URL the writer advertised, "" while none holds the
// role; read from the database at most every ElectEvery.
func (s *Server) WriterURL(ctx context.Context) string {
	if s.IsWriter() {
		return s.cfg.Advertise
	}
	if at := s.cl.writerOn.Load(); time.Since(time.Unix(0, at)) < ElectEvery {
		u, _ := s.cl.writerAt.Load().(string)
		return u
	}
	u, err := s.store.Writer(ctx)
	if err != nil {
		slog.Warn("who holds the writer role", "err", err)
		u = ""
	}
	s.cl.writerAt.Store(u)
	s.cl.writerOn.Store(time.Now().UnixNano())
	return u
}

// startCluster sets the instance up in its cluster before anything is
// decided: it takes the writer role if it is free, or else starts as a
// reader asking for it.
func (s *Server) startCluster(ctx context.Context) error {
	if !s.cfg.Cluster {
		return nil
	}
	if s.store.Dialect() != store.Postgres {
		return fmt.Errorf("several instances need PostgreSQL (--db postgres://...): an SQLite database serves one instance")
	}
	if s.cfg.Advertise == "" {
		s.cfg.Advertise = s.cfg.PublicURL
	}
	var b [6]byte
	rand.Read(b[:])
	s.cl.on, s.cl.id, s.cl.dirty = true, hex.EncodeToString(b[:]), make(chan string, 8)
	s.cl.replica, s.cl.maxLag = s.cfg.ReadStore, s.cfg.ReadMaxLag
	if s.cl.maxLag <= 0 {
		s.cl.maxLag = DefaultReadMaxLag
	}
	klogOnce.Do(func() { klog.SetSlogLogger(slog.Default()) }) // see openLog
	keyDir := filepath.Join(s.cfg.DataDir, "logkeys")
	s.cl.origin = LogOrigin(s.cfg.PublicURL)
	if _, vs, err := tlog.Verifiers(keyDir); err == nil {
		s.cl.verifier = vs
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cl.stop = cancel
	l, err := s.store.TryWriterLock(ctx, s.cfg.Advertise, ElectEvery)
	if err != nil {
		cancel()
		return fmt.Errorf("ask for the writer role: %w", err)
	}
	s.cl.lock = l
	s.cl.reader.Store(l == nil)
	if l == nil {
		slog.Info("serving reads: another instance holds the writer role", "instance", s.cl.id)
	} else {
		slog.Info("this instance holds the writer role", "instance", s.cl.id, "advertise", s.cfg.Advertise)
	}
	s.cl.elected = make(chan struct{})
	go s.elect(bg)
	go s.announcer(bg)
	listening := make(chan struct{})
	go s.listen(bg, listening)
	select { // so a change made right after start is not missed
	case <-listening:
	case <-time.After(5 * time.Second):
	}
	if s.cl.replica != nil {
		go s.watchReplica(bg)
	}
	return nil
}

// elect keeps the writer role where it belongs: a reader takes it when it
// is free; the writer that finds it lost stops deciding at once.
func (s *Server) elect(ctx context.Context) {
	defer close(s.cl.elected)
	t := time.NewTicker(ElectEvery)
	defer t.Stop()
	for {
		var lost <-chan struct{}
		s.cl.mu.Lock()
		if l := s.cl.lock; l != nil && !s.cl.reader.Load() {
			lost = l.Lost()
		}
		s.cl.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-lost:
			s.demote()
			continue
		case <-t.C:
		}
		if !s.cl.reader.Load() {
			continue
		}
		l, err := s.store.TryWriterLock(ctx, s.cfg.Advertise, ElectEvery)
		if err != nil || l == nil {
			continue
		}
		start := time.Now()
		if err := s.promote(ctx, l); err != nil {
			slog.Error("taking the writer role failed; giving it up", "err", err)
			s.demote()
			continue
		}
		slog.Info("this instance took the writer role", "instance", s.cl.id, "took", time.Since(start).Round(time.Millisecond))
	}
}

// promote does what New does for a writer: the log, the check against it,
// the keys' and built-in schemes' decisions, the logger and the sender.
func (s *Server) promote(ctx context.Context, l *store.WriterLock) error {
	s.cl.mu.Lock()
	defer s.cl.mu.Unlock()
	s.cl.lock = l
	if err := s.openLog(ctx); err != nil {
		return err
	}
	if err := s.holdIfBehindLog(ctx); err != nil {
		return err
	}
	s.startSender()
	// Whatever the readers cached may predate the last writer's last words.
	s.labelsChanged()
	if err := s.reloadSchemes(ctx); err != nil {
		return err
	}
	s.cl.reader.Store(false)
	if s.DecisionsHeld() == nil {
		if err := s.logKeys(ctx); err != nil {
			return err
		}
		if err := s.syncBuiltinSchemes(ctx); err != nil {
			return err
		}
		s.startLogger()
	}
	go s.purgeUploads()
	return nil
}

// demote stops everything only the writer does, first of all deciding.
func (s *Server) demote() {
	s.cl.mu.Lock()
	defer s.cl.mu.Unlock()
	if s.cl.reader.Swap(true) {
		return
	}
	slog.Error("the writer role is lost (the database session holding it ended): serving reads only until it is taken again", "instance", s.cl.id)
	if s.cl.lock != nil {
		s.cl.lock.Release()
		s.cl.lock = nil
	}
	s.stopSender()
	if d := s.dlog(); d != nil {
		if d.stop != nil {
			d.stop()
			<-d.done
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.log.Close(ctx)
		cancel()
		s.tlogPtr.Store(nil)
	}
}

// stopCluster stops electing and listening, for a clean shutdown, and
// waits for a promotion under way to end (so none runs beside Close).
func (s *Server) stopCluster() {
	if s.cl.on {
		s.cl.stop()
		<-s.cl.elected
	}
}

// closeCluster gives the role up, for a clean shutdown.
func (s *Server) closeCluster() {
	if !s.cl.on {
		return
	}
	s.cl.mu.Lock()
	defer s.cl.mu.Unlock()
	if s.cl.lock != nil {
		s.cl.lock.Release()
		s.cl.lock = nil
	}
}

// announce tells the other instances that what (labels, schemes, catalog)
// changed. Only the writer changes anything, so only it announces; the
// announcement leaves behind the request that made the change.
func (s *Server) announce(what string) {
	if !s.cl.on || s.cl.reader.Load() {
		return
	}
	select {
	case s.cl.dirty <- what:
	default: // full: a burst; the kinds queued already cover it, but be sure
		go func() { s.cl.dirty <- what }()
	}
}

func (s *Server) announcer(ctx context.Context) {
	for {
		var what string
		select {
		case <-ctx.Done():
			return
		case what = <-s.cl.dirty:
		}
		// Coalesce a burst: one announcement per kind.
		kinds := map[string]bool{what: true}
		for more := true; more; {
			select {
			case w := <-s.cl.dirty:
				kinds[w] = true
			default:
				more = false
			}
		}
		for k := range kinds {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := s.store.Announce(actx, k+"@"+s.cl.id); err != nil {
				slog.Warn("announcing a change to the other instances", "what", k, "err", err)
			}
			cancel()
		}
	}
}

// listen acts on the other instances' announcements, reconnecting when
// the connection drops; on each (re)connection it forgets everything, as
// announcements may have been missed meanwhile.
func (s *Server) listen(ctx context.Context, listening chan struct{}) {
	var once sync.Once
	for ctx.Err() == nil {
		err := s.store.Listen(ctx, func() {
			once.Do(func() { close(listening) })
			s.changed(ctx, "labels", 0)
			s.changed(ctx, "schemes", 0)
		}, func(what string, lsn uint64) {
			kind, from, _ := strings.Cut(what, "@")
			if from == s.cl.id {
				return
			}
			s.changed(ctx, kind, lsn)
		})
		if ctx.Err() == nil {
			slog.Warn("listening for the other instances' changes; reconnecting", "err", err)
			time.Sleep(ElectEvery)
		}
	}
}

// changed drops what this instance derived from what changed; reading from
// a replica, it drops it again once the replica has replayed the change,
// so nothing read from the replica before then stays cached.
func (s *Server) changed(ctx context.Context, kind string, lsn uint64) {
	apply := func() {
		switch kind {
		case "labels":
			s.labelsChanged()
		case "schemes":
			if err := s.reloadSchemes(ctx); err != nil {
				slog.Warn("reloading the schemes another instance changed", "err", err)
			}
		case "catalog":
			if err := s.reload(ctx); err != nil {
				slog.Warn("reloading the catalogue another instance changed", "err", err)
			}
		}
	}
	apply()
	if s.cl.replica == nil || lsn == 0 {
		return
	}
	go func() {
		deadline := time.Now().Add(s.cl.maxLag)
		for time.Now().Before(deadline) {
			if pos, err := s.cl.replica.WALPosition(ctx); err == nil && pos >= lsn {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Past maxLag the replica is not fresh (watchReplica) and reads go
		// to the primary: dropping again forgets what the replica gave.
		apply()
	}()
}

// klogOnce points Tessera's klog at our log once per process in a cluster.
var klogOnce sync.Once

// DefaultReadMaxLag bounds how stale a read from the replica may be.
const DefaultReadMaxLag = 2 * time.Second

// replicaSample is the primary's WAL position at a moment.
type replicaSample struct {
	at  time.Time
	pos uint64
}

// watchReplica measures how stale the replica is, every 100ms: each
// sample is the primary's WAL position at a moment, and once the replica
// has replayed past a sample's position it holds everything committed
// before that moment. The replica is fresh while the newest such moment is
// under maxLag ago; otherwise public reads go to the primary.
func (s *Server) watchReplica(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var samples []replicaSample
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		qctx, cancel := context.WithTimeout(ctx, s.cl.maxLag)
		p, perr := s.store.WALPosition(qctx)
		r, rerr := s.cl.replica.WALPosition(qctx)
		cancel()
		if perr != nil || rerr != nil {
			s.cl.fresh.Store(false)
			continue
		}
		samples = append(samples, replicaSample{now, p})
		var upTo time.Time
		keep := samples[:0]
		for _, sm := range samples {
			if sm.pos <= r {
				upTo = sm.at // replayed: keep only the newest such
				keep = append(keep[:0], sm)
				continue
			}
			keep = append(keep, sm)
		}
		samples = keep
		if len(samples) > 1000 {
			samples = samples[len(samples)-1000:]
		}
		lag := s.cl.maxLag + time.Second
		if !upTo.IsZero() {
			lag = time.Since(upTo)
		}
		s.cl.lag.Store(int64(lag))
		s.cl.fresh.Store(lag <= s.cl.maxLag)
	}
}

// ReplicaLag is how stale the replica was at its last measure, and
// whether public reads go to it now.
func (s *Server) ReplicaLag() (time.Duration, bool) {
	if s.cl.replica == nil {
		return 0, false
	}
	return time.Duration(s.cl.lag.Load()), s.cl.fresh.Load() && s.cl.reader.Load()
}

// reader is the store public reads come from: a reader instance's replica
// while it is fresh, else the primary. The writer always reads the
// primary: its decisions read what they change.
func (s *Server) reader() *store.Store {
	if s.cl.replica != nil && s.cl.reader.Load() && s.cl.fresh.Load() {
		return s.cl.replica
	}
	return s.store
}
