package baseline

import (
	"context"
	"math"
	"slices"

	"palate"
	"palate/dataset"
	"palate/history"
)

// UserKNNOptions shapes user-kNN. Zero values take the defaults in brackets.
type UserKNNOptions struct {
	// Neighbours is the grid the number of neighbours N is chosen from
	// [5 10 20 40 80 160 320].
	Neighbours []int
	// OwnPrior is the grid the own-direction prior n₀ is chosen from: the
	// person's own direction gets weight n/(n+n₀) for n known history images,
	// the neighbours the rest [1 4 16 64 256 1024].
	OwnPrior []float64
	// Base, when set, stacks user-kNN on the non-personal scorer: a
	// candidate scores s_np(c) + β·dir·x_c, with β chosen from Scales by the
	// inner validation (β = 0 is the non-personal scorer itself). Fit fits
	// Base first unless it was already fitted on the same data.
	Base *NonPersonal
	// Scales is the grid β is chosen from when Base is set
	// [0 0.03 0.1 0.2 0.4 0.8 1.6 3.2].
	Scales []float64
	// N and Prior, when both > 0, fix the choice and skip the inner
	// validation (with Base set, Scale must be > 0 too).
	N     int
	Prior float64
	Scale float64
	// InnerK and InnerTargets shape the inner validation as for
	// PerUserLinear [8, 3].
	InnerK, InnerTargets int
}

func (o *UserKNNOptions) defaults() {
	if len(o.Neighbours) == 0 {
		o.Neighbours = []int{5, 10, 20, 40, 80, 160, 320}
	}
	if len(o.OwnPrior) == 0 {
		o.OwnPrior = []float64{1, 4, 16, 64, 256, 1024}
	}
	if len(o.Scales) == 0 {
		o.Scales = []float64{0, 0.03, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2}
	}
	if o.InnerK <= 0 {
		o.InnerK = 8
	}
	if o.InnerTargets <= 0 {
		o.InnerTargets = 3
	}
}

// UserKNN finds seen people whose taste resembles the person's and scores
// with their pooled preferences. Every seen person's descriptor is their
// unit taste direction (normalised mean liked minus mean disliked
// standardised embedding) over all their training pairs and votes. The person
// being scored gets the same descriptor from the given history; the N seen
// people with the most similar descriptors (cosine, positive similarities
// only) pool their descriptors weighted by similarity into a unit
// direction, which is mixed with the person's own unit direction with weight
// n/(n+n₀) on the own one (n known history images): the more history, the
// more the person speaks for themself. A candidate scores the dot product of
// its standardised embedding with the mix.
//
// Neighbours never include a seen person who has any of the history's images
// among their own training interactions, so a seen person's own training
// history cannot leak into the k pairs they are judged from. N and n₀ are
// chosen on the training part only, by the inner validation PerUserLinear
// uses (the last InnerTargets training pairs of each seen person, each
// predicted from the InnerK pairs before it), maximising pairwise accuracy.
//
// With Base set (UserKNNOptions.Base) the direction is added to the
// non-personal scores with a weight β, and N, n₀ and β are chosen together
// by the lowest inner-validation log loss on the pairs the non-personal
// scorer held out, as for PerUserLinear; the pure form above ignores the
// shared sense of quality that the non-personal scorer learns.
//
// Fallbacks: an empty history, or one whose images are all unknown, scores
// with the population direction (the normalised mean of all seen people's
// descriptors, a non-personal taste); when no neighbour has a positive
// similarity the population direction stands in for the neighbours; an
// unknown candidate scores 0.
type UserKNN struct {
	opt     UserKNNOptions
	t       *table
	desc    [][]float64 // seen people's unit descriptors
	owner   map[int32][]int32
	pop     []float64 // population direction
	n       int
	prior   float64
	scale   float64     // β, with a base
	valGrid [][]float64 // accuracy by [neighbour index][prior index]
}

// NewUserKNN returns an unfitted user-kNN predictor.
func NewUserKNN(opt UserKNNOptions) *UserKNN {
	opt.defaults()
	return &UserKNN{opt: opt}
}

