package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"
)

// getParam returns model variable name (under Root) as flat float32s.
func getParam(t *testing.T, store *mlm.Store, name string) []float32 {
	t.Helper()
	v := store.GetVariable(Root + "/" + name)
	if v == nil {
		t.Fatalf("no variable %s", name)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](val)
}

// TestGroupHeadByHand checks the group head against the mixture of
// Bradley–Terry models worked in plain Go: with the transformer's readout
// zeroed and the taste head off, s+ − s− of a target is u(t) + φ(t)·Σ π_k w_k,
// π the posterior over the tokens from prior plus Σ_pairs log σ(Δφ·(w_base +
// w_k)). The history holds two comparisons and a vote (which is no
// evidence); an empty history must give the prior.
//
// With GroupRaw each group's weights also cover the normalised image (the
// raw image here, as standardisation starts as the identity): w_k gains
// tokens·group/w_raw, Δφ gains Δx, and the target's score gains x·Σ π_k w_k.
func TestGroupHeadByHand(t *testing.T) {
	for _, raw := range []bool{false, true} {
		testGroupHeadByHand(t, raw)
	}
}

func testGroupHeadByHand(t *testing.T, raw bool) {
	cfg := smallConfig()
	cfg.PairDiff, cfg.TasteHead, cfg.GroupHead, cfg.GroupRaw = false, false, true, raw
	cfg.BaseHidden = 5
	store := newStore(t, cfg, 29)
	rng := rand.New(rand.NewPCG(31, 32))
	normal := func(std float64) func(int) float32 {
		return func(int) float32 { return float32(rng.NormFloat64() * std) }
	}
	setParam(t, store, "out/w", func(int) float32 { return 0 })
	setParam(t, store, "group/w", normal(0.5))
	setParam(t, store, "base/w2", normal(0.5))
	if raw {
		setParam(t, store, "group/w_raw", normal(0.3))
	}

	const T = 3
	for _, n := range []int{5, 0} {
		bt := randomBatch(cfg, 1, T, n, rng)
		if n > 0 {
			// Comparisons in slots (0, 1) and (2, 3), a single like in 4.
			for h, l := range []Label{LabelLiked, LabelDisliked, LabelLiked, LabelDisliked, LabelLiked} {
				bt.HistLabel[h] = int32(l)
			}
		}
		logits := forwardLogits(t, store, cfg, bt)

		// φ of a raw image and prompt: standardisation starts as the
		// identity (mean 0, scale 1, gain 1, bias 0).
		in := cfg.ImageDim + cfg.TextDim
		w1, b1 := getParam(t, store, "base/w1"), getParam(t, store, "base/b1")
		w2 := getParam(t, store, "base/w2")
		Hb := cfg.BaseHidden
		phi := func(img, txt []float32) []float64 {
			x := append(append([]float32(nil), img...), txt...)
			out := make([]float64, Hb)
			for j := range Hb {
				s := float64(b1[j])
				for i := range in {
					s += float64(x[i]) * float64(w1[i*Hb+j])
				}
				out[j] = max(s, 0)
			}
			return out
		}
		// item is φ of history or target slot i, followed by its image
		// under GroupRaw; F is its length.
		F := Hb
		if raw {
			F += cfg.ImageDim
		}
		item := func(img, txt []float32, dimI, dimT, i int) []float64 {
			f := phi(img[i*dimI:(i+1)*dimI], txt[i*dimT:(i+1)*dimT])
			if raw {
				for _, v := range img[i*dimI : (i+1)*dimI] {
					f = append(f, float64(v))
				}
			}
			return f
		}
		// Token weights and priors: tokens [K, d] · group/w [d, Hb+1], then
		// tokens · group/w_raw [d, ImageDim] under GroupRaw.
		K, d := cfg.PrefTokens, cfg.DModel
		tok, gw := getParam(t, store, "pref/tokens"), getParam(t, store, "group/w")
		var gwRaw []float32
		if raw {
			gwRaw = getParam(t, store, "group/w_raw")
		}
		w := make([][]float64, K)
		prior := make([]float64, K)
		for k := range K {
			w[k] = make([]float64, F)
			for i := range d {
				x := float64(tok[k*d+i])
				for j := range Hb {
					w[k][j] += x * float64(gw[i*(Hb+1)+j])
				}
				prior[k] += x * float64(gw[i*(Hb+1)+Hb])
				for j := range F - Hb {
					w[k][Hb+j] += x * float64(gwRaw[i*cfg.ImageDim+j])
				}
			}
		}
		// base is the shared weight of feature j: base/w2 on φ, none on the image.
		base := func(j int) float64 {
			if j < Hb {
				return float64(w2[j])
			}
			return 0
		}
		// Evidence: the comparisons are the liked slots followed by a
		// disliked one.
		logit := append([]float64(nil), prior...)
		for h := 0; h+1 < n; h++ {
			if bt.HistLabel[h] != int32(LabelLiked) || bt.HistLabel[h+1] != int32(LabelDisliked) {
				continue
			}
			a := item(bt.HistImage, bt.HistText, cfg.ImageDim, cfg.TextDim, h)
			b := item(bt.HistImage, bt.HistText, cfg.ImageDim, cfg.TextDim, h+1)
			for k := range K {
				m := 0.0
				for j := range F {
					m += (a[j] - b[j]) * (base(j) + w[k][j])
				}
				logit[k] += -math.Log1p(math.Exp(-m))
			}
		}
		mx := math.Inf(-1)
		for _, l := range logit {
			mx = max(mx, l)
		}
		pi, z := make([]float64, K), 0.0
		for k := range K {
			pi[k] = math.Exp(logit[k] - mx)
			z += pi[k]
		}
		outB := getParam(t, store, "out/b")
		for tt := range T {
			f := item(bt.TgtImage, bt.TgtText, cfg.ImageDim, cfg.TextDim, tt)
			want := float64(outB[0]) - float64(outB[1])
			for j := range F {
				wbar := 0.0
				for k := range K {
					wbar += pi[k] / z * w[k][j]
				}
				want += f[j] * (base(j) + wbar)
			}
			got := float64(logits[2*tt] - logits[2*tt+1])
			if math.Abs(got-want) > 1e-4*max(1, math.Abs(want)) {
				t.Errorf("group_raw %v, history of %d items, target %d: score %.6f, by hand %.6f", raw, n, tt, got, want)
			}
		}
	}
}

