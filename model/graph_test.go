package model

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"
)

func TestForwardShapesAndFinite(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"fixed":     func(*Config) {},
		"K=0":       func(c *Config) { c.PrefTokens = 0 },
		"pool":      func(c *Config) { c.TokenMode = TokenModePool },
		"pool K=M":  func(c *Config) { c.TokenMode = TokenModePool; c.PoolSize = c.PrefTokens },
		"3 layers":  func(c *Config) { c.Layers = 3 },
		"1 history": func(c *Config) { c.MaxHistory = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := smallConfig()
			mutate(&cfg)
			store := newStore(t, cfg, 1)
			rng := rand.New(rand.NewPCG(1, 2))
			bt := randomBatch(cfg, 3, 4, min(3, cfg.MaxHistory), rng)
			// Episode 1 has an empty history: cold start must work too.
			for h := range cfg.MaxHistory {
				bt.ClearHistory(1, h)
			}
			if err := bt.Validate(cfg); err != nil {
				t.Fatal(err)
			}
			logits := forwardLogits(t, store, cfg, bt)
			if len(logits) != 3*4*2 {
				t.Fatalf("got %d logits, want %d", len(logits), 3*4*2)
			}
			for i, x := range logits {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("logit %d = %v", i, x)
				}
			}
		})
	}
}

// A candidate's score must not depend on the other candidates scored with it.
func TestTargetIndependence(t *testing.T) {
	for _, mode := range []string{TokenModeFixed, TokenModePool} {
		t.Run(mode, func(t *testing.T) {
			cfg := smallConfig()
			cfg.TokenMode = mode
			store := newStore(t, cfg, 7)
			rng := rand.New(rand.NewPCG(3, 4))
			many := randomBatch(cfg, 1, 1001, 5, rng)
			alone := NewBatch(1, cfg.MaxHistory, 1, cfg.ImageDim, cfg.TextDim)
			copy(alone.HistImage, many.HistImage)
			copy(alone.HistText, many.HistText)
			copy(alone.HistLabel, many.HistLabel)
			copy(alone.HistRecency, many.HistRecency)
			const pick = 517
			alone.SetTarget(0, 0, many.TgtImage[pick*cfg.ImageDim:(pick+1)*cfg.ImageDim], many.TgtText[pick*cfg.TextDim:(pick+1)*cfg.TextDim])
			got := forwardLogits(t, store, cfg, alone)
			all := forwardLogits(t, store, cfg, many)
			for c := range 2 {
				if d := math.Abs(float64(got[c] - all[pick*2+c])); d > 1e-5 {
					t.Errorf("logit %d alone %v, among 1000 others %v (diff %g)", c, got[c], all[pick*2+c], d)
				}
			}
		})
	}
}

// Scoring through separately executed EncodeContext and ScoreTargets (the
// scorer's path) must equal the one-graph training forward.
func TestEncodeThenScoreEqualsForward(t *testing.T) {
	cfg := smallConfig()
	store := newStore(t, cfg, 11)
	rng := rand.New(rand.NewPCG(5, 6))
	bt := randomBatch(cfg, 2, 3, 4, rng)
	want := forwardLogits(t, store, cfg, bt)

	encExec := mlm.MustNewExec(testBackend(), store, func(scope *mlm.Scope, in []*Node) []*Node {
		// HistoryMean is output too: it keeps every variable the encoder
		// reads in use (see the note on EncoderOutputs).
		enc := EncodeContext(scope, cfg, in[0], in[1], in[2], in[3], false)
		return append(enc.ContextNodes(), enc.HistoryMean)
	})
	scoreExec := mlm.MustNewExec(testBackend(), store, func(scope *mlm.Scope, in []*Node) *Node {
		nc := NumContextNodes(cfg)
		return ScoreTargets(scope, cfg, ContextFromNodes(cfg, in[:nc]), in[nc], in[nc+1], false)
	})
	var args []any
	for _, x := range bt.HistoryTensors() {
		args = append(args, x)
	}
	ctx, err := encExec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	args = args[:0]
	for _, x := range ctx[:NumContextNodes(cfg)] {
		args = append(args, x)
	}
	for _, x := range bt.TargetTensors() {
		args = append(args, x)
	}
	out, err := scoreExec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("logit %d: encode+score %v, forward %v", i, got[i], want[i])
		}
	}
}

// The model has no positional embeddings: shuffling the history slots must
// not change a score.
func TestHistoryOrderInvariance(t *testing.T) {
	cfg := smallConfig()
	store := newStore(t, cfg, 13)
	rng := rand.New(rand.NewPCG(7, 8))
	bt := randomBatch(cfg, 1, 5, 5, rng)
	// Units: a pair in slots 0-1, a pair in 2-3, a vote in 4.
	for h, l := range []Label{LabelLiked, LabelDisliked, LabelLiked, LabelDisliked, LabelSingleLike} {
		bt.HistLabel[h] = int32(l)
	}
	want := forwardLogits(t, store, cfg, bt)
	got := forwardLogits(t, store, cfg, reorderHistory(cfg, bt, []int{4, 2, 3, 0, 1}))
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("logit %d: units reordered %v, original %v", i, got[i], want[i])
		}
	}
}