// Name implements Predictor.
func (*UserKNN) Name() string { return "user-knn" }

// Choice returns the number of neighbours, the own-direction prior and, with
// a base, the direction's weight β in use (0 without a base).
func (u *UserKNN) Choice() (neighbours int, prior, scale float64) { return u.n, u.prior, u.scale }

// Validation returns the inner-validation score of every (neighbours,
// prior) grid point, indexed as in the options, at the best β with a base:
// accuracy without a base, minus the mean log loss with one, so higher is
// better either way (nil when fixed).
func (u *UserKNN) Validation() [][]float64 { return u.valGrid }

// Fit implements Predictor: it computes the seen people's descriptors and
// chooses N and n₀. Returns EINVALID when no seen person has a training
// interaction.
func (u *UserKNN) Fit(ctx context.Context, d *history.Data) error {
	u.t = newTable(d)
	u.desc, u.owner = nil, map[int32][]int32{}
	for _, p := range d.Parts(dataset.Train) {
		items := append(history.PairItems(p.Pairs), history.SingleItems(p.Votes)...)
		dir, _, ok := u.t.direction(items)
		if !ok || norm64(dir) == 0 {
			continue
		}
		idx := int32(len(u.desc))
		u.desc = append(u.desc, unit(dir))
		for _, it := range items {
			if o := u.owner[it.Image]; len(o) == 0 || o[len(o)-1] != idx {
				u.owner[it.Image] = append(o, idx)
			}
		}
	}
	if len(u.desc) == 0 {
		return palate.Errorf(palate.EINVALID, "user-knn: no seen person has a training interaction")
	}
	u.pop = make([]float64, u.t.dim)
	for _, v := range u.desc {
		for j, x := range v {
			u.pop[j] += x
		}
	}
	unit(u.pop)
	u.valGrid = nil
	base := u.opt.Base
	if base != nil && !base.fittedOn(d) {
		if err := base.Fit(ctx, d); err != nil {
			return err
		}
	}
	if u.opt.N > 0 && u.opt.Prior > 0 && (base == nil || u.opt.Scale > 0) {
		u.n, u.prior, u.scale = u.opt.N, u.opt.Prior, u.opt.Scale
		if base == nil {
			u.scale = 0
		}
		return nil
	}
	ns, priors, scales := u.opt.Neighbours, u.opt.OwnPrior, u.opt.Scales
	if base == nil {
		scales = []float64{1}
	}
	// score[ni][pi][si]: summed accuracy (no base) or log loss (base).
	score := make([][][]float64, len(ns))
	for i := range score {
		score[i] = make([][]float64, len(priors))
		for j := range score[i] {
			score[i][j] = make([]float64, len(scales))
		}
	}
	maxN := slices.Max(ns)
	zw := make([]float32, u.t.dim)
	zl := make([]float32, u.t.dim)
	f := make([]float64, u.t.dim)
	pooled := make([]float64, u.t.dim)
	var count float64
	for _, tg := range innerTargets(d, base, u.opt.InnerK, u.opt.InnerTargets) {
		if err := ctx.Err(); err != nil {
			return err
		}
		own, n, ok := u.t.direction(tg.hist)
		if !ok || norm64(own) == 0 || !u.t.z(zw, tg.pair.Win) || !u.t.z(zl, tg.pair.Lose) {
			continue
		}
		unit(own)
		for i := range f {
			f[i] = float64(zw[i]) - float64(zl[i])
		}
		var off float64
		if base != nil {
			s := base.Score(nil, []int32{tg.pair.Win, tg.pair.Lose})
			off = s[0] - s[1]
		}
		ownM := dot64(own, f)
		nb := u.neighbours(own, tg.hist, maxN)
		// Grow the pool one neighbour at a time; read it at each grid N.
		clear(pooled)
		k := 0
		for ni, nn := range ns {
			for ; k < min(nn, len(nb)); k++ {
				for i, x := range u.desc[nb[k].idx] {
					pooled[i] += nb[k].sim * x
				}
			}
			var poolM float64
			if pn := norm64(pooled); pn > 0 {
				poolM = dot64(pooled, f) / pn
			} else {
				poolM = dot64(u.pop, f)
			}
			for pi, n0 := range priors {
				a := float64(n) / (float64(n) + n0)
				m := a*ownM + (1-a)*poolM
				for si, beta := range scales {
					if base != nil {
						score[ni][pi][si] -= logLoss(off + beta*m)
						continue
					}
					switch {
					case m > 0:
						score[ni][pi][si]++
					case m == 0:
						score[ni][pi][si] += 0.5
					}
				}
			}
		}
		count++
	}
	if count == 0 {
		return palate.Errorf(palate.EINVALID, "user-knn: no seen person has two training pairs to choose N on")
	}
	bi, bp, bs := 0, 0, 0
	u.valGrid = make([][]float64, len(ns))
	for i := range score {
		u.valGrid[i] = make([]float64, len(priors))
		for j := range score[i] {
			u.valGrid[i][j] = math.Inf(-1)
			for k := range score[i][j] {
				v := score[i][j][k] / count
				u.valGrid[i][j] = max(u.valGrid[i][j], v)
				if v > score[bi][bp][bs]/count {
					bi, bp, bs = i, j, k
				}
			}
		}
	}
	u.n, u.prior = ns[bi], priors[bp]
	u.scale = 0
	if base != nil {
		u.scale = scales[bs]
	}
	return nil
}

