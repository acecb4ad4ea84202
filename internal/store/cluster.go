package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// Several instances on one PostgreSQL database: the writer role is a
// session advisory lock held on a connection of its own, so it goes when
// that session does (the instance dies, its connection drops), and
// PostgreSQL gives it to the next instance that asks; the lock's session
// names the holder's URL (application_name) for the others to forward
// writes to. Changes are announced with NOTIFY on ChangeChannel.

// writerLockKey is the advisory lock of the writer role (any bigint no
// other tool of this database uses; advisory locks are per database).
const writerLockKey = 0x484d5752 // "HMWR"

// ChangeChannel is the NOTIFY channel changes are announced on.
const ChangeChannel = "hallmark_changes"

// maxAdvertise is what application_name holds (NAMEDATALEN-1) after our prefix.
const advertisePrefix = "hallmark writer "

// ErrNotShared is returned by the cluster calls on SQLite, which serves
// one instance (the data directory's lock says so).
var ErrNotShared = errors.New("several instances need PostgreSQL: an SQLite database serves one instance")

// WriterLock is the held writer role.
type WriterLock struct {
	conn *sql.Conn
	lost chan struct{}
	stop chan struct{}
	once sync.Once
}

// TryWriterLock takes the writer role if no other session holds it, and
// names advertise (the URL the other instances forward writes to) as its
// holder. It returns nil, nil when another instance holds it. The lock is
// watched every interval: Lost is closed as soon as its session is found
// gone (then another instance may already hold it, and this one must stop
// writing).
func (s *Store) TryWriterLock(ctx context.Context, advertise string, interval time.Duration) (*WriterLock, error) {
	if s.dialect != Postgres {
		return nil, ErrNotShared
	}
	if len(advertisePrefix+advertise) > 63 {
		return nil, fmt.Errorf("the advertised URL %q is longer than the %d characters PostgreSQL keeps of a session's name: give a shorter --advertise", advertise, 63-len(advertisePrefix))
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT set_config('application_name', $1, false)`, advertisePrefix+advertise); err != nil {
		conn.Close()
		return nil, err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(writerLockKey)).Scan(&got); err != nil {
		conn.Close()
		return nil, err
	}
	if !got {
		// Back to the pool without our name on it (a reader asks twice a
		// second: a new connection each time would cost a backend each).
		if _, err := conn.ExecContext(ctx, `SELECT set_config('application_name', '', false)`); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
		return nil, nil
	}
	l := &WriterLock{conn: conn, lost: make(chan struct{}), stop: make(chan struct{})}
	go l.watch(interval)
	return l, nil
}

func (l *WriterLock) watch(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		var held bool
		err := l.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objid = $1 AND granted)`, int64(writerLockKey)).Scan(&held)
		cancel()
		if err != nil || !held {
			l.once.Do(func() { close(l.lost) })
			return
		}
	}
}

// Lost is closed once the lock is found gone.
func (l *WriterLock) Lost() <-chan struct{} { return l.lost }

// Release gives the role up (closing its session ends the lock).
func (l *WriterLock) Release() {
	l.once.Do(func() { close(l.lost) })
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.conn.Raw(func(any) error { return driver.ErrBadConn }) // the session ends with the connection
	l.conn.Close()
}

// Writer is the URL the writer role's holder advertised, or "" if no
// instance holds it now.
func (s *Store) Writer(ctx context.Context) (string, error) {
	if s.dialect != Postgres {
		return "", ErrNotShared
	}
	var name sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`, int64(writerLockKey)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(name.String, advertisePrefix), nil
}

// Announce tells the other instances listening on ChangeChannel that what
// changed, with the database's WAL position after the change: an instance
// reading from a replica acts on it once the replica has replayed that
// far.
func (s *Store) Announce(ctx context.Context, what string) error {
	if s.dialect != Postgres {
		return ErrNotShared
	}
	_, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2 || ' ' || pg_current_wal_insert_lsn()::text)`, ChangeChannel, what)
	return err
}

// Listen calls fn with each announcement (what, WAL position) on
// ChangeChannel until ctx ends or the connection fails; it returns why.
// ready is called once the listening has begun: nothing announced after it
// is missed while Listen runs.
func (s *Store) Listen(ctx context.Context, ready func(), fn func(what string, lsn uint64)) error {
	if s.dialect != Postgres {
		return ErrNotShared
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var lerr error
	conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			lerr = errors.New("listen: not a pgx connection")
			return driver.ErrBadConn
		}
		if _, err := c.Conn().Exec(ctx, `LISTEN `+ChangeChannel); err != nil {
			lerr = err
			return driver.ErrBadConn
		}
		ready()
		for {
			n, err := c.Conn().WaitForNotification(ctx)
			if err != nil {
				lerr = err
				return driver.ErrBadConn // never back to the pool listening
			}
			what, pos, _ := strings.Cut(n.Payload, " ")
			lsn, _ := ParseLSN(pos)
			fn(what, lsn)
		}
	})
	return lerr
}

// WALPosition is how far the database is: on a primary, its WAL insert
// position (past every commit made, even one not yet flushed, as with
// synchronous_commit off); on a replica, how far it has replayed.
func (s *Store) WALPosition(ctx context.Context) (uint64, error) {
	if s.dialect != Postgres {
		return 0, ErrNotShared
	}
	var pos sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END::text`).Scan(&pos)
	if err != nil {
		return 0, err
	}
	return ParseLSN(pos.String)
}

// ParseLSN reads a PostgreSQL WAL position (hex "X/Y").
func ParseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("not a WAL position: %q", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("not a WAL position: %q", s)
	}
	return h<<32 | l, nil
}
