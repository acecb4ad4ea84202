package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// Defaults for a decision log: decisions are rare and a person waits for each
// receipt, so batches are short and checkpoints frequent.
const (
	DefaultBatchMaxAge        = 100 * time.Millisecond
	DefaultCheckpointInterval = time.Second
	DefaultPublishTimeout     = 30 * time.Second
	DefaultWitnessTimeout     = 5 * time.Second
	awaitPollPeriod           = 50 * time.Millisecond
)

// Options tunes a Log. Zero values take the defaults above.
type Options struct {
	// BatchMaxAge is how long an entry may wait for others to share its batch.
	BatchMaxAge time.Duration
	// CheckpointInterval is how often a new checkpoint may be published
	// (Tessera's floor is 100ms).
	CheckpointInterval time.Duration
	// Witnesses, if set, must cosign every checkpoint before it is published.
	Witnesses *WitnessPolicy
	// PublishTimeout bounds how long Append waits for a published checkpoint
	// covering its entry (e.g. while witnesses are unreachable).
	PublishTimeout time.Duration
	// HTTPClient makes the requests to witnesses; nil means a client with a
	// 10s timeout.
	HTTPClient *http.Client
}

// WitnessPolicy requires Threshold of the witnesses to cosign a checkpoint
// before the log publishes it. URLs[i] is witness i's C2SP tlog-witness
// submission prefix (the log POSTs to URLs[i]+"/add-checkpoint") and
// Verifiers[i] checks its cosignature/v1 (see NewWitnessVerifier).
type WitnessPolicy struct {
	URLs      []string
	Verifiers []note.Verifier
	Threshold int
	// Keys are the witnesses' verifier keys as text, in the order of URLs,
	// for publishing the policy (trust list, tlog-policy); optional.
	Keys []string
	// Timeout bounds one round of collecting cosignatures; zero means 5s.
	Timeout time.Duration
}

func (p *WitnessPolicy) group() (tessera.WitnessGroup, error) {
	if len(p.URLs) != len(p.Verifiers) {
		return tessera.WitnessGroup{}, fmt.Errorf("witness policy has %d URLs but %d verifiers", len(p.URLs), len(p.Verifiers))
	}
	if p.Threshold < 1 || p.Threshold > len(p.URLs) {
		return tessera.WitnessGroup{}, fmt.Errorf("witness threshold %d is outside 1..%d", p.Threshold, len(p.URLs))
	}
	var ws []tessera.Witness
	for i, u := range p.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return tessera.WitnessGroup{}, fmt.Errorf("witness URL %q is not an http(s) URL", u)
		}
		if p.Verifiers[i] == nil {
			return tessera.WitnessGroup{}, fmt.Errorf("witness %d has no verifier", i)
		}
		ws = append(ws, tessera.Witness{Key: p.Verifiers[i], URL: pu.JoinPath("add-checkpoint").String()})
	}
	// tessera.NewWitnessGroup's variadic parameter has an unexported type,
	// so a slice cannot be spread into it; fill the group's fields instead.
	g := tessera.WitnessGroup{N: p.Threshold}
	for _, w := range ws {
		g.Components = append(g.Components, w)
	}
	return g, nil
}

// Log is an open transparency log. Its methods are safe for concurrent use.
type Log struct {
	dir      string
	origin   string
	opts     Options
	appender *tessera.Appender
	reader   tessera.LogReader
	shutdown func(context.Context) error
	awaiter  *tessera.PublicationAwaiter
	cancel   context.CancelFunc
	dedup    *dedupIndex
	witness  *witnessTracker
	proofs   proofCache

	closeOnce sync.Once
	closeErr  error
}

