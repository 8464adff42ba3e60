//go:build diag

// This file is a measurement, not a check: with the build tag diag it
// prints how much of the taste world's group and personal taste an
// embedder's vectors hold, linearly and through the products of the
// attributes they encode, and how much of it a simple mixture of
// Bradley–Terry models can learn from a dataset's training pairs. It needs
// a built world:
//
//	PALATE_DIAG_DATA=DIR PALATE_DIAG_EMBEDDER=pixels-v3 \
//	  GOEXPERIMENT=simd go test -tags diag -run TestDiagCeilings -v -timeout 60m ./bench/suite/
//
// With PALATE_DIAG_SWAP=1 it prints the regression ceilings alone, and for
// the products each attribute's worth (the same with that one read true);
// with PALATE_DIAG_MEAN=1 the same for the people's mean utility, the
// shared part of taste that a non-personal scorer can learn. TestDiagProbe
// (-run TestDiagProbe) prints how well each attribute reads from the
// vectors, linearly and through a random non-linear expansion of them;
// diag_mlp_test.go what a trained network reads when told the answer, and
// how the non-personal scorer does with other settings.
//
// docs/BENCHMARKS.md records what it printed and why it matters.

package suite

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"palate"
	"palate/dataset"
	"palate/history"
	"palate/internal/linalg"
	"palate/world"
)

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// addOuter adds c·x·xᵀ to the lower triangle of the n×n h.
func addOuter(h []float64, n int, c float64, x []float64) {
	for i := range n {
		ci := c * x[i]
		row := h[i*n:]
		for j := 0; j <= i; j++ {
			row[j] += ci * x[j]
		}
	}
}

// mirror copies the lower triangle of h to the upper one.
func mirror(h []float64, n int) {
	for i := range n {
		for j := range i {
			h[j*n+i] = h[i*n+j]
		}
	}
}

// fitBT fits a weighted ridge logistic regression on pair differences xs
// (the first image always won): it minimises Σ wt_i·log(1+e^{−w·x_i}) +
// lam/2·|w − prior|², by Newton's method from start.
func fitBT(xs [][]float64, wt []float64, lam float64, prior, start []float64, iters int) []float64 {
	n := len(prior)
	w := append([]float64(nil), start...)
	for range iters {
		h := make([]float64, n*n)
		g := make([]float64, n)
		for i := range n {
			h[i*n+i] = lam
			g[i] = lam * (w[i] - prior[i])
		}
		for i, x := range xs {
			c := 1.0
			if wt != nil {
				c = wt[i]
			}
			if c < 1e-3 {
				continue
			}
			p := 1 / (1 + math.Exp(-dot(w, x)))
			for j, v := range x {
				g[j] -= c * (1 - p) * v
			}
			addOuter(h, n, c*p*(1-p), x)
		}
		mirror(h, n)
		// h is the Hessian plus lam·I, positive definite for lam > 0.
		chol, ok := linalg.NewCholesky(h, n)
		if !ok {
			panic("fitBT: the Hessian is not positive definite (lam <= 0?)")
		}
		step := chol.Solve(g)
		for i := range w {
			w[i] -= step[i]
		}
	}
	return w
}

// posterior is p(group | comparisons) ∝ π_g Π σ(w_g·x) over the differences xs.
func posterior(ws [][]float64, pi []float64, xs [][]float64) []float64 {
	lp := make([]float64, len(ws))
	for g := range ws {
		lp[g] = math.Log(pi[g])
		for _, x := range xs {
			lp[g] -= math.Log1p(math.Exp(-dot(ws[g], x)))
		}
	}
	mx := math.Inf(-1)
	for _, v := range lp {
		mx = max(mx, v)
	}
	z := 0.0
	for g := range lp {
		lp[g] = math.Exp(lp[g] - mx)
		z += lp[g]
	}
	for g := range lp {
		lp[g] /= z
	}
	return lp
}

// ridgeFit factorises a ridge regression (penalty lam) on the given rows
// of X once, and returns what fits a target y (by row) on those rows,
// giving the weights.
func ridgeFit(X [][]float64, rows []int, lam float64) func(y func(r int) float64) []float64 {
	D := len(X[0])
	gram := make([]float64, D*D)
	for _, r := range rows {
		addOuter(gram, D, 1, X[r])
	}
	mirror(gram, D)
	for i := range D {
		gram[i*D+i] += lam
	}
	chol, ok := linalg.NewCholesky(gram, D)
	if !ok {
		panic("ridgeFit: the Gram matrix is not positive definite (lam <= 0?)")
	}
	return func(y func(r int) float64) []float64 {
		b := make([]float64, D)
		for _, r := range rows {
			yr := y(r)
			for i, v := range X[r] {
				b[i] += v * yr
			}
		}
		return chol.Solve(b)
	}
}

