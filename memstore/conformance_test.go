package memstore

import (
	"sync"
	"testing"

	"palate"
	"palate/storetest"
)

// TestConformance runs the backends' conformance suite. A "second process"
// on the same database is the same in-memory store, which is what several
// servers in one process (the tests' two-server setups) share.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	stores := map[*testing.T]*Store{}
	storetest.Run(t, func(t *testing.T) palate.Store {
		mu.Lock()
		defer mu.Unlock()
		s, ok := stores[t]
		if !ok {
			s = New()
			stores[t] = s
			t.Cleanup(func() { s.Close() })
		}
		return s
	})
}
