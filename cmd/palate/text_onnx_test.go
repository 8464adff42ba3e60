package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"palate"
	"palate/api"
	"palate/dataset"
	"palate/model"
	"palate/onnx"
	"palate/onnx/onnxtest"
	"palate/scorer"
	"palate/train"
	"palate/world"
	"palate/world/worldtest"
)

// TestONNXTextEmbedder trains with `--text-embedder onnx:...` (a tiny text
// model built here with a character tokenizer) and checks that the
// checkpoint records it, that the scorer, `palate score` and `palate serve`
// reopen it and embed prompts exactly as the ONNX model does, and that
// another text embedder is refused naming both.
func TestONNXTextEmbedder(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	c := world.DefaultConfig()
	c.Users, c.Groups, c.ImageSize = 20, 2, 16
	c.ComparisonsPerUser = world.Range{Min: 6, Max: 10}
	c.VotesPerUser = world.Range{Min: 0, Max: 2}
	dir, _ := worldtest.Build(t, c, nil)

	mdir := t.TempDir()
	writeText := func(name string, seed uint64) string {
		t.Helper()
		path := filepath.Join(mdir, name)
		if err := onnxtest.TextModel(onnxtest.CharVocab, 32, 12, seed).WriteFile(path); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".json", []byte(`{"name": "tiny-text", "pool": "mean"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := os.WriteFile(filepath.Join(mdir, "tokenizer.json"), onnxtest.CharTokenizer(), 0o644); err != nil {
		t.Fatal(err)
	}
	textPath, otherPath := writeText("text.onnx", 1), writeText("other.onnx", 2)
	enc, err := onnx.OpenText(textPath, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}

	cfg := filepath.Join(mdir, "train.json")
	os.WriteFile(cfg, []byte(`{"model": {"d_model": 16, "layers": 1, "heads": 2, "max_history": 8, "pref_tokens": 2},
		"train": {"eval_every": 5}}`), 0o644)
	ck := filepath.Join(mdir, "model")
	code, out, errOut := run(t, "train", "--data", dir, "--out", ck, "--embedder", world.TruthEmbedder, "--config", cfg,
		"--steps", "5", "--text-embedder", "onnx:"+textPath)
	if code != 0 || !strings.Contains(out, "joint 5;") {
		t.Fatalf("train exited %d: %s %s", code, out, errOut)
	}
	saved, err := train.Load(ck)
	if err != nil {
		t.Fatal(err)
	}
	want := train.EmbedderInfo{Name: "tiny-text", Dim: 12, Path: textPath, Version: enc.Version()}
	if saved.TextEmbedder != want || saved.Config.TextDim != 12 {
		t.Fatalf("checkpoint records text embedder %+v (text_dim %d); want %+v", saved.TextEmbedder, saved.Config.TextDim, want)
	}

	// The scorer reopens the recorded model: prompt vectors are the ONNX
	// encoder's, in EmbedPrompt and in the history the CLI loads.
	sc, err := scorer.Load(ck, scorer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	prompt := ds.Comparisons[0].Prompt
	got, err := sc.EmbedPrompt(prompt)
	if err != nil || !slices.Equal(got, enc.EmbedText(prompt)) || slices.Equal(got, enc.EmbedText("")) {
		t.Fatalf("EmbedPrompt(%q) = %v, %v; want the ONNX encoder's %v", prompt, got, err, enc.EmbedText(prompt))
	}
	_, hd, err := loadScorer(context.Background(), ck, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := hd.Row(ds.Comparisons[0].Image0); !ok || !slices.Equal(hd.Text[r], got) {
		t.Fatalf("history prompt vector of %s differs from the ONNX encoder's", ds.Comparisons[0].Image0)
	}

	comp := ds.Comparisons[0]
	images := comp.Image0 + "," + comp.Image1
	code, out, errOut = run(t, "score", "--model", ck, "--data", dir, "--user", comp.User, "--images", images)
	if code != 0 || !strings.Contains(out, "P(like)") {
		t.Fatalf("score exited %d: %s %s", code, out, errOut)
	}
	code, _, errOut = run(t, "score", "--model", ck, "--data", dir, "--user", comp.User, "--images", images, "--text-embedder", "onnx:"+textPath)
	if code != 0 {
		t.Fatalf("score with the same --text-embedder exited %d: %s", code, errOut)
	}

	// Another text embedder is refused, naming both.
	for _, bad := range []string{model.HashBOWName, "onnx:" + otherPath} {
		code, _, errOut := run(t, "score", "--model", ck, "--data", dir, "--user", comp.User, "--images", images, "--text-embedder", bad)
		if code != 1 || !strings.Contains(errOut, `"tiny-text"`) || !strings.Contains(errOut, "text embedder") {
			t.Fatalf("score with --text-embedder %s: exit %d, %s", bad, code, errOut)
		}
	}
	otherEnc, err := onnx.OpenText(otherPath, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scorer.Load(ck, scorer.Options{TextEmbedder: otherEnc}); palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), enc.Version()[:28]) || !strings.Contains(err.Error(), otherEnc.Version()[:28]) {
		t.Fatalf("scorer given other weights under the same name: %v", err)
	}

	// The server embeds request prompts with the reopened encoder: a
	// candidate sent by id ranks as the scorer scores it.
	t.Setenv("PALATE_WRITE_KEY", "")
	t.Setenv("PALATE_READ_KEY", "")
	db := "sqlite:" + filepath.Join(mdir, "p.db")
	if code, out, errOut := run(t, "import", "--db", db, "--data", dir); code != 0 {
		t.Fatalf("import exited %d: %s %s", code, out, errOut)
	}
	cl := &api.Client{BaseURL: startServe(t, "--db", db, "--model", ck, "--text-embedder", "onnx:"+textPath)}
	rk, err := cl.Rank(context.Background(), comp.User, api.RankRequest{Candidates: []api.Candidate{{ID: comp.Image0, Prompt: prompt}}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, err := userContext(context.Background(), sc, hd, comp.User)
	if err != nil {
		t.Fatal(err)
	}
	r0, _ := hd.Row(comp.Image0)
	res, err := sc.Score(context.Background(), sctx, []scorer.Candidate{{Image: hd.Emb.Row(int(r0)), Text: got}})
	if err != nil {
		t.Fatal(err)
	}
	if d := rk.Results[0].Score - res.Scores[0]; d > 1e-4 || d < -1e-4 {
		t.Fatalf("the API scores %v, the scorer %v", rk.Results[0].Score, res.Scores[0])
	}

	// With the model file gone, scoring says which flag to pass.
	if err := os.Remove(textPath); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "score", "--model", ck, "--data", dir, "--user", comp.User, "--images", images)
	if code != 1 || !strings.Contains(errOut, "--text-embedder") || !strings.Contains(errOut, textPath) {
		t.Fatalf("score with the text model gone: exit %d, %s", code, errOut)
	}
}