// Under BasePersonal the base stage's loss is the Bradley–Terry loss of the
// full model's score with the transformer's readout zeroed (base head plus
// taste and group heads read from the history), so it must equal the loss
// worked from Forward's scores; the base stage then trains the personal
// heads (and the tokens the group head reads) besides the base head.
// Without it the loss ignores the history.
//
// With GroupRaw too (its penalty off), the same holds for the heads that
// reach the raw image.
func TestBasePersonalMatchesForward(t *testing.T) {
	for _, c := range []struct{ personal, raw bool }{{true, false}, {false, false}, {true, true}} {
		personal := c.personal
		cfg := smallConfig()
		cfg.GroupHead, cfg.BasePersonal, cfg.GroupRaw, cfg.GroupL2 = true, personal, c.raw, 0
		store := newStore(t, cfg, 37)
		rng := rand.New(rand.NewPCG(41, 42))
		setParam(t, store, "out/w", func(int) float32 { return 0 })
		setParam(t, store, "out/b", func(int) float32 { return 0 })
		setParam(t, store, "group/w", func(int) float32 { return float32(rng.NormFloat64() * 0.5) })
		setParam(t, store, "taste/w2", func(int) float32 { return float32(rng.NormFloat64() * 0.5) })
		if c.raw {
			setParam(t, store, "group/w_raw", func(int) float32 { return float32(rng.NormFloat64() * 0.3) })
		}
		const B, T = 1, 6 // reorderHistory handles one episode
		bt := randomBatch(cfg, B, T, 4, rng)
		for b := range B {
			for h, l := range []Label{LabelLiked, LabelDisliked, LabelLiked, LabelDisliked} {
				bt.HistLabel[b*cfg.MaxHistory+h] = int32(l)
			}
		}
		loss := func(bt *Batch) float64 {
			out := runOnBatch(t, store, bt, func(scope *mlm.Scope, inputs []*Node) []*Node {
				return []*Node{BaseLosses(scope, cfg, InputsFromNodes(inputs), false).Total}
			})
			return float64(out[0].Value().(float32))
		}
		got := loss(bt)
		if personal {
			logits := forwardLogits(t, store, cfg, bt)
			var want float64
			for b := range B {
				for p := range T / 2 {
					i, j := (b*T+2*p)*2, (b*T+2*p+1)*2
					m := float64(logits[i]-logits[i+1]) - float64(logits[j]-logits[j+1])
					want += math.Log1p(math.Exp(-m)) / (B * T / 2)
				}
			}
			if math.Abs(got-want) > 1e-4*max(1, want) {
				t.Errorf("group_raw %v: personal base loss %v, from Forward's scores %v", c.raw, got, want)
			}
		}
		// Swap the winner of every history comparison.
		sw := reorderHistory(cfg, bt, []int{1, 0, 3, 2})
		for b := range B {
			for h, l := range []Label{LabelLiked, LabelDisliked, LabelLiked, LabelDisliked} {
				sw.HistLabel[b*cfg.MaxHistory+h] = int32(l)
			}
		}
		if d := math.Abs(loss(sw) - got); personal && d < 1e-6 || !personal && d > 1e-6 {
			t.Errorf("base_personal %v: swapping the history's winners changed the base loss by %g", personal, d)
		}
		for _, p := range Params(cfg) {
			rel := p.Path[len(Root)+1:]
			wantBase := strings.HasPrefix(rel, "base/") || personal && (strings.HasPrefix(rel, "taste/") || strings.HasPrefix(rel, "group/") || rel == "pref/tokens")
			if p.Base != wantBase {
				t.Errorf("base_personal %v: %s Base = %v", personal, rel, p.Base)
			}
		}
	}
}

