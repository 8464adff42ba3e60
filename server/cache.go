package server

import (
	"container/list"
	"sync"
)

// cache maps keys to values with LRU eviction (unbounded when max is 0).
//
// Values are computed outside the lock from data read from the store, so a
// value could be computed from data older than an invalidation that ran
// meanwhile. To prevent storing it, get hands out a ticket: the entry's
// generation, taken from one counter that only grows. drop and dropAll give
// entries new generations (or remove them), and put stores only when the
// ticket still matches, so a value read before an invalidation is never
// stored after it.
type cache[V any] struct {
	mu  sync.Mutex
	max int
	ll  *list.List // of *centry[V], most recently used first
	m   map[string]*list.Element
	gen uint64
}

type centry[V any] struct {
	key string
	gen uint64
	val V
	ok  bool // val is set
}

func newCache[V any](max int) *cache[V] {
	return &cache[V]{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// get returns the cached value, or a ticket for put when there is none.
func (c *cache[V]) get(key string) (v V, ok bool, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.m[key]; found {
		c.ll.MoveToFront(el)
		e := el.Value.(*centry[V])
		return e.val, e.ok, e.gen
	}
	c.gen++
	c.m[key] = c.ll.PushFront(&centry[V]{key: key, gen: c.gen})
	if c.max > 0 {
		for c.ll.Len() > c.max {
			old := c.ll.Back()
			c.ll.Remove(old)
			delete(c.m, old.Value.(*centry[V]).key)
		}
	}
	return v, false, c.gen
}

// peek returns the cached value without touching the LRU order or
// creating an entry.
func (c *cache[V]) peek(key string) (v V, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.m[key]; found {
		e := el.Value.(*centry[V])
		return e.val, e.ok
	}
	return v, false
}

// put stores v under key if nothing invalidated the key since get handed
// out ticket; it reports whether it stored v.
func (c *cache[V]) put(key string, ticket uint64, v V) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.m[key]
	if !found {
		return false
	}
	e := el.Value.(*centry[V])
	if e.gen != ticket {
		return false
	}
	e.val, e.ok = v, true
	return true
}

// drop invalidates key.
func (c *cache[V]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.m[key]; found {
		c.gen++
		e := el.Value.(*centry[V])
		var zero V
		e.gen, e.val, e.ok = c.gen, zero, false
	}
}

// dropAll invalidates every key.
func (c *cache[V]) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.m)
}

// len counts the keys with a value.
func (c *cache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, el := range c.m {
		if el.Value.(*centry[V]).ok {
			n++
		}
	}
	return n
}
