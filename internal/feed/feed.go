// Package feed is Hallmark's client for CSAF 2.0 providers. It reads a
// provider's provider-metadata.json, fetches its OpenPGP keys and checks
// each against the fingerprint the metadata lists, walks its ROLIE feeds
// and directories, and hands the caller every document whose hash and
// signature verify, parsed. A document that does not verify is refused
// and reported, never handed over: the watch acts on what providers say,
// so it must be what they said.
//
// Polls are conditional and resumable. State records what each URL
// answered (ETag, Last-Modified) and which listed documents are done, and
// it is up to date after every document, so a poll cut short resumes
// where it stopped. The parsing is internal/advisory's; this package only
// fetches, with bounded sizes, timeouts and counts.
package feed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/peer"
)

// WellKnownPath is where a provider's domain publishes its metadata
// (CSAF 2.0 section 7.1.8).
const WellKnownPath = "/.well-known/csaf/provider-metadata.json"

// DefaultMaxDocuments bounds the documents one poll downloads: a first
// poll of a large provider is spread over several polls rather than held
// in one.
const DefaultMaxDocuments = 10_000

// maxTrustFile bounds a key, a hash file or a signature: each is a few
// kilobytes at most.
const maxTrustFile = 1 << 20

// Options configure a Client. The zero value is ready for use.
type Options struct {
	// HTTPClient defaults to peer.DefaultHTTPClient (bounded phases and a
	// 30 s timeout per request). Its redirects are checked by this
	// package's URL rules in any case.
	HTTPClient *http.Client
	// MaxDocuments bounds the documents one poll downloads (default
	// DefaultMaxDocuments). The next poll goes on from there.
	MaxDocuments int
	// AllowHTTPLoopback accepts plain http URLs whose host is a loopback
	// address, for tests against a local server. Every other URL must be
	// https: a document fetched in clear could be swapped in transit, and
	// so could the key that would vouch for it.
	AllowHTTPLoopback bool
	// UserAgent names the caller in requests.
	UserAgent string
}

// Client polls CSAF providers. It is safe for concurrent use, but one
// State must serve one poll at a time.
type Client struct {
	opts Options
	hc   *http.Client
}

// New makes a client.
func New(opts Options) *Client {
	if opts.MaxDocuments <= 0 {
		opts.MaxDocuments = DefaultMaxDocuments
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "hallmark-csaf"
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		hc = *peer.DefaultHTTPClient()
	}
	c := &Client{opts: opts}
	inner := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := c.checkURL(req.URL); err != nil {
			return err
		}
		for _, v := range via {
			if v.URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("refusing redirect from %s to %s", v.URL, req.URL)
			}
		}
		if inner != nil {
			return inner(req, via)
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}
	c.hc = &hc
	return c
}

// MetadataURL is where provider's metadata is read: provider itself when
// it is a URL, else https://provider/.well-known/csaf/provider-metadata.json
// for a domain.
func MetadataURL(provider string) (string, error) {
	if strings.Contains(provider, "://") {
		u, err := url.Parse(provider)
		if err != nil {
			return "", fmt.Errorf("provider URL: %v", err)
		}
		if u.User != nil {
			return "", fmt.Errorf("provider URL %s carries credentials", u.Redacted())
		}
		return provider, nil
	}
	if provider == "" || strings.ContainsAny(provider, "/?#@ ") {
		return "", fmt.Errorf("provider %q is neither a URL nor a domain", provider)
	}
	return "https://" + provider + WellKnownPath, nil
}

