package storekit

import (
	"context"
	"sync"

	"palate"
)

// SubscriberBuffer is how many events a subscriber may fall behind before it
// is sent EventLost instead of what it missed.
const SubscriberBuffer = 256

// Hub fans events out to subscribers. A subscriber that does not keep up
// loses events and is sent one EventLost as soon as it has room again. The
// zero Hub is ready to use; it is safe for concurrent use.
type Hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	ch   chan palate.Event
	lost bool // events were dropped; send EventLost before the next one
}

// Subscribe adds a subscriber whose channel closes when ctx ends or the hub
// closes. Returns EUNAVAILABLE once the hub is closed.
func (h *Hub) Subscribe(ctx context.Context) (<-chan palate.Event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, palate.Errorf(palate.EUNAVAILABLE, "store is closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if h.subs == nil {
		h.subs = make(map[*subscriber]struct{})
	}
	s := &subscriber{ch: make(chan palate.Event, SubscriberBuffer)}
	h.subs[s] = struct{}{}
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
	})
	return s.ch, nil
}

// Len returns the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Publish sends events to every subscriber without blocking.
func (h *Hub) Publish(events ...palate.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		for _, e := range events {
			s.send(e)
		}
	}
}

// Lost tells every subscriber that events may have been missed.
func (h *Hub) Lost() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.lost = true
		s.flush()
	}
}

// Flush retries sending EventLost to subscribers that had no room for it.
func (h *Hub) Flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.flush()
	}
}

// Close closes every subscriber's channel; later Subscribe calls fail.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}

// flush sends a pending EventLost if there is room; it reports whether none
// is pending any more.
func (s *subscriber) flush() bool {
	if !s.lost {
		return true
	}
	select {
	case s.ch <- palate.Event{Kind: palate.EventLost}:
		s.lost = false
		return true
	default:
		return false
	}
}

func (s *subscriber) send(e palate.Event) {
	if !s.flush() {
		return
	}
	select {
	case s.ch <- e:
	default:
		s.lost = true
	}
}
