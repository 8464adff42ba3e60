package world

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"palate"
)

// Epoch is when the simulated histories begin.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Shown is one image a person was shown: the prompt they wrote, the latent
// the generator drew, and the attributes those resolve to.
type Shown struct {
	ID     string `json:"id"`
	Prompt string `json:"prompt"`
	Latent Latent `json:"latent"`
	Attrs  Attrs  `json:"attrs"`
}

// History is everything one person did, in time order, with the truth
// needed to judge predictions of it.
type History struct {
	Person      *Person
	Images      []Shown
	Comparisons []palate.Comparison
	Votes       []palate.Vote
	// Cutoff is when a seen person's test interactions begin; zero for
	// people held out entirely.
	Cutoff time.Time
}

// Simulate makes person i and their history. It is deterministic for the
// world's seed and i, whatever order people are simulated in.
func (w *World) Simulate(i int) *History {
	cfg := &w.Config
	r := w.personRand(i)
	p := w.person(i, r)
	h := &History{Person: p}

	nc := heavyTail(r, cfg.ComparisonsPerUser)
	nv := cfg.VotesPerUser.Min + r.IntN(cfg.VotesPerUser.Max-cfg.VotesPerUser.Min+1)
	// Interleave comparisons (true) and votes (false) at random.
	kinds := make([]bool, nc+nv)
	for k := 0; k < nc; k++ {
		kinds[k] = true
	}
	r.Shuffle(len(kinds), func(a, b int) { kinds[a], kinds[b] = kinds[b], kinds[a] })
	times := make([]time.Time, len(kinds))
	t := Epoch.Add(time.Duration(r.Float64() * 120 * 24 * float64(time.Hour)))
	for k := range times {
		t = t.Add(time.Duration(r.ExpFloat64() * 8 * float64(time.Hour))).Truncate(time.Second)
		t = t.Add(time.Second) // strictly increasing
		times[k] = t
	}
	p.First, p.Last = times[0], times[len(times)-1]

	show := func(pr Prompt) *Shown {
		l := randomLatent(r)
		h.Images = append(h.Images, Shown{
			ID:     fmt.Sprintf("%s-i%d", p.ID, len(h.Images)),
			Prompt: pr.Text, Latent: l, Attrs: Resolve(pr, l),
		})
		return &h.Images[len(h.Images)-1]
	}
	for k, isComp := range kinds {
		pr := p.Style.MakePrompt(r)
		z := p.TasteAt(times[k])
		if isComp {
			a, b := show(pr), show(pr)
			d := (w.utility(z, &a.Attrs) - w.utility(z, &b.Attrs)) / cfg.Noise
			label := 0.0
			if r.Float64() < sigmoid(d) {
				label = 1
			}
			// Ties come more often when the two are close in utility; the
			// factor keeps the overall rate near tie_rate.
			if r.Float64() < math.Min(1, cfg.TieRate*4.5*sigmoid(-math.Abs(d))) {
				label = 0.5
			}
			h.Comparisons = append(h.Comparisons, palate.Comparison{
				ID: fmt.Sprintf("%s-c%d", p.ID, len(h.Comparisons)), User: p.ID, Prompt: pr.Text,
				Image0: a.ID, Image1: b.ID, Label0: label, Time: times[k],
			})
		} else {
			a := show(pr)
			vote := palate.Dislike
			if r.Float64() < sigmoid((w.utility(z, &a.Attrs)-p.Baseline)/cfg.Noise) {
				vote = palate.Like
			}
			h.Votes = append(h.Votes, palate.Vote{
				ID: fmt.Sprintf("%s-v%d", p.ID, len(h.Votes)), User: p.ID, Image: a.ID,
				Vote: vote, Time: times[k],
			})
		}
	}
	if p.Part == PartSeen {
		h.Cutoff = timeCutoff(h.Comparisons, cfg.TestFraction)
	}
	return h
}

// timeCutoff returns the time of the first test comparison: the later
// test share of the comparisons, at least one train and one test.
func timeCutoff(cs []palate.Comparison, testFrac float64) time.Time {
	n := len(cs)
	nTrain := int(math.Round(float64(n) * (1 - testFrac)))
	nTrain = max(1, min(n-1, nTrain))
	return cs[nTrain].Time
}

// heavyTail draws a Pareto(1.1) count truncated to rg: most people have few
// interactions, a few have many.
func heavyTail(r *rand.Rand, rg Range) int {
	x := float64(rg.Min) * math.Pow(1-r.Float64(), -1/1.1)
	if x > float64(rg.Max) {
		return rg.Max
	}
	return int(x)
}

// Oracles counts correct predictions of three reference predictors on the
// non-tied test comparisons of a population.
type Oracles struct {
	N      int     `json:"n"`      // non-tied test comparisons
	Oracle float64 `json:"oracle"` // correct with the person's true utility
	Group  float64 `json:"group"`  // correct with the group's taste and quality
	Global float64 `json:"global"` // correct with the shared quality only
}

// Add merges counts.
func (o *Oracles) Add(b Oracles) {
	o.N += b.N
	o.Oracle += b.Oracle
	o.Group += b.Group
	o.Global += b.Global
}

// Accuracy returns the three accuracies.
func (o Oracles) Accuracy() (oracle, group, global float64) {
	if o.N == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	n := float64(o.N)
	return o.Oracle / n, o.Group / n, o.Global / n
}

// OracleCounts scores the three reference predictors on h's test
// comparisons (those at or after the cutoff, or all for held-out people).
func (w *World) OracleCounts(h *History) Oracles {
	idx := make(map[string]int, len(h.Images))
	for k := range h.Images {
		idx[h.Images[k].ID] = k
	}
	var o Oracles
	p := h.Person
	if p.Part == PartValidation {
		return o
	}
	right := func(d float64, label float64) float64 {
		switch {
		case d == 0:
			return 0.5
		case (d > 0) == (label == 1):
			return 1
		}
		return 0
	}
	for _, c := range h.Comparisons {
		if c.Label0 == 0.5 || (p.Part == PartSeen && c.Time.Before(h.Cutoff)) {
			continue
		}
		a, b := &h.Images[idx[c.Image0]].Attrs, &h.Images[idx[c.Image1]].Attrs
		o.N++
		o.Oracle += right(w.Utility(p, c.Time, a)-w.Utility(p, c.Time, b), c.Label0)
		o.Group += right(w.GroupUtility(p, a)-w.GroupUtility(p, b), c.Label0)
		o.Global += right(w.GlobalUtility(a)-w.GlobalUtility(b), c.Label0)
	}
	return o
}