type neighbour struct {
	idx int
	sim float64
}

// neighbours returns up to n seen people most similar to the unit direction
// own with a positive similarity, most similar first, leaving out people who
// own any of hist's images.
func (u *UserKNN) neighbours(own []float64, hist []history.Item, n int) []neighbour {
	var skip map[int32]bool
	for _, it := range hist {
		for _, o := range u.owner[it.Image] {
			if skip == nil {
				skip = map[int32]bool{}
			}
			skip[o] = true
		}
	}
	all := make([]neighbour, 0, len(u.desc))
	for i, v := range u.desc {
		if skip[int32(i)] {
			continue
		}
		if s := dot64(own, v); s > 0 {
			all = append(all, neighbour{i, s})
		}
	}
	slices.SortFunc(all, func(a, b neighbour) int {
		switch {
		case a.sim > b.sim:
			return -1
		case a.sim < b.sim:
			return 1
		}
		return a.idx - b.idx
	})
	return all[:min(n, len(all))]
}

// direction returns the scoring direction for a history (see UserKNN).
func (u *UserKNN) direction(hist []history.Item) []float64 {
	own, n, ok := u.t.direction(hist)
	if !ok || norm64(own) == 0 {
		return u.pop
	}
	unit(own)
	pooled := make([]float64, u.t.dim)
	for _, nb := range u.neighbours(own, hist, u.n) {
		for i, x := range u.desc[nb.idx] {
			pooled[i] += nb.sim * x
		}
	}
	if norm64(pooled) == 0 {
		copy(pooled, u.pop)
	}
	unit(pooled)
	a := float64(n) / (float64(n) + u.prior)
	for i := range pooled {
		pooled[i] = a*own[i] + (1-a)*pooled[i]
	}
	return pooled
}

// Score implements Predictor.
func (u *UserKNN) Score(hist []history.Item, cands []int32) []float64 {
	out := make([]float64, len(cands))
	if u.t == nil {
		return out
	}
	dir := u.direction(hist)
	z := make([]float32, u.t.dim)
	for i, r := range cands {
		if u.t.z(z, r) {
			out[i] = dot32(z, dir)
		}
	}
	if base := u.opt.Base; base != nil {
		s := base.Score(nil, cands)
		for i := range out {
			out[i] = s[i] + u.scale*out[i]
		}
	}
	return out
}

// Descriptor returns the person's unit taste direction from the history
// alone, as seen people's descriptors are made; nil when the history has no
// known image or before Fit.
func (u *UserKNN) Descriptor(hist []history.Item) []float32 {
	if u.t == nil {
		return nil
	}
	own, _, ok := u.t.direction(hist)
	if !ok || norm64(own) == 0 {
		return nil
	}
	unit(own)
	out := make([]float32, len(own))
	for i, x := range own {
		out[i] = float32(x)
	}
	return out
}