// reorderHistory returns a one-episode copy of bt whose history slot i holds
// bt's slot from[i].
func reorderHistory(cfg Config, bt *Batch, from []int) *Batch {
	sh := NewBatch(1, cfg.MaxHistory, bt.T, cfg.ImageDim, cfg.TextDim)
	copy(sh.TgtImage, bt.TgtImage)
	copy(sh.TgtText, bt.TgtText)
	for to, f := range from {
		sh.SetHistory(0, to, bt.HistImage[f*cfg.ImageDim:(f+1)*cfg.ImageDim], bt.HistText[f*cfg.TextDim:(f+1)*cfg.TextDim],
			Label(bt.HistLabel[f]), bt.HistRecency[f])
	}
	return sh
}

// With PairDiff the model knows which liked image beat which disliked one:
// re-pairing the same four images changes the scores. Without it (and
// without the taste head, whose mean over pairs cannot tell) the history is
// a set and re-pairing changes nothing.
func TestPairDiffSeesPairing(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := smallConfig()
		cfg.PairDiff, cfg.TasteHead, cfg.GroupHead = on, false, false
		store := newStore(t, cfg, 19)
		rng := rand.New(rand.NewPCG(11, 12))
		bt := randomBatch(cfg, 1, 3, 4, rng)
		for h, l := range []Label{LabelLiked, LabelDisliked, LabelLiked, LabelDisliked} {
			bt.HistLabel[h] = int32(l)
		}
		want := forwardLogits(t, store, cfg, bt)
		// Same items, liked images swapped between the two pairs.
		got := forwardLogits(t, store, cfg, reorderHistory(cfg, bt, []int{2, 1, 0, 3}))
		if d := maxAbsDiff(got, want); on && d < 1e-4 {
			t.Errorf("pair_diff on: re-pairing changed logits by only %g", d)
		} else if !on && d > 1e-5 {
			t.Errorf("pair_diff off: re-pairing changed logits by %g; the history should be a set", d)
		}
	}
}

// The taste head is a path from the history's comparisons to the score of
// its own: with the transformer's readout zeroed, the scores still depend
// on which image of a pair won when the taste head is on, and on nothing in
// the history when it is off.
func TestTasteHeadReadsPairs(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := smallConfig()
		cfg.PairDiff, cfg.TasteHead, cfg.GroupHead = false, on, false
		store := newStore(t, cfg, 23)
		setParam(t, store, "out/w", func(int) float32 { return 0 })
		if on {
			rng := rand.New(rand.NewPCG(3, 4))
			setParam(t, store, "taste/w2", func(int) float32 { return float32(rng.NormFloat64()) })
		}
		rng := rand.New(rand.NewPCG(13, 14))
		bt := randomBatch(cfg, 1, 3, 2, rng)
		bt.HistLabel[0], bt.HistLabel[1] = int32(LabelLiked), int32(LabelDisliked)
		won := forwardLogits(t, store, cfg, bt)
		// The same two images, the other one winning: reorderHistory moves
		// the labels with the images, so put them back.
		swapped := reorderHistory(cfg, bt, []int{1, 0})
		swapped.HistLabel[0], swapped.HistLabel[1] = int32(LabelLiked), int32(LabelDisliked)
		lost := forwardLogits(t, store, cfg, swapped)
		if d := maxAbsDiff(won, lost); on && d < 1e-4 {
			t.Errorf("taste head on: swapping a pair's winner changed logits by only %g", d)
		} else if !on && d > 1e-5 {
			t.Errorf("taste head off, readout zeroed: the history changed logits by %g", d)
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// setParam overwrites model variable name (under Root) with f(i) for each
// element i.
func setParam(t *testing.T, store *mlm.Store, name string, f func(int) float32) {
	t.Helper()
	v := store.GetVariable(Root + "/" + name)
	data := make([]float32, v.Shape().Size())
	for i := range data {
		data[i] = f(i)
	}
	if err := v.SetValue(tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...)); err != nil {
		t.Fatal(err)
	}
}

// Padded slots must be invisible: whatever they hold does not change scores.
func TestPaddingIsMasked(t *testing.T) {
	cfg := smallConfig()
	store := newStore(t, cfg, 17)
	rng := rand.New(rand.NewPCG(9, 10))
	bt := randomBatch(cfg, 1, 3, 2, rng)
	want := forwardLogits(t, store, cfg, bt)
	for i := 2 * cfg.ImageDim; i < len(bt.HistImage); i++ {
		bt.HistImage[i] = 100
	}
	got := forwardLogits(t, store, cfg, bt)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("logit %d changed with padding content: %v vs %v", i, got[i], want[i])
		}
	}
}

func TestInitParamsDeterministic(t *testing.T) {
	cfg := smallConfig()
	a, b, c := newStore(t, cfg, 5), newStore(t, cfg, 5), newStore(t, cfg, 6)
	rng := rand.New(rand.NewPCG(1, 1))
	bt := randomBatch(cfg, 1, 2, 3, rng)
	la, lb, lc := forwardLogits(t, a, cfg, bt), forwardLogits(t, b, cfg, bt), forwardLogits(t, c, cfg, bt)
	same := true
	for i := range la {
		if la[i] != lb[i] {
			t.Fatalf("same seed, different logits: %v vs %v", la, lb)
		}
		same = same && la[i] == lc[i]
	}
	if same {
		t.Fatal("different seeds gave identical logits")
	}
	if err := CheckParams(a, cfg); err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.DModel = 32
	if err := CheckParams(a, cfg2); err == nil {
		t.Fatal("CheckParams accepted a store built for another d_model")
	}
}
