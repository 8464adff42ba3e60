//go:build diag

package suite

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"palate"
	"palate/baseline"
	"palate/dataset"
	"palate/history"
	"palate/world"
)

// TestDiagMLP asks what a trained non-linear reader gets from the vectors
// when it is told the answer: a one-hidden-layer ReLU network (256 units,
// Adam, squared error, early stopping on a tenth of its fold) regresses a
// target on the standardised vectors, fitted on every other image and
// judged on the rest, both ways round, so that every prediction is out of
// fold. The targets are the crowd's utility (the shared part of taste, the
// crowd oracle's score: what a non-personal scorer could learn at best),
// judged as pairwise accuracy on the bench's comparisons, and the scale
// and contrast attributes, judged as R². The same for a ridge regression
// (λ 100) beside it. If the network reads much more than ridge, the
// information is in the vectors and a better learner could use it; if not,
// the vectors bound it. With PALATE_DIAG_GROUPS=1 it does the same for
// each group's utility, each person judged by their true group's: the
// group oracle through the vectors; and then, not told the group, infers it
// from each person's 8 history pairs by Bayes' rule on those regressed
// group utilities: the few-shot ceiling through the vectors (world's
// TestFewShotCeiling does the same with exact utilities).
//
//	PALATE_DIAG_DATA=/tmp/wb2 PALATE_DIAG_EMBEDDER=pixels-v3 \
//	  GOEXPERIMENT=simd go test -tags diag -count=1 -run TestDiagMLP -v -timeout 60m ./bench/suite/
func TestDiagMLP(t *testing.T) {
	d, tr, X, attrs := diagWorld(t)
	n := len(X)
	folds := [2][]int{}
	for r := range n {
		folds[r%2] = append(folds[r%2], r)
	}
	all := make([]int, n)
	for r := range all {
		all[r] = r
	}
	// crossFit regresses y on the vectors, ridge and network, each fitted
	// on one fold and predicting the other.
	crossFit := func(y []float64) (ridge, net []float64) {
		ridge, net = make([]float64, n), make([]float64, n)
		for f := range 2 {
			w := ridgeFit(X, folds[f], 100)(func(r int) float64 { return y[r] })
			m := fitMLP(X, y, folds[f], 256, uint64(f+1))
			for _, r := range folds[1-f] {
				ridge[r], net[r] = dot(w, X[r]), m.predict(X[r])
			}
		}
		return ridge, net
	}
	column := func(f func(a *world.Attrs) float64) []float64 {
		y := make([]float64, n)
		for r := range n {
			y[r] = f(attrs[r])
		}
		return y
	}
	get := func(s []float64) func(int) float64 { return func(r int) float64 { return s[r] } }
	start := time.Now()
	y := column(tr.crowdUtility)
	ridge, net := crossFit(y)
	same := func(u []float64) func(history.EvalPair) []float64 {
		return func(history.EvalPair) []float64 { return u }
	}
	t.Logf("crowd utility R² ridge %.3f  mlp %.3f  pairs seen/unseen: exact %s  ridge %s  mlp %s  (%.0f s)",
		heldR2(all, get(ridge), get(y)), heldR2(all, get(net), get(y)),
		diagPairAcc(d, same(y)), diagPairAcc(d, same(ridge)), diagPairAcc(d, same(net)), time.Since(start).Seconds())
	for _, a := range []struct {
		name string
		f    func(a *world.Attrs) float64
	}{
		{"scale", func(a *world.Attrs) float64 { return a.Scale }},
		{"contrast", func(a *world.Attrs) float64 { return a.Contrast }},
	} {
		start := time.Now()
		y := column(a.f)
		ridge, net := crossFit(y)
		t.Logf("%-13s R² ridge %.3f  mlp %.3f  (%.0f s)", a.name, heldR2(all, get(ridge), get(y)), heldR2(all, get(net), get(y)), time.Since(start).Seconds())
	}
	if os.Getenv("PALATE_DIAG_GROUPS") != "1" {
		return
	}
	// The group oracle through the vectors: each group's utility regressed
	// the same way, each person judged by their true group's.
	start = time.Now()
	G := tr.Groups()
	exact, ridges, nets := make([][]float64, G), make([][]float64, G), make([][]float64, G)
	for g := range G {
		p := &world.Person{Group: g}
		exact[g] = column(func(a *world.Attrs) float64 { return tr.World.GroupUtility(p, a) })
		ridges[g], nets[g] = crossFit(exact[g])
	}
	byGroup := func(u [][]float64) func(history.EvalPair) []float64 {
		return func(ep history.EvalPair) []float64 { return u[tr.People[ep.User.ID].Group] }
	}
	t.Logf("group utility, told the group: pairs seen/unseen: exact %s  ridge %s  mlp %s  (%.0f s)",
		diagPairAcc(d, byGroup(exact)), diagPairAcc(d, byGroup(ridges)), diagPairAcc(d, byGroup(nets)), time.Since(start).Seconds())
	// The few-shot ceiling through the vectors (diagBayes). The
	// regressions shrink their utilities, so each row is given at three
	// temperatures around the world's noise; the best is an optimistic
	// ceiling (chosen on the judged pairs).
	noise := tr.World.Config.Noise
	for _, row := range []struct {
		name string
		u    [][]float64
	}{{"exact", exact}, {"ridge", ridges}, {"mlp", nets}} {
		var cells []string
		for _, f := range []float64{0.5, 1, 2} {
			cells = append(cells, fmt.Sprintf("τ=%.2f %s", f*noise, diagPairAcc(d, diagBayes(tr, row.u, f*noise))))
		}
		t.Logf("bayes group from 8 pairs, %-5s: %v", row.name, cells)
	}
}