// ridgeOnHalf is ridgeFit on every other row of X, returning what fits a
// target y on those rows and predicts it on every row.
func ridgeOnHalf(X [][]float64, lam float64) func(y func(r int) float64) []float64 {
	var even []int
	for r := 0; r < len(X); r += 2 {
		even = append(even, r)
	}
	fit := ridgeFit(X, even, lam)
	return func(y func(r int) float64) []float64 {
		w := fit(y)
		s := make([]float64, len(X))
		for r := range X {
			s[r] = dot(w, X[r])
		}
		return s
	}
}

// heldR2 is the R² of pred against y over rows.
func heldR2(rows []int, pred, y func(r int) float64) float64 {
	var m, ss, se float64
	for _, r := range rows {
		m += y(r)
	}
	m /= float64(len(rows))
	for _, r := range rows {
		ss += (y(r) - m) * (y(r) - m)
		se += (y(r) - pred(r)) * (y(r) - pred(r))
	}
	return 1 - se/ss
}

// dimStats is the mean and standard deviation of each dimension of the
// vectors (1 where a dimension is constant).
func dimStats(emb *palate.Embeddings) (mean, sd []float64) {
	n, dim := len(emb.IDs), emb.Dim
	mean, sd = make([]float64, dim), make([]float64, dim)
	for r := range n {
		for i, v := range emb.Row(r) {
			mean[i] += float64(v)
			sd[i] += float64(v) * float64(v)
		}
	}
	for i := range mean {
		mean[i] /= float64(n)
		// !(≥) also catches the NaN of a constant dimension's rounding.
		if sd[i] = math.Sqrt(sd[i]/float64(n) - mean[i]*mean[i]); !(sd[i] >= 1e-9) {
			sd[i] = 1
		}
	}
	return mean, sd
}

