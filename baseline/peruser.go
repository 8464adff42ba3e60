package baseline

import (
	"context"
	"math"

	"palate"
	"palate/dataset"
	"palate/history"
	"palate/internal/linalg"
)

// PerUserLinearOptions shapes the per-user logistic regression. Zero values
// take the defaults in brackets.
type PerUserLinearOptions struct {
	// Lambdas is the grid the ridge strength λ is chosen from by the inner
	// validation [0.1 0.3 1 3 10 30 100 300 1000].
	Lambdas []float64
	// Lambda, when > 0, fixes λ and skips the inner validation.
	Lambda float64
	// InnerK is the number of earlier pairs each inner-validation target is
	// predicted from [8, the paper's N_ref].
	InnerK int
	// InnerTargets is how many of each seen person's last training pairs
	// serve as inner-validation targets when the non-personal scorer held
	// out too few [3].
	InnerTargets int
	// IgnoreVotes leaves single likes and dislikes out of the fit.
	IgnoreVotes bool
}

func (o *PerUserLinearOptions) defaults() {
	if len(o.Lambdas) == 0 {
		o.Lambdas = []float64{0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000}
	}
	if o.InnerK <= 0 {
		o.InnerK = 8
	}
	if o.InnerTargets <= 0 {
		o.InnerTargets = 3
	}
}

// PerUserLinear is a per-person logistic regression on the person's own
// history, shrunk toward the non-personal scorer: for a pair,
// logit P(win over lose) = s_np(win) − s_np(lose) + w·(x_win − x_lose), with x
// the standardised embedding, minimising the logistic loss plus λ‖w‖². The
// non-personal scores are a fixed offset, so with no history (w = 0) it is
// exactly the non-personal scorer, and each pair moves w away from it only as
// far as λ allows. A candidate scores s_np(c) + w·x_c.
//
// w is fitted at Score time by Newton's method in the span of the history's
// feature vectors (the representer form w = Σ αᵢ fᵢ, so each step solves an
// n×n system for n history examples, not a dim×dim one), with step halving;
// it converges in a handful of steps.
//
// Votes enter as single examples against the person's mean: a liked
// (disliked) image v gives logit = ±[(s_np(v) − mean s_np) + w·(x_v − mean x)],
// the means taken over the history's images. Set IgnoreVotes to leave them
// out.
//
// λ is chosen by an inner validation on the training part only: every seen
// person's training pair that the non-personal scorer held out for early
// stopping (so its offset is judged on pairs it never fitted) is predicted
// from the InnerK training pairs before it, and the λ with the lowest mean
// log loss on those targets wins. When fewer than 50 such targets exist, each
// seen person's last InnerTargets training pairs are used instead (on which
// the non-personal offset looks a little better than it is). Test pairs and
// held-out people are never touched.
//
// Fallbacks: an empty history, or one whose images are all unknown, gives the
// non-personal scores; unknown history rows are skipped, a Liked item without
// its Disliked partner right after it counts as a single like; an unknown
// candidate scores 0.
type PerUserLinear struct {
	opt     PerUserLinearOptions
	np      *NonPersonal
	t       *table
	lambda  float64
	valLoss []float64 // mean inner-validation log loss per grid λ
	valAcc  []float64
}

// NewPerUserLinear returns a per-user linear predictor shrunk toward np. Fit
// fits np first unless np was already fitted on the same data.
func NewPerUserLinear(np *NonPersonal, opt PerUserLinearOptions) *PerUserLinear {
	opt.defaults()
	return &PerUserLinear{opt: opt, np: np}
}

// Name implements Predictor.
func (*PerUserLinear) Name() string { return "per-user-linear" }

// Lambda returns the ridge strength in use.
func (p *PerUserLinear) Lambda() float64 { return p.lambda }

// Validation returns the λ grid with the mean inner-validation log loss and
// accuracy of each (empty when λ was fixed).
func (p *PerUserLinear) Validation() (lambdas, loss, acc []float64) {
	if p.valLoss == nil {
		return nil, nil, nil
	}
	return p.opt.Lambdas, p.valLoss, p.valAcc
}

// target is one inner-validation example: a seen person's training pair and
// the history of their training pairs just before it.
type target struct {
	user *history.UserData
	hist []history.Item
	pair history.Pair
}

// minInnerTargets is the fewest held-out targets the inner validation uses
// before it falls back to every person's last pairs.
const minInnerTargets = 50

