// Package sqlite is a palate.Store on one SQLite database file, in pure Go
// (modernc.org/sqlite): no server to run, for one machine.
//
// Durability: the database runs in WAL mode with synchronous=FULL, so every
// commit fsyncs the write-ahead log before the write returns. An
// acknowledged write survives kill -9 of the process (which NORMAL would
// also give) and a power cut or OS crash (which NORMAL would not).
//
// Concurrency: one Store writes through a single connection, each write one
// BEGIN IMMEDIATE transaction; reads use a pool of read-only connections
// that WAL lets run beside the writer. Other processes may open the same
// file: writers wait for each other up to a busy timeout (10 s), after which
// a write fails with EUNAVAILABLE.
//
// Events: every write that changes something appends rows to an events
// table in the same transaction. A Store with subscribers polls that table
// (every 200 ms, and at once after its own writes), so subscribers see
// changes made by any process. The table keeps the newest 100,000 events; a
// Store that falls further behind tells its subscribers EventLost.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"palate"
	"palate/internal/storekit"
)

// Store is a palate.Store on an SQLite file. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // one connection; every transaction is BEGIN IMMEDIATE
	r    *sql.DB // read-only connections
	opt  options

	hub     storekit.Hub
	pollMu  sync.Mutex
	polling bool
	nudge   chan struct{} // wakes the poller after a local write
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ palate.Store = (*Store)(nil)

type options struct {
	poll     time.Duration
	keep     int64
	clock    func() time.Time
	busyWait time.Duration
}

// Option changes how Open sets up a Store.
type Option func(*options)

// PollInterval sets how often a Store with subscribers reads the events
// other processes wrote (default 200 ms).
func PollInterval(d time.Duration) Option { return func(o *options) { o.poll = d } }

// EventLog sets how many of the newest events the database keeps for
// pollers (default 100,000; at least 1).
func EventLog(n int) Option { return func(o *options) { o.keep = int64(max(n, 1)) } }

// Clock sets the clock that stamps published models (default time.Now).
func Clock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// Open opens (creating if needed) the SQLite database at path and brings its
// schema up to date. Returns EINVALID for an unusable path and EINTERNAL when
// the file cannot be opened.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{poll: 200 * time.Millisecond, keep: 100_000, clock: time.Now, busyWait: 10 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	if path == "" {
		return nil, palate.Errorf(palate.EINVALID, "sqlite: empty database path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, palate.Errorf(palate.EINVALID, "sqlite: database path %q may not contain '?' or '#'", path)
	}
	common := "_pragma=busy_timeout(" + strconv.FormatInt(o.busyWait.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", path+"?"+common+"&_txlock=immediate")
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := setUp(ctx, w, o.busyWait); err != nil {
		w.Close()
		return nil, palate.Errorf(palate.ErrorCode(err), "sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, palate.Errorf(palate.EINTERNAL, "sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &Store{path: path, w: w, r: r, opt: o, nudge: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// setUp opens the first connection and migrates. Two processes setting up a
// new file at once can get SQLITE_BUSY without waiting (switching to WAL
// needs an exclusive lock, and SQLite does not wait where waiting could
// deadlock), so a busy database is retried for up to wait.
func setUp(ctx context.Context, w *sql.DB, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := migrate(ctx, w)
		if palate.ErrorCode(err) != palate.EUNAVAILABLE || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	var one int
	return dbErr(s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

// Close stops the poller, closes every subscriber's channel and the
// database. Later calls return EUNAVAILABLE; Close itself may be repeated.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.wg.Wait()
		s.hub.Close()
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

func (s *Store) check() error {
	if s.closed.Load() {
		return palate.Errorf(palate.EUNAVAILABLE, "sqlite: store %s is closed", s.path)
	}
	return nil
}

// write runs fn in one write transaction, appends the events it returns to
// the log and commits; on any error nothing is written.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) ([]palate.Event, error)) error {
	if err := s.check(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return dbErr(err)
	}
	defer tx.Rollback()
	events, err := fn(tx)
	if err != nil {
		return dbErr(err)
	}
	if len(events) > 0 {
		if err := s.logEvents(ctx, tx, events); err != nil {
			return dbErr(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return dbErr(err)
	}
	if len(events) > 0 {
		select {
		case s.nudge <- struct{}{}:
		default:
		}
	}
	return nil
}

// read runs fn in one read transaction, so it sees one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.check(); err != nil {
		return err
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return dbErr(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return dbErr(err)
	}
	return dbErr(tx.Commit())
}

// dbErr passes nil, palate errors and context errors through and turns
// SQLite's errors into palate's: a busy database is EUNAVAILABLE, the rest
// EINTERNAL.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *palate.Error
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED) {
		return palate.Errorf(palate.EUNAVAILABLE, "sqlite: database is busy: %w", err)
	}
	return palate.Errorf(palate.EINTERNAL, "sqlite: %w", err)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
