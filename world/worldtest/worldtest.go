// Package worldtest builds small taste worlds for other packages' tests, so
// each test gets a real dataset without repeating how one is made.
package worldtest

import (
	"context"
	"image"
	"path/filepath"
	"testing"

	"palate"
	"palate/dataset"
	"palate/world"
)

// Blank is an embedder that sees nothing (one zero). Tests that build with
// it read the world's truth embedding instead: fast to make (no pixels are
// embedded) and with a clean signal.
type Blank struct{}

// Name implements palate.Embedder.
func (Blank) Name() string { return "blank" }

// Dim implements palate.Embedder.
func (Blank) Dim() int { return 1 }

// Embed implements palate.Embedder.
func (Blank) Embed(context.Context, image.Image) ([]float32, error) { return []float32{0}, nil }

// Build builds c's world into a new directory under t.TempDir() with emb
// (Blank when nil) and returns the directory and the summary.
func Build(t testing.TB, c world.Config, emb palate.Embedder) (string, *world.Summary) {
	t.Helper()
	if emb == nil {
		emb = Blank{}
	}
	w, err := world.New(c)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "world")
	s, err := w.Build(context.Background(), dir, emb, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

// Read reads a built world's dataset and one of its embedding tables.
func Read(t testing.TB, dir, embedder string) (*dataset.Dataset, *palate.Embeddings) {
	t.Helper()
	ds, err := dataset.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := dataset.ReadEmbeddings(dir, embedder)
	if err != nil {
		t.Fatal(err)
	}
	return ds, emb
}
