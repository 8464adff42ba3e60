package model

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"
)

func pairLossValues(t *testing.T, logits [][][]float32, smoothing float64) (base, cp, acc float32) {
	t.Helper()
	out, err := mlm.CallOnceN(testBackend(), mlm.NewStore(), func(_ *mlm.Scope, x *Node) []*Node {
		b, c := PairLoss(x, smoothing)
		return []*Node{b, c, PairAccuracy(x)}
	}, logits)
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Value().(float32), out[1].Value().(float32), out[2].Value().(float32)
}

// The expected values are worked by hand from softplus(x) = log(1+e^x):
// softplus(2)=2.126928, softplus(0)=0.693147, softplus(-1)=0.313262,
// softplus(-2)=0.126928, softplus(3)=3.048587.
func TestPairLossByHand(t *testing.T) {
	// Episode 1: s(x+) = (s+ 2, s- 0), s(x-) = (1, 1).
	//   L_base = softplus(0-2) + softplus(1-1)          = 0.126928 + 0.693147 = 0.820075
	//   L_CP   = softplus(1-2) + softplus(0-1)          = 0.313262 + 0.313262 = 0.626523
	//   scores 2 vs 0: the liked target wins.
	// Episode 2: s(x+) = (1, 3), s(x-) = (-1, 0).
	//   L_base = softplus(3-1) + softplus(-1-0)         = 2.126928 + 0.313262 = 2.440190
	//   L_CP   = softplus(-1-1) + softplus(3-0)         = 0.126928 + 3.048587 = 3.175515
	//   scores -2 vs -1: the disliked target wins.
	logits := [][][]float32{
		{{2, 0}, {1, 1}},
		{{1, 3}, {-1, 0}},
	}
	base, cp, acc := pairLossValues(t, logits, 0)
	check := func(name string, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("%s = %.6f, want %.6f", name, got, want)
		}
	}
	check("L_base", base, (0.820075+2.440190)/2)
	check("L_CP", cp, (0.626523+3.175515)/2)
	check("accuracy", acc, 0.5)

	// Ties count half; equal logits give log 2 everywhere.
	base, cp, acc = pairLossValues(t, [][][]float32{{{0, 0}, {0, 0}}}, 0)
	check("tie L_base", base, 2*0.693147)
	check("tie L_CP", cp, 2*0.693147)
	check("tie accuracy", acc, 0.5)

	// Label smoothing 0.1 on episode 1:
	//   CE(x+,+) = 0.9*softplus(-2) + 0.1*softplus(2) = 0.114235 + 0.212693 = 0.326928
	//   CE(x-,-) = 0.9*softplus(0) + 0.1*softplus(0)  = 0.693147
	//   L_CP does not smooth: 0.626523.
	base, cp, _ = pairLossValues(t, logits[:1], 0.1)
	check("smoothed L_base", base, 0.326928+0.693147)
	check("smoothed L_CP", cp, 0.626523)
}

// TrainLosses must combine exactly L_base + λ·L_CP (+ weight·L_key).
func TestTrainLossesCombination(t *testing.T) {
	for _, mode := range []string{TokenModeFixed, TokenModePool} {
		t.Run(mode, func(t *testing.T) {
			cfg := smallConfig()
			cfg.TokenMode = mode
			cfg.Lambda = 0.7
			cfg.PoolKeyWeight = 0.3
			store := newStore(t, cfg, 3)
			bt := randomBatch(cfg, 4, 2, 4, rand.New(rand.NewPCG(1, 9)))
			var args []any
			for _, x := range bt.Tensors() {
				args = append(args, x)
			}
			out, err := mlm.CallOnceN(testBackend(), store, func(scope *mlm.Scope, in []*Node) []*Node {
				l := TrainLosses(scope, cfg, InputsFromNodes(in), false)
				return []*Node{l.Total, l.Base, l.CP, l.Key, l.Accuracy}
			}, args...)
			if err != nil {
				t.Fatal(err)
			}
			v := make([]float64, len(out))
			for i, x := range out {
				v[i] = float64(tensors.MustCopyFlatData[float32](x)[0])
			}
			want := v[1] + cfg.Lambda*v[2] + cfg.PoolKeyWeight*v[3]
			if math.Abs(v[0]-want) > 1e-5 {
				t.Fatalf("total %v, want base %v + λ·cp %v + w·key %v = %v", v[0], v[1], v[2], v[3], want)
			}
			if mode == TokenModePool && !(v[3] > 0 && v[3] <= 2) {
				t.Fatalf("pool key loss %v, want in (0, 2]", v[3])
			}
			if mode == TokenModeFixed && v[3] != 0 {
				t.Fatalf("fixed mode key loss %v, want 0", v[3])
			}
		})
	}
}

