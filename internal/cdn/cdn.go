// Package cdn makes public answers cheap to carry: every response a
// shared cache may store (Cache-Control: public) gets an entity tag, a
// conditional request that names it gets 304 Not Modified, and a body
// worth compressing is sent gzip-compressed to clients that accept it.
// Answers that are not public pass through untouched, and so does a
// handler that validates itself (it set an ETag) with a body not worth
// compressing, so files keep the kernel's sendfile path.
package cdn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

const (
	// MinCompress is the smallest body compressed: below it the gzip
	// header and the CPU cost more than the bytes saved.
	MinCompress = 1024
	// MaxBuffer is the largest body held to tag it; a larger one is sent
	// as it comes, untagged (no public answer of Hallmark's is that big).
	MaxBuffer = 4 << 20
	// DefaultBudget bounds the memory kept for compressed bodies.
	DefaultBudget = 32 << 20
)

// Handler wraps next; budget bounds the bytes of compressed bodies kept
// so a hot answer is compressed once (0: DefaultBudget).
func Handler(next http.Handler, budget int) http.Handler {
	if budget <= 0 {
		budget = DefaultBudget
	}
	m := &middleware{next: next, gz: &gzCache{budget: budget, seed: maphash.MakeSeed()}}
	return m
}

type middleware struct {
	next http.Handler
	gz   *gzCache
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		m.next.ServeHTTP(w, r)
		return
	}
	cw := &writer{w: w, r: r, gz: m.gz}
	m.next.ServeHTTP(cw, r)
	cw.finish()
}

type mode int

const (
	undecided mode = iota
	pass           // written straight through
	buffer         // held to tag (and maybe compress) at the end
	discard        // answered 304; the handler's body goes nowhere
)

type writer struct {
	w    http.ResponseWriter
	r    *http.Request
	gz   *gzCache
	mode mode
	buf  bytes.Buffer
}

func (w *writer) Header() http.Header { return w.w.Header() }

func (w *writer) WriteHeader(code int) {
	if w.mode != undecided {
		if w.mode == pass {
			w.w.WriteHeader(code) // informational answers, or a handler's double call: net/http judges
		}
		return
	}
	if code >= 100 && code < 200 {
		w.w.WriteHeader(code)
		return
	}
	h := w.w.Header()
	if code != http.StatusOK || !Public(h.Get("Cache-Control")) || h.Get("Content-Encoding") != "" || h.Get("Content-Range") != "" {
		w.mode = pass
		w.w.WriteHeader(code)
		return
	}
	if tag := h.Get("Etag"); tag != "" {
		if Match(w.r.Header.Get("If-None-Match"), tag) {
			w.mode = discard
			notModified(w.w)
			return
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		worth := compressible(h.Get("Content-Type")) && (err != nil || n >= MinCompress)
		if !worth || !AcceptsGzip(w.r.Header.Get("Accept-Encoding")) {
			// The handler validates itself and the body is not to be
			// compressed: let it stream (sendfile for files), unheld.
			if worth {
				addVary(h, "Accept-Encoding")
			}
			w.mode = pass
			w.w.WriteHeader(code)
			return
		}
	}
	w.mode = buffer
}

func (w *writer) Write(p []byte) (int, error) {
	if w.mode == undecided {
		w.WriteHeader(http.StatusOK)
	}
	switch w.mode {
	case discard:
		return len(p), nil
	case buffer:
		if w.buf.Len()+len(p) <= MaxBuffer {
			return w.buf.Write(p)
		}
		w.spill()
	}
	return w.w.Write(p)
}

// spill gives up holding the body: what is held goes out untagged.
func (w *writer) spill() {
	w.mode = pass
	w.w.Header().Del("Content-Length")
	w.w.WriteHeader(http.StatusOK)
	w.w.Write(w.buf.Bytes())
	w.buf = bytes.Buffer{}
}

// ReadFrom keeps io.Copy's fast path (sendfile) for answers passed
// through: a wrapper without it would hide the connection's.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if w.mode == undecided {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.w.(io.ReaderFrom); ok && w.mode == pass {
		return rf.ReadFrom(src)
	}
	return io.Copy(writeOnly{w}, src)
}

// Flush sends what is held: a handler that flushes wants the bytes out.
func (w *writer) Flush() {
	if w.mode == buffer {
		w.spill()
	}
	if f, ok := w.w.(http.Flusher); ok && w.mode != discard {
		f.Flush()
	}
}

// Hijack lets a handler take the connection (none on the public path do).
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.w).Hijack()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *writer) Unwrap() http.ResponseWriter { return w.w }

type writeOnly struct{ io.Writer }

