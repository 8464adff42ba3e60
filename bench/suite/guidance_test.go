package suite

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"palate"
	"palate/features"
	"palate/guide"
	"palate/model"
	"palate/train"
	"palate/world"
	"palate/world/worldtest"
)

// guidanceWorld builds a small taste world with pixel embeddings and saves
// an untrained model for it: its scores are arbitrary, but every judge,
// method and row is exercised, and the oracle rows show the measurement
// can tell guidance that works.
func guidanceWorld(t *testing.T) (dir, modelDir string) {
	t.Helper()
	c := world.DefaultConfig()
	c.Users, c.Groups, c.ImageSize, c.Images = 30, 2, 32, "none"
	c.ComparisonsPerUser = world.Range{Min: 10, Max: 16}
	c.VotesPerUser = world.Range{Min: 0, Max: 2}
	c.UnseenFraction, c.ValidationFraction = 0.3, 0.1
	dir, _ = worldtest.Build(t, c, features.NewPixels())
	cfg := model.DefaultConfig()
	cfg.ImageDim, cfg.DModel, cfg.Heads, cfg.MaxHistory = features.Dim, 16, 2, 8
	tr, err := train.NewTrainer(cfg, train.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	w, err := tr.Weights()
	if err != nil {
		t.Fatal(err)
	}
	modelDir = filepath.Join(t.TempDir(), "m")
	err = train.Save(modelDir, &train.Checkpoint{Config: cfg, Weights: w,
		Embedder:     train.EmbedderInfo{Name: features.Name, Dim: features.Dim},
		TextEmbedder: train.EmbedderInfo{Name: model.HashBOWName, Dim: cfg.TextDim}})
	if err != nil {
		t.Fatal(err)
	}
	return dir, modelDir
}

func TestGuidanceMeasurement(t *testing.T) {
	dir, modelDir := guidanceWorld(t)
	opt := GuidanceOptions{Data: dir, Model: modelDir, People: 4, Prompts: 2, Budget: 12, K: 4,
		Unguided: 6, TruthLatents: 12, Resamples: 100, Log: testLog{t}}
	ctx := context.Background()
	res, err := Guidance(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3*6 {
		t.Fatalf("%d rows; want 3 methods × (4 judges against unguided + palate against 2)", len(res.Rows))
	}
	for _, r := range res.Rows {
		w := float64(r.WinRate.WinRate)
		if !(w >= 0 && w <= 1) || float64(r.Lo) > w+1e-12 || float64(r.Hi) < w-1e-12 {
			t.Errorf("%s/%s against %s: win rate %.3f outside [0, 1] or its interval [%.3f, %.3f]", r.Method, r.GuidedBy, r.Against, w, r.Lo, r.Hi)
		}
		if r.N != 16 || r.People != 8 || r.Seen.N+r.Unseen.N != r.N || r.Seen.N == 0 || r.Unseen.N == 0 {
			t.Errorf("%s/%s against %s: n %d (seen %d, unseen %d), %d people; want 16 trials of 8 people, both parts",
				r.Method, r.GuidedBy, r.Against, r.N, r.Seen.N, r.Unseen.N, r.People)
		}
		if r.Calls > 12 || r.Calls < 1 || (r.Method != guide.MethodPrompt && r.Calls != 12) {
			t.Errorf("%s/%s: %.1f generator calls per picture with a budget of 12", r.Method, r.GuidedBy, r.Calls)
		}
		if (r.Spearman != nil) != (r.Method == guide.MethodPrompt && r.Against == guide.MethodUnguided) {
			t.Errorf("%s/%s against %s: Spearman %v", r.Method, r.GuidedBy, r.Against, r.Spearman)
		}
		if r.GuidedBy == guide.ByOracle {
			if w < 0.7 {
				t.Errorf("%s guided by the true utility wins only %.1f%% against unguided", r.Method, 100*w)
			}
			if r.Spearman != nil && !(r.Spearman.Mean > 0.3) {
				t.Errorf("prompt guidance by the true utility: Spearman %.2f with the true effects; want > 0.3", r.Spearman.Mean)
			}
		}
	}
	// Deterministic for a seed.
	again, err := Guidance(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Rows {
		if res.Rows[i].WinRate != again.Rows[i].WinRate {
			t.Errorf("row %d: %v, then %v", i, res.Rows[i].WinRate, again.Rows[i].WinRate)
		}
	}
	if math.IsNaN(float64(res.Rows[0].Seconds)) || res.Rows[0].Seconds <= 0 {
		t.Errorf("seconds per picture %v", res.Rows[0].Seconds)
	}

	for name, o := range map[string]GuidanceOptions{
		"no model":       {Data: dir},
		"unknown method": {Data: dir, Model: modelDir, Methods: []string{"dreaming"}},
		"not a world":    {Data: t.TempDir(), Model: modelDir},
	} {
		if _, err := Guidance(ctx, o); palate.ErrorCode(err) != palate.EINVALID {
			t.Errorf("%s: %v; want EINVALID", name, err)
		}
	}
}
