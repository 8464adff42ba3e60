package memstore

import (
	"context"
	"sync"

	"palate"
)

// maxPending bounds the events queued for one subscriber that is not
// reading; past it the queue is replaced by one EventLost.
const maxPending = 1024

// subscriber queues events for one Subscribe call; its goroutine moves
// them to the channel, so a slow reader never blocks a writer.
type subscriber struct {
	mu       sync.Mutex
	pending  []palate.Event
	wake     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func (sub *subscriber) push(e palate.Event) {
	sub.mu.Lock()
	if len(sub.pending) >= maxPending {
		sub.pending = append(sub.pending[:0], palate.Event{Kind: palate.EventLost})
	}
	sub.pending = append(sub.pending, e)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) pop() (palate.Event, bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if len(sub.pending) == 0 {
		return palate.Event{}, false
	}
	e := sub.pending[0]
	sub.pending = sub.pending[1:]
	return e, true
}

func (sub *subscriber) stop() { sub.stopOnce.Do(func() { close(sub.done) }) }

// Subscribe delivers the changes written through any handle on this
// Store's database: an EventUser for each user whose history gained a
// record, an EventModel for each newly published version. A subscriber that
// falls more than 1,024 events behind gets an EventLost in place of the ones
// it missed, as soon as it reads again. The channel closes when ctx ends or
// this handle is closed.
//
// Unlike the SQL backends, memstore does not use storekit.Hub: the hub's
// EventLost waits for a later send or a poller's Flush, and memstore has no
// poller; here each subscriber's goroutine delivers it the moment the reader
// catches up.
func (s *Store) Subscribe(ctx context.Context) (<-chan palate.Event, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	sub := &subscriber{wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.subs[sub] = struct{}{}
	s.db.mu.Unlock()
	out := make(chan palate.Event)
	go func() {
		defer close(out)
		defer func() {
			s.db.mu.Lock()
			delete(s.subs, sub)
			s.db.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.done:
				return
			case <-sub.wake:
			}
			for {
				e, ok := sub.pop()
				if !ok {
					break
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				case <-sub.done:
					return
				}
			}
		}
	}()
	return out, nil
}

// notify queues events for every subscriber of every open handle; the
// caller holds d.mu, so events reach subscribers in the order of the writes.
func (d *db) notify(events ...palate.Event) {
	for h := range d.handles {
		for sub := range h.subs {
			for _, e := range events {
				sub.push(e)
			}
		}
	}
}