// TestGroupPenalty checks GroupRaw's ridge penalty against plain Go: both
// training losses grow by GroupL2 times the mean over the tokens of
// |tokens·group/w_raw|², and only while GroupRaw is on.
func TestGroupPenalty(t *testing.T) {
	for _, mode := range []string{TokenModeFixed, TokenModePool} {
		cfg := smallConfig()
		cfg.GroupHead, cfg.GroupRaw, cfg.BasePersonal, cfg.TokenMode = true, true, true, mode
		store := newStore(t, cfg, 43)
		rng := rand.New(rand.NewPCG(47, 48))
		setParam(t, store, "group/w_raw", func(int) float32 { return float32(rng.NormFloat64() * 0.3) })
		bt := randomBatch(cfg, 2, 4, 6, rng)
		losses := func(cfg Config) [2]float64 {
			out := runOnBatch(t, store, bt, func(scope *mlm.Scope, inputs []*Node) []*Node {
				in := InputsFromNodes(inputs)
				return []*Node{TrainLosses(scope, cfg, in, false).Total, BaseLosses(scope, cfg, in, false).Total}
			})
			return [2]float64{float64(out[0].Value().(float32)), float64(out[1].Value().(float32))}
		}
		tokName := "pref/tokens"
		if mode == TokenModePool {
			tokName = "pref/pool"
		}
		tok, wr := getParam(t, store, tokName), getParam(t, store, "group/w_raw")
		d, D := cfg.DModel, cfg.ImageDim
		n := len(tok) / d
		var want float64
		for k := range n {
			for j := range D {
				v := 0.0
				for i := range d {
					v += float64(tok[k*d+i]) * float64(wr[i*D+j])
				}
				want += v * v
			}
		}
		cfg.GroupL2 = 0.7
		want *= cfg.GroupL2 / float64(n)
		with := losses(cfg)
		cfg.GroupL2 = 0
		without := losses(cfg)
		for i, name := range []string{"TrainLosses", "BaseLosses"} {
			if got := with[i] - without[i]; math.Abs(got-want) > 1e-4*max(1, want) {
				t.Errorf("%s mode, %s: penalty %.6f, by hand %.6f", mode, name, got, want)
			}
		}
	}
}