func (w *writer) finish() {
	switch w.mode {
	case undecided: // the handler wrote nothing
		if len(w.w.Header()) == 0 {
			return
		}
		w.WriteHeader(http.StatusOK)
		if w.mode != buffer {
			return
		}
	case buffer:
	default:
		return
	}
	body := w.buf.Bytes()
	h := w.w.Header()
	tag := h.Get("Etag")
	if tag == "" {
		tag = Tag(body)
		h.Set("Etag", tag)
	}
	if Match(w.r.Header.Get("If-None-Match"), tag) {
		if compressible(h.Get("Content-Type")) && len(body) >= MinCompress {
			addVary(h, "Accept-Encoding")
		}
		notModified(w.w)
		return
	}
	if compressible(h.Get("Content-Type")) && len(body) >= MinCompress {
		addVary(h, "Accept-Encoding")
		if AcceptsGzip(w.r.Header.Get("Accept-Encoding")) {
			if gz := w.gz.get(body); gz != nil {
				body = gz
				h.Set("Content-Encoding", "gzip")
				h.Set("Etag", gzTag(tag))
			}
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.w.WriteHeader(http.StatusOK)
	if w.r.Method != http.MethodHead {
		w.w.Write(body)
	}
}

// notModified answers 304 with the validators and caching headers only.
func notModified(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Last-Modified"} {
		h.Del(k)
	}
	w.WriteHeader(http.StatusNotModified)
}

// Public reports whether a Cache-Control value lets shared caches store
// the answer.
func Public(cc string) bool {
	for d := range strings.SplitSeq(cc, ",") {
		switch strings.ToLower(strings.TrimSpace(d)) {
		case "private", "no-store":
			return false
		}
	}
	for d := range strings.SplitSeq(cc, ",") {
		if strings.EqualFold(strings.TrimSpace(d), "public") {
			return true
		}
	}
	return false
}

// Tag is the strong entity tag of a body: the same bytes give the same
// tag on every instance, so caches in front of several agree.
func Tag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:15]) + `"`
}

// WeakTag is a weak entity tag over what identifies a representation,
// for bodies that differ only in what does not matter to a cache (the
// "as of" time a page is served at).
func WeakTag(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return `W/"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:15]) + `"`
}

const gzSuffix = "-gz"

// gzTag tags the compressed variant: a strong tag names exact bytes, so
// it must differ from the identity body's (RFC 9110, 8.8.3).
func gzTag(tag string) string { return strings.TrimSuffix(tag, `"`) + gzSuffix + `"` }

// Match reports whether an If-None-Match value names tag, by the weak
// comparison RFC 9110 (13.1.2) prescribes for it; the compressed
// variant's tag names the same content.
func Match(inm, tag string) bool {
	if inm == "" || tag == "" {
		return false
	}
	want := opaque(tag)
	for t := range strings.SplitSeq(inm, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || (t != "" && opaque(t) == want) {
			return true
		}
	}
	return false
}

func opaque(t string) string {
	t = strings.TrimPrefix(t, "W/")
	if s, ok := strings.CutSuffix(t, gzSuffix+`"`); ok {
		t = s + `"`
	}
	return t
}

// AcceptsGzip reads an Accept-Encoding value: gzip (or *) with a
// non-zero weight.
func AcceptsGzip(ae string) bool {
	for part := range strings.SplitSeq(ae, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// compressible is text that gzip shrinks: HTML, JSON, SVG, plain text.
// Images, archives, signed credentials (mostly base64 of compressed or
// random bytes) and log tiles (hashes) are not worth it.
func compressible(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", mt == "application/problem+json", mt == "image/svg+xml",
		mt == "application/xml", mt == "text/xml", mt == "application/javascript", mt == "application/ld+json",
		strings.HasSuffix(mt, "+json"):
		return true
	}
	return false
}

// addVary adds a field to Vary, on one line (many clients read only the first).
func addVary(h http.Header, v string) {
	have := strings.Join(h.Values("Vary"), ", ")
	for f := range strings.SplitSeq(have, ",") {
		if strings.EqualFold(strings.TrimSpace(f), v) {
			return
		}
	}
	if have != "" {
		v = have + ", " + v
	}
	h.Set("Vary", v)
}

// gzCache keeps compressed bodies by their exact bytes within a byte
// budget, so a hot answer costs one compression, not one per request.
type gzCache struct {
	mu      sync.Mutex
	seed    maphash.Seed
	budget  int
	used    int
	entries map[uint64]gzEntry
}

type gzEntry struct{ plain, gz []byte }

var gzPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// get returns body compressed, or nil when compressing saves under a
// tenth (the identity body is then sent).
func (c *gzCache) get(body []byte) []byte {
	k := maphash.Bytes(c.seed, body)
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && bytes.Equal(e.plain, body) {
		return e.gz
	}
	var out bytes.Buffer
	zw := gzPool.Get().(*gzip.Writer)
	zw.Reset(&out)
	zw.Write(body)
	zw.Close()
	gzPool.Put(zw)
	var gz []byte
	if out.Len() < len(body)-len(body)/10 {
		gz = out.Bytes()
	}
	cost := len(body) + len(gz)
	if cost*4 > c.budget {
		return gz // too big to keep: compressed each time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used+cost > c.budget {
		// Simple and bounded: start again. The hot set refills at once.
		c.entries, c.used = nil, 0
	}
	if c.entries == nil {
		c.entries = map[uint64]gzEntry{}
	}
	if old, ok := c.entries[k]; ok {
		c.used -= len(old.plain) + len(old.gz)
	}
	c.entries[k] = gzEntry{plain: bytes.Clone(body), gz: gz}
	c.used += cost
	return gz
}
