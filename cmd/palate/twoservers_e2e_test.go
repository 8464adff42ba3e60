package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"palate"
	"palate/api"
	"palate/internal/testmodel"
	"palate/postgres/pgtest"
	"palate/train"
)

// TestTwoServersOneDatabase runs two `palate serve` without --model on one
// database: both load the model published with `palate model publish`, a
// vote recorded through one changes the other's ranking (its cached
// context is dropped by the store's event), and a second publication is
// picked up by both without a restart while clients keep ranking through
// both without a single error.
func TestTwoServersOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	t.Setenv("PALATE_WRITE_KEY", "")
	t.Setenv("PALATE_READ_KEY", "")
	t.Run("sqlite", func(t *testing.T) {
		testTwoServers(t, "sqlite:"+filepath.Join(t.TempDir(), "shared.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testTwoServers(t, pgtest.URL(t))
	})
}

// timedModel saves testmodel's checkpoint of seed, marked as finished at
// a fixed time so its published version is fixed too.
func timedModel(t *testing.T, seed uint64) string {
	t.Helper()
	ck := testmodel.Checkpoint(t, seed)
	ck.Summary.Finished = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC).Add(time.Duration(seed) * time.Hour)
	dir := filepath.Join(t.TempDir(), "model")
	if err := train.Save(dir, ck); err != nil {
		t.Fatal(err)
	}
	return dir
}