// diagPairAcc judges the bench's k = 8 comparisons, seen and unseen, by
// the utility that s gives each person's pair (ties count half), as
// "seen/unseen" in %.
func diagPairAcc(d *history.Data, s func(ep history.EvalPair) []float64) string {
	var acc [2]float64
	for i, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
		eps := d.EvalPairs(8, part)
		for _, ep := range eps {
			u := s(ep)
			switch m := u[ep.Pair.Win] - u[ep.Pair.Lose]; {
			case m > 0:
				acc[i]++
			case m == 0:
				acc[i] += 0.5
			}
		}
		acc[i] *= 100 / float64(len(eps))
	}
	return fmt.Sprintf("%.1f/%.1f", acc[0], acc[1])
}

// diagBayes scores a person's judged pair not told their group but
// inferring it from their history pairs by Bayes' rule (prior: the groups'
// shares of the world's people; likelihood: Bradley–Terry on each group's
// utility u[g] over the embeddings rows at temperature tau), predicting
// with the posterior mixture of σ(Δu/tau), as world's TestFewShotCeiling
// does with exact utilities. Only the judged pair's two entries of the
// returned slice are meaningful (it is reused between calls).
func diagBayes(tr *Truth, u [][]float64, tau float64) func(history.EvalPair) []float64 {
	shares, G := tr.groupShares(), len(u)
	post, s := make([]float64, G), make([]float64, len(u[0]))
	return func(ep history.EvalPair) []float64 {
		mx := math.Inf(-1)
		for g := range G {
			post[g] = math.Log(max(shares[g], 1e-9))
			for i := 0; i+1 < len(ep.History); i += 2 {
				win, lose := ep.History[i].Image, ep.History[i+1].Image
				post[g] += math.Log(sigmoid((u[g][win] - u[g][lose]) / tau))
			}
			mx = max(mx, post[g])
		}
		var z, pw float64
		for g := range G {
			post[g] = math.Exp(post[g] - mx)
			z += post[g]
		}
		a, b := ep.Pair.Win, ep.Pair.Lose
		for g := range G {
			pw += post[g] / z * sigmoid((u[g][a]-u[g][b])/tau)
		}
		s[a], s[b] = pw, 1-pw
		return s
	}
}

