package server

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"palate/api"
	"palate/features"
	"palate/model"
	"palate/train"
)

// BenchmarkRank64 ranks 64 stored candidates for a person with a cached
// context through the client and a loopback HTTP server, with a model of
// the default size (untrained: the work is the same). `palate loadtest`
// measures the same under concurrent clients.
func BenchmarkRank64(b *testing.B) {
	cfg := model.DefaultConfig()
	cfg.ImageDim = features.Dim
	o := train.DefaultOptions()
	tr, err := train.NewTrainer(cfg, o)
	if err != nil {
		b.Fatal(err)
	}
	w, err := tr.Weights()
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "m")
	ck := &train.Checkpoint{Config: cfg, Embedder: train.EmbedderInfo{Name: features.Name, Dim: features.Dim},
		TextEmbedder: train.EmbedderInfo{Name: model.HashBOWName, Dim: cfg.TextDim}, Weights: w}
	if err := train.Save(dir, ck); err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, Config{ModelDir: dir})
	ctx := context.Background()
	var imgs []api.Image
	for i := range 96 {
		imgs = append(imgs, api.Image{ID: fmt.Sprint("img", i), Prompt: fmt.Sprint("prompt ", i%5), Embedding: vec(uint64(i)), Embedder: features.Name})
	}
	if _, err := e.c.AddImages(ctx, imgs); err != nil {
		b.Fatal(err)
	}
	var cs []api.Comparison
	for i := range 16 {
		cs = append(cs, api.Comparison{ID: fmt.Sprint("c", i), User: "u", Image0: fmt.Sprint("img", 64+i), Image1: fmt.Sprint("img", 80+i), Label0: api.Float(float64(i % 2))})
	}
	if _, err := e.c.AddComparisons(ctx, cs); err != nil {
		b.Fatal(err)
	}
	req := api.RankRequest{}
	for i := range 64 {
		req.Candidates = append(req.Candidates, api.Candidate{ID: fmt.Sprint("img", i)})
	}
	if _, err := e.c.Rank(ctx, "u", req); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.c.Rank(ctx, "u", req); err != nil {
			b.Fatal(err)
		}
	}
}
