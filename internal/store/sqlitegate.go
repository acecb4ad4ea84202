package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"time"
)

// SQLite has one writer at a time, and a writer that finds the database
// locked polls for it, every 100 ms once it has waited a little
// (busy_timeout). The chunks of a large upload follow each other within
// microseconds, so a polling writer almost never finds the lock free: a
// suspension or a login waited out the whole upload, and four uploads at
// once starved one of them past the 10 s timeout (SQLITE_BUSY, a 500).
// This process's writers therefore take turns through a FIFO gate before
// they ask SQLite for the lock: a writer waits for the transactions
// queued before it, each one short, never for a whole upload. SQLite's
// own locking still guards against other processes (the command-line
// tools), with the busy timeout.
//
// The gate sits in the driver, under database/sql, so every write is
// queued whatever store code issues it: a transaction from BEGIN to
// COMMIT or ROLLBACK, and a write statement outside one.

// gateTimeout bounds the wait at the gate, as busy_timeout bounds the
// wait for SQLite's lock.
const gateTimeout = 10 * time.Second

// writeGate admits one writer at a time, in the order they came (Go's
// channel senders are queued in order).
type writeGate struct{ ch chan struct{} }

func newWriteGate() *writeGate { return &writeGate{ch: make(chan struct{}, 1)} }

var errGateBusy = fmt.Errorf("%w: the database is busy: the writes queued before this one took longer than 10 s", ErrUnavailable)

func (g *writeGate) enter(ctx context.Context) error {
	t := time.NewTimer(gateTimeout)
	defer t.Stop()
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errGateBusy
	}
}

func (g *writeGate) leave() { <-g.ch }

// gatedConnector opens SQLite connections whose writes pass the gate.
type gatedConnector struct {
	dsn  string
	drv  driver.Driver
	gate *writeGate
}

func (c *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	inner, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &gatedConn{inner: inner, gate: c.gate}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return c.drv }

// gatedConn is one connection. database/sql uses a connection from one
// goroutine at a time, so its fields need no lock.
type gatedConn struct {
	inner driver.Conn
	gate  *writeGate
	held  bool // the gate is held for a transaction on this connection
	// kept are statements prepared once and run again by their text:
	// database/sql prepares every query anew, and parsing was a third of
	// the CPU of a decision on SQLite (the transpiled parser is slow).
	kept map[string]*keptStmt
}

// maxKept bounds the statements kept per connection: the store's queries
// are a few hundred texts, but a list of n placeholders makes a text per n.
const maxKept = 256

type keptStmt struct {
	*gatedStmt
	busy bool // its rows are open: a second use would reset them
}

// keptFor is the kept statement for query, prepared if need be, or nil
// when it is in use (the caller then runs the query unkept).
func (c *gatedConn) keptFor(ctx context.Context, query string) (*keptStmt, error) {
	if k := c.kept[query]; k != nil {
		if k.busy {
			return nil, nil
		}
		return k, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.kept == nil {
		c.kept = map[string]*keptStmt{}
	}
	if len(c.kept) >= maxKept {
		for q, k := range c.kept { // any idle one: map order is random enough
			if !k.busy {
				k.Close()
				delete(c.kept, q)
				break
			}
		}
	}
	k := &keptStmt{gatedStmt: st.(*gatedStmt)}
	c.kept[query] = k
	return k, nil
}

// isWrite tells a statement that writes from a query that only reads.
func isWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	i := strings.IndexAny(q, " \t\r\n(")
	if i < 0 {
		i = len(q)
	}
	switch strings.ToUpper(q[:i]) {
	case "SELECT", "WITH", "VALUES", "EXPLAIN":
		return false
	}
	return true
}

// around runs fn holding the gate when the statement writes outside a
// transaction (inside one, the transaction holds it).
func (c *gatedConn) around(ctx context.Context, query string, fn func() error) error {
	if c.held || !isWrite(query) {
		return fn()
	}
	if err := c.gate.enter(ctx); err != nil {
		return err
	}
	defer c.gate.leave()
	return fn()
}

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var s driver.Stmt
	var err error
	if p, ok := c.inner.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.inner.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &gatedStmt{Stmt: s, conn: c, query: query}, nil
}

func (c *gatedConn) Close() error {
	if c.held { // a connection dropped mid-transaction must not keep the gate
		c.held = false
		c.gate.leave()
	}
	for _, k := range c.kept {
		k.Close()
	}
	c.kept = nil
	return c.inner.Close()
}

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	var tx driver.Tx
	var err error
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.inner.Begin() //nolint:staticcheck // the driver's only way
	}
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	c.held = true
	return &gatedTx{inner: tx, conn: c}, nil
}

func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	k, err := c.keptFor(ctx, query)
	if err != nil {
		return nil, err
	}
	if k != nil {
		return k.ExecContext(ctx, args)
	}
	e, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	var r driver.Result
	err = c.around(ctx, query, func() (err error) {
		r, err = e.ExecContext(ctx, query, args)
		return err
	})
	return r, err
}

func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	k, err := c.keptFor(ctx, query)
	if err != nil {
		return nil, err
	}
	if k != nil {
		rows, err := k.QueryContext(ctx, args)
		if err != nil {
			return nil, err
		}
		k.busy = true
		return &keptRows{Rows: rows, k: k}, nil
	}
	q, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if c.held || !isWrite(query) {
		return q.QueryContext(ctx, query, args)
	}
	// INSERT ... RETURNING: the write runs as the rows are read, so the
	// gate is held until they are closed.
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	return &gatedRows{Rows: rows, gate: c.gate}, nil
}

func (c *gatedConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *gatedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *gatedConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type gatedTx struct {
	inner driver.Tx
	conn  *gatedConn
}

func (t *gatedTx) Commit() error   { return t.end(t.inner.Commit) }
func (t *gatedTx) Rollback() error { return t.end(t.inner.Rollback) }

func (t *gatedTx) end(fn func() error) error {
	err := fn()
	if t.conn.held {
		t.conn.held = false
		t.conn.gate.leave()
	}
	return err
}

// keptRows frees its kept statement for the next use when closed.
type keptRows struct {
	driver.Rows
	k *keptStmt
}

func (r *keptRows) Close() error {
	err := r.Rows.Close()
	r.k.busy = false
	return err
}

type gatedRows struct {
	driver.Rows
	gate *writeGate
	once sync.Once
}

func (r *gatedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.gate.leave)
	return err
}

// gatedStmt is a prepared statement: its writes outside a transaction
// pass the gate too.
type gatedStmt struct {
	driver.Stmt
	conn  *gatedConn
	query string
}

func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, fmt.Errorf("store: the SQLite driver's statements lack ExecContext")
	}
	var r driver.Result
	err := s.conn.around(ctx, s.query, func() (err error) {
		r, err = e.ExecContext(ctx, args)
		return err
	})
	return r, err
}

func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, fmt.Errorf("store: the SQLite driver's statements lack QueryContext")
	}
	if s.conn.held || !isWrite(s.query) {
		return q.QueryContext(ctx, args)
	}
	if err := s.conn.gate.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, args)
	if err != nil {
		s.conn.gate.leave()
		return nil, err
	}
	return &gatedRows{Rows: rows, gate: s.conn.gate}, nil
}
