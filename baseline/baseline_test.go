package baseline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"palate"
	"palate/dataset"
	"palate/history"
)

// synth is a small hand-made world: every image has a 4-dim embedding
// (x0..x3, standard normal) and a 2-dim prompt embedding. Everyone shares
// the utility x0 − x1²/2 (non-linear, so the MLP's hidden layer matters);
// people of group 0 also like x2 and people of group 1 dislike it, with
// weight taste. Choices are Bradley–Terry with temperature 1/2.
type synth struct {
	d      *history.Data
	groups map[string]int
	taste  float64
}

func (s *synth) utility(user string, r int32) float64 {
	x := s.d.Emb.Row(int(r))
	u := float64(x[0]) - float64(x[1]*x[1])/2
	if s.groups[user] == 0 {
		return u + s.taste*float64(x[2])
	}
	return u - s.taste*float64(x[2])
}

func newSynth(seed uint64, users, pairs int, taste float64) *synth {
	r := rand.New(rand.NewPCG(seed, 1))
	emb := &palate.Embeddings{Embedder: "synth", Dim: 4}
	d := &history.Data{Emb: emb}
	s := &synth{d: d, groups: map[string]int{}, taste: taste}
	img := func() int32 {
		row := int32(len(emb.IDs))
		emb.IDs = append(emb.IDs, fmt.Sprintf("i%d", row))
		for range 4 {
			emb.Data = append(emb.Data, float32(r.NormFloat64()))
		}
		return row
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for u := range users {
		ud := &history.UserData{ID: fmt.Sprintf("u%03d", u), Part: dataset.Train}
		if u%5 == 4 {
			ud.Part = dataset.Unseen
		}
		s.groups[ud.ID] = u % 2
		for j := range pairs {
			a, b := img(), img()
			prompt := []float32{float32(r.NormFloat64()), float32(r.NormFloat64())}
			d.Text = append(d.Text, prompt, prompt)
			p := history.Pair{ID: fmt.Sprintf("%s-c%d", ud.ID, j), Win: a, Lose: b, Time: t0.Add(time.Duration(j) * time.Hour)}
			if r.Float64() >= sigmoid(2*(s.utility(ud.ID, a)-s.utility(ud.ID, b))) {
				p.Win, p.Lose = b, a
			}
			if ud.Part == dataset.Train && j >= pairs*3/4 {
				ud.TestPairs = append(ud.TestPairs, p)
			} else {
				ud.Pairs = append(ud.Pairs, p)
			}
		}
		d.Users = append(d.Users, ud)
	}
	return s
}

// oracles are the accuracies on the judged pairs of the true utility and of
// its shared part alone.
func (s *synth) oracles(eps []history.EvalPair) (personal, shared float64) {
	for _, e := range eps {
		if s.utility(e.User.ID, e.Pair.Win) > s.utility(e.User.ID, e.Pair.Lose) {
			personal++
		}
		w, l := s.d.Emb.Row(int(e.Pair.Win)), s.d.Emb.Row(int(e.Pair.Lose))
		if w[0]-w[1]*w[1]/2 > l[0]-l[1]*l[1]/2 {
			shared++
		}
	}
	n := float64(len(eps))
	return personal / n, shared / n
}

func TestBaselinesOnSynth(t *testing.T) {
	s := newSynth(1, 200, 40, 1.5)
	ps := fitAll(t, s.d, 3)
	acc := map[string]float64{}
	for _, p := range ps {
		for _, k := range []int{8, 24} {
			a := accuracy(p, s.d, k, dataset.Train, dataset.Unseen).Acc
			acc[fmt.Sprintf("%s@%d", p.Name(), k)] = a
			t.Logf("k=%-2d %-16s %.3f", k, p.Name(), a)
		}
	}
	eps := s.d.EvalPairs(24, dataset.Train, dataset.Unseen)
	or, sh := s.oracles(eps)
	t.Logf("oracle %.3f, shared-utility oracle %.3f on %d pairs", or, sh, len(eps))
	floors := []struct {
		what  string
		floor float64
	}{
		{"non-personal@8", sh - 0.03}, // about as good as the shared utility
		{"centroid@8", 0.68},
		{"per-user-linear@8", 0.78},
		{"per-user-linear@24", 0.83}, // the taste term is linear: 24 pairs find it
		{"user-knn@8", 0.78},         // two clear groups: neighbours help
		{"user-knn+np@8", 0.80},
	}
	for _, f := range floors {
		if acc[f.what] < f.floor {
			t.Errorf("%s accuracy %.3f; want ≥ %.3f", f.what, acc[f.what], f.floor)
		}
	}
	if acc["per-user-linear@24"] < acc["non-personal@24"]+0.1 {
		t.Errorf("per-user-linear (%.3f) should beat non-personal (%.3f) by far where taste is linear", acc["per-user-linear@24"], acc["non-personal@24"])
	}
	if acc["per-user-linear@24"] < acc["per-user-linear@8"] {
		t.Errorf("per-user-linear got worse with more history: %.3f at 8, %.3f at 24", acc["per-user-linear@8"], acc["per-user-linear@24"])
	}
	if acc["per-user-linear@24"] > or+0.02 {
		t.Errorf("per-user-linear (%.3f) beats the oracle (%.3f): a leak?", acc["per-user-linear@24"], or)
	}
}

// unknownRows are rows no table holds.
var unknownRows = []int32{-1, math.MaxInt32}

func TestFallbacks(t *testing.T) {
	s := newSynth(2, 40, 20, 0.8)
	np := NewNonPersonal(NonPersonalOptions{Seed: 1, MaxEpochs: 3})
	ps := []Predictor{np, NewCentroid(), NewPerUserLinear(np, PerUserLinearOptions{}), NewUserKNN(UserKNNOptions{}), NewUserKNN(UserKNNOptions{Base: np})}
	cands := []int32{0, 1, 2, 3}
	hist := history.PairItems(s.d.Users[0].Pairs[:4])
	withUnknown := append([]history.Item{{Image: -5, Label: history.Liked}, {Image: 1 << 30, Label: history.Disliked}}, hist...)

	// Before Fit: zeros, no panic.
	for _, p := range ps {
		for _, h := range [][]history.Item{nil, hist} {
			if got := p.Score(h, cands); len(got) != len(cands) || slices.ContainsFunc(got, func(x float64) bool { return x != 0 }) {
				t.Errorf("%s before Fit: %v; want zeros", p.Name(), got)
			}
		}
	}
	for _, p := range ps {
		if err := p.Fit(context.Background(), s.d); err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
	}
	npScores := np.Score(nil, cands)
	for _, p := range ps {
		t.Run(p.Name(), func(t *testing.T) {
			empty := p.Score(nil, cands)
			switch p.(type) {
			case *Centroid:
				if slices.ContainsFunc(empty, func(x float64) bool { return x != 0 }) {
					t.Errorf("empty history: %v; want zeros", empty)
				}
			case *PerUserLinear, *NonPersonal:
				if !slices.Equal(empty, npScores) {
					t.Errorf("empty history: %v; want the non-personal scores %v", empty, npScores)
				}
			}
			if got := p.Score([]history.Item{{Image: -1, Label: history.Liked}}, cands); !slices.Equal(got, empty) {
				t.Errorf("history of unknown rows: %v; want the empty-history scores %v", got, empty)
			}
			if a, b := p.Score(hist, cands), p.Score(withUnknown, cands); !slices.Equal(a, b) {
				t.Errorf("unknown history rows changed the scores: %v vs %v", a, b)
			}
			got := p.Score(hist, append(slices.Clone(unknownRows), cands...))
			if got[0] != 0 || got[1] != 0 {
				t.Errorf("unknown candidates scored %v; want 0", got[:2])
			}
			if len(p.Score(hist, nil)) != 0 {
				t.Error("no candidates should give no scores")
			}
			// A lone liked item (no partner) and votes.
			votes := []history.Item{{Image: 5, Label: history.Liked}, {Image: 6, Label: history.SingleLike}, {Image: 7, Label: history.SingleDislike}}
			for _, x := range p.Score(votes, cands) {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Errorf("votes-only history gave %v", x)
				}
			}
		})
	}
}

