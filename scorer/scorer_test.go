package scorer

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"palate"
	"palate/model"
	"palate/onnx"
	"palate/onnx/onnxtest"
	"palate/train"
)

func testConfig() model.Config {
	cfg := model.DefaultConfig()
	cfg.ImageDim = 24
	cfg.TextDim = 16
	cfg.DModel = 32
	cfg.Heads = 4
	cfg.PrefTokens = 5
	cfg.PoolSize = 8
	cfg.MaxHistory = 12
	return cfg
}

// testCheckpoint is an untrained model: scores are arbitrary but fixed.
func testCheckpoint(t testing.TB, cfg model.Config, seed uint64) *train.Checkpoint {
	t.Helper()
	o := train.DefaultOptions()
	o.Seed = seed
	tr, err := train.NewTrainer(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tr.Weights()
	if err != nil {
		t.Fatal(err)
	}
	// The raw group tastes start at zero; give them values so that the
	// scorer has something to get wrong.
	if raw := w[model.Root+"/group/w_raw"]; raw != nil {
		rng := rand.New(rand.NewPCG(seed, 99))
		for i := range raw {
			raw[i] = float32(0.1 * rng.NormFloat64())
		}
	}
	return &train.Checkpoint{
		Config:       cfg,
		Embedder:     train.EmbedderInfo{Name: "pixels-v2", Dim: cfg.ImageDim},
		TextEmbedder: train.EmbedderInfo{Name: model.HashBOWName, Dim: cfg.TextDim},
		Weights:      w,
	}
}

func vec(rng *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func history(cfg model.Config, n int, rng *rand.Rand) []HistoryItem {
	h := make([]HistoryItem, n)
	for i := range h {
		h[i] = HistoryItem{Image: vec(rng, cfg.ImageDim), Text: vec(rng, cfg.TextDim),
			Label: model.Label(1 + i%4), Age: time.Duration(rng.IntN(1000)) * time.Hour}
	}
	return h
}

func candidates(cfg model.Config, n int, rng *rand.Rand) []Candidate {
	c := make([]Candidate, n)
	for i := range c {
		c[i] = Candidate{Image: vec(rng, cfg.ImageDim), Text: vec(rng, cfg.TextDim)}
	}
	return c
}

func newScorer(t testing.TB, ck *train.Checkpoint) *Scorer {
	t.Helper()
	s, err := New(ck, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The scorer (encode once, score separately, padded batches, constant
// weights) must give the training graph's scores.
func TestScoresMatchTrainingForward(t *testing.T) {
	for _, tc := range modeCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.TokenMode, cfg.GroupHead, cfg.GroupRaw = tc.mode, tc.group, tc.raw
			ck := testCheckpoint(t, cfg, 1)
			s := newScorer(t, ck)
			rng := rand.New(rand.NewPCG(1, 2))
			hist := history(cfg, 7, rng)
			cands := candidates(cfg, 2, rng)
			c, err := s.Context(context.Background(), hist)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Score(context.Background(), c, cands)
			if err != nil {
				t.Fatal(err)
			}

			tr, err := train.NewTrainer(cfg, train.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.SetWeights(ck.Weights); err != nil {
				t.Fatal(err)
			}
			bt := model.NewBatch(1, cfg.MaxHistory, 2, cfg.ImageDim, cfg.TextDim)
			for i, h := range hist {
				bt.SetHistory(0, i, h.Image, h.Text, h.Label, model.AgeBucket(h.Age, cfg.RecencyBuckets))
			}
			for i, cd := range cands {
				bt.SetTarget(0, i, cd.Image, cd.Text)
			}
			logits, err := tr.Logits(context.Background(), bt)
			if err != nil {
				t.Fatal(err)
			}
			for i := range cands {
				want := logits[2*i] - logits[2*i+1]
				if d := math.Abs(float64(res.Scores[i] - want)); d > 1e-4 {
					t.Errorf("candidate %d: scorer %v, training forward %v", i, res.Scores[i], want)
				}
			}
			if res.ColdStart || c.Items != 7 {
				t.Fatalf("cold start %v items %d", res.ColdStart, c.Items)
			}
		})
	}
}

// A candidate scored alone or among 1,000 others gets the same score.
func TestCandidateIndependence(t *testing.T) {
	cfg := testConfig()
	s := newScorer(t, testCheckpoint(t, cfg, 2))
	rng := rand.New(rand.NewPCG(3, 4))
	c, err := s.Context(context.Background(), history(cfg, 10, rng))
	if err != nil {
		t.Fatal(err)
	}
	many := candidates(cfg, 1001, rng)
	all, err := s.Score(context.Background(), c, many)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Scores) != 1001 {
		t.Fatalf("%d scores for 1001 candidates", len(all.Scores))
	}
	for _, i := range []int{0, 500, 1000} {
		alone, err := s.Score(context.Background(), c, many[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(alone.Scores[0] - all.Scores[i])); d > 1e-5 {
			t.Errorf("candidate %d: alone %v, among 1000 others %v", i, alone.Scores[0], all.Scores[i])
		}
	}
}

// modeCase is a token mode, with or without the group head.
type modeCase struct {
	name, mode string
	group, raw bool
}

// modeCases are the token modes, each without the group head, with it, and
// with its group tastes reaching the raw image.
func modeCases() []modeCase {
	var cs []modeCase
	for _, mode := range []string{model.TokenModeFixed, model.TokenModePool} {
		cs = append(cs, modeCase{mode, mode, false, false}, modeCase{mode + "+group", mode, true, false},
			modeCase{mode + "+group-raw", mode, true, true})
	}
	return cs
}

func TestColdStartAndDescriptors(t *testing.T) {
	for _, tc := range modeCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			mode := tc.mode
			cfg.TokenMode, cfg.GroupHead, cfg.GroupRaw = mode, tc.group, tc.raw
			s := newScorer(t, testCheckpoint(t, cfg, 3))
			rng := rand.New(rand.NewPCG(5, 6))
			ctx := context.Background()

			cold, err := s.Context(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Score(ctx, cold, candidates(cfg, 3, rng))
			if err != nil {
				t.Fatal(err)
			}
			if !res.ColdStart || !cold.ColdStart {
				t.Fatal("empty history not reported as cold start")
			}
			for _, x := range res.Scores {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("cold-start score %v", x)
				}
			}
			if d := cold.Descriptor(); !d.ColdStart || len(d.Attention) != 0 {
				t.Fatalf("cold descriptor %+v", d)
			}

			hist := history(cfg, 9, rng)
			d, err := s.Descriptor(ctx, hist)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Attention) != cfg.DescriptorTokens() || len(d.Tokens) != cfg.DescriptorTokens()*cfg.DModel || len(d.HistoryMean) != cfg.DModel {
				t.Fatalf("descriptor sizes %d %d %d", len(d.Attention), len(d.Tokens), len(d.HistoryMean))
			}
			var norm float64
			nonzero := 0
			for _, a := range d.Attention {
				norm += float64(a) * float64(a)
				if a != 0 {
					nonzero++
				}
			}
			if math.Abs(norm-1) > 1e-4 {
				t.Fatalf("attention descriptor norm² %v", norm)
			}
			if mode == model.TokenModePool && nonzero > cfg.PrefTokens {
				t.Fatalf("pool mode: %d tokens attended, at most K=%d selected", nonzero, cfg.PrefTokens)
			}
			// The group head's posterior is a distribution over the tokens
			// (pool mode: over the selected ones).
			if !tc.group && len(d.Groups) != 0 {
				t.Fatalf("group posterior %v without the group head", d.Groups)
			}
			if tc.group {
				var sum float64
				held := 0
				for _, p := range d.Groups {
					sum += float64(p)
					if p > 0 {
						held++
					}
				}
				if len(d.Groups) != cfg.DescriptorTokens() || math.Abs(sum-1) > 1e-4 || held > cfg.PrefTokens {
					t.Fatalf("group posterior %v: want %d entries summing to 1, at most %d non-zero", d.Groups, cfg.DescriptorTokens(), cfg.PrefTokens)
				}
			}
			// Order does not matter: the history's units (a comparison's two
			// adjacent items, or a vote) shuffled give the same descriptor.
			var units [][]HistoryItem
			for i := 0; i < len(hist); i++ {
				if hist[i].Label == model.LabelLiked && i+1 < len(hist) && hist[i+1].Label == model.LabelDisliked {
					units = append(units, hist[i:i+2])
					i++
					continue
				}
				units = append(units, hist[i:i+1])
			}
			rng.Shuffle(len(units), func(i, j int) { units[i], units[j] = units[j], units[i] })
			var shuffled []HistoryItem
			for _, u := range units {
				shuffled = append(shuffled, u...)
			}
			d2, err := s.Descriptor(ctx, shuffled)
			if err != nil {
				t.Fatal(err)
			}
			for i := range d.Attention {
				if math.Abs(float64(d.Attention[i]-d2.Attention[i])) > 1e-5 {
					t.Fatalf("attention descriptor depends on history order: %v vs %v", d.Attention, d2.Attention)
				}
			}
		})
	}
	// K = 0: no token descriptors, the history mean still works.
	cfg := testConfig()
	cfg.PrefTokens = 0
	s := newScorer(t, testCheckpoint(t, cfg, 4))
	d, err := s.Descriptor(context.Background(), history(cfg, 3, rand.New(rand.NewPCG(1, 1))))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Attention) != 0 || len(d.Tokens) != 0 || len(d.HistoryMean) != cfg.DModel {
		t.Fatalf("K=0 descriptor %+v", d)
	}
}