// openDirs guards against two Logs appending to one directory in this
// process: the dedup index and Tessera's sequencing assume a single writer.
var openDirs = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// Open opens (creating if needed) the log rooted at dir, signed by signer,
// whose name is the log's origin. dir becomes the served tree: checkpoint,
// tile/..., tile/entries/..., plus Tessera's private .state directory (which
// also holds the dedup index). Appending bytes already in the log returns
// the original index, also across restarts.
func Open(ctx context.Context, dir string, signer note.Signer, opts Options) (*Log, error) {
	if signer == nil {
		return nil, errors.New("tlog: open: no signer")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("tlog: open: %w", err)
	}
	for _, f := range []string{LogKeyFile, WitnessKeyFile} {
		if _, err := os.Stat(filepath.Join(abs, f)); err == nil {
			return nil, fmt.Errorf("tlog: open: %s holds a private key (%s); the log directory is served to the public, keep keys elsewhere", abs, f)
		}
	}
	if opts.BatchMaxAge <= 0 {
		opts.BatchMaxAge = DefaultBatchMaxAge
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = DefaultPublishTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if err := os.MkdirAll(filepath.Join(abs, ".state"), 0o755); err != nil {
		return nil, fmt.Errorf("tlog: open: %w", err)
	}

	openDirs.Lock()
	if openDirs.m[abs] {
		openDirs.Unlock()
		return nil, fmt.Errorf("tlog: open: %s is already open in this process", abs)
	}
	openDirs.m[abs] = true
	openDirs.Unlock()
	l := &Log{dir: abs, origin: signer.Name(), opts: opts}
	ok := false
	defer func() {
		if !ok {
			l.release()
		}
	}()

	tracker := &witnessTracker{problems: map[string]string{}}
	hc := *opts.HTTPClient
	hc.Transport = tracker.wrap(hc.Transport)
	l.witness = tracker

	driver, err := posix.New(ctx, posix.Config{Path: abs, HTTPClient: &hc})
	if err != nil {
		return nil, fmt.Errorf("tlog: open: %w", err)
	}
	l.dedup, err = openDedup(filepath.Join(abs, dedupFile))
	if err != nil {
		return nil, fmt.Errorf("tlog: open: %w", err)
	}
	ao := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(tessera.DefaultBatchMaxSize, opts.BatchMaxAge).
		WithCheckpointInterval(opts.CheckpointInterval).
		WithAntispam(tessera.DefaultAntispamInMemorySize, l.dedup)
	if p := opts.Witnesses; p != nil {
		g, err := p.group()
		if err != nil {
			return nil, fmt.Errorf("tlog: open: %w", err)
		}
		wt := p.Timeout
		if wt <= 0 {
			wt = DefaultWitnessTimeout
		}
		// FailOpen stays false: a checkpoint without its cosignatures is
		// never published.
		ao = ao.WithWitnesses(g, &tessera.WitnessOptions{Timeout: wt})
	}

	// Tessera's background work must outlive Open's ctx: Close stops it.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	l.appender, l.shutdown, l.reader, err = tessera.NewAppender(bg, driver, ao)
	if err != nil {
		return nil, fmt.Errorf("tlog: open %s: %w%s", abs, err, tracker.hint())
	}
	// Appends must not start before the dedup index knows every entry.
	if err := l.waitDedup(ctx); err != nil {
		return nil, fmt.Errorf("tlog: open: %w", err)
	}
	l.awaiter = tessera.NewPublicationAwaiter(bg, l.reader.ReadCheckpoint, awaitPollPeriod)
	ok = true
	return l, nil
}

func (l *Log) waitDedup(ctx context.Context) error {
	size, err := l.reader.IntegratedSize(ctx)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		n, checked, ferr := l.dedup.processed()
		if checked && n >= size {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dedup index at %d of %d entries: %w (last error: %v)", n, size, ctx.Err(), ferr)
		case <-t.C:
		}
	}
}

// Dir returns the log's directory (absolute).
func (l *Log) Dir() string { return l.dir }

// Origin returns the log's origin (its checkpoints' first line).
func (l *Log) Origin() string { return l.origin }

