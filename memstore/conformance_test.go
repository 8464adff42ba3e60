package memstore

import (
	"sync"
	"testing"

	"palate"
	"palate/storetest"
)

// TestConformance runs the backends' conformance suite. The first open of a
// test makes a new database; each later one is another handle on it (Open),
// as a second process would open the same file. Every handle is closed when
// the test ends.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dbs := map[*testing.T]*Store{}
	storetest.Run(t, func(t *testing.T) palate.Store {
		mu.Lock()
		defer mu.Unlock()
		var s *Store
		if first, ok := dbs[t]; ok {
			s = first.Open()
		} else {
			s = New()
			dbs[t] = s
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
