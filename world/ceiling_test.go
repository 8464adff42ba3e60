package world

import (
	"math"
	"os"
	"testing"
)

// TestFewShotCeiling measures what knowing the group tastes exactly is worth
// from k history pairs: the Bayes posterior over groups given a seen
// person's last k training pairs, predicting with the posterior mixture of
// group utilities. It bounds what any model can get from group structure at
// k (a personal deviation adds some more, up to the oracle). By default it
// runs one small world and checks the ordering; PALATE_CEILING=1 prints the
// default world's numbers for docs/BENCHMARKS.md.
func TestFewShotCeiling(t *testing.T) {
	inds, users := []float64{0.7}, 200
	if os.Getenv("PALATE_CEILING") != "" {
		inds, users = []float64{0.7, 0.5, 0.35}, 600
	}
	for _, ind := range inds {
		c := DefaultConfig()
		c.Individuality, c.Users = ind, users
		prev := 0.0
		w, _ := New(c)
		for _, k := range []int{0, 2, 8, 32} {
			var n, right, orc, grp float64
			for i := 0; i < c.Users; i++ {
				h := w.Simulate(i)
				p := h.Person
				if p.Part != PartSeen {
					continue
				}
				idx := map[string]int{}
				for j := range h.Images {
					idx[h.Images[j].ID] = j
				}
				var train, test []int
				for j, cm := range h.Comparisons {
					if cm.Label0 == 0.5 {
						continue
					}
					if cm.Time.Before(h.Cutoff) {
						train = append(train, j)
					} else {
						test = append(test, j)
					}
				}
				if len(train) > k {
					train = train[len(train)-k:]
				}
				logp := make([]float64, c.Groups)
				for g := range logp {
					for _, j := range train {
						cm := h.Comparisons[j]
						a, b := &h.Images[idx[cm.Image0]].Attrs, &h.Images[idx[cm.Image1]].Attrs
						d := (w.utility(w.Groups[g], a) - w.utility(w.Groups[g], b)) / c.Noise
						if cm.Label0 == 0 {
							d = -d
						}
						logp[g] += math.Log(sigmoid(d))
					}
				}
				mx := math.Inf(-1)
				for _, v := range logp {
					mx = math.Max(mx, v)
				}
				var z float64
				post := make([]float64, len(logp))
				for g, v := range logp {
					post[g] = math.Exp(v - mx)
					z += post[g]
				}
				for _, j := range test {
					cm := h.Comparisons[j]
					a, b := &h.Images[idx[cm.Image0]].Attrs, &h.Images[idx[cm.Image1]].Attrs
					var pw float64
					for g := range post {
						pw += post[g] / z * sigmoid((w.utility(w.Groups[g], a)-w.utility(w.Groups[g], b))/c.Noise)
					}
					n++
					if (pw > 0.5) == (cm.Label0 == 1) {
						right++
					}
					if (w.Utility(p, cm.Time, a) > w.Utility(p, cm.Time, b)) == (cm.Label0 == 1) {
						orc++
					}
					if (w.GroupUtility(p, a) > w.GroupUtility(p, b)) == (cm.Label0 == 1) {
						grp++
					}
				}
			}
			t.Logf("individuality %.2f k=%d: bayes-group %.3f group-oracle %.3f oracle %.3f (n=%.0f)", ind, k, right/n, grp/n, orc/n, n)
			// More history never hurts the Bayes predictor much, and it
			// never beats the oracle by more than noise.
			if right/n < prev-0.02 || right/n > orc/n+0.01 {
				t.Errorf("k=%d: bayes-group %.3f after %.3f, oracle %.3f", k, right/n, prev, orc/n)
			}
			prev = right / n
		}
	}
}