// Append adds entry, waits until it is integrated and covered by a published
// (and, with a WitnessPolicy, cosigned) checkpoint, and returns its receipt.
// Appending bytes that are already in the log returns the original index, so
// retrying after a crash or a timeout is safe. If no covering checkpoint is
// published within Options.PublishTimeout, the error says so; the entry may
// still be sequenced and will be published when the cause clears.
func (l *Log) Append(ctx context.Context, entry []byte) (Receipt, error) {
	if len(entry) == 0 {
		return Receipt{}, errors.New("tlog: append: empty entry (did Entry.Validate fail?)")
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, l.opts.PublishTimeout)
	defer cancel()
	// Tessera memoizes the future, so resolving it here and again in Await
	// sequences the entry once; resolving it first tells "not added" apart
	// from "added but not yet published".
	future := l.appender.Add(actx, tessera.NewEntry(bytes.Clone(entry)))
	if _, err := future(); err != nil {
		return Receipt{}, fmt.Errorf("tlog: append: %w", err)
	}
	idx, cp, err := l.awaiter.Await(actx, future)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: append: entry %d is sequenced, but no checkpoint covering it was published after %v%s; it will be once the cause clears, and appending the same bytes again returns the same index: %w",
			idx.Index, time.Since(start).Round(time.Millisecond), l.witness.hint(), err)
	}
	r, err := l.receiptAt(ctx, idx.Index, entry, cp)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: append: %w", err)
	}
	return r, nil
}

// AppendMany is Append for many entries at once: all are handed to the
// sequencer together, and one published checkpoint covering the last of
// them is awaited, instead of one per entry; every receipt proves against
// that checkpoint. errs[i] is entry i's failure, if any: the others still
// got their receipts (they are in the log). It is what lets a backlog of
// decisions (a restart after an outage, a bulk load) be logged at the
// sequencer's pace rather than at one checkpoint interval per round.
func (l *Log) AppendMany(ctx context.Context, entries [][]byte) (receipts []Receipt, errs []error) {
	receipts, errs = make([]Receipt, len(entries)), make([]error, len(entries))
	futures := make([]tessera.IndexFuture, len(entries))
	for i, e := range entries {
		if len(e) == 0 {
			errs[i] = errors.New("tlog: append: empty entry (did Entry.Validate fail?)")
			continue
		}
		futures[i] = l.appender.Add(ctx, tessera.NewEntry(bytes.Clone(e)))
	}
	last, lastIdx := -1, uint64(0)
	for i, f := range futures {
		if f == nil {
			continue
		}
		idx, err := f()
		if err != nil {
			errs[i] = fmt.Errorf("tlog: append: %w", err)
			futures[i] = nil
			continue
		}
		if last < 0 || idx.Index >= lastIdx {
			last, lastIdx = i, idx.Index
		}
	}
	if last < 0 {
		return receipts, errs
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, l.opts.PublishTimeout)
	defer cancel()
	_, cp, err := l.awaiter.Await(actx, futures[last])
	for i, f := range futures {
		if f == nil {
			continue
		}
		if err != nil {
			errs[i] = fmt.Errorf("tlog: append: the entries are sequenced, but no checkpoint covering them was published after %v%s; it will be once the cause clears, and appending the same bytes again returns the same index: %w",
				time.Since(start).Round(time.Millisecond), l.witness.hint(), err)
			continue
		}
		idx, _ := f() // memoized: resolved above
		r, rerr := l.receiptAt(ctx, idx.Index, entries[i], cp)
		if rerr != nil {
			errs[i] = fmt.Errorf("tlog: append: %w", rerr)
			continue
		}
		receipts[i] = r
	}
	return receipts, errs
}

// Receipt returns a fresh receipt for the entry at index against the current
// checkpoint. It fails if entry is not the log's entry at index.
func (l *Log) Receipt(ctx context.Context, index uint64, entry []byte) (Receipt, error) {
	cp, err := l.reader.ReadCheckpoint(ctx)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: receipt: no checkpoint: %w", err)
	}
	r, err := l.receiptAt(ctx, index, entry, cp)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: receipt: %w", err)
	}
	return r, nil
}

