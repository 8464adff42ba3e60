package baseline

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"palate"
	"palate/dataset"
	"palate/history"
)

// NonPersonalOptions shapes the non-personal scorer. Zero values take the
// defaults in brackets.
type NonPersonalOptions struct {
	Hidden    int     // ReLU units in the one hidden layer [32]
	Batch     int     // comparisons per Adam step [64]
	MaxEpochs int     // most passes over the training comparisons [60]
	Patience  int     // epochs without a better validation loss before stopping [5]
	LR        float64 // Adam learning rate [1e-3]
	L2        float64 // L2 penalty on the weights (not biases), L2·‖W‖²/2 added to each comparison's loss [0.01; negative for none]
	ValShare  float64 // share of training comparisons held out for early stopping [0.1]
	Seed      uint64  // initial weights, the held-out slice and the batch order
}

func (o *NonPersonalOptions) defaults() {
	if o.Hidden <= 0 {
		o.Hidden = 32
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.MaxEpochs <= 0 {
		o.MaxEpochs = 60
	}
	if o.Patience <= 0 {
		o.Patience = 5
	}
	if o.LR <= 0 {
		o.LR = 1e-3
	}
	if o.L2 < 0 {
		o.L2 = 0
	} else if o.L2 == 0 {
		o.L2 = 0.01
	}
	if o.ValShare <= 0 || o.ValShare >= 1 {
		o.ValShare = 0.1
	}
}

// FitStats reports how a NonPersonal fit went.
type FitStats struct {
	TrainPairs, ValPairs int
	Epochs, BestEpoch    int     // epochs run; the epoch whose weights were kept (1-based)
	ValLoss, ValAcc      float64 // on the held-out slice, at the kept weights
	Seconds              float64
	Params               int
}

// NonPersonal is the non-personal scorer, the PickScore analogue: a
// Bradley–Terry model whose utility is a small MLP (one ReLU hidden layer)
// over [standardised image embedding ; prompt embedding], trained with Adam
// on every seen person's training comparisons by the logistic loss of
// s(win) − s(lose) plus an L2 penalty, with early stopping on a held-out
// slice of those comparisons. It ignores the history: everyone gets the same
// scores.
//
// The defaults (32 hidden units, L2 0.01, small output initialisation) were
// picked by hand on the default world, from the early-stopping loss (test
// accuracies were looked at too and agreed): 64 or 128 units predicted no
// better and took longer, and without the L2 penalty the MLP overfit the
// pixel embedding within one or two epochs. Different seeds move its
// accuracy by about ±1 point, so the bench should report several.
//
// Fallbacks: an unknown candidate row scores 0; before Fit every score is 0.
type NonPersonal struct {
	opt   NonPersonalOptions
	t     *table
	in    int       // input length: image dim + text dim
	tdim  int       // text dim
	w1    []float32 // in × Hidden, row-major: the weights from input i are w1[i*H:(i+1)*H]
	b1    []float32 // Hidden
	w2    []float32 // Hidden
	stats FitStats
	// heldOut holds the (win, lose) rows of the comparisons kept out of
	// training for early stopping.
	heldOut map[[2]int32]bool
}

// NewNonPersonal returns an unfitted non-personal scorer.
func NewNonPersonal(opt NonPersonalOptions) *NonPersonal {
	opt.defaults()
	return &NonPersonal{opt: opt}
}

// Name implements Predictor.
func (*NonPersonal) Name() string { return "non-personal" }

// Stats returns how the last Fit went.
func (m *NonPersonal) Stats() FitStats { return m.stats }

// fittedOn reports whether m was fitted on d.
func (m *NonPersonal) fittedOn(d *history.Data) bool { return m.t != nil && m.t.d == d && m.w1 != nil }

// gradChunks is the fixed number of parts each batch is split into for
// parallel gradients; fixed, so results do not depend on the core count.
const gradChunks = 4

// Fit implements Predictor. Returns EINVALID when the training part holds
// fewer than 10 decided comparisons.
func (m *NonPersonal) Fit(ctx context.Context, d *history.Data) error {
	start := time.Now()
	o := m.opt
	var pairs [][2]int32
	for _, u := range d.Parts(dataset.Train) {
		for _, p := range u.Pairs {
			if p.Win >= 0 && p.Lose >= 0 && int(p.Win) < len(d.Emb.IDs) && int(p.Lose) < len(d.Emb.IDs) {
				pairs = append(pairs, [2]int32{p.Win, p.Lose})
			}
		}
	}
	if len(pairs) < 10 {
		return palate.Errorf(palate.EINVALID, "non-personal: %d training comparisons; want at least 10", len(pairs))
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x9e7))
	r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	nVal := max(1, int(math.Round(o.ValShare*float64(len(pairs)))))
	val, train := pairs[:nVal], pairs[nVal:]
	m.heldOut = make(map[[2]int32]bool, len(val))
	for _, p := range val {
		m.heldOut[p] = true
	}

	m.t = newTable(d)
	m.tdim = 0
	for _, v := range d.Text {
		m.tdim = max(m.tdim, len(v))
	}
	m.in = m.t.dim + m.tdim
	H := o.Hidden
	nw1 := m.in * H
	params := make([]float32, nw1+2*H)
	m.w1, m.b1, m.w2 = params[:nw1], params[nw1:nw1+H], params[nw1+H:]
	s1 := math.Sqrt(2 / float64(m.in))
	for i := range m.w1 {
		m.w1[i] = float32(s1 * r.NormFloat64())
	}
	s2 := 0.1 / math.Sqrt(float64(H)) // small outputs: the first loss is near log 2
	for i := range m.w2 {
		m.w2[i] = float32(s2 * r.NormFloat64())
	}

	adamM := make([]float32, len(params))
	adamV := make([]float32, len(params))
	best := append([]float32(nil), params...)
	grads := make([][]float32, gradChunks)
	ws := make([]*npWork, gradChunks)
	for c := range grads {
		grads[c] = make([]float32, len(params))
		ws[c] = m.newWork()
	}
	lossOf := func() (float64, float64) { return m.evaluate(val, ws) }
	bestLoss, _ := lossOf()
	bestEpoch, stale, step := 0, 0, 0
	const b1, b2, eps = 0.9, 0.999, 1e-8
	epoch := 0
	for epoch = 1; epoch <= o.MaxEpochs; epoch++ {
		if err := ctx.Err(); err != nil {
			m.w1, m.b1, m.w2, m.t, m.heldOut = nil, nil, nil, nil, nil
			return err
		}
		r.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
		for lo := 0; lo < len(train); lo += o.Batch {
			batch := train[lo:min(len(train), lo+o.Batch)]
			var wg sync.WaitGroup
			per := (len(batch) + gradChunks - 1) / gradChunks
			for c := range gradChunks {
				part := batch[min(len(batch), c*per):min(len(batch), (c+1)*per)]
				wg.Add(1)
				go func() {
					defer wg.Done()
					clear(grads[c])
					for _, p := range part {
						m.pairGrad(ws[c], p, grads[c])
					}
				}()
			}
			wg.Wait()
			g := grads[0]
			for c := 1; c < gradChunks; c++ {
				for i, x := range grads[c] {
					g[i] += x
				}
			}
			step++
			inv := 1 / float32(len(batch))
			lr := o.LR * math.Sqrt(1-math.Pow(b2, float64(step))) / (1 - math.Pow(b1, float64(step)))
			lr32 := float32(lr)
			l2 := float32(o.L2)
			for i := range params {
				gi := g[i] * inv
				if i < nw1 || i >= nw1+H { // weights, not biases
					gi += l2 * params[i]
				}
				adamM[i] = b1*adamM[i] + (1-b1)*gi
				adamV[i] = b2*adamV[i] + (1-b2)*gi*gi
				params[i] -= lr32 * adamM[i] / (float32(math.Sqrt(float64(adamV[i]))) + eps)
			}
		}
		loss, _ := lossOf()
		if loss < bestLoss-1e-5 {
			bestLoss, bestEpoch, stale = loss, epoch, 0
			copy(best, params)
		} else if stale++; stale >= o.Patience {
			break
		}
	}
	copy(params, best)
	loss, acc := lossOf()
	m.stats = FitStats{
		TrainPairs: len(train), ValPairs: len(val),
		Epochs: min(epoch, o.MaxEpochs), BestEpoch: bestEpoch,
		ValLoss: loss, ValAcc: acc,
		Seconds: time.Since(start).Seconds(), Params: len(params),
	}
	return nil
}

