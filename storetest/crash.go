package storetest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"palate"
)

// crashEnv names the database a re-executed test binary writes to as
// Crash's child.
const crashEnv = "PALATE_STORETEST_CRASH_DB"

// Crash checks that an acknowledged write survives kill -9. Call it from a
// top-level test named t.Name(); the test binary is run again as a child
// process running only that test, which opens db with open, writes votes in
// batches of 5 and prints "ack ID" for each vote once AddVotes has returned.
// The parent kills the child with SIGKILL after a random number of
// batches, while it is writing, reopens the database and checks that every
// acknowledged vote is there.
func Crash(t *testing.T, db string, open func(ctx context.Context, db string) (palate.Store, error)) {
	if d := os.Getenv(crashEnv); d != "" {
		crashChild(t, d, open)
		return
	}
	ctx := ctx(t)
	s, err := open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutImages(ctx, Images(1)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.timeout=2m")
	// The child is killed before its test's cleanups run, so whatever it makes
	// with t.TempDir would stay behind: its temporary directory is inside ours.
	cmd.Env = append(os.Environ(), crashEnv+"="+db, "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killAfter := 10 + rand.IntN(60) // batches
	acked := make(map[string]bool)
	var lines []string
	sc := bufio.NewScanner(out)
	killed := false
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	for sc.Scan() {
		line := sc.Text()
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			lines = append(lines, line)
			continue
		}
		acked[id] = true
		if !killed && len(acked) >= 5*killAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
			// Keep reading: acks already in the pipe were given before the kill.
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended before it was killed (%v), after %d acks:\n%s\n%s", err, len(acked), strings.Join(lines, "\n"), stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v; want killed by SIGKILL", cmd.ProcessState)
	}

	s, err = open(ctx, db)
	if err != nil {
		t.Fatalf("reopening after kill -9: %v", err)
	}
	defer s.Close()
	h, err := s.History(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	found := make(map[string]bool, len(h.Votes))
	for _, v := range h.Votes {
		found[v.ID] = true
	}
	for id := range acked {
		if !found[id] {
			t.Errorf("acknowledged vote %s is missing after kill -9", id)
		}
	}
	// At most the batch in flight can be there without its ack.
	if len(found) < len(acked) || len(found) > len(acked)+5 {
		t.Errorf("%d votes stored, %d acknowledged", len(found), len(acked))
	}
	t.Logf("killed after %d acknowledged votes; %d stored", len(acked), len(found))
}

// crashChild writes batches until killed (or for 2 minutes at most).
func crashChild(t *testing.T, db string, open func(ctx context.Context, db string) (palate.Store, error)) {
	ctx := context.Background()
	s, err := open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for b := 0; time.Now().Before(deadline); b++ {
		vs := make([]palate.Vote, 5)
		for i := range vs {
			vs[i] = Vote(fmt.Sprintf("crash-%06d-%d", b, i), "crash", "img-000", b)
		}
		if _, err := s.AddVotes(ctx, vs); err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for _, v := range vs {
			fmt.Fprintf(&sb, "ack %s\n", v.ID)
		}
		// One write call per batch: the acks reach the pipe before the
		// next batch starts.
		if _, err := os.Stdout.WriteString(sb.String()); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("not killed within 2 minutes")
}

// BenchIngest measures s.AddVotes in batches of 100 new votes by 50 people
// on 100 images, and reports votes/s.
func BenchIngest(b *testing.B, s palate.Store) {
	ctx := context.Background()
	if _, err := s.PutImages(ctx, Images(100)); err != nil {
		b.Fatal(err)
	}
	const batch = 100
	vs := make([]palate.Vote, batch)
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		for i := range vs {
			k := n*batch + i
			vs[i] = Vote(fmt.Sprintf("b-%09d", k), fmt.Sprintf("u%02d", k%50), fmt.Sprintf("img-%03d", k%100), k)
		}
		w, err := s.AddVotes(ctx, vs)
		if err != nil {
			b.Fatal(err)
		}
		if w.Inserted != batch {
			b.Fatalf("inserted %d of %d", w.Inserted, batch)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "votes/s")
}