func TestDeterministicAndConcurrent(t *testing.T) {
	s := newSynth(3, 60, 20, 0.8)
	fit := func(seed uint64) []Predictor {
		np := NewNonPersonal(NonPersonalOptions{Seed: seed, MaxEpochs: 5})
		ps := []Predictor{np, NewPerUserLinear(np, PerUserLinearOptions{}), NewUserKNN(UserKNNOptions{Base: np})}
		for _, p := range ps {
			if err := p.Fit(context.Background(), s.d); err != nil {
				t.Fatal(err)
			}
		}
		return ps
	}
	a, b, c := fit(1), fit(1), fit(2)
	cands := []int32{0, 1, 2, 3, 4, 5}
	for i, u := range s.d.Users[:10] {
		hist := history.PairItems(u.Pairs[:6])
		for j := range a {
			x, y, z := a[j].Score(hist, cands), b[j].Score(hist, cands), c[j].Score(hist, cands)
			if !slices.Equal(x, y) {
				t.Fatalf("%s: same seed, different scores for person %d: %v vs %v", a[j].Name(), i, x, y)
			}
			if j == 0 && slices.Equal(x, z) {
				t.Errorf("%s: seeds 1 and 2 gave identical scores", a[j].Name())
			}
		}
	}
	// Concurrent Score calls see exactly the sequential results.
	for _, p := range a {
		want := make([][]float64, len(s.d.Users))
		for i, u := range s.d.Users {
			want[i] = p.Score(history.PairItems(u.Pairs[:6]), cands)
		}
		var wg sync.WaitGroup
		errs := make(chan string, len(s.d.Users))
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < len(s.d.Users); i += 8 {
					if got := p.Score(history.PairItems(s.d.Users[i].Pairs[:6]), cands); !slices.Equal(got, want[i]) {
						errs <- fmt.Sprintf("%s person %d: %v vs %v", p.Name(), i, got, want[i])
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}

func TestFitErrors(t *testing.T) {
	empty := &history.Data{Emb: &palate.Embeddings{Dim: 2}}
	for _, p := range []Predictor{NewNonPersonal(NonPersonalOptions{}), NewPerUserLinear(NewNonPersonal(NonPersonalOptions{}), PerUserLinearOptions{}), NewUserKNN(UserKNNOptions{})} {
		if err := p.Fit(context.Background(), empty); palate.ErrorCode(err) != palate.EINVALID {
			t.Errorf("%s on no data: %v; want EINVALID", p.Name(), err)
		}
	}
	if err := NewPerUserLinear(nil, PerUserLinearOptions{}).Fit(context.Background(), empty); palate.ErrorCode(err) != palate.EINVALID {
		t.Errorf("per-user-linear without a base: %v", err)
	}
	s := newSynth(4, 20, 10, 0.5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewNonPersonal(NonPersonalOptions{}).Fit(ctx, s.d); err == nil {
		t.Error("a cancelled context should stop the fit")
	}
}

func TestRidgeLogistic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 3, 8, 20} {
		for _, lambda := range []float64{0.1, 1, 10} {
			ex := &examples{}
			for i := range n {
				f := make([]float64, 6)
				for j := range f {
					f[j] = r.NormFloat64()
				}
				y := 1.0
				if i%3 == 2 {
					y = -1
				}
				ex.f = append(ex.f, f)
				ex.b = append(ex.b, 0.5*r.NormFloat64())
				ex.y = append(ex.y, y)
			}
			w := ex.fit(lambda)
			// Stationarity: Σ yᵢ ℓ'(mᵢ) fᵢ + 2λw = 0 with ℓ'(m) = −σ(−m).
			grad := make([]float64, len(w))
			for i, f := range ex.f {
				m := ex.y[i] * (ex.b[i] + dot64(w, f))
				g := -ex.y[i] * sigmoid(-m)
				for j := range grad {
					grad[j] += g * f[j]
				}
			}
			for j := range grad {
				grad[j] += 2 * lambda * w[j]
			}
			if g := norm64(grad); g > 1e-6 {
				t.Errorf("n=%d λ=%g: gradient norm %g at the returned weights", n, lambda, g)
			}
		}
	}
	if (&examples{}).fit(1) != nil {
		t.Error("no examples should give no weights")
	}
}
