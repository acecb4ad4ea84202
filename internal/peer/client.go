// Package peer is Hallmark's client for another authority: its published
// keys, status lists, transparency log (info, checkpoint, tiles) and
// receipts, fetched with bounded sizes and timeouts and cached on disk for
// offline use; and the user's trust store of the authorities whose
// credentials they accept (trust.go). 'hallmark verify' and 'hallmark
// audit' use it, as will federation between authorities.
package peer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// Where a Hallmark authority publishes what a peer reads.
const (
	WellKnownKeysPath = "/.well-known/hallmark/keys.json"
	WellKnownLogPath  = "/.well-known/hallmark/log.json"
)

// Response size limits: generous for what each document holds, small
// enough that a hostile server cannot exhaust memory.
const (
	MaxCredentialBytes = 1 << 20
	MaxKeysBytes       = 1 << 20
	MaxStatusListBytes = 4 << 20 // above label.MaxCredentialSize's encoded list, with room
	MaxJSONBytes       = 4 << 20 // log info, receipts, a page of labels
)

// ErrNotCached is returned offline for a document the cache does not hold.
var ErrNotCached = errors.New("not in the cache")

// Options configure a Client. The zero value fetches online with
// DefaultHTTPClient and caches nothing.
type Options struct {
	// CacheDir keeps every fetched document with the time it was fetched,
	// for Offline and for when the network fails. "" keeps none.
	CacheDir string
	// Offline uses the cache only: nothing is fetched.
	Offline bool
	// KeysURL is where the key set is read; default BaseURL +
	// WellKnownKeysPath.
	KeysURL string
	// HTTPClient defaults to DefaultHTTPClient().
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Warn is told what limits a result: a cached copy used because the
	// network failed, a document reached over plain HTTP. Nil drops them.
	Warn func(string)
	// UserAgent names the caller in requests.
	UserAgent string
	// Fresh asks every cache on the way, the authority's own included,
	// for the answer as it is now (Cache-Control: no-cache): an auditor
	// compares the registry with the log, not with a copy.
	Fresh bool
}

// Client reads one authority, at its base URL.
type Client struct {
	base string // scheme://host[:port], no trailing slash
	opts Options

	mu        sync.Mutex
	plainHTTP map[string]bool // hosts already warned about
}

// DefaultHTTPClient bounds every phase of a request and refuses a redirect
// from https to http (keys fetched in clear could be swapped).
func DefaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:    10 * time.Second,
			ResponseHeaderTimeout:  15 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("refusing redirect from https to %s", req.URL.Scheme)
			}
			return nil
		},
	}
}

// New makes a client for the authority at baseURL, an http(s) URL; only its
// origin is kept (a Hallmark authority publishes at its root).
func New(baseURL string, opts Options) (*Client, error) {
	origin, err := Origin(baseURL)
	if err != nil {
		return nil, err
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = DefaultHTTPClient()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "hallmark-peer"
	}
	if opts.KeysURL == "" {
		opts.KeysURL = origin + WellKnownKeysPath
	}
	return &Client{base: origin, opts: opts}, nil
}

// Origin is an http(s) URL's scheme://host[:port].
func Origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// BaseURL is the authority's origin.
func (c *Client) BaseURL() string { return c.base }

// Fetched says where a document came from.
type Fetched struct {
	URL    string
	At     time.Time // when it was fetched from the network
	Cached bool      // read from the cache, not the network
}

func (f Fetched) String() string {
	if f.Cached {
		return fmt.Sprintf("%s (cached %s)", f.URL, f.At.UTC().Format(time.RFC3339))
	}
	return f.URL
}

// Keys is the authority's published key set.
func (c *Client) Keys(ctx context.Context) (label.PublicKeys, Fetched, error) {
	var keys label.PublicKeys
	f, err := c.document(ctx, c.opts.KeysURL, "application/jwk-set+json, application/json", MaxKeysBytes, func(b []byte) (err error) {
		keys, err = label.ParseJWKS(b)
		return err
	})
	if err != nil {
		return nil, f, fmt.Errorf("the issuer's keys: %w", err)
	}
	return keys, f, nil
}

