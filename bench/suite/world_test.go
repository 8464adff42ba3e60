package suite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"palate/history"
	"palate/model"
	"palate/world"
	"palate/world/worldtest"
)

var (
	testOnce sync.Once
	testDir  string
	testSum  *world.Summary
	testErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if testDir != "" {
		os.RemoveAll(testDir)
	}
	os.Exit(code)
}

// testWorld builds (once) a small taste world: 150 people in 3 groups.
func testWorld(t testing.TB) (string, *world.Summary) {
	t.Helper()
	testOnce.Do(func() {
		start := time.Now()
		c := world.DefaultConfig()
		c.Users, c.Groups, c.ImageSize, c.Images = 150, 3, 16, "none"
		c.ComparisonsPerUser = world.Range{Min: 12, Max: 60}
		c.VotesPerUser = world.Range{Min: 0, Max: 10}
		c.UnseenFraction, c.ValidationFraction = 0.2, 0.1
		var w *world.World
		if w, testErr = world.New(c); testErr != nil {
			return
		}
		if testDir, testErr = os.MkdirTemp("", "palate-bench-"); testErr != nil {
			return
		}
		testSum, testErr = w.Build(context.Background(), filepath.Join(testDir, "w"), worldtest.Blank{}, nil)
		if testErr == nil {
			t.Logf("test world built in %.1f s: %d seen, %d unseen, %d validation people, %d comparisons",
				time.Since(start).Seconds(), testSum.SeenUsers, testSum.UnseenUsers, testSum.ValidationUsers, testSum.Comparisons)
		}
	})
	if testErr != nil {
		t.Fatal(testErr)
	}
	return filepath.Join(testDir, "w"), testSum
}

func loadTestData(t testing.TB, dir, embedder string) *history.Data {
	t.Helper()
	ds, emb := worldtest.Read(t, dir, embedder)
	d, err := history.LoadData(ds, emb, model.NewHashBOW(16))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
