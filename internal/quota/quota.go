// Package quota holds the limits that keep one stranger from exhausting
// the server: what an organisation may upload (SBOMs and evidence), how
// many uploads run at once, and how often one address may register. Rules
// only: the store counts what was uploaded and the server asks here.
//
// Anyone may register as a manufacturer, so each limit must hold against
// an organisation made for the purpose; registration per address bounds
// how many such organisations one host makes.
package quota

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Limits are the upload limits of one organisation.
type Limits struct {
	// SBOMComponents caps the component entries one SBOM may list.
	SBOMComponents int
	// StoredComponents caps the SBOM components an organisation keeps
	// stored over all its versions (the database rows it costs).
	StoredComponents int
	// DailyUploads caps SBOM and evidence uploads per organisation in any
	// 24 hours, refused ones included.
	DailyUploads int
	// DailyBytes caps the bytes of those uploads in any 24 hours.
	DailyBytes int64
}

// Default are the limits unless the operator sets others: generous for a
// manufacturer's real work (a firmware SBOM lists hundreds to a few
// thousand components; hundreds of uploads a day is a busy release
// pipeline), small against abuse (a day's worth is a few gigabytes).
var Default = Limits{
	SBOMComponents:   50_000,
	StoredComponents: 2_000_000,
	DailyUploads:     500,
	DailyBytes:       2 << 30,
}

// Window is the span the daily limits are counted over.
const Window = 24 * time.Hour

// WithDefaults fills the zero fields of l from Default.
func (l Limits) WithDefaults() Limits {
	if l.SBOMComponents <= 0 {
		l.SBOMComponents = Default.SBOMComponents
	}
	if l.StoredComponents <= 0 {
		l.StoredComponents = Default.StoredComponents
	}
	if l.DailyUploads <= 0 {
		l.DailyUploads = Default.DailyUploads
	}
	if l.DailyBytes <= 0 {
		l.DailyBytes = Default.DailyBytes
	}
	return l
}

// Usage is what an organisation uploaded in the last Window, and the SBOM
// components it keeps stored.
type Usage struct {
	Uploads          int
	Bytes            int64
	Oldest           time.Time // the oldest upload in the window
	StoredComponents int
}

// ErrExceeded is wrapped by every refusal over a limit.
var ErrExceeded = errors.New("quota exceeded")

// Exceeded is a refusal: what was over, and when to try again (zero when
// waiting does not help).
type Exceeded struct {
	Msg        string
	RetryAfter time.Duration
}

func (e *Exceeded) Error() string { return e.Msg }
func (e *Exceeded) Unwrap() error { return ErrExceeded }

// retry is how long until the oldest upload leaves the window (at least a
// minute: the figure is only a hint).
func retry(u Usage, now time.Time) time.Duration {
	d := u.Oldest.Add(Window).Sub(now)
	return max(d.Round(time.Minute), time.Minute)
}

// bytesText writes a byte count for people.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", (n+1023)>>10)
}

// Upload checks whether an upload of size bytes may start now.
func (l Limits) Upload(u Usage, size int64, now time.Time) error {
	l = l.WithDefaults()
	if u.Uploads >= l.DailyUploads {
		wait := retry(u, now)
		return &Exceeded{RetryAfter: wait, Msg: fmt.Sprintf("your organisation has sent %d uploads in the last 24 hours, the most this server takes; try again in %s", u.Uploads, wait)}
	}
	if u.Bytes+size > l.DailyBytes {
		wait := retry(u, now)
		return &Exceeded{RetryAfter: wait, Msg: fmt.Sprintf("this upload would take your organisation past the %s it may send in 24 hours (%s so far); try again in %s",
			bytesText(l.DailyBytes), bytesText(u.Bytes), wait)}
	}
	return nil
}

// Components checks whether an SBOM of incoming components may replace
// one of current components.
func (l Limits) Components(u Usage, current, incoming int) error {
	l = l.WithDefaults()
	if after := u.StoredComponents - current + incoming; after > l.StoredComponents {
		return &Exceeded{Msg: fmt.Sprintf("your organisation would keep %d SBOM components stored, over the %d this server allows; "+
			"replace or leave out older versions' SBOMs, or ask the operator for more", after, l.StoredComponents)}
	}
	return nil
}

// Slots bounds the uploads read and parsed at once: in all (so memory
// stays bounded whatever the traffic) and per organisation (so one cannot
// take every slot). An upload over either bound waits its turn.
type Slots struct {
	all    chan struct{}
	perKey int
	mu     sync.Mutex
	keys   map[int64]*keySlots
}

type keySlots struct {
	ch    chan struct{}
	users int // holding or waiting
}

// NewSlots admits total uploads at once, at most perKey of one key.
func NewSlots(total, perKey int) *Slots {
	return &Slots{all: make(chan struct{}, total), perKey: perKey, keys: map[int64]*keySlots{}}
}

// ErrBusy is wrapped by the refusal when no slot frees in time.
var ErrBusy = errors.New("too many uploads at once")

// Acquire takes a slot for key, waiting at most wait for one to free. The
// release function must be called once the upload is parsed.
func (s *Slots) Acquire(ctx context.Context, key int64, wait time.Duration) (release func(), err error) {
	s.mu.Lock()
	ks := s.keys[key]
	if ks == nil {
		ks = &keySlots{ch: make(chan struct{}, s.perKey)}
		s.keys[key] = ks
	}
	ks.users++
	s.mu.Unlock()
	leave := func() {
		s.mu.Lock()
		if ks.users--; ks.users == 0 {
			delete(s.keys, key)
		}
		s.mu.Unlock()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	busy := fmt.Errorf("%w: the server is busy reading other uploads; try again in a minute", ErrBusy)
	select {
	case ks.ch <- struct{}{}:
	case <-t.C:
		leave()
		return nil, busy
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	select {
	case s.all <- struct{}{}:
	case <-t.C:
		<-ks.ch
		leave()
		return nil, busy
	case <-ctx.Done():
		<-ks.ch
		leave()
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-s.all
			<-ks.ch
			leave()
		})
	}, nil
}

// Rate admits at most N events per key in each period (a window per key
// that opens with its first event), remembering at most maxKeys keys.
type Rate struct {
	n    int
	per  time.Duration
	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start time.Time
	count int
}

// maxKeys bounds a Rate's memory: a flood of distinct addresses evicts
// windows instead of growing the map.
const maxKeys = 65536

// NewRate admits n events per key per period.
func NewRate(n int, per time.Duration) *Rate {
	return &Rate{n: n, per: per, keys: map[string]*window{}}
}

// Take records one event for key if the limit allows it, or says how
// long until it would.
func (r *Rate) Take(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.keys[key]
	if w == nil || now.Sub(w.start) >= r.per {
		if w == nil && len(r.keys) >= maxKeys {
			r.evict(now)
		}
		w = &window{start: now}
		r.keys[key] = w
	}
	if w.count >= r.n {
		return false, w.start.Add(r.per).Sub(now)
	}
	w.count++
	return true, 0
}

// evict drops the windows that are over; if none is, an arbitrary one
// (map order), so the map never grows past maxKeys.
func (r *Rate) evict(now time.Time) {
	for k, w := range r.keys {
		if now.Sub(w.start) >= r.per {
			delete(r.keys, k)
		}
	}
	for k := range r.keys {
		if len(r.keys) < maxKeys {
			break
		}
		delete(r.keys, k)
	}
}