// A saved and reloaded checkpoint scores bit-identically.
func TestCheckpointRoundTripScores(t *testing.T) {
	cfg := testConfig()
	ck := testCheckpoint(t, cfg, 5)
	dir := filepath.Join(t.TempDir(), "model")
	if err := train.Save(dir, ck); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem := newScorer(t, ck)
	rng := rand.New(rand.NewPCG(7, 8))
	hist, cands := history(cfg, 6, rng), candidates(cfg, 20, rng)
	score := func(s *Scorer) []float32 {
		c, err := s.Context(context.Background(), hist)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Score(context.Background(), c, cands)
		if err != nil {
			t.Fatal(err)
		}
		return r.Scores
	}
	a, b := score(mem), score(loaded)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("candidate %d: %v in memory, %v after save/load", i, a[i], b[i])
		}
	}
	if err := loaded.CheckEmbedder("clip", cfg.ImageDim); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("embedder mismatch: %v", err)
	}
	p, err := loaded.EmbedPrompt("a red fox")
	if err != nil || len(p) != cfg.TextDim {
		t.Fatalf("EmbedPrompt: %v, %d values", err, len(p))
	}
}

// Concurrent callers get exactly the sequential results.
func TestConcurrentUse(t *testing.T) {
	cfg := testConfig()
	s := newScorer(t, testCheckpoint(t, cfg, 6))
	rng := rand.New(rand.NewPCG(9, 10))
	type job struct {
		hist  []HistoryItem
		cands []Candidate
	}
	jobs := make([]job, 8)
	want := make([][]float32, len(jobs))
	for i := range jobs {
		jobs[i] = job{history(cfg, 1+i, rng), candidates(cfg, 5+7*i, rng)}
		c, err := s.Context(context.Background(), jobs[i].hist)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Score(context.Background(), c, jobs[i].cands)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r.Scores
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(jobs)*3)
	for rep := range 3 {
		for i := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.Context(context.Background(), jobs[i].hist)
				if err != nil {
					errs <- err
					return
				}
				r, err := s.Score(context.Background(), c, jobs[i].cands)
				if err != nil {
					errs <- err
					return
				}
				for j := range r.Scores {
					if r.Scores[j] != want[i][j] {
						t.Errorf("rep %d job %d candidate %d: %v concurrent, %v sequential", rep, i, j, r.Scores[j], want[i][j])
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestBadInputs(t *testing.T) {
	cfg := testConfig()
	s := newScorer(t, testCheckpoint(t, cfg, 7))
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	bad := history(cfg, 2, rng)
	bad[1].Image = bad[1].Image[:3]
	if _, err := s.Context(ctx, bad); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("short image: %v", err)
	}
	bad = history(cfg, 1, rng)
	bad[0].Label = model.LabelQuery
	if _, err := s.Context(ctx, bad); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("query label in history: %v", err)
	}
	c, err := s.Context(ctx, history(cfg, 30, rng)) // more than MaxHistory
	if err != nil || c.Items != cfg.MaxHistory {
		t.Fatalf("long history: %v, %d items", err, c.Items)
	}
	cands := candidates(cfg, 2, rng)
	cands[1].Text = cands[1].Text[:2]
	if _, err := s.Score(ctx, c, cands); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("short text: %v", err)
	}
}

func TestChunk(t *testing.T) {
	sizes := DefaultSizes
	for _, c := range []struct{ r, n, size int }{
		{1, 1, 1}, {2, 1, 1}, {15, 15, 16}, {16, 16, 16}, {17, 16, 16}, {30, 30, 32},
		{60, 60, 64}, {500, 500, 512}, {512, 512, 512}, {1024, 512, 512}, {1500, 512, 512}, {476, 476, 512}, {300, 256, 256}, {220, 220, 256},
	} {
		n, size := chunk(c.r, sizes)
		if n != c.n || size != c.size {
			t.Errorf("chunk(%d) = %d in %d, want %d in %d", c.r, n, size, c.n, c.size)
		}
	}
}

// An ONNX text encoder recorded in the checkpoint is reopened from its path
// or taken from Options; one that differs is refused, naming both.
func TestONNXTextEmbedder(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, seed uint64) string {
		t.Helper()
		path := filepath.Join(dir, name+".onnx")
		if err := onnxtest.TextModel(onnxtest.CharVocab, 16, 16, seed).WriteFile(path); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".json", []byte(`{"name": "chars", "pool": "mean"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), onnxtest.CharTokenizer(), 0o644); err != nil {
		t.Fatal(err)
	}
	path, other := write("text", 1), write("other", 2)
	enc, err := onnx.OpenText(path, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	ck := testCheckpoint(t, cfg, 3)
	ck.TextEmbedder = train.EmbedderInfo{Name: enc.Name(), Dim: enc.Dim(), Path: path, Version: enc.Version()}

	want := enc.EmbedText("a red fox")
	for name, opts := range map[string]Options{"reopened": {}, "given": {TextEmbedder: enc}} {
		s, err := New(ck, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := s.EmbedPrompt("a red fox")
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: EmbedPrompt = %v, %v; want %v", name, got, err, want)
		}
	}

	otherEnc, err := onnx.OpenText(other, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, te := range map[string]palate.TextEmbedder{"hashbow": model.NewHashBOW(16), "other weights": otherEnc} {
		_, err := New(ck, Options{TextEmbedder: te})
		if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), `"chars"`) || !strings.Contains(err.Error(), `"`+te.Name()+`"`) {
			t.Fatalf("%s: error %v; want EINVALID naming both embedders", name, err)
		}
	}
	// The recorded file gone: the error says what to pass.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err = New(ck, Options{})
	if palate.ErrorCode(err) != palate.ENOTFOUND || !strings.Contains(err.Error(), "--text-embedder") || !strings.Contains(err.Error(), path) {
		t.Fatalf("missing model: error %v", err)
	}
}