// receiptAt builds the inclusion proof of entry at index against cp and
// checks it, so a receipt handed out always verifies.
func (l *Log) receiptAt(ctx context.Context, index uint64, entry []byte, cp []byte) (Receipt, error) {
	text, err := checkpointBody(cp)
	if err != nil {
		return Receipt{}, err
	}
	c, err := parseCheckpointText(text, l.origin)
	if err != nil {
		return Receipt{}, err
	}
	if index >= c.Size {
		return Receipt{}, fmt.Errorf("index %d is not covered by the checkpoint (size %d)", index, c.Size)
	}
	p, err := l.proofs.inclusion(ctx, c.Size, index, l.reader.ReadTile)
	if err != nil {
		return Receipt{}, fmt.Errorf("inclusion proof for %d in %d: %w", index, c.Size, err)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(entry)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, c.Size, leaf, p, c.Hash); err != nil {
		return Receipt{}, fmt.Errorf("the entry given is not the log's entry %d", index)
	}
	return Receipt{Index: index, Proof: p, Checkpoint: bytes.Clone(cp)}, nil
}

// proofCache keeps one proof builder for the newest tree size: the
// receipts of a batch all prove against the same checkpoint, and a builder
// per receipt would read and rehash the same tiles each time (the cost of
// 10,000 receipts was mostly that).
type proofCache struct {
	mu   sync.Mutex // a ProofBuilder is not safe for concurrent use
	size uint64
	pb   *client.ProofBuilder
}

func (c *proofCache) inclusion(ctx context.Context, size, index uint64, getTile client.TileFetcherFunc) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pb == nil || c.size != size {
		pb, err := client.NewProofBuilder(ctx, size, getTile)
		if err != nil {
			return nil, err
		}
		c.pb, c.size = pb, size
	}
	return c.pb.InclusionProof(ctx, index)
}

// Checkpoint returns the latest published checkpoint.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	cp, err := l.reader.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("tlog: checkpoint: %w", err)
	}
	return cp, nil
}

// Close waits (bounded by ctx) until every appended entry is covered by a
// published checkpoint and recorded in the dedup index, then stops the log.
// The log is stopped even when Close returns an error.
func (l *Log) Close(ctx context.Context) error {
	l.closeOnce.Do(func() {
		err := l.shutdown(ctx)
		l.release()
		if err != nil {
			l.closeErr = fmt.Errorf("tlog: close: not every appended entry is covered by a published checkpoint yet%s: %w", l.witness.hint(), err)
		}
	})
	return l.closeErr
}

func (l *Log) release() {
	if l.cancel != nil {
		l.cancel()
	}
	if l.dedup != nil {
		_ = l.dedup.close()
	}
	openDirs.Lock()
	delete(openDirs.m, l.dir)
	openDirs.Unlock()
}

// witnessTracker remembers the latest failure talking to each witness, so an
// Append that times out can say which witness is the cause. Tessera makes the
// requests through our HTTP client, so a RoundTripper sees them all.
type witnessTracker struct {
	mu       sync.Mutex
	problems map[string]string
}

func (t *witnessTracker) wrap(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		u := r.URL.String()
		var msg string
		switch {
		case err != nil:
			msg = fmt.Sprintf("%s: %v", u, err)
		case resp.StatusCode == http.StatusOK:
		default:
			// Keep the witness's reason (the bodies are short sentences)
			// and hand Tessera an unread copy.
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(b))
			why := strings.TrimSpace(string(b))
			if resp.Header.Get("Content-Type") == "text/x.tlog.size" {
				why = "it has cosigned this log up to size " + why
			}
			msg = fmt.Sprintf("%s answered %s: %s", u, resp.Status, clip(why))
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if msg == "" {
			delete(t.problems, u)
		} else {
			t.problems[u] = msg
		}
		return resp, err
	})
}

func (t *witnessTracker) hint() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.problems) == 0 {
		return ""
	}
	var ps []string
	for _, p := range t.problems {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return " (witness policy not met: " + strings.Join(ps, "; ") + ")"
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