// checkURL enforces the URL rules on every request and redirect.
func (c *Client) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.opts.AllowHTTPLoopback && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return fmt.Errorf("%s: plain http is not accepted from a CSAF provider", u.Redacted())
	default:
		return fmt.Errorf("%s: only https URLs are fetched", u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host", u.Redacted())
	}
	if u.User != nil {
		return fmt.Errorf("%s: URLs with credentials are not fetched", u.Redacted())
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Report says what one poll did.
type Report struct {
	Provider  string // the provider-metadata.json URL
	Publisher string
	Role      string // csaf_publisher, csaf_provider or csaf_trusted_provider

	Listings          int // ROLIE feeds, changes.csv and index.txt files read
	ListingsUnchanged int // of them, answered 304 Not Modified: their documents are not looked at
	Fetched           int // documents downloaded
	Unchanged         int // documents skipped: listed as before, answered 304, or the same bytes
	Ingested          int // documents verified, parsed and accepted by the caller
	Refused           []Refusal
	// Truncated says the poll stopped at Options.MaxDocuments; the next
	// poll goes on from there.
	Truncated bool
	Warnings  []string
}

// Refusal is a key, listing or document that was not used, and why.
type Refusal struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

func (r Refusal) String() string { return r.URL + ": " + r.Reason }

// String is a one-line summary, for logs.
func (r Report) String() string {
	s := fmt.Sprintf("%s: %d listings (%d unchanged), %d documents fetched, %d unchanged, %d ingested, %d refused",
		r.Provider, r.Listings, r.ListingsUnchanged, r.Fetched, r.Unchanged, r.Ingested, len(r.Refused))
	if r.Truncated {
		s += ", stopped at the document limit"
	}
	return s
}

// errBudget stops a poll at Options.MaxDocuments.
var errBudget = errors.New("document limit reached")

// poll is one run of Poll.
type poll struct {
	c      *Client
	state  *State
	fn     func(*advisory.Document) error
	rep    *Report
	budget int
	keys   [][]byte        // armored keys whose fingerprint matched the metadata
	signer map[string]bool // fingerprints a signature may be made by
	walked map[string]bool // listings already walked in this poll
}

// Poll reads a provider (the URL of its provider-metadata.json, or its
// domain) and calls fn with every document listed there that is new or
// changed since state was last updated and whose hash and signature
// verify against the provider's listed keys. state is updated as each
// document is done (fn returned nil), so the caller may persist it at any
// point between documents; fn's error stops the poll and is returned,
// the document it was given not marked done.
//
// A key, listing or document that fails is refused in the Report and the
// poll goes on; the error is for a provider that cannot be read at all
// (metadata, no usable key), for fn's error and for ctx's.
func (c *Client) Poll(ctx context.Context, provider string, state *State, fn func(doc *advisory.Document) error) (Report, error) {
	metaURL, err := MetadataURL(provider)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Provider: metaURL}
	if state == nil {
		state = &State{}
	}
	state.init()
	p := &poll{c: c, state: state, fn: fn, rep: &rep, budget: c.opts.MaxDocuments, signer: map[string]bool{}, walked: map[string]bool{}}

	var pm *advisory.ProviderMetadata
	err = p.fetchKept(ctx, metaURL, advisory.MaxDocumentSize, func(b []byte) (err error) {
		pm, err = advisory.ParseProviderMetadata(b)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("provider metadata %s: %w", metaURL, err)
	}
	rep.Publisher, rep.Role = pm.Publisher, pm.Role
	if err := p.loadKeys(ctx, pm); err != nil {
		return rep, err
	}
	for _, f := range pm.Feeds {
		if err := p.rolie(ctx, f.URL); err != nil {
			return p.stop(err)
		}
	}
	for _, d := range pm.Directories {
		if err := p.directory(ctx, d); err != nil {
			return p.stop(err)
		}
	}
	return rep, nil
}

func (p *poll) stop(err error) (Report, error) {
	if errors.Is(err, errBudget) {
		p.rep.Truncated = true
		return *p.rep, nil
	}
	return *p.rep, err
}

func (p *poll) refuse(u string, err error) {
	p.rep.Refused = append(p.rep.Refused, Refusal{URL: u, Reason: err.Error()})
}

// loadKeys fetches the provider's keys, keeping those whose fingerprint
// is the one listed for them.
func (p *poll) loadKeys(ctx context.Context, pm *advisory.ProviderMetadata) error {
	for _, k := range pm.Keys {
		err := p.fetchKept(ctx, k.URL, maxTrustFile, func(b []byte) error {
			fps, err := fingerprints(b)
			if err != nil {
				return err
			}
			if k.Fingerprint == "" {
				// The schema makes the fingerprint optional. The key then
				// vouches only as far as the https origin it came from.
				p.rep.Warnings = append(p.rep.Warnings, fmt.Sprintf("key %s: the provider metadata lists no fingerprint for it", k.URL))
				for _, fp := range fps {
					p.signer[fp] = true
				}
			} else if !slices.Contains(fps, k.Fingerprint) {
				return fmt.Errorf("%w: the key's fingerprint is %s, not %s as the provider metadata lists", advisory.ErrUntrusted, strings.Join(fps, ", "), k.Fingerprint)
			} else {
				// Only the listed key: a key file holding others as well
				// does not make them the provider's.
				p.signer[k.Fingerprint] = true
			}
			p.keys = append(p.keys, b)
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.refuse(k.URL, err)
		}
	}
	if len(p.keys) == 0 {
		return fmt.Errorf("provider metadata %s: none of its %d OpenPGP keys could be used, so no document can be verified", p.rep.Provider, len(pm.Keys))
	}
	return nil
}

// fingerprints reads the primary key fingerprints of an armored key ring,
// upper-case hex as provider metadata lists them.
func fingerprints(armored []byte) ([]string, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("%w: not an armored OpenPGP public key: %v", advisory.ErrUntrusted, err)
	}
	var out []string
	for _, e := range ring {
		out = append(out, strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	}
	return out, nil
}

// entry is one document a listing names.
type entry struct {
	url, hashURL, sigURL string
	updated              time.Time // zero in index.txt, which gives no times
}

func (p *poll) rolie(ctx context.Context, feedURL string) error {
	r, err := p.listing(ctx, feedURL)
	if r == nil {
		return p.failed(ctx, feedURL, err)
	}
	listed, err := advisory.ParseROLIEFeed(r.body)
	if err != nil {
		p.refuse(feedURL, err)
		return nil
	}
	var entries []entry
	for _, e := range listed {
		var refs [3]string
		for i, s := range []string{e.URL, e.HashURL, e.SignatureURL} {
			if s == "" {
				continue
			}
			if refs[i], err = resolve(feedURL, s); err != nil {
				break
			}
		}
		if err != nil {
			p.refuse(feedURL, fmt.Errorf("entry %s: %v", e.ID, err))
			continue
		}
		entries = append(entries, entry{url: refs[0], hashURL: refs[1], sigURL: refs[2], updated: e.Updated})
	}
	return p.walk(ctx, feedURL, r, entries)
}

// directory reads a directory distribution: changes.csv, which says when
// each document last changed, or else index.txt.
func (p *poll) directory(ctx context.Context, dir string) error {
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	changesURL, indexURL := dir+"changes.csv", dir+"index.txt"
	r, err := p.listing(ctx, changesURL)
	var status *statusError
	switch {
	case r != nil:
		listed, err := advisory.ParseChangesCSV(r.body)
		if err != nil {
			p.refuse(changesURL, err)
			return nil
		}
		entries := make([]entry, 0, len(listed))
		for _, e := range listed {
			u, err := resolve(dir, e.URL)
			if err != nil {
				p.refuse(changesURL, err)
				return nil
			}
			entries = append(entries, entry{url: u, updated: e.Updated})
		}
		return p.walk(ctx, changesURL, r, entries)
	case err == nil: // not modified
		return nil
	case !errors.As(err, &status) || status.code != http.StatusNotFound:
		return p.failed(ctx, changesURL, err)
	}
	// No changes.csv: index.txt lists the documents without times, and
	// each is asked for conditionally.
	if r, err = p.listing(ctx, indexURL); r == nil {
		return p.failed(ctx, indexURL, err)
	}
	paths, err := advisory.ParseIndexTXT(r.body)
	if err != nil {
		p.refuse(indexURL, err)
		return nil
	}
	entries := make([]entry, 0, len(paths))
	for _, path := range paths {
		u, err := resolve(dir, path)
		if err != nil {
			p.refuse(indexURL, err)
			return nil
		}
		entries = append(entries, entry{url: u})
	}
	return p.walk(ctx, indexURL, r, entries)
}

// listing fetches a listing conditionally: nil and no error when it has
// not changed since it was last walked whole (or was walked already in
// this poll).
func (p *poll) listing(ctx context.Context, u string) (*response, error) {
	if p.walked[u] {
		return nil, nil
	}
	p.walked[u] = true
	r, err := p.c.get(ctx, u, advisory.MaxFeedSize, p.state.Seen[u])
	if err != nil {
		return nil, err
	}
	p.rep.Listings++
	if r.notModified {
		p.rep.ListingsUnchanged++
		return nil, nil
	}
	return r, nil
}

// failed reports a listing that could not be read; the poll goes on
// unless ctx ended.
func (p *poll) failed(ctx context.Context, u string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		p.refuse(u, err)
	}
	return nil
}

// walk handles a listing's entries oldest first, then moves the listing's
// mark in state up to where every entry is done. The listing's own
// validators are kept only when all of it is done: a 304 next time then
// truly means nothing in it needs looking at.
func (p *poll) walk(ctx context.Context, listing string, r *response, entries []entry) error {
	entries = newestPerURL(entries)
	mark := p.state.Newest[listing]
	done := make([]bool, len(entries))
	var stop error
	for i, e := range entries {
		if seen := p.state.Seen[e.url]; !e.updated.IsZero() && (!e.updated.After(mark) || seen != nil && !e.updated.After(seen.Updated)) {
			done[i] = true
			p.rep.Unchanged++
			continue
		}
		if done[i], stop = p.document(ctx, e); stop != nil {
			break
		}
	}
	// The mark is the newest time up to which every entry is done: the
	// first entry left undone holds it below its own time.
	undone := slices.Index(done, false)
	if undone < 0 {
		undone = len(entries)
	}
	newMark := mark
	for _, e := range entries[:undone] {
		if undone < len(entries) && !e.updated.Before(entries[undone].updated) {
			break
		}
		if e.updated.After(newMark) {
			newMark = e.updated
		}
	}
	if !newMark.IsZero() {
		p.state.Newest[listing] = newMark
	}
	if stop == nil && undone == len(entries) {
		p.state.Seen[listing] = &Seen{ETag: r.etag, LastModified: r.lastModified}
	}
	return stop
}

// newestPerURL keeps each URL once, at its newest time, sorted oldest
// first (a changes.csv lists a document again at each change).
func newestPerURL(entries []entry) []entry {
	at := map[string]int{}
	var out []entry
	for _, e := range entries {
		if i, ok := at[e.url]; ok {
			if e.updated.After(out[i].updated) {
				out[i] = e
			}
			continue
		}
		at[e.url] = len(out)
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b entry) int { return a.updated.Compare(b.updated) })
	return out
}

