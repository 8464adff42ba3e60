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
func TestGroupHeadByHand(t *testing.T) {
	cfg := smallConfig()
	cfg.PairDiff, cfg.TasteHead, cfg.GroupHead = false, false, true
	cfg.BaseHidden = 5
	store := newStore(t, cfg, 29)
	rng := rand.New(rand.NewPCG(31, 32))
	normal := func(std float64) func(int) float32 {
		return func(int) float32 { return float32(rng.NormFloat64() * std) }
	}
	setParam(t, store, "out/w", func(int) float32 { return 0 })
	setParam(t, store, "group/w", normal(0.5))
	setParam(t, store, "base/w2", normal(0.5))

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
		item := func(img, txt []float32, dimI, dimT, i int) []float64 {
			return phi(img[i*dimI:(i+1)*dimI], txt[i*dimT:(i+1)*dimT])
		}
		// Token weights and priors: tokens [K, d] · group/w [d, Hb+1].
		K, d := cfg.PrefTokens, cfg.DModel
		tok, gw := getParam(t, store, "pref/tokens"), getParam(t, store, "group/w")
		w := make([][]float64, K)
		prior := make([]float64, K)
		for k := range K {
			w[k] = make([]float64, Hb+1)
			for j := range Hb + 1 {
				for i := range d {
					w[k][j] += float64(tok[k*d+i]) * float64(gw[i*(Hb+1)+j])
				}
			}
			prior[k] = w[k][Hb]
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
				for j := range Hb {
					m += (a[j] - b[j]) * (float64(w2[j]) + w[k][j])
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
			for j := range Hb {
				wbar := 0.0
				for k := range K {
					wbar += pi[k] / z * w[k][j]
				}
				want += f[j] * (float64(w2[j]) + wbar)
			}
			got := float64(logits[2*tt] - logits[2*tt+1])
			if math.Abs(got-want) > 1e-4*max(1, math.Abs(want)) {
				t.Errorf("history of %d items, target %d: score %.6f, by hand %.6f", n, tt, got, want)
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
func TestBasePersonalMatchesForward(t *testing.T) {
	for _, personal := range []bool{true, false} {
		cfg := smallConfig()
		cfg.GroupHead, cfg.BasePersonal = true, personal
		store := newStore(t, cfg, 37)
		rng := rand.New(rand.NewPCG(41, 42))
		setParam(t, store, "out/w", func(int) float32 { return 0 })
		setParam(t, store, "out/b", func(int) float32 { return 0 })
		setParam(t, store, "group/w", func(int) float32 { return float32(rng.NormFloat64() * 0.5) })
		setParam(t, store, "taste/w2", func(int) float32 { return float32(rng.NormFloat64() * 0.5) })
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
				t.Errorf("personal base loss %v, from Forward's scores %v", got, want)
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