// npWork is one goroutine's scratch space.
type npWork struct {
	x      []float32 // input of one image
	hw, hl []float32 // hidden activations (after ReLU) of the winner and loser
	xw, xl []float32
	dh     []float32
}

func (m *NonPersonal) newWork() *npWork {
	H := m.opt.Hidden
	return &npWork{x: make([]float32, m.in), xw: make([]float32, m.in), xl: make([]float32, m.in),
		hw: make([]float32, H), hl: make([]float32, H), dh: make([]float32, H)}
}

// input writes row r's input vector into x and reports whether r is known.
func (m *NonPersonal) input(x []float32, r int32) bool {
	if !m.t.z(x[:m.t.dim], r) {
		return false
	}
	tx := x[m.t.dim:]
	clear(tx)
	copy(tx, m.t.text(r))
	return true
}

// hidden computes the ReLU hidden layer of input x into h and returns the
// scalar utility.
func (m *NonPersonal) hidden(x, h []float32) float64 {
	H := len(h)
	copy(h, m.b1)
	for i, xi := range x {
		if xi == 0 {
			continue
		}
		row := m.w1[i*H : (i+1)*H : (i+1)*H]
		for k := range h {
			h[k] += xi * row[k]
		}
	}
	var s float32
	for k, v := range h {
		if v < 0 {
			h[k] = 0
			continue
		}
		s += v * m.w2[k]
	}
	return float64(s)
}