// TestDiagGroupPairs asks how much of the few-shot ceiling through the
// vectors (TestDiagMLP's Bayes rows) a learner can reach from the world's
// training pairs, given what no model is given: each seen person's group.
// For each group it fits the bench's non-personal scorer (a Bradley–Terry
// network over the vectors) on the training comparisons of that group's
// seen people only, then judges the bench's k = 8 comparisons by the
// person's true group's scorer, and by Bayes' rule over the groups from
// the 8 history pairs (at temperatures 0.5, 1 and 2 of the scorers' own
// Bradley–Terry scale). PALATE_DIAG_SEEDS averages that many fits per
// group.
//
//	PALATE_DIAG_DATA=/tmp/wb2 PALATE_DIAG_EMBEDDER=pixels-v3 \
//	  GOEXPERIMENT=simd go test -tags diag -count=1 -run TestDiagGroupPairs -v ./bench/suite/
func TestDiagGroupPairs(t *testing.T) {
	d, tr, X, _ := diagWorld(t)
	seeds := 1
	if v, err := strconv.Atoi(os.Getenv("PALATE_DIAG_SEEDS")); err == nil && v > 0 {
		seeds = v
	}
	rows := make([]int32, len(X))
	for r := range rows {
		rows[r] = int32(r)
	}
	G := tr.Groups()
	u := make([][]float64, G)
	for g := range G {
		dg := *d
		dg.Users = nil
		pairs := 0
		for _, us := range d.Parts(dataset.Train) {
			if p := tr.People[us.ID]; p != nil && p.Group == g {
				dg.Users = append(dg.Users, us)
				pairs += len(us.Pairs)
			}
		}
		u[g] = make([]float64, len(X))
		for s := range seeds {
			np := baseline.NewNonPersonal(baseline.NonPersonalOptions{Seed: uint64(s + 1)})
			if err := np.Fit(context.Background(), &dg); err != nil {
				t.Fatal(err)
			}
			for r, v := range np.Score(nil, rows) {
				u[g][r] += v / float64(seeds)
			}
			if s == 0 {
				st := np.Stats()
				t.Logf("group %d: %d seen people, %d training pairs, best epoch %d, val acc %.3f", g, len(dg.Users), pairs, st.BestEpoch, st.ValAcc)
			}
		}
	}
	byGroup := func(ep history.EvalPair) []float64 { return u[tr.People[ep.User.ID].Group] }
	t.Logf("learnt from each group's pairs (×%d), told the group: seen/unseen %s", seeds, diagPairAcc(d, byGroup))
	var cells []string
	for _, tau := range []float64{0.5, 1, 2} {
		cells = append(cells, fmt.Sprintf("τ=%.1f %s", tau, diagPairAcc(d, diagBayes(tr, u, tau))))
	}
	t.Logf("learnt from each group's pairs (×%d), bayes group from 8 pairs: %v", seeds, cells)
}

// mlp is a one-hidden-layer ReLU regression, y ≈ w2·relu(W1 x) + b2, on
// standardised targets (mean mu, deviation sd).
type mlp struct {
	h      int
	w1     []float64 // h rows of len(x); x ends in a constant 1, the bias
	w2     []float64
	b2     float64
	mu, sd float64
}

func (m *mlp) hidden(x, h []float64) {
	D := len(x)
	for j := range m.h {
		row := m.w1[j*D : (j+1)*D]
		s := 0.0
		for i, v := range x {
			s += row[i] * v
		}
		h[j] = max(s, 0)
	}
}

func (m *mlp) predict(x []float64) float64 {
	h := make([]float64, m.h)
	m.hidden(x, h)
	return m.mu + m.sd*(dot(m.w2, h)+m.b2)
}

