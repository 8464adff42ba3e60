package sqlite

import (
	"context"
	"database/sql"
	"time"

	"palate"
)

// logEvents appends events to the change log inside a write transaction and
// trims the log to its newest opt.keep rows.
func (s *Store) logEvents(ctx context.Context, tx *sql.Tx, events []palate.Event) error {
	ins, err := tx.PrepareContext(ctx, `INSERT INTO events (kind, user_id, version) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	var last int64
	for _, e := range events {
		res, err := ins.ExecContext(ctx, e.Kind, e.User, e.Version)
		if err != nil {
			return err
		}
		if last, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM events WHERE id <= ?`, last-s.opt.keep)
	return err
}

// Subscribe implements palate.Store. The first call starts the Store's
// poller, which runs until Close.
func (s *Store) Subscribe(ctx context.Context) (<-chan palate.Event, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := s.startPoller(ctx); err != nil {
		return nil, err
	}
	return s.hub.Subscribe(ctx)
}

// startPoller starts the poller at the newest logged event unless it runs.
func (s *Store) startPoller(ctx context.Context) error {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if s.polling {
		return nil
	}
	var pos int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&pos); err != nil {
		return dbErr(err)
	}
	s.polling = true
	s.wg.Add(1)
	go s.poll(pos)
	return nil
}

// poll delivers logged events after pos to the hub: every opt.poll, and at
// once when a local write nudges it.
func (s *Store) poll(pos int64) {
	defer s.wg.Done()
	tick := time.NewTicker(s.opt.poll)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		case <-s.nudge:
		}
		s.hub.Flush()
		pos = s.readEvents(ctx, pos)
	}
}

// readEvents publishes every logged event after pos and returns the new
// position. Ids are consecutive (writers are serialised and the log is only
// trimmed from the old end), so a gap after pos means trimmed events: the
// subscribers are told EventLost. A failed read is retried on the next tick
// from the same position.
func (s *Store) readEvents(ctx context.Context, pos int64) int64 {
	const page = 1000
	for {
		rows, err := s.r.QueryContext(ctx, `SELECT id, kind, user_id, version FROM events WHERE id > ? ORDER BY id LIMIT ?`, pos, page)
		if err != nil {
			return pos
		}
		var events []palate.Event
		next, n := pos, 0
		for rows.Next() {
			var id int64
			var e palate.Event
			if err := rows.Scan(&id, &e.Kind, &e.User, &e.Version); err != nil {
				rows.Close()
				return pos
			}
			if next == pos && id != pos+1 {
				events = append(events, palate.Event{Kind: palate.EventLost})
			}
			events = append(events, e)
			next = id
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return pos
		}
		for _, e := range events {
			if e.Kind == palate.EventLost {
				s.hub.Lost()
			} else {
				s.hub.Publish(e)
			}
		}
		pos = next
		if n < page {
			return pos
		}
	}
}