// pairGrad adds the logistic-loss gradient of one comparison to g (laid out
// as w1 | b1 | w2) and returns its loss.
func (m *NonPersonal) pairGrad(w *npWork, p [2]int32, g []float32) float64 {
	H := m.opt.Hidden
	m.input(w.xw, p[0])
	m.input(w.xl, p[1])
	mg := m.hidden(w.xw, w.hw) - m.hidden(w.xl, w.hl)
	// d loss / d margin = σ(m) − 1.
	dm := float32(sigmoid(mg) - 1)
	nw1 := m.in * H
	gb1, gw2 := g[nw1:nw1+H], g[nw1+H:]
	for k := range H {
		gw2[k] += dm * (w.hw[k] - w.hl[k])
	}
	for side, x := range [2][]float32{w.xw, w.xl} {
		h, sign := w.hw, dm
		if side == 1 {
			h, sign = w.hl, -dm
		}
		for k := range H {
			if h[k] > 0 {
				w.dh[k] = sign * m.w2[k]
			} else {
				w.dh[k] = 0
			}
			gb1[k] += w.dh[k]
		}
		for i, xi := range x {
			if xi == 0 {
				continue
			}
			row := g[i*H : (i+1)*H : (i+1)*H]
			for k, d := range w.dh {
				row[k] += xi * d
			}
		}
	}
	return logLoss(mg)
}

// evaluate returns the mean logistic loss and accuracy (ties half) on pairs.
func (m *NonPersonal) evaluate(pairs [][2]int32, ws []*npWork) (float64, float64) {
	var wg sync.WaitGroup
	loss := make([]float64, len(ws))
	acc := make([]float64, len(ws))
	per := (len(pairs) + len(ws) - 1) / len(ws)
	for c, w := range ws {
		part := pairs[min(len(pairs), c*per):min(len(pairs), (c+1)*per)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range part {
				m.input(w.xw, p[0])
				m.input(w.xl, p[1])
				mg := m.hidden(w.xw, w.hw) - m.hidden(w.xl, w.hl)
				loss[c] += logLoss(mg)
				switch {
				case mg > 0:
					acc[c]++
				case mg == 0:
					acc[c] += 0.5
				}
			}
		}()
	}
	wg.Wait()
	var l, a float64
	for c := range ws {
		l += loss[c]
		a += acc[c]
	}
	n := float64(max(len(pairs), 1))
	return l / n, a / n
}

// Score implements Predictor; the history is ignored.
func (m *NonPersonal) Score(_ []history.Item, cands []int32) []float64 {
	out := make([]float64, len(cands))
	if m.w1 == nil {
		return out
	}
	w := m.newWork()
	for i, r := range cands {
		if m.input(w.x, r) {
			out[i] = m.hidden(w.x, w.hw)
		}
	}
	return out
}
