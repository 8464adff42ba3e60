package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"palate"
)

// notify queues events as notifications on s.channel; PostgreSQL delivers
// them when tx commits, and not at all if it rolls back.
func (s *Store) notify(ctx context.Context, tx pgx.Tx, events []palate.Event) error {
	payloads := make([]string, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		payloads[i] = string(b)
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, s.channel, payloads)
	return err
}

// Subscribe implements palate.Store. The first call opens the Store's
// LISTEN connection, which stays until Close.
func (s *Store) Subscribe(ctx context.Context) (<-chan palate.Event, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := s.startListener(ctx); err != nil {
		return nil, err
	}
	return s.hub.Subscribe(ctx)
}

// startListener connects and LISTENs before it returns, so every change
// committed after Subscribe returns is delivered.
func (s *Store) startListener(ctx context.Context) error {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listening {
		return nil
	}
	conn, err := s.listenConn(ctx)
	if err != nil {
		return dbErr(err)
	}
	s.listening = true
	s.wg.Add(1)
	go s.listen(conn)
	return nil
}

// listenConn opens a connection outside the pool, with the pool's settings,
// and LISTENs on s.channel.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	s.listenPID.Store(conn.PgConn().PID())
	return conn, nil
}

// listen delivers notifications to the hub until Close. When the connection
// fails it reconnects, backing off from 50 ms to 5 s, and then sends
// EventLost: whatever was notified while it was down is gone.
func (s *Store) listen(conn *pgx.Conn) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	// A subscriber that fell behind is owed an EventLost as soon as it has
	// room again (storekit.Hub); without a notification to publish, only a
	// Flush sends it, so flush on a clock as SQLite's poller does.
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.hub.Flush()
			}
		}
	}()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			var e palate.Event
			if json.Unmarshal([]byte(n.Payload), &e) != nil || e.Kind == "" {
				s.hub.Lost() // not ours to read: treat as a missed change
				continue
			}
			s.hub.Publish(e)
			continue
		}
		conn.Close(context.Background())
		s.listenPID.Store(0)
		backoff := 50 * time.Millisecond
		for {
			select {
			case <-s.done:
				return
			case <-time.After(backoff):
			}
			c, err := s.listenConn(ctx)
			if err == nil {
				conn = c
				break
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		s.hub.Lost()
	}
}