// document fetches, verifies and hands over one document. done says
// whether it needs no more looking at; err stops the poll.
func (p *poll) document(ctx context.Context, e entry) (done bool, err error) {
	if p.budget <= 0 {
		return false, errBudget
	}
	p.budget--
	seen := p.state.Seen[e.url]
	r, err := p.c.get(ctx, e.url, advisory.MaxDocumentSize, seen)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		p.refuse(e.url, err)
		return false, nil
	}
	if r.notModified {
		p.rep.Unchanged++
		if e.updated.After(seen.Updated) {
			seen.Updated = e.updated
		}
		return true, nil
	}
	p.rep.Fetched++
	sum := sha256.Sum256(r.body)
	digest := hex.EncodeToString(sum[:])
	if seen != nil && seen.SHA256 == digest {
		p.rep.Unchanged++
		p.state.Seen[e.url] = &Seen{ETag: r.etag, LastModified: r.lastModified, Updated: e.updated, SHA256: digest}
		return true, nil
	}
	if err := p.verify(ctx, e, r.body); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		p.refuse(e.url, err)
		return false, nil
	}
	doc, err := advisory.ParseCSAF(r.body)
	if err != nil {
		p.refuse(e.url, err)
		return false, nil
	}
	if err := p.fn(doc); err != nil {
		return false, fmt.Errorf("%s: %w", e.url, err)
	}
	p.rep.Ingested++
	p.state.Seen[e.url] = &Seen{ETag: r.etag, LastModified: r.lastModified, Updated: e.updated, SHA256: digest}
	return true, nil
}