// fitMLP fits an mlp of H hidden units to y on rows (a tenth held out for
// early stopping) with Adam, batches of 128, up to 80 epochs, patience 6.
func fitMLP(X [][]float64, y []float64, rows []int, H int, seed uint64) *mlp {
	rng := rand.New(rand.NewPCG(seed, 99))
	rows = append([]int(nil), rows...)
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	val, fit := rows[:len(rows)/10], rows[len(rows)/10:]
	D := len(X[0])
	m := &mlp{h: H, w1: make([]float64, H*D), w2: make([]float64, H)}
	for _, r := range fit {
		m.mu += y[r]
	}
	m.mu /= float64(len(fit))
	for _, r := range fit {
		m.sd += (y[r] - m.mu) * (y[r] - m.mu)
	}
	m.sd = math.Sqrt(m.sd / float64(len(fit)))
	for i := range m.w1 {
		m.w1[i] = rng.NormFloat64() * math.Sqrt(2/float64(D))
	}
	for i := range m.w2 {
		m.w2[i] = rng.NormFloat64() * math.Sqrt(1/float64(H))
	}
	P := H*D + H + 1 // w1, w2, b2
	params := func(i int) *float64 {
		switch {
		case i < H*D:
			return &m.w1[i]
		case i < H*D+H:
			return &m.w2[i-H*D]
		}
		return &m.b2
	}
	mom, vel := make([]float64, P), make([]float64, P)
	const workers, batch, lr, b1, b2, eps, decay = 2, 128, 1e-3, 0.9, 0.999, 1e-8, 1e-4
	grads := make([][]float64, workers)
	for w := range grads {
		grads[w] = make([]float64, P)
	}
	valLoss := func() float64 {
		h := make([]float64, H)
		s := 0.0
		for _, r := range val {
			m.hidden(X[r], h)
			e := dot(m.w2, h) + m.b2 - (y[r]-m.mu)/m.sd
			s += e * e
		}
		return s / float64(len(val))
	}
	best, bestW, since, step := math.Inf(1), []float64(nil), 0, 0
	for epoch := 0; epoch < 80 && since < 6; epoch++ {
		rng.Shuffle(len(fit), func(i, j int) { fit[i], fit[j] = fit[j], fit[i] })
		for lo := 0; lo < len(fit); lo += batch {
			b := fit[lo:min(lo+batch, len(fit))]
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					g := grads[w]
					clear(g)
					h := make([]float64, H)
					for i := w; i < len(b); i += workers {
						x := X[b[i]]
						m.hidden(x, h)
						e := dot(m.w2, h) + m.b2 - (y[b[i]]-m.mu)/m.sd
						for j := range H {
							g[H*D+j] += e * h[j]
							if h[j] > 0 {
								c := e * m.w2[j]
								row := g[j*D : (j+1)*D]
								for k, v := range x {
									row[k] += c * v
								}
							}
						}
						g[P-1] += e
					}
				}(w)
			}
			wg.Wait()
			step++
			c1, c2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
			scale := 2 / float64(len(b))
			for i := range P {
				gi := (grads[0][i] + grads[1][i]) * scale
				mom[i] = b1*mom[i] + (1-b1)*gi
				vel[i] = b2*vel[i] + (1-b2)*gi*gi
				p := params(i)
				*p -= lr * (mom[i]/c1/(math.Sqrt(vel[i]/c2)+eps) + decay**p)
			}
		}
		if l := valLoss(); l < best {
			best, since = l, 0
			bestW = append(append(append(bestW[:0], m.w1...), m.w2...), m.b2)
		} else {
			since++
		}
	}
	if bestW == nil { // no finite validation loss: a constant target or too few rows
		return m
	}
	copy(m.w1, bestW[:H*D])
	copy(m.w2, bestW[H*D:H*D+H])
	m.b2 = bestW[P-1]
	return m
}