// BaseLosses is the Bradley–Terry loss of the base head alone, worked here
// in plain Go from the store's weights, with non-trivial image statistics,
// gain and bias so that the per-dimension standardisation is checked too.
// (Under BasePersonal, the default, the personal heads join it;
// TestBasePersonalMatchesForward checks that.)
func TestBaseLossesByHand(t *testing.T) {
	cfg := smallConfig()
	cfg.BasePersonal = false
	store := newStore(t, cfg, 3)
	rng := rand.New(rand.NewPCG(5, 6))
	vals := map[string][]float32{}
	randVec := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		return v
	}
	for path, v := range map[string][]float32{
		"in/img_mean": randVec(cfg.ImageDim, -1, 1), "in/img_istd": randVec(cfg.ImageDim, 0.5, 2),
		"in/img_norm_gain": randVec(cfg.ImageDim, 0.5, 1.5), "in/img_norm_bias": randVec(cfg.ImageDim, -0.3, 0.3),
		"base/b1": randVec(cfg.BaseHidden, -0.2, 0.2), "base/w2": randVec(cfg.BaseHidden, -1, 1),
	} {
		if err := store.GetVariable(Root + "/" + path).SetValue(tensors.FromFlatDataAndDimensions(v, len(v))); err != nil {
			t.Fatal(err)
		}
		vals[path] = v
	}
	if err := store.GetVariable(Root + "/base/w2").SetValue(tensors.FromFlatDataAndDimensions(vals["base/w2"], cfg.BaseHidden, 1)); err != nil {
		t.Fatal(err)
	}
	w1v, err := store.GetVariable(Root + "/base/w1").Value()
	if err != nil {
		t.Fatal(err)
	}
	w1 := tensors.MustCopyFlatData[float32](w1v) // [ImageDim+TextDim, BaseHidden]

	const B, T = 3, 4
	bt := randomBatch(cfg, B, T, 2, rng)
	u := func(b, tt int) float64 {
		img := bt.TgtImage[(b*T+tt)*cfg.ImageDim : (b*T+tt+1)*cfg.ImageDim]
		txt := bt.TgtText[(b*T+tt)*cfg.TextDim : (b*T+tt+1)*cfg.TextDim]
		x := make([]float64, 0, cfg.ImageDim+cfg.TextDim)
		for j, v := range img {
			z := (float64(v) - float64(vals["in/img_mean"][j])) * float64(vals["in/img_istd"][j])
			x = append(x, z*float64(vals["in/img_norm_gain"][j])+float64(vals["in/img_norm_bias"][j]))
		}
		for _, v := range txt {
			x = append(x, float64(v))
		}
		var s float64
		for h := range cfg.BaseHidden {
			a := float64(vals["base/b1"][h])
			for i, xi := range x {
				a += xi * float64(w1[i*cfg.BaseHidden+h])
			}
			s += math.Max(a, 0) * float64(vals["base/w2"][h])
		}
		return s
	}
	var want, wantAcc float64
	for b := range B {
		for p := range T / 2 {
			m := u(b, 2*p) - u(b, 2*p+1)
			want += math.Log1p(math.Exp(-m)) / (B * T / 2)
			if m > 0 {
				wantAcc += 1.0 / (B * T / 2)
			}
		}
	}
	out := runOnBatch(t, store, bt, func(scope *mlm.Scope, inputs []*Node) []*Node {
		l := BaseLosses(scope, cfg, InputsFromNodes(inputs), false)
		return []*Node{l.Total, l.Accuracy, l.CP}
	})
	got, acc, cp := out[0].Value().(float32), out[1].Value().(float32), out[2].Value().(float32)
	t.Logf("BaseLosses %v accuracy %v; by hand %v, %v", got, acc, want, wantAcc)
	if math.Abs(float64(got)-want) > 1e-4*math.Max(1, want) || math.Abs(float64(acc)-wantAcc) > 1e-6 || cp != 0 {
		t.Fatalf("BaseLosses = %v (accuracy %v, cp %v), want %v (accuracy %v, cp 0)", got, acc, cp, want, wantAcc)
	}
}

// ImageStats centres each dimension and scales every dimension by the one
// factor 1/sqrt(mean variance), and gives the identity for no rows.
func TestImageStats(t *testing.T) {
	// Rows (1, 5, 2), (3, 5, 6): means 2, 5, 4; variances 1, 0, 4.
	mean, istd := ImageStats([]float32{1, 5, 2, 3, 5, 6}, 3)
	want := 1 / math.Sqrt((1+0+4)/3.0)
	for j, m := range []float32{2, 5, 4} {
		if mean[j] != m || math.Abs(float64(istd[j])-want) > 1e-4*want {
			t.Errorf("dimension %d: mean %v istd %v, want %v and %v", j, mean[j], istd[j], m, want)
		}
	}
	mean, istd = ImageStats(nil, 2)
	if mean[0] != 0 || mean[1] != 0 || istd[0] != 1 || istd[1] != 1 {
		t.Errorf("no rows: mean %v istd %v, want 0 and 1", mean, istd)
	}
}