// verify checks a document against its hash file (the listed one, else
// .sha512 beside it, else .sha256) and its signature (the listed one,
// else .asc beside it) by one of the provider's keys. Both are required:
// a trusted provider publishes both, and a document without them could
// be anyone's.
func (p *poll) verify(ctx context.Context, e entry, body []byte) error {
	hashURLs := []string{e.hashURL}
	if e.hashURL == "" {
		hashURLs = []string{e.url + ".sha512", e.url + ".sha256"}
	}
	for i, hu := range hashURLs {
		var alg string
		switch {
		case strings.HasSuffix(hu, ".sha512"):
			alg = "sha512"
		case strings.HasSuffix(hu, ".sha256"):
			alg = "sha256"
		default:
			return fmt.Errorf("%w: hash link %s ends in neither .sha256 nor .sha512", advisory.ErrUntrusted, hu)
		}
		r, err := p.c.get(ctx, hu, maxTrustFile, nil)
		var status *statusError
		if errors.As(err, &status) && status.code == http.StatusNotFound && i+1 < len(hashURLs) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: no hash: %v", advisory.ErrUntrusted, err)
		}
		if err := advisory.CheckHash(body, r.body, alg); err != nil {
			return fmt.Errorf("%s: %w", hu, err)
		}
		break
	}
	sigURL := e.sigURL
	if sigURL == "" {
		sigURL = e.url + ".asc"
	}
	r, err := p.c.get(ctx, sigURL, maxTrustFile, nil)
	if err != nil {
		return fmt.Errorf("%w: no signature: %v", advisory.ErrUntrusted, err)
	}
	fp, err := advisory.CheckSignature(body, r.body, p.keys...)
	if err != nil {
		return fmt.Errorf("%s: %w", sigURL, err)
	}
	if !p.signer[fp] {
		return fmt.Errorf("%s: %w: signed by key %s, which the provider metadata does not list", sigURL, advisory.ErrUntrusted, fp)
	}
	return nil
}