func testTwoServers(t *testing.T, db string) {
	ctx := context.Background()
	dir, ds := e2eWorld(t)
	if code, _, errOut := run(t, "import", "--db", db, "--data", dir); code != 0 {
		t.Fatalf("import exited %d: %s", code, errOut)
	}
	a := &api.Client{BaseURL: startServe(t, "--db", db)}
	b := &api.Client{BaseURL: startServe(t, "--db", db)}
	for _, c := range []*api.Client{a, b} {
		if _, err := c.Ready(ctx); palate.ErrorCode(err) != palate.EUNAVAILABLE || !strings.Contains(err.Error(), "no model") {
			t.Fatalf("readyz before any publication: %v; want unavailable, no model", err)
		}
		if h, err := c.Health(ctx); err != nil || h.Status != "ok" {
			t.Fatalf("healthz before any publication: %+v %v", h, err)
		}
	}

	publish := func(dir string) string {
		t.Helper()
		code, out, errOut := run(t, "model", "publish", "--db", db, "--model", dir)
		// A first publication, or the latest one again (which says so).
		m := regexp.MustCompile(`^(?:published model (\S+)|model (\S+) is already the latest published)`).FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("publish exited %d: %s %s", code, out, errOut)
		}
		return m[1] + m[2]
	}
	// waitModel waits until both servers are ready with version.
	waitModel := func(version string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for _, c := range []*api.Client{a, b} {
			for {
				h, err := c.Ready(ctx)
				if err == nil && h.Model == version {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s is not ready with model %s: %+v %v", c.BaseURL, version, h, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if mi, err := c.Model(ctx); err != nil || mi.Version != version || mi.Source != "store" {
				t.Fatalf("%s: model %+v %v; want %s from the store", c.BaseURL, mi, err, version)
			}
		}
	}
	v1 := publish(timedModel(t, 1))
	waitModel(v1)

	user := ds.Comparisons[0].User
	var cands []api.Candidate
	for _, im := range ds.Images[:8] {
		cands = append(cands, api.Candidate{ID: im.ID})
	}
	req := api.RankRequest{Candidates: cands}
	rank := func(c *api.Client) *api.RankResponse {
		t.Helper()
		r, err := c.Rank(ctx, user, req)
		if err != nil {
			t.Fatalf("rank through %s: %v", c.BaseURL, err)
		}
		return r
	}
	ra, rb := rank(a), rank(b)
	if ra.ColdStart || ra.Model != v1 || !closeScores(scoresOf(ra), scoresOf(rb), 1e-5) {
		t.Fatalf("the two servers rank %s differently: %+v and %+v", user, ra, rb)
	}
	rank(b) // B has the context cached now

	// A vote through A reaches B's cache through the store's events.
	if _, err := a.AddVotes(ctx, []api.Vote{{ID: "e2e-v1", User: user, Image: ds.Images[1].ID, Vote: palate.Dislike}}); err != nil {
		t.Fatal(err)
	}
	after := scoresOf(rank(a))
	if closeScores(scoresOf(ra), after, 0) {
		t.Fatalf("a vote left %s's scores on A as they were: %v", user, after)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := scoresOf(rank(b))
		if closeScores(got, after, 1e-5) {
			break
		}
		if !closeScores(got, scoresOf(rb), 0) || time.Now().After(deadline) {
			t.Fatalf("B ranks %s with %v after a vote through A; A with %v (before the vote: %v)", user, got, after, scoresOf(rb))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Publish a second model while clients rank through both servers.
	ctx2, stop := context.WithCancel(ctx)
	type tally struct {
		n        int
		errs     []string
		versions map[string]int
	}
	tallies := make([]tally, 2)
	var mu sync.Mutex // guards tallies
	var wg sync.WaitGroup
	for i, c := range []*api.Client{a, b} {
		tallies[i].versions = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx2.Err() == nil {
				r, err := c.Rank(ctx2, user, req)
				if ctx2.Err() != nil {
					return
				}
				mu.Lock()
				tl := &tallies[i]
				tl.n++
				switch {
				case err != nil:
					tl.errs = append(tl.errs, err.Error())
				case r.ColdStart || len(r.Results) != len(cands):
					tl.errs = append(tl.errs, fmt.Sprintf("bad answer %+v", r))
				default:
					tl.versions[r.Model]++
				}
				mu.Unlock()
			}
		}()
	}
	// Wait for answers from the first model through both servers.
	for served := false; !served; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		served = tallies[0].versions[v1] > 0 && tallies[1].versions[v1] > 0
		mu.Unlock()
	}
	m2 := timedModel(t, 2)
	v2 := publish(m2)
	if v2 == v1 {
		t.Fatalf("two checkpoints published as one version %s", v1)
	}
	waitModel(v2)
	// Keep ranking until both servers have answered with the new model. This
	// test used to stop 100 ms after both said they were ready, and once in
	// CI (other packages' tests running beside it) one server answered no
	// request with the new model in that time: after a swap its first
	// request also encodes the person's history again.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		both := tallies[0].versions[v2] > 0 && tallies[1].versions[v2] > 0
		mu.Unlock()
		if both || time.Now().After(deadline) {
			break
		}
	}
	stop()
	wg.Wait()
	for i, tl := range tallies {
		if len(tl.errs) > 0 {
			t.Errorf("server %d: %d of %d rank requests failed during the swap, first: %s", i, len(tl.errs), tl.n, tl.errs[0])
		}
		if tl.versions[v1] == 0 || tl.versions[v2] == 0 {
			t.Errorf("server %d answered with models %v; want both %s and %s", i, tl.versions, v1, v2)
		}
		t.Logf("server %d: %d rank requests during the swap, by model %v", i, tl.n, tl.versions)
	}
	ra2, rb2 := rank(a), rank(b)
	if ra2.Model != v2 || rb2.Model != v2 || !closeScores(scoresOf(ra2), scoresOf(rb2), 1e-5) || closeScores(scoresOf(ra2), after, 0) {
		t.Fatalf("after the second publication: A %+v, B %+v; scores under %s were %v", ra2, rb2, v1, after)
	}
	// Publishing the same checkpoint again changes nothing.
	if v := publish(m2); v != v2 || !strings.HasPrefix(v2, "20260102T0504-") {
		t.Fatalf("republishing gave version %s, want %s", v, v2)
	}
}
