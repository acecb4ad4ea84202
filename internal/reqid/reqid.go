// Package reqid gives every request an id, carried in the X-Request-Id
// answer header and in every server error's answer, and remembers why a
// request failed, so the one log line of a 5xx (written by internal/httpd)
// says what went wrong under the id the user can quote.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
)

// Header is the answer header carrying the id.
const Header = "X-Request-Id"

type key struct{}

// State is one request's id and the cause of its failure, if one was noted.
type State struct {
	ID string
	mu sync.Mutex
	// Err is the first cause noted.
	err error
}

// New returns a fresh id: 16 random hex digits, enough to find one line
// among a day's logs, short enough to read over the phone.
func New() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// With returns ctx carrying st.
func With(ctx context.Context, st *State) context.Context { return context.WithValue(ctx, key{}, st) }

// From returns the request's state, nil outside a request.
func From(ctx context.Context) *State {
	st, _ := ctx.Value(key{}).(*State)
	return st
}

// ID returns the request's id, "" outside a request.
func ID(r *http.Request) string {
	if st := From(r.Context()); st != nil {
		return st.ID
	}
	return ""
}

// Note records why r is failing; the first cause noted is the one logged.
func Note(r *http.Request, err error) {
	st := From(r.Context())
	if st == nil || err == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err == nil {
		st.err = err
	}
}

// Err is the cause noted, nil if none.
func (st *State) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}
