package baseline

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"palate/dataset"
	"palate/history"
	"palate/world"
)

// colourGrid is a cheap embedder for tests: the mean red, green and blue of
// each cell of a 4×4 grid (48 numbers), which sees hue, brightness and
// layout but none of the pixel embedder's texture or shape features.
type colourGrid struct{}

func (colourGrid) Name() string { return "colour-grid" }
func (colourGrid) Dim() int     { return 48 }
func (colourGrid) Embed(_ context.Context, img image.Image) ([]float32, error) {
	b := img.Bounds()
	out := make([]float32, 48)
	var n [16]float32
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := 4*(4*(y-b.Min.Y)/b.Dy()) + 4*(x-b.Min.X)/b.Dx()
			r, g, bl, _ := img.At(x, y).RGBA()
			out[3*c] += float32(r) / 65535
			out[3*c+1] += float32(g) / 65535
			out[3*c+2] += float32(bl) / 65535
			n[c]++
		}
	}
	for c := range n {
		for j := range 3 {
			out[3*c+j] /= max(n[c], 1)
		}
	}
	return out, nil
}

// The tiny world is built once per test binary, in a directory removed by
// TestMain.
var (
	tinyOnce sync.Once
	tinyDir  string
	tinyErr  error
	tinySum  *world.Summary
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyDir != "" {
		os.RemoveAll(tinyDir)
	}
	os.Exit(code)
}

// tinyWorld returns the tiny test world loaded with the named embedding
// ("truth" or "colour-grid").
func tinyWorld(t testing.TB, embedder string) *history.Data {
	t.Helper()
	tinyOnce.Do(func() {
		start := time.Now()
		c := world.DefaultConfig()
		c.Users, c.Groups, c.ImageSize, c.Images = 300, 3, 16, "none"
		c.ComparisonsPerUser = world.Range{Min: 16, Max: 80}
		c.VotesPerUser = world.Range{Min: 0, Max: 10}
		c.UnseenFraction = 0.2
		var w *world.World
		if w, tinyErr = world.New(c); tinyErr != nil {
			return
		}
		if tinyDir, tinyErr = os.MkdirTemp("", "palate-baseline-"); tinyErr != nil {
			return
		}
		tinySum, tinyErr = w.Build(context.Background(), filepath.Join(tinyDir, "w"), colourGrid{}, nil)
		if tinyErr == nil {
			t.Logf("tiny world built in %.1f s: %d seen, %d unseen people, %d comparisons; oracle %.3f, group oracle %.3f, global oracle %.3f on seen test pairs",
				time.Since(start).Seconds(), tinySum.SeenUsers, tinySum.UnseenUsers, tinySum.Comparisons,
				tinySum.Seen.Oracle, tinySum.Seen.GroupOracle, tinySum.Seen.GlobalOracle)
		}
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return loadWorld(t, filepath.Join(tinyDir, "w"), embedder)
}

// TestTinyWorldBaselines checks every baseline's quality floor on a tiny
// taste world, with its true-attribute embedding (clean signal) and with a
// cheap colour-grid embedding (a weak pixel embedder).
func TestTinyWorldBaselines(t *testing.T) {
	type floor struct {
		name string
		min  float64
	}
	tests := map[string]struct {
		embedder string
		floors   []floor // on seen people's test pairs, k = 8
		// pulVsCentroid: per-user-linear must be at least centroid minus this.
		pulVsCentroid float64
	}{
		"truth": {world.TruthEmbedder, []floor{
			{"non-personal", 0.55}, // the world's global oracle is about 0.61
			{"centroid", 0.52},
			{"per-user-linear", 0.55},
			{"user-knn", 0.52},
			{"user-knn+np", 0.55},
		}, 0.02},
		"colour-grid": {"colour-grid", []floor{
			{"non-personal", 0.52},
			{"per-user-linear", 0.52},
			{"user-knn+np", 0.52},
		}, 0.03},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := tinyWorld(t, tc.embedder)
			acc := map[string]float64{}
			for _, p := range fitAll(t, d, 1) {
				s := accuracy(p, d, 8, dataset.Train)
				u := accuracy(p, d, 8, dataset.Unseen)
				acc[p.Name()] = s.Acc
				t.Logf("k=8 %-16s seen %.3f [%.3f, %.3f] n=%d   unseen %.3f [%.3f, %.3f] n=%d",
					p.Name(), s.Acc, s.Lo, s.Hi, s.N, u.Acc, u.Lo, u.Hi, u.N)
				if s.Acc > tinySum.Seen.Oracle+0.02 {
					t.Errorf("%s (%.3f) beats the oracle (%.3f): a leak?", p.Name(), s.Acc, tinySum.Seen.Oracle)
				}
			}
			for _, f := range tc.floors {
				if acc[f.name] < f.min {
					t.Errorf("%s: seen accuracy %.3f; want ≥ %.2f", f.name, acc[f.name], f.min)
				}
			}
			if acc["per-user-linear"] < acc["centroid"]-tc.pulVsCentroid {
				t.Errorf("per-user-linear (%.3f) below centroid (%.3f) by more than noise", acc["per-user-linear"], acc["centroid"])
			}
		})
	}
}