// fetchKept fetches a small file that use must accept, conditionally:
// its body is kept in state so that a 304 can be used again.
func (p *poll) fetchKept(ctx context.Context, u string, limit int64, use func([]byte) error) error {
	seen := p.state.Seen[u]
	if seen != nil && seen.Body == nil {
		seen = nil
	}
	r, err := p.c.get(ctx, u, limit, seen)
	if err != nil {
		return err
	}
	if r.notModified {
		return use(seen.Body)
	}
	if err := use(r.body); err != nil {
		return err
	}
	p.state.Seen[u] = &Seen{ETag: r.etag, LastModified: r.lastModified, Body: r.body}
	return nil
}

// resolve makes a listed reference absolute against the listing's URL.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", ref, err)
	}
	return b.ResolveReference(r).String(), nil
}

// response is one answer: a body, or 304 Not Modified.
type response struct {
	body               []byte
	notModified        bool
	etag, lastModified string
}

// statusError is an HTTP status other than 200 and 304.
type statusError struct {
	url  string
	code int
	text string
}

func (e *statusError) Error() string { return fmt.Sprintf("GET %s: %s", e.url, e.text) }

// get fetches a URL, conditionally when seen holds validators, refusing
// error statuses and bodies over limit.
func (c *Client) get(ctx context.Context, rawURL string, limit int64, seen *Seen) (*response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", rawURL, err)
	}
	if err := c.checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if seen != nil {
		if seen.ETag != "" {
			req.Header.Set("If-None-Match", seen.ETag)
		}
		if seen.LastModified != "" {
			req.Header.Set("If-Modified-Since", seen.LastModified)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && seen != nil:
		return &response{notModified: true}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, &statusError{url: rawURL, code: resp.StatusCode, text: resp.Status}
	case resp.ContentLength > limit:
		return nil, fmt.Errorf("GET %s: %d bytes, over the limit of %d", rawURL, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: over the limit of %d bytes", rawURL, limit)
	}
	return &response{body: b, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}, nil
}