func TestDiagCeilings(t *testing.T) {
	dir, embName := os.Getenv("PALATE_DIAG_DATA"), os.Getenv("PALATE_DIAG_EMBEDDER")
	if dir == "" || embName == "" {
		t.Skip("set PALATE_DIAG_DATA and PALATE_DIAG_EMBEDDER")
	}
	d := loadTestData(t, dir, embName) // the prompts' embedding is not used
	emb := d.Emb
	tr, err := LoadTruth(dir)
	if err != nil || tr == nil {
		t.Fatalf("%s is not a taste world: %v", dir, err)
	}
	// Every image standardised per dimension, with a constant 1 last.
	n, dim := len(emb.IDs), emb.Dim
	D := dim + 1
	mean, sd := dimStats(emb)
	X := make([][]float64, n)
	attrs := make([]*world.Attrs, n)
	for r := range n {
		X[r] = make([]float64, D)
		for i, v := range emb.Row(r) {
			X[r][i] = (float64(v) - mean[i]) / sd[i]
		}
		X[r][dim] = 1
		if attrs[r] = tr.Attrs[emb.IDs[r]]; attrs[r] == nil {
			t.Fatalf("image %s has no truth", emb.IDs[r])
		}
	}
	diff := func(win, lose int32) []float64 {
		x := make([]float64, D)
		for i := range x {
			x[i] = X[win][i] - X[lose][i]
		}
		return x
	}
	const k = 8
	parts := []dataset.Part{dataset.Train, dataset.Unseen}
	eval := func(name string, score func(ep history.EvalPair) float64) {
		var acc [2]float64
		for i, part := range parts {
			eps := d.EvalPairs(k, part)
			for _, ep := range eps {
				if s := score(ep); s > 0 {
					acc[i]++
				} else if s == 0 {
					acc[i] += 0.5
				}
			}
			acc[i] *= 100 / float64(len(eps))
		}
		t.Logf("%-58s seen %.1f  unseen %.1f", name, acc[0], acc[1])
	}
	group := func(u *history.UserData) int { return tr.People[u.ID].Group }
	G := tr.Groups()

	// 1. What the vectors hold: ridge regression (λ 100) of true utilities
	// on every other image, judged on the bench's comparisons.
	fit := ridgeOnHalf(X, 100)
	regress := func(f func(a *world.Attrs) float64) []float64 {
		return fit(func(r int) float64 { return f(attrs[r]) })
	}
	byRows := func(s []float64) func(history.Pair) float64 {
		return func(p history.Pair) float64 { return s[p.Win] - s[p.Lose] }
	}
	global := byRows(regress(tr.World.GlobalUtility))
	eval("regressed shared quality (global oracle through the vectors)", func(ep history.EvalPair) float64 { return global(ep.Pair) })
	groupU := make([]func(history.Pair) float64, G)
	for g := range G {
		p := &world.Person{Group: g}
		groupU[g] = byRows(regress(func(a *world.Attrs) float64 { return tr.World.GroupUtility(p, a) }))
	}
	eval("regressed group utility, true group (group oracle through the vectors)", func(ep history.EvalPair) float64 {
		return groupU[group(ep.User)](ep.Pair)
	})
	personU := map[string]func(history.Pair) float64{}
	if os.Getenv("PALATE_DIAG_MEAN") == "" { // the slow one: a regression per person
		eval("regressed personal utility (oracle through the vectors)", func(ep history.EvalPair) float64 {
			f := personU[ep.User.ID]
			if f == nil {
				p := tr.People[ep.User.ID]
				f = byRows(regress(func(a *world.Attrs) float64 { return tr.World.Utility(p, ep.Pair.Time, a) }))
				personU[ep.User.ID] = f
			}
			return f(ep.Pair)
		})
	}

	// 1b. Whether the taste's non-linear part is there to learn: the 24
	// true attributes probed linearly from the vectors (ridge as above),
	// then every product of two probed attributes beside them; a ridge
	// regression (λ 100) of the group utility on those 324 features, told
	// the group. Quadratic features are what a person's utility is made of
	// (ideal points, hue on scenes, clutter when muted), so this is the
	// told-group ceiling of a model that learns that shape.
	probe := make([][]float64, world.AttrVectorDim)
	truth := make([][]float64, world.AttrVectorDim)
	for j := range probe {
		probe[j] = regress(func(a *world.Attrs) float64 { return float64(world.AttrVector(a)[j]) })
		truth[j] = make([]float64, n)
		for r := range n {
			truth[j][r] = float64(world.AttrVector(attrs[r])[j])
		}
	}
	// products is each image's attributes, every product of two, and a 1.
	products := func(attr [][]float64) [][]float64 {
		Q := make([][]float64, n)
		for r := range n {
			q := make([]float64, 0, len(attr)*(len(attr)+3)/2+1)
			for i := range attr {
				q = append(q, attr[i][r])
			}
			for i := range attr {
				for j := i; j < len(attr); j++ {
					q = append(q, attr[i][r]*attr[j][r])
				}
			}
			Q[r] = append(q, 1)
		}
		return Q
	}
	quadratic := func(name string, attr [][]float64) {
		fitQ := ridgeOnHalf(products(attr), 100)
		quadU := make([]func(history.Pair) float64, G)
		for g := range G {
			p := &world.Person{Group: g}
			quadU[g] = byRows(fitQ(func(r int) float64 { return tr.World.GroupUtility(p, attrs[r]) }))
		}
		eval(name, func(ep history.EvalPair) float64 { return quadU[group(ep.User)](ep.Pair) })
	}
	quadratic("group utility on probed attributes and their products", probe)
	// Which attribute's probe costs most: the same with that one true.
	// AttrVector's layout: hue (2), 9 continuous, subject (8), background (5).
	names := []string{"hue", "saturation", "brightness", "contrast", "grain", "harmony", "symmetry", "scale", "clutter", "count", "subject", "background"}
	spans := [][2]int{{0, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}, {8, 9}, {9, 10}, {10, 11}, {11, 19}, {19, 24}}

	// 1c. The shared part of taste, what a non-personal scorer can learn:
	// the mean of the group utilities weighted by the seen people in each
	// group, exactly, linearly through the vectors, and through the probed
	// (or true) attributes and their products.
	wg := make([]float64, G)
	for _, u := range d.Parts(dataset.Train) {
		wg[group(u)]++
	}
	meanU := func(a *world.Attrs) float64 {
		s, z := 0.0, 0.0
		for g := range G {
			s += wg[g] * tr.World.GroupUtility(&world.Person{Group: g}, a)
			z += wg[g]
		}
		return s / z
	}
	exact := make([]float64, n)
	for r := range n {
		exact[r] = meanU(attrs[r])
	}
	exactMean := byRows(exact)
	eval("mean utility of the seen people's groups (exact)", func(ep history.EvalPair) float64 { return exactMean(ep.Pair) })
	linMean := byRows(regress(meanU))
	eval("mean utility, regressed on the vectors", func(ep history.EvalPair) float64 { return linMean(ep.Pair) })
	quadMean := func(name string, attr [][]float64) {
		s := byRows(ridgeOnHalf(products(attr), 100)(func(r int) float64 { return exact[r] }))
		eval(name, func(ep history.EvalPair) float64 { return s(ep.Pair) })
	}
	quadMean("mean utility on probed attributes and their products", probe)
	quadMean("mean utility on true attributes and their products", truth)
	if os.Getenv("PALATE_DIAG_MEAN") != "" {
		for i, sp := range spans {
			attr := slices.Clone(probe)
			copy(attr[sp[0]:sp[1]], truth[sp[0]:sp[1]])
			quadMean("  the same with true "+names[i], attr)
		}
		return
	}
	if os.Getenv("PALATE_DIAG_SWAP") != "" {
		for i, sp := range spans {
			attr := slices.Clone(probe)
			copy(attr[sp[0]:sp[1]], truth[sp[0]:sp[1]])
			quadratic("  the same with true "+names[i], attr)
		}
		return // PALATE_DIAG_SWAP asks for the ceilings alone
	}

	// 2. What the training pairs teach: ridge Bradley–Terry models (λ 1000)
	// on the seen people's training pairs.
	const lam = 1000
	var all [][]float64
	var owner []int
	users := d.Parts(dataset.Train)
	byGroup := make([][][]float64, G)
	for ui, u := range users {
		for _, p := range u.Pairs {
			x := diff(p.Win, p.Lose)
			all = append(all, x)
			owner = append(owner, ui)
			byGroup[group(u)] = append(byGroup[group(u)], x)
		}
	}
	zero := make([]float64, D)
	pooled := fitBT(all, nil, lam, zero, zero, 12)
	eval("pooled Bradley-Terry", func(ep history.EvalPair) float64 { return dot(pooled, diff(ep.Pair.Win, ep.Pair.Lose)) })
	known := make([][]float64, G)
	pi := make([]float64, G)
	for g := range G {
		known[g] = fitBT(byGroup[g], nil, lam, pooled, pooled, 12)
		pi[g] = float64(len(byGroup[g])) / float64(len(all))
	}
	eval("per-group Bradley-Terry, told the true group", func(ep history.EvalPair) float64 {
		return dot(known[group(ep.User)], diff(ep.Pair.Win, ep.Pair.Lose))
	})
	histDiffs := func(hist []history.Item) [][]float64 {
		var xs [][]float64
		for i := 0; i+1 < len(hist); i += 2 {
			a, b := hist[i], hist[i+1]
			if a.Label != history.Liked {
				a, b = b, a
			}
			xs = append(xs, diff(a.Image, b.Image))
		}
		return xs
	}
	mixture := func(ws [][]float64, pi []float64) func(ep history.EvalPair) float64 {
		return func(ep history.EvalPair) float64 {
			post := posterior(ws, pi, histDiffs(ep.History))
			x := diff(ep.Pair.Win, ep.Pair.Lose)
			s := 0.0
			for g, w := range ws {
				s += post[g] * dot(w, x)
			}
			return s
		}
	}
	eval(fmt.Sprintf("per-group Bradley-Terry, group inferred from the %d pairs", k), mixture(known, pi))

	// 3. The same mixture learnt without the groups: EM from random
	// responsibilities, the E step on each person's training pairs.
	rng := rand.New(rand.NewPCG(7, 8))
	resp := make([][]float64, len(users))
	for ui := range resp {
		resp[ui] = make([]float64, G)
		z := 0.0
		for g := range resp[ui] {
			resp[ui][g] = rng.Float64() + 0.2
			z += resp[ui][g]
		}
		for g := range resp[ui] {
			resp[ui][g] /= z
		}
	}
	ws := make([][]float64, G)
	for g := range ws {
		ws[g] = append([]float64(nil), pooled...)
	}
	own := make([][][]float64, len(users))
	for i, ui := range owner {
		own[ui] = append(own[ui], all[i])
	}
	for round := range 10 {
		for g := range ws {
			wt := make([]float64, len(all))
			z := 0.0
			for i, ui := range owner {
				wt[i] = resp[ui][g]
				z += wt[i]
			}
			pi[g] = z / float64(len(all))
			ws[g] = fitBT(all, wt, lam, pooled, ws[g], 3)
		}
		for ui := range users {
			resp[ui] = posterior(ws, pi, own[ui])
		}
		if round%3 == 2 || round == 9 {
			eval(fmt.Sprintf("EM mixture of %d Bradley-Terry models, round %d", G, round+1), mixture(ws, pi))
		}
	}
}