// StatusList is a verified snapshot of one of the authority's status
// lists, judged as of when it was fetched: now online, the cache's record
// otherwise (label.VerifyOffline then decides whether it is still fresh).
// The list must be on the authority's own origin.
func (c *Client) StatusList(ctx context.Context, listURL string, keys label.PublicKeys) (*label.StatusListSnapshot, error) {
	if o, err := Origin(listURL); err != nil || o != c.base {
		return nil, fmt.Errorf("status list %s is not on the issuer's origin %s", listURL, c.base)
	}
	var snap *label.StatusListSnapshot
	_, err := c.documentAt(ctx, listURL, label.MediaType, MaxStatusListBytes, func(b []byte, at time.Time) (err error) {
		snap, err = label.VerifyStatusList(strings.TrimSpace(string(b)), keys, at)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("status list %s: %w", listURL, err)
	}
	return snap, nil
}

// LogInfo is what /.well-known/hallmark/log.json says.
type LogInfo struct {
	Origin     string       `json:"origin"`
	Verifiers  []string     `json:"verifiers"` // note verifier keys of the checkpoints
	Checkpoint string       `json:"checkpoint,omitempty"`
	Tiles      string       `json:"tiles,omitempty"`
	Issuer     label.Issuer `json:"issuer"` // as the authority names itself; a claim, not a proof
}

// LogInfo reads the authority's log description.
func (c *Client) LogInfo(ctx context.Context) (LogInfo, error) {
	var info LogInfo
	if _, err := c.jsonDoc(ctx, c.base+WellKnownLogPath, &info); err != nil {
		return info, err
	}
	if info.Origin == "" || len(info.Verifiers) == 0 {
		return info, fmt.Errorf("%s names no log origin or verifier keys", c.base+WellKnownLogPath)
	}
	return info, nil
}

// LogFetcher reads the authority's log (checkpoint, tiles, entry bundles)
// over HTTP, for tlog.Audit; tlog bounds each resource's size.
func (c *Client) LogFetcher() tlog.Fetcher {
	return tlog.HTTPFetcher(c.base+"/log/", c.opts.HTTPClient)
}

// Receipts are a label's logged decisions with their C2SP tlog-proof
// receipts, as /api/v1/labels/{id}/receipts answers.
type Receipts struct {
	Label     string    `json:"label"`
	Origin    string    `json:"log_origin"`
	Verifiers []string  `json:"log_verifiers"`
	Receipts  []Receipt `json:"receipts"`
}

// Receipt is one logged decision.
type Receipt struct {
	Kind    string    `json:"kind"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
	Logged  bool      `json:"logged"` // false: decided, not yet in the log
	Entry   string    `json:"entry"`
	Receipt string    `json:"receipt"`
}

// Receipts reads a label's receipts.
func (c *Client) Receipts(ctx context.Context, labelID string) (Receipts, error) {
	var r Receipts
	_, err := c.jsonDoc(ctx, c.base+"/api/v1/labels/"+url.PathEscape(labelID)+"/receipts", &r)
	return r, err
}

// LabelSummary is one label in the public registry.
type LabelSummary struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	CredentialSHA string `json:"credential_sha256"`
	// The product, which links the label to the same product's labels at
	// other authorities.
	Manufacturer string `json:"manufacturer"`
	ModelNumber  string `json:"model_number"`
	GTIN         string `json:"gtin"`
	PURL         string `json:"purl"`
}

// LabelPage is one page of the public registry.
type LabelPage struct {
	Items []LabelSummary `json:"items"`
	Total int            `json:"total"`
	// Cursor continues the listing after this page (LabelsAfter); empty
	// on the last page, or from a server that pages by offset only.
	Cursor string `json:"cursor"`
}

// LabelsAfter reads the page of the public registry after cursor (""
// for the first): keyset paging, so reading the whole registry costs
// time in proportion to its size.
func (c *Client) LabelsAfter(ctx context.Context, cursor string, limit int) (LabelPage, error) {
	var p LabelPage
	u := fmt.Sprintf("%s/api/v1/labels?limit=%d", c.base, limit)
	if cursor != "" {
		u += "&cursor=" + url.QueryEscape(cursor)
	}
	b, err := c.get(ctx, u, "application/json", MaxJSONBytes)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	return p, err
}

// Labels reads a page of the public registry (never cached: an auditor
// wants it as it is now).
func (c *Client) Labels(ctx context.Context, offset, limit int) (LabelPage, error) {
	var p LabelPage
	b, err := c.get(ctx, fmt.Sprintf("%s/api/v1/labels?limit=%d&offset=%d", c.base, limit, offset), "application/json", MaxJSONBytes)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	return p, err
}

// LabelEvent is one step of a label's public history.
type LabelEvent struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// LabelDetail is a label's public record with its history, oldest first.
type LabelDetail struct {
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	History []LabelEvent `json:"history"`
}

// Label reads one label's public record (never cached: an auditor
// compares it with the log as it is now).
func (c *Client) Label(ctx context.Context, id string) (LabelDetail, error) {
	var l LabelDetail
	b, err := c.get(ctx, c.base+"/api/v1/labels/"+url.PathEscape(id), "application/json", MaxJSONBytes)
	if err == nil {
		err = json.Unmarshal(b, &l)
	}
	return l, err
}

// Credential fetches a label credential from rawURL, which need not be on
// this authority's origin: a credential vouches for itself by its
// signature. Never cached.
func (c *Client) Credential(ctx context.Context, rawURL string) (string, error) {
	if c.opts.Offline {
		return "", errors.New("offline: a credential URL cannot be fetched; give a file")
	}
	b, err := c.get(ctx, rawURL, label.MediaType, MaxCredentialBytes)
	if err != nil {
		return "", fmt.Errorf("fetching the credential: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *Client) jsonDoc(ctx context.Context, u string, out any) (Fetched, error) {
	return c.document(ctx, u, "application/json", MaxJSONBytes, func(b []byte) error {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s could not be read: %w", u, err)
		}
		return nil
	})
}

func (c *Client) document(ctx context.Context, u, accept string, limit int64, use func([]byte) error) (Fetched, error) {
	return c.documentAt(ctx, u, accept, limit, func(b []byte, _ time.Time) error { return use(b) })
}

// documentAt reads a document online (caching it when use accepts it) and,
// offline or when the network or the document fails, from the cache.
func (c *Client) documentAt(ctx context.Context, u, accept string, limit int64, use func(body []byte, fetchedAt time.Time) error) (Fetched, error) {
	var netErr error
	if !c.opts.Offline {
		now := c.opts.Now()
		b, err := c.get(ctx, u, accept, limit)
		if err == nil {
			if err = use(b, now); err == nil {
				c.store(u, b, now)
				return Fetched{URL: u, At: now}, nil
			}
		}
		netErr = err
	}
	b, at, err := c.load(u)
	if err != nil {
		if netErr != nil {
			return Fetched{URL: u}, netErr
		}
		return Fetched{URL: u}, err
	}
	if err := use(b, at); err != nil {
		return Fetched{URL: u}, fmt.Errorf("cached copy: %w", err)
	}
	if netErr != nil {
		c.opts.Warn(fmt.Sprintf("could not use %s (%v); using the copy cached %s", u, netErr, at.UTC().Format(time.RFC3339)))
	}
	return Fetched{URL: u, At: at, Cached: true}, nil
}

// get fetches a URL, refusing error statuses and bodies over limit.
func (c *Client) get(ctx context.Context, rawURL, accept string, limit int64) ([]byte, error) {
	if _, err := Origin(rawURL); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	if c.opts.Fresh {
		req.Header.Set("Cache-Control", "no-cache")
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: rawURL, Code: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("GET %s: %d bytes, over the %d byte limit", rawURL, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: over the %d byte limit", rawURL, limit)
	}
	if u := resp.Request.URL; u.Scheme == "http" {
		c.mu.Lock()
		first := !c.plainHTTP[u.Host]
		if c.plainHTTP == nil {
			c.plainHTTP = map[string]bool{}
		}
		c.plainHTTP[u.Host] = true
		c.mu.Unlock()
		if first {
			c.opts.Warn(fmt.Sprintf("%s://%s was reached over plain HTTP, which anyone on the path can alter", u.Scheme, u.Host))
		}
	}
	return b, nil
}

// cacheEntry is one cached document with the time it was fetched: the
// file's mtime would be lost by a copy or a backup.
type cacheEntry struct {
	URL       string    `json:"url"`
	FetchedAt time.Time `json:"fetched_at"`
	Body      string    `json:"body"`
}

func (c *Client) cachePath(u string) string {
	sum := sha256.Sum256([]byte(u))
	return filepath.Join(c.opts.CacheDir, hex.EncodeToString(sum[:16])+".json")
}

// store caches a document; failing to cache is not worth failing the caller.
func (c *Client) store(u string, body []byte, at time.Time) {
	if c.opts.CacheDir == "" {
		return
	}
	data, err := json.Marshal(cacheEntry{URL: u, FetchedAt: at.UTC(), Body: string(body)})
	if err == nil {
		err = WriteFileAtomic(c.cachePath(u), data)
	}
	if err != nil {
		c.opts.Warn(fmt.Sprintf("could not cache %s: %v", u, err))
	}
}

func (c *Client) load(u string) ([]byte, time.Time, error) {
	if c.opts.CacheDir == "" {
		return nil, time.Time{}, fmt.Errorf("%s: no cache directory: %w", u, ErrNotCached)
	}
	b, err := ReadFileLimited(c.cachePath(u), 2*MaxStatusListBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, fmt.Errorf("%s: %w", u, ErrNotCached)
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil || e.URL != u || e.FetchedAt.IsZero() {
		return nil, time.Time{}, fmt.Errorf("unreadable cache file %s", c.cachePath(u))
	}
	return []byte(e.Body), e.FetchedAt, nil
}

// ReadFileLimited reads a file, refusing one larger than limit bytes.
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// WriteFileAtomic writes a 0600 file (its directory 0700) by way of a
// temporary file and a rename, so a reader never sees half of it and a
// crash leaves the old one.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// StatusError is an answer other than 200 OK, so callers can tell "there
// is no such label" (404) from a server in trouble.
type StatusError struct {
	URL    string
	Code   int
	Status string
}

func (e *StatusError) Error() string { return fmt.Sprintf("GET %s: %s", e.URL, e.Status) }
