package postgres

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"palate"
	"palate/postgres/pgtest"
	"palate/storetest"
)

func opener() storetest.Opener {
	var mu sync.Mutex
	urls := map[*testing.T]string{}
	return func(t *testing.T) palate.Store {
		t.Helper()
		mu.Lock()
		u, ok := urls[t]
		mu.Unlock()
		if !ok {
			u = pgtest.URL(t)
			mu.Lock()
			urls[t] = u
			mu.Unlock()
		}
		s, err := Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestConformance(t *testing.T) {
	pgtest.Skip(t)
	storetest.Run(t, opener())
}

func TestKill9(t *testing.T) {
	db := os.Getenv("PALATE_STORETEST_CRASH_DB") // set in the child
	if db == "" {
		db = pgtest.URL(t)
	}
	storetest.Crash(t, db, func(ctx context.Context, db string) (palate.Store, error) { return Open(ctx, db) })
}

func TestMigrations(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(ctx, u)
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	var n, max int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || max != len(ms) {
		t.Fatalf("schema_migrations has %d rows up to %d; want %d", n, max, len(ms))
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'future')`, len(ms)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, u)
	if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "version") {
		t.Fatalf("newer schema: %v", err)
	}
	_, err = Open(ctx, strings.Replace(u, "search_path=", "search_path=no_such_schema_", 1))
	if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("missing schema: %v", err)
	}
	_, err = Open(ctx, "postgres://127.0.0.1:1/x?connect_timeout=2")
	if palate.ErrorCode(err) != palate.EUNAVAILABLE {
		t.Fatalf("closed port: %v", err)
	}
}

// TestReconnect: when the LISTEN connection dies, subscribers get EventLost,
// and events flow again after the reconnect.
func TestReconnect(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid := s.listenPID.Load()
	if _, err := s.pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)); err != nil {
		t.Fatal(err)
	}
	wait := func(kind string) {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case e := <-ch:
				if e.Kind == kind {
					return
				}
			case <-timeout:
				t.Fatalf("no %s event within 15s", kind)
			}
		}
	}
	wait(palate.EventLost)
	if p := s.listenPID.Load(); p == 0 || p == pid {
		t.Fatalf("listener pid %d after reconnect (was %d)", p, pid)
	}
	if err := s.PublishModel(ctx, &palate.ModelRecord{Version: "after", Embedder: "e", Created: storetest.T0, Archive: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	wait(palate.EventModel)
}

// BenchmarkIngestVotes measures AddVotes in batches of 100 new votes, each
// batch one transaction.
func BenchmarkIngestVotes(b *testing.B) {
	s, err := Open(context.Background(), pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchIngest(b, s)
}
