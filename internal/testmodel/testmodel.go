// Package testmodel makes small untrained checkpoints for tests of the
// packages that serve models: their scores are arbitrary but fixed by the
// seed, and building one takes well under a second.
package testmodel

import (
	"path/filepath"
	"testing"

	"palate/features"
	"palate/model"
	"palate/train"
)

// Config is a small model over pixels-v3 image vectors and 16-float
// prompts, so uploads embedded by the built-in embedder can be scored.
func Config() model.Config {
	cfg := model.DefaultConfig()
	cfg.ImageDim = features.Dim
	cfg.TextDim = 16
	cfg.DModel = 32
	cfg.Heads = 4
	cfg.PrefTokens = 5
	cfg.MaxHistory = 12
	return cfg
}

// New returns an untrained checkpoint of Config with weights drawn from
// seed, labelled as trained on pixels-v3 and hashbow-v1.
func New(seed uint64) (*train.Checkpoint, error) {
	cfg := Config()
	o := train.DefaultOptions()
	o.Seed = seed
	tr, err := train.NewTrainer(cfg, o)
	if err != nil {
		return nil, err
	}
	w, err := tr.Weights()
	if err != nil {
		return nil, err
	}
	return &train.Checkpoint{
		Config:       cfg,
		Embedder:     train.EmbedderInfo{Name: features.Name, Dim: cfg.ImageDim},
		TextEmbedder: train.EmbedderInfo{Name: model.HashBOWName, Dim: cfg.TextDim},
		Weights:      w,
	}, nil
}

// Checkpoint is New for a test, failing it on error.
func Checkpoint(t testing.TB, seed uint64) *train.Checkpoint {
	t.Helper()
	ck, err := New(seed)
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// Dir saves Checkpoint(t, seed) under t.TempDir() and returns its directory.
func Dir(t testing.TB, seed uint64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	if err := train.Save(dir, Checkpoint(t, seed)); err != nil {
		t.Fatal(err)
	}
	return dir
}