// diagImages loads the images of PALATE_DIAG_DATA read through
// PALATE_DIAG_EMBEDDER (skipping the test when either is unset): each
// image's vector standardised per dimension, with a constant 1 last, and
// its true attributes.
func diagImages(t *testing.T) (X [][]float64, attrs []*world.Attrs) {
	t.Helper()
	_, _, X, attrs = diagWorld(t)
	return X, attrs
}

// diagWorld is diagImages with the dataset and the world's truth.
func diagWorld(t *testing.T) (d *history.Data, tr *Truth, X [][]float64, attrs []*world.Attrs) {
	t.Helper()
	dir, embName := os.Getenv("PALATE_DIAG_DATA"), os.Getenv("PALATE_DIAG_EMBEDDER")
	if dir == "" || embName == "" {
		t.Skip("set PALATE_DIAG_DATA and PALATE_DIAG_EMBEDDER")
	}
	d = loadTestData(t, dir, embName)
	emb := d.Emb
	tr, err := LoadTruth(dir)
	if err != nil || tr == nil {
		t.Fatalf("%s is not a taste world: %v", dir, err)
	}
	mean, sd := dimStats(emb)
	X, attrs = make([][]float64, len(emb.IDs)), make([]*world.Attrs, len(emb.IDs))
	for r := range X {
		x := make([]float64, emb.Dim, emb.Dim+1)
		for i, v := range emb.Row(r) {
			x[i] = (float64(v) - mean[i]) / sd[i]
		}
		X[r] = append(x, 1)
		if attrs[r] = tr.Attrs[emb.IDs[r]]; attrs[r] == nil {
			t.Fatalf("image %s has no truth", emb.IDs[r])
		}
	}
	return d, tr, X, attrs
}