// TestDiagNonPersonal fits the non-personal scorer with the hidden units
// and L2 penalty in PALATE_DIAG_HIDDEN and PALATE_DIAG_L2 (the defaults
// when unset) and prints its accuracy at the bench's k = 8 comparisons, to
// ask whether its capacity or the pairs bound what it learns.
func TestDiagNonPersonal(t *testing.T) {
	d, _, X, _ := diagWorld(t)
	opt := baseline.NonPersonalOptions{Seed: 1, Hidden: 32, L2: 0.01} // the defaults
	if v, err := strconv.Atoi(os.Getenv("PALATE_DIAG_HIDDEN")); err == nil {
		opt.Hidden = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("PALATE_DIAG_L2"), 64); err == nil {
		opt.L2 = v
	}
	// PALATE_DIAG_VOTEPAIRS=all adds, for every seen person, each liked
	// training vote against each disliked one as a comparison; =once pairs
	// them off one to one.
	if mode := os.Getenv("PALATE_DIAG_VOTEPAIRS"); mode != "" {
		added := 0
		for _, u := range d.Parts(dataset.Train) {
			var likes, dislikes []history.Single
			for _, v := range u.Votes {
				if v.Like {
					likes = append(likes, v)
				} else {
					dislikes = append(dislikes, v)
				}
			}
			for i, l := range likes {
				for j, dv := range dislikes {
					if mode == "once" && i != j {
						continue
					}
					u.Pairs = append(u.Pairs, history.Pair{ID: l.ID + "/" + dv.ID, Win: l.Image, Lose: dv.Image, Time: l.Time})
					added++
				}
			}
		}
		t.Logf("added %d comparisons from votes (%s)", added, mode)
	}
	// PALATE_DIAG_PCA=K replaces the vectors by their first K principal
	// components (of the standardised vectors, by power iteration).
	if k, err := strconv.Atoi(os.Getenv("PALATE_DIAG_PCA")); err == nil && k > 0 {
		D := len(X[0]) - 1
		cov := make([]float64, D*D)
		for _, x := range X {
			addOuter(cov, D, 1/float64(len(X)), x[:D])
		}
		mirror(cov, D)
		rng := rand.New(rand.NewPCG(5, 6))
		comps := make([][]float64, 0, k)
		for range k {
			v := make([]float64, D)
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			for range 300 {
				w := make([]float64, D)
				for i := range D {
					w[i] = dot(cov[i*D:(i+1)*D], v)
				}
				for _, c := range comps { // deflate
					p := dot(w, c)
					for i := range w {
						w[i] -= p * c[i]
					}
				}
				nrm := math.Sqrt(dot(w, w))
				for i := range w {
					v[i] = w[i] / nrm
				}
			}
			comps = append(comps, v)
		}
		data := make([]float32, len(X)*k)
		for r, x := range X {
			for j, c := range comps {
				data[r*k+j] = float32(dot(c, x[:D]))
			}
		}
		d.Emb = &palate.Embeddings{Embedder: d.Emb.Embedder, Dim: k, IDs: d.Emb.IDs, Data: data}
		t.Logf("vectors replaced by their first %d principal components", k)
	}
	seeds := 1
	if v, err := strconv.Atoi(os.Getenv("PALATE_DIAG_SEEDS")); err == nil && v > 0 {
		seeds = v
	}
	var nps []*baseline.NonPersonal
	for s := range seeds {
		o := opt
		o.Seed = uint64(s + 1)
		np := baseline.NewNonPersonal(o)
		if err := np.Fit(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		nps = append(nps, np)
	}
	np := nps[0]
	var acc [2]float64
	for i, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
		eps := d.EvalPairs(8, part)
		for _, ep := range eps {
			s := make([]float64, 2)
			for _, m := range nps {
				for j, v := range m.Score(nil, []int32{ep.Pair.Win, ep.Pair.Lose}) {
					s[j] += v
				}
			}
			switch {
			case s[0] > s[1]:
				acc[i]++
			case s[0] == s[1]:
				acc[i] += 0.5
			}
		}
		acc[i] *= 100 / float64(len(eps))
	}
	st := np.Stats()
	t.Logf("non-personal ×%d hidden %d L2 %g: seen %.1f unseen %.1f (%d pairs, best epoch %d of %d, val acc %.3f, %.0f s)",
		seeds, opt.Hidden, opt.L2, acc[0], acc[1], st.TrainPairs, st.BestEpoch, st.Epochs, st.ValAcc, st.Seconds)
}
