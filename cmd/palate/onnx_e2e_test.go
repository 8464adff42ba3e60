package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palate"
	"palate/api"
	"palate/dataset"
	"palate/features"
	"palate/onnx"
	"palate/onnx/onnxtest"
	"palate/scorer"
	"palate/world"
	"palate/world/worldtest"
)

// TestONNXEndToEnd runs the path a platform with its own encoder takes: a
// taste world's PNGs are embedded by an ONNX vision model (a tiny CLIP-style
// ViT built here) through `palate embed --embedder onnx:...`, a model is
// trained on that table with `palate train`, and people are scored through
// the scorer package on vectors the same ONNX model makes on the fly, and
// with `palate score`, and through `palate serve` over a store filled by
// `palate import --db`.
func TestONNXEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	c := world.DefaultConfig()
	c.Users, c.Groups, c.ImageSize = 30, 2, 32
	c.ComparisonsPerUser = world.Range{Min: 6, Max: 12}
	c.VotesPerUser = world.Range{Min: 0, Max: 2}
	dir, _ := worldtest.Build(t, c, nil)

	mdir := t.TempDir()
	modelPath := filepath.Join(mdir, "vision.onnx")
	vit := onnxtest.ViTConfig{Image: 32, Patch: 8, Width: 32, Layers: 1, Heads: 2, MLP: 64, Out: 16, Seed: 5}
	if err := onnxtest.ViT(vit).WriteFile(modelPath); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(modelPath+".json", []byte(`{"name": "tiny-vit", "preset": "clip", "size": 32}`), 0o644)

	code, out, errOut := run(t, "embed", "--data", dir, "--embedder", "onnx:"+modelPath, "--workers", "2")
	if code != 0 || !strings.Contains(out, "with tiny-vit (dimension 16)") {
		t.Fatalf("embed exited %d: %s %s", code, out, errOut)
	}
	table, err := dataset.ReadEmbeddings(dir, "tiny-vit")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.IDs) != len(ds.Images) {
		t.Fatalf("%d vectors for %d images", len(table.IDs), len(ds.Images))
	}
	emb, err := onnx.Open(modelPath, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := emb.Check(table); err != nil {
		t.Fatal(err)
	}
	// The library embeds a file to the vector the CLI stored.
	rows := table.Index()
	embedFile := func(id string) []float32 {
		t.Helper()
		for _, im := range ds.Images {
			if im.ID == id {
				img, _, err := features.DecodeFile(filepath.Join(dir, im.Path), features.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				v, err := emb.Embed(context.Background(), img)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
		t.Fatalf("no image %q", id)
		return nil
	}
	for _, id := range table.IDs[:3] {
		v, stored := embedFile(id), table.Row(rows[id])
		for j := range v {
			if math.Abs(float64(v[j]-stored[j])) > 1e-5 {
				t.Fatalf("image %s value %d: library %v, stored %v", id, j, v[j], stored[j])
			}
		}
	}

	cfg := filepath.Join(mdir, "train.json")
	os.WriteFile(cfg, []byte(`{"model": {"d_model": 32, "layers": 1, "heads": 2, "max_history": 8, "pref_tokens": 2, "text_dim": 16},
		"train": {"eval_every": 10}}`), 0o644)
	ck := filepath.Join(mdir, "model")
	code, out, errOut = run(t, "train", "--data", dir, "--out", ck, "--embedder", "tiny-vit", "--config", cfg, "--steps", "20")
	if code != 0 || !strings.Contains(out, "joint 20;") {
		t.Fatalf("train exited %d: %s %s", code, out, errOut)
	}

	sc, err := scorer.Load(ck, scorer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.CheckEmbedder(emb.Name(), emb.Dim()); err != nil {
		t.Fatal(err)
	}
	hd, err := loadHistory(context.Background(), dir, "tiny-vit", sc.TextEmbedder())
	if err != nil {
		t.Fatal(err)
	}
	comp := ds.Comparisons[0]
	sctx, err := userContext(context.Background(), sc, hd, comp.User)
	if err != nil {
		t.Fatal(err)
	}
	if sctx.ColdStart {
		t.Fatalf("%s has comparisons but is a cold start", comp.User)
	}
	text, err := sc.EmbedPrompt(comp.Prompt)
	if err != nil {
		t.Fatal(err)
	}
	fresh := []scorer.Candidate{{Image: embedFile(comp.Image0), Text: text}, {Image: embedFile(comp.Image1), Text: text}}
	stored := []scorer.Candidate{{Image: table.Row(rows[comp.Image0]), Text: text}, {Image: table.Row(rows[comp.Image1]), Text: text}}
	a, err := sc.Score(context.Background(), sctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sc.Score(context.Background(), sctx, stored)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Scores {
		if math.IsNaN(float64(a.Scores[i])) || math.Abs(float64(a.Scores[i]-b.Scores[i])) > 1e-3 {
			t.Fatalf("candidate %d: score %v from a fresh ONNX vector, %v from the stored one", i, a.Scores[i], b.Scores[i])
		}
	}

	// The server, over a store filled by `palate import --db`, scores as
	// the scorer does: stored images by id and vectors sent with the request.
	t.Setenv("PALATE_WRITE_KEY", "")
	t.Setenv("PALATE_READ_KEY", "")
	db := "sqlite:" + filepath.Join(mdir, "p.db")
	if code, out, errOut := run(t, "import", "--db", db, "--data", dir); code != 0 || !strings.Contains(out, "embeddings tiny-vit") {
		t.Fatalf("import exited %d: %s %s", code, out, errOut)
	}
	cl := &api.Client{BaseURL: startServe(t, "--db", db, "--model", ck)}
	ctx := context.Background()
	rk, err := cl.Rank(ctx, comp.User, api.RankRequest{Candidates: []api.Candidate{
		{ID: comp.Image0, Prompt: comp.Prompt},
		{ID: comp.Image1, Prompt: comp.Prompt},
		{Embedding: fresh[0].Image, Embedder: "tiny-vit", Prompt: comp.Prompt},
		{Embedding: fresh[1].Image, Prompt: comp.Prompt},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rk.ColdStart || rk.HistoryItems != sctx.Items {
		t.Fatalf("the server reads %d history items (cold start %v); the scorer %d", rk.HistoryItems, rk.ColdStart, sctx.Items)
	}
	want := []float32{b.Scores[0], b.Scores[1], a.Scores[0], a.Scores[1]}
	for i, r := range rk.Results {
		if math.IsNaN(float64(r.Score)) || math.Abs(float64(r.Score-want[i])) > 1e-5 {
			t.Fatalf("candidate %d: the API scores %v, the scorer %v", i, r.Score, want[i])
		}
	}
	// Pictures are embedded with the server's embedder (pixels-v3), which
	// this model does not read: the server says so.
	png, err := os.ReadFile(filepath.Join(dir, ds.Images[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Rank(ctx, comp.User, api.RankRequest{Candidates: []api.Candidate{{Image: png}}})
	if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "candidates[0].image") || !strings.Contains(err.Error(), "tiny-vit") {
		t.Fatalf("rank of a picture the model cannot read: %v", err)
	}

	code, out, errOut = run(t, "score", "--model", ck, "--data", dir, "--user", comp.User, "--images", comp.Image0+","+comp.Image1)
	if code != 0 || !strings.Contains(out, comp.Image0) || !strings.Contains(out, "P(like)") {
		t.Fatalf("score exited %d: %s %s", code, out, errOut)
	}

	// A model trained on the ONNX table refuses another embedder's vectors.
	if err := sc.CheckEmbedder(features.Name, features.Dim); err == nil || !strings.Contains(err.Error(), "tiny-vit") {
		t.Fatalf("checkpoint of tiny-vit accepted %s: %v", features.Name, err)
	}
	if code, _, errOut := run(t, "score", "--model", ck, "--data", dir, "--user", comp.User, "--images", "x"); code != 1 || !strings.Contains(errOut, `"x"`) {
		t.Fatalf("score of an unknown image: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run(t, "score", "--model", ck, "--data", dir, "--user", comp.User, "--images", comp.Image0+",,"+comp.Image1); code != 2 || !strings.Contains(errOut, "id 2 of 3 is empty") {
		t.Fatalf("score with an empty id: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, "embed", "--data", dir, "--embedder", "onnx:"+filepath.Join(mdir, "missing.onnx"))
	if code != 1 || !strings.Contains(errOut, "missing.onnx does not exist") {
		t.Fatalf("embed with a missing model: exit %d, %s", code, errOut)
	}
}