// TestDiagProbe asks whether what a linear probe misses of an attribute is
// in the vectors at all: the R² on every other image of a ridge probe of
// each of world.AttrVector's dims, from the vectors alone and from the
// vectors beside 1,200 random ReLU features of them (a fixed random
// non-linear expansion; if the attribute were there non-linearly, it would
// read better through them).
func TestDiagProbe(t *testing.T) {
	X, attrs := diagImages(t)
	n, dim := len(X), len(X[0])-1
	const F = 1200
	rng := rand.New(rand.NewPCG(3, 4))
	W := make([][]float64, F)
	for f := range W {
		W[f] = make([]float64, dim+1)
		for i := range dim {
			W[f][i] = rng.NormFloat64() / math.Sqrt(float64(dim))
		}
		W[f][dim] = rng.NormFloat64() * 0.5
	}
	// The vectors beside F random ReLU features of them, and a constant 1.
	Z := make([][]float64, n)
	y := make([][]float64, n)
	for r := range n {
		x := X[r][:dim]
		z := slices.Clone(x)
		for f := range F {
			z = append(z, max(0, dot(W[f][:dim], x)+W[f][dim]))
		}
		Z[r] = append(z, 1)
		for _, v := range world.AttrVector(attrs[r]) {
			y[r] = append(y[r], float64(v))
		}
	}
	var odd []int
	for r := 1; r < n; r += 2 {
		odd = append(odd, r)
	}
	r2 := func(p []float64, j int) float64 {
		return heldR2(odd, func(r int) float64 { return p[r] }, func(r int) float64 { return y[r][j] })
	}
	names := world.AttrVectorNames()
	lin, rf := ridgeOnHalf(X, 10), ridgeOnHalf(Z, 30)
	for j, name := range names {
		at := func(r int) float64 { return y[r][j] }
		t.Logf("%-20s R² linear %.3f, with random ReLU features %.3f", name, r2(lin(at), j), r2(rf(at), j))
	}
}