// innerTargets returns the inner-validation targets: every seen person's
// training pair that np held out for early stopping (np may be nil), each
// with the k training pairs before it; when there are fewer than
// minInnerTargets of them, each seen person's last `last` training pairs
// instead. A person's first pair, with no history, is never a target.
func innerTargets(d *history.Data, np *NonPersonal, k, last int) []target {
	var targets []target
	add := func(u *history.UserData, j int) {
		hist := history.PairItems(u.Pairs[max(0, j-k):j])
		targets = append(targets, target{u, hist, u.Pairs[j]})
	}
	seen := d.Parts(dataset.Train)
	if np != nil {
		for _, u := range seen {
			for j := 1; j < len(u.Pairs); j++ {
				if np.heldOut[[2]int32{u.Pairs[j].Win, u.Pairs[j].Lose}] {
					add(u, j)
				}
			}
		}
	}
	if len(targets) < minInnerTargets {
		targets = targets[:0]
		for _, u := range seen {
			for j := max(1, len(u.Pairs)-last); j < len(u.Pairs); j++ {
				add(u, j)
			}
		}
	}
	return targets
}

// Fit implements Predictor: it fits the non-personal scorer if needed and
// chooses λ. Returns EINVALID when there is no seen person to validate on
// and λ is not fixed.
func (p *PerUserLinear) Fit(ctx context.Context, d *history.Data) error {
	if p.np == nil {
		return palate.Errorf(palate.EINVALID, "per-user-linear: no non-personal scorer to shrink toward")
	}
	if !p.np.fittedOn(d) {
		if err := p.np.Fit(ctx, d); err != nil {
			return err
		}
	}
	p.t = p.np.t
	p.valLoss, p.valAcc = nil, nil
	if p.opt.Lambda > 0 {
		p.lambda = p.opt.Lambda
		return nil
	}
	targets := innerTargets(d, p.np, p.opt.InnerK, p.opt.InnerTargets)
	if len(targets) == 0 {
		return palate.Errorf(palate.EINVALID, "per-user-linear: no seen person has two training pairs to choose λ on")
	}
	p.valLoss = make([]float64, len(p.opt.Lambdas))
	p.valAcc = make([]float64, len(p.opt.Lambdas))
	for _, tg := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		ex := p.examples(tg.hist)
		s := p.np.Score(nil, []int32{tg.pair.Win, tg.pair.Lose})
		zw := make([]float32, p.t.dim)
		zl := make([]float32, p.t.dim)
		p.t.z(zw, tg.pair.Win)
		p.t.z(zl, tg.pair.Lose)
		for li, lam := range p.opt.Lambdas {
			m := s[0] - s[1]
			if w := ex.fit(lam); w != nil {
				m += dot32(zw, w) - dot32(zl, w)
			}
			p.valLoss[li] += logLoss(m)
			switch {
			case m > 0:
				p.valAcc[li]++
			case m == 0:
				p.valAcc[li] += 0.5
			}
		}
	}
	best := 0
	for li := range p.valLoss {
		p.valLoss[li] /= float64(len(targets))
		p.valAcc[li] /= float64(len(targets))
		if p.valLoss[li] < p.valLoss[best] {
			best = li
		}
	}
	p.lambda = p.opt.Lambdas[best]
	return nil
}

// examples is a person's history as logistic-regression examples: feature
// vectors f (standardised differences), fixed offsets b (non-personal score
// differences) and labels y (±1).
type examples struct {
	f [][]float64
	b []float64
	y []float64
}

