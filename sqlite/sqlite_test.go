package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"palate"
	"palate/storetest"
)

// opener gives each test its own database file, and further Stores on the
// same file to later calls with the same test.
func opener(opts ...Option) storetest.Opener {
	var mu sync.Mutex
	paths := map[*testing.T]string{}
	return func(t *testing.T) palate.Store {
		t.Helper()
		mu.Lock()
		p, ok := paths[t]
		if !ok {
			p = filepath.Join(t.TempDir(), "palate.db")
			paths[t] = p
		}
		mu.Unlock()
		s, err := Open(context.Background(), p, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener(PollInterval(50*time.Millisecond)))
}

func TestKill9(t *testing.T) {
	db := filepath.Join(t.TempDir(), "crash.db")
	storetest.Crash(t, db, func(ctx context.Context, db string) (palate.Store, error) { return Open(ctx, db) })
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v, %v", ms, err)
	}
	// Opening twice, and from two goroutines at once, applies each once.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(ctx, path)
			if err == nil {
				err = s.Close()
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
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var n, max int
	if err := s.r.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || max != len(ms) {
		t.Fatalf("schema_migrations has %d rows up to %d; want %d", n, max, len(ms))
	}
	var mode string
	var sync int
	s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	s.w.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal_mode %s, synchronous %d; want wal, 2 (FULL)", mode, sync)
	}
	// A database from a newer palate is refused, not written to.
	if _, err := s.w.Exec(`INSERT INTO schema_migrations VALUES (?, 'future', 0)`, len(ms)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path)
	if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "schema version") {
		t.Fatalf("newer schema: %v", err)
	}
	_, err = Open(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"))
	if err == nil || !strings.Contains(err.Error(), "x.db") {
		t.Fatalf("opening in a missing directory: %v", err)
	}
	if _, err := Open(ctx, "a?b.db"); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("path with '?': %v", err)
	}
}

// TestEventLost: a Store whose poller falls behind a trimmed log tells its
// subscribers EventLost, then delivers new events again.
func TestEventLost(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "e.db")
	slow, err := Open(ctx, path, PollInterval(time.Hour), EventLog(5))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	ch, err := slow.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, path, EventLog(5))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.PutImages(ctx, storetest.Images(1)); err != nil {
		t.Fatal(err)
	}
	vs := make([]palate.Vote, 20)
	for i := range vs {
		vs[i] = storetest.Vote(fmt.Sprint("v", i), fmt.Sprint("u", i), "img-000", i)
	}
	if _, err := other.AddVotes(ctx, vs); err != nil { // 20 events; the log keeps 5
		t.Fatal(err)
	}
	// A local write wakes slow's poller, which finds the gap.
	if _, err := slow.AddVotes(ctx, []palate.Vote{storetest.Vote("mine", "me", "img-000", 0)}); err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) == 0 || got[len(got)-1] != "user:me" {
		select {
		case e := <-ch:
			got = append(got, e.Kind+":"+e.User)
		case <-timeout:
			t.Fatalf("got %v; want lost, then user:me", got)
		}
	}
	if got[0] != "lost:" {
		t.Fatalf("events %v; want lost first", got)
	}
	var n int
	slow.r.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n)
	if n != 5 {
		t.Fatalf("the log holds %d events; want 5", n)
	}
}

// BenchmarkIngestVotes measures AddVotes in batches of 100 new votes, each
// batch one durable (fsynced) transaction.
func BenchmarkIngestVotes(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchIngest(b, s)
}

// TestOpenRace: processes opening a new file at once all succeed (switching
// it to WAL can fail at once with SQLITE_BUSY; Open retries).
func TestOpenRace(t *testing.T) {
	if p := os.Getenv("PALATE_SQLITE_OPEN_RACE"); p != "" { // a child
		for range 5 {
			s, err := Open(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutImages(context.Background(), storetest.Images(50)); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}
		return
	}
	for round := range 4 {
		path := filepath.Join(t.TempDir(), "race.db")
		var cmds []*exec.Cmd
		for range 8 {
			cmd := exec.Command(os.Args[0], "-test.run=^TestOpenRace$", "-test.count=1")
			cmd.Env = append(os.Environ(), "PALATE_SQLITE_OPEN_RACE="+path)
			cmds = append(cmds, cmd)
		}
		outs := make([][]byte, len(cmds))
		errs := make([]error, len(cmds))
		var wg sync.WaitGroup
		for i, cmd := range cmds {
			wg.Go(func() { outs[i], errs[i] = cmd.CombinedOutput() })
		}
		// Meanwhile this process opens and closes the file again and again
		// (the last connection's close checkpoints and removes the WAL).
		stop := make(chan struct{})
		churn := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					churn <- nil
					return
				default:
				}
				s, err := Open(context.Background(), path)
				if err != nil {
					churn <- err
					return
				}
				s.Close()
			}
		}()
		wg.Wait()
		close(stop)
		if err := <-churn; err != nil {
			t.Fatalf("round %d, opening in the parent: %v", round, err)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, process %d: %v\n%s", round, i, err, outs[i])
			}
		}
	}
}
