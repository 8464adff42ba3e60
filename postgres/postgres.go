// Package postgres is a palate.Store on PostgreSQL (through pgx), for
// several servers sharing one database.
//
// Tables live in the connection's current schema (the first schema of its
// search_path that exists; set search_path in the URL to pick another, e.g.
// postgres://host/db?search_path=palate). Every write is one transaction in
// READ COMMITTED; PostgreSQL's own commit is the durability point, so an
// acknowledged write survives kill -9 of palate (and, with the server's
// default fsync and synchronous_commit, a crash of the server).
//
// Events: a write that changes something sends NOTIFY on a channel named
// after the schema, delivered at commit. A Store with subscribers LISTENs
// on one dedicated connection; when that connection fails it reconnects
// (backing off up to 5 s) and tells its subscribers EventLost, since
// notifications sent meanwhile are gone.
package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"palate"
	"palate/internal/storekit"
)

// Store is a palate.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	schema  string
	channel string // NOTIFY channel
	clock   func() time.Time

	hub       storekit.Hub
	listenMu  sync.Mutex
	listening bool
	listenPID atomic.Uint32 // backend pid of the LISTEN connection, for tests
	done      chan struct{}
	wg        sync.WaitGroup

	closed    atomic.Bool
	closeOnce sync.Once
}

var _ palate.Store = (*Store)(nil)

// Option changes how Open sets up a Store.
type Option func(*Store)

// Clock sets the clock that stamps published models (default time.Now).
func Clock(now func() time.Time) Option { return func(s *Store) { s.clock = now } }

// Open connects to the database at url (postgres://user:pass@host/db?...),
// and brings the schema up to date. Returns EINVALID for a malformed URL or
// a search_path naming no existing schema, EUNAVAILABLE when the server
// cannot be reached.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "postgres: %w", err)
	}
	s := &Store{pool: pool, clock: time.Now, done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, palate.Errorf(palate.EUNAVAILABLE, "postgres: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	if schema == nil {
		pool.Close()
		return nil, palate.Errorf(palate.EINVALID, "postgres: no schema to use: search_path names none that exists")
	}
	s.schema = *schema
	s.channel = "palate_" + s.schema
	if len(s.channel) > 63 {
		h := sha256.Sum256([]byte(s.schema))
		s.channel = "palate_" + hex.EncodeToString(h[:16])
	}
	if err := migrate(ctx, pool, s.schema); err != nil {
		pool.Close()
		return nil, dbErr(err)
	}
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	return dbErr(s.pool.Ping(ctx))
}

// Close stops listening, closes every subscriber's channel and the pool.
// Later calls return EUNAVAILABLE; Close itself may be repeated.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.wg.Wait()
		s.hub.Close()
		s.pool.Close()
	})
	return nil
}

func (s *Store) check() error {
	if s.closed.Load() {
		return palate.Errorf(palate.EUNAVAILABLE, "postgres: store is closed")
	}
	return nil
}

// write runs fn in one transaction, sends the events it returns as
// notifications and commits; on any error nothing is written. A deadlock or
// serialization failure is retried, up to 5 tries.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) ([]palate.Event, error)) error {
	if err := s.check(); err != nil {
		return err
	}
	var err error
	for try := 0; try < 5; try++ {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			events, err := fn(tx)
			if err != nil || len(events) == 0 {
				return err
			}
			return s.notify(ctx, tx, events)
		})
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "40P01" && pe.Code != "40001") {
			break
		}
	}
	return dbErr(err)
}

// read runs fn in one repeatable-read, read-only transaction, so it sees one
// snapshot.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := s.check(); err != nil {
		return err
	}
	return dbErr(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn))
}

// dbErr passes nil, palate errors and context errors through and turns the
// rest into palate's: a connection failure is EUNAVAILABLE, the rest
// EINTERNAL.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *palate.Error
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return palate.Errorf(palate.EINTERNAL, "postgres: %w", err)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return palate.Errorf(palate.EUNAVAILABLE, "postgres: %w", err)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return palate.Errorf(palate.EUNAVAILABLE, "postgres: %w", err)
	}
	return palate.Errorf(palate.EINTERNAL, "postgres: %w", err)
}