// examples turns history items into examples (see PerUserLinear).
func (p *PerUserLinear) examples(hist []history.Item) *examples {
	ex := &examples{}
	if len(hist) == 0 || p.t == nil {
		return ex
	}
	dim := p.t.dim
	rows := make([]int32, 0, len(hist))
	for _, it := range hist {
		rows = append(rows, it.Image)
	}
	s := p.np.Score(nil, rows)
	za := make([]float32, dim)
	zb := make([]float32, dim)
	// Singles are kept aside until the person's mean is known.
	type single struct {
		z    []float32
		s, y float64
	}
	var singles []single
	mean := make([]float64, dim)
	var meanS float64
	nKnown := 0
	addMean := func(z []float32, sc float64) {
		for j, x := range z {
			mean[j] += float64(x)
		}
		meanS += sc
		nKnown++
	}
	for i := 0; i < len(hist); i++ {
		it := hist[i]
		if !p.t.z(za, it.Image) {
			continue
		}
		if it.Label == history.Liked && i+1 < len(hist) && hist[i+1].Label == history.Disliked {
			i++
			if !p.t.z(zb, hist[i].Image) {
				// The partner is unknown: keep the liked image as a single.
				addMean(za, s[i-1])
				singles = append(singles, single{append([]float32(nil), za...), s[i-1], 1})
				continue
			}
			f := make([]float64, dim)
			for j := range f {
				f[j] = float64(za[j]) - float64(zb[j])
			}
			ex.f = append(ex.f, f)
			ex.b = append(ex.b, s[i-1]-s[i])
			ex.y = append(ex.y, 1)
			addMean(za, s[i-1])
			addMean(zb, s[i])
			continue
		}
		addMean(za, s[i])
		y := -1.0
		if it.Label.Positive() {
			y = 1
		}
		singles = append(singles, single{append([]float32(nil), za...), s[i], y})
	}
	if p.opt.IgnoreVotes || len(singles) == 0 {
		return ex
	}
	for j := range mean {
		mean[j] /= float64(nKnown)
	}
	meanS /= float64(nKnown)
	for _, sg := range singles {
		f := make([]float64, dim)
		for j := range f {
			f[j] = float64(sg.z[j]) - mean[j]
		}
		ex.f = append(ex.f, f)
		ex.b = append(ex.b, sg.s-meanS)
		ex.y = append(ex.y, sg.y)
	}
	return ex
}

// fit returns the ridge logistic-regression weights for λ, or nil when there
// are no examples. Newton's method on α with w = Σ αᵢ fᵢ: with K the Gram
// matrix, margins mᵢ = yᵢ(bᵢ + (Kα)ᵢ), the objective Σ ℓ(mᵢ) + λ αᵀKα has
// gradient K(r + 2λα) with rᵢ = yᵢ ℓ'(mᵢ), and Hessian K(DK + 2λI) with
// D = diag(ℓ”(mᵢ)); so each step solves (DK + 2λI) Δ = −(r + 2λα).
func (ex *examples) fit(lambda float64) []float64 {
	n := len(ex.f)
	if n == 0 {
		return nil
	}
	k := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			v := dot64(ex.f[i], ex.f[j])
			k[i*n+j], k[j*n+i] = v, v
		}
	}
	alpha := make([]float64, n)
	ka := make([]float64, n)
	margins := func(a, ka []float64) float64 { // ka = K a; returns the objective
		var obj float64
		for i := range n {
			var s float64
			for j := range n {
				s += k[i*n+j] * a[j]
			}
			ka[i] = s
			obj += logLoss(ex.y[i]*(ex.b[i]+s)) + lambda*a[i]*s
		}
		return obj
	}
	obj := margins(alpha, ka)
	a := make([]float64, n*n)
	rhs := make([]float64, n)
	trial := make([]float64, n)
	kt := make([]float64, n)
	for iter := 0; iter < 20; iter++ {
		for i := range n {
			m := ex.y[i] * (ex.b[i] + ka[i])
			sg := sigmoid(m)
			d := sg * (1 - sg)
			rhs[i] = -(ex.y[i]*(sg-1) + 2*lambda*alpha[i])
			for j := range n {
				a[i*n+j] = d * k[i*n+j]
			}
			a[i*n+i] += 2 * lambda
		}
		if !linalg.Solve(a, rhs, n) {
			break
		}
		step, improved := 1.0, false
		for h := 0; h < 30; h++ {
			for i := range n {
				trial[i] = alpha[i] + step*rhs[i]
			}
			if o := margins(trial, kt); o <= obj {
				improved = obj-o > 1e-10*math.Max(1, math.Abs(obj))
				copy(alpha, trial)
				copy(ka, kt)
				obj = o
				break
			}
			step /= 2
		}
		if !improved {
			break
		}
	}
	w := make([]float64, len(ex.f[0]))
	for i, f := range ex.f {
		for j, x := range f {
			w[j] += alpha[i] * x
		}
	}
	return w
}

// Score implements Predictor.
func (p *PerUserLinear) Score(hist []history.Item, cands []int32) []float64 {
	if p.np == nil || p.t == nil {
		return make([]float64, len(cands))
	}
	out := p.np.Score(nil, cands)
	w := p.examples(hist).fit(p.lambda)
	if w == nil {
		return out
	}
	z := make([]float32, p.t.dim)
	for i, r := range cands {
		if p.t.z(z, r) {
			out[i] += dot32(z, w)
		}
	}
	return out
}
