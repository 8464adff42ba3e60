package train

import (
	"context"
	"math"
	"math/rand/v2"

	"palate/model"
)

// synthWorld is a tiny learnable preference problem: every user belongs to
// one of 4 taste groups with directions c, -c, c', -c' (so no single global
// direction beats 50%), plus a personal deviation; images are random
// vectors and a user likes the image with the higher w_u·x. An episode shows
// 8 of the user's pairs and asks about a 9th.
type synthWorld struct {
	cfg   model.Config
	users [][]float64 // w_u
	pairs int         // history pairs per episode
}

func synthConfig() model.Config {
	cfg := model.DefaultConfig()
	cfg.ImageDim = 16
	cfg.TextDim = 8
	cfg.DModel = 32
	cfg.Heads = 2
	cfg.Layers = 2
	cfg.FFMult = 2
	cfg.PrefTokens = 4
	cfg.MaxHistory = 16
	cfg.Dropout = 0
	return cfg
}

func newSynthWorld(cfg model.Config, nUsers int, seed uint64) *synthWorld {
	rng := rand.New(rand.NewPCG(seed, 99))
	dim := cfg.ImageDim
	unit := func() []float64 {
		v := make([]float64, dim)
		var n float64
		for i := range v {
			v[i] = rng.NormFloat64()
			n += v[i] * v[i]
		}
		for i := range v {
			v[i] /= math.Sqrt(n)
		}
		return v
	}
	c1, c2 := unit(), unit()
	groups := [][]float64{c1, neg(c1), c2, neg(c2)}
	w := &synthWorld{cfg: cfg, pairs: 8}
	for u := range nUsers {
		g := groups[u%4]
		d := unit()
		wu := make([]float64, dim)
		for i := range wu {
			wu[i] = g[i] + 0.3*d[i]
		}
		w.users = append(w.users, wu)
	}
	return w
}

func neg(v []float64) []float64 {
	o := make([]float64, len(v))
	for i := range v {
		o[i] = -v[i]
	}
	return o
}

// pair draws two images and returns them as (liked, disliked) for user u.
func (w *synthWorld) pair(u int, rng *rand.Rand) (liked, disliked []float32) {
	a, b := make([]float32, w.cfg.ImageDim), make([]float32, w.cfg.ImageDim)
	var sa, sb float64
	for i := range a {
		a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		sa += w.users[u][i] * float64(a[i])
		sb += w.users[u][i] * float64(b[i])
	}
	if sa >= sb {
		return a, b
	}
	return b, a
}

// batch makes B episodes of users drawn from [lo, hi).
func (w *synthWorld) batch(B, lo, hi int, rng *rand.Rand) *model.Batch {
	cfg := w.cfg
	bt := model.NewBatch(B, cfg.MaxHistory, 2, cfg.ImageDim, cfg.TextDim)
	for e := range B {
		u := lo + rng.IntN(hi-lo)
		for p := range w.pairs {
			l, d := w.pair(u, rng)
			rec := int32(rng.IntN(cfg.RecencyBuckets))
			bt.SetHistory(e, 2*p, l, nil, model.LabelLiked, rec)
			bt.SetHistory(e, 2*p+1, d, nil, model.LabelDisliked, rec)
		}
		l, d := w.pair(u, rng)
		bt.SetTarget(e, 0, l, nil)
		bt.SetTarget(e, 1, d, nil)
	}
	return bt
}

// source yields training batches from users [lo, hi) forever.
func (w *synthWorld) source(B, lo, hi int, seed uint64) Source {
	rng := rand.New(rand.NewPCG(seed, 7))
	return SourceFunc(func(ctx context.Context) (*model.Batch, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return w.batch(B, lo, hi, rng), nil
	})
}

// fixedBatches makes n batches up front (validation, test sets).
func (w *synthWorld) fixedBatches(n, B, lo, hi int, seed uint64) []*model.Batch {
	rng := rand.New(rand.NewPCG(seed, 8))
	out := make([]*model.Batch, n)
	for i := range out {
		out[i] = w.batch(B, lo, hi, rng)
	}
	return out
}
