package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"palate/history"
)

// Judged is the outcome of one judged comparison: whose it was and whether the
// predictor ranked the preferred image higher (1), lower (0) or gave both the
// same score (0.5, an exact tie, counted as half right).
type Judged struct {
	User    string
	Correct float64
}

// Outcome scores one comparison from the predictor's scores of the preferred
// and the other image: 1 when the preferred one scores higher, 0 when lower,
// 0.5 on an exact tie (including when either score is NaN).
func Outcome(win, lose float64) float64 {
	switch {
	case win > lose:
		return 1
	case win < lose:
		return 0
	}
	return 0.5
}

// Interval is an accuracy with its 95% bootstrap interval and the number of
// judged comparisons behind it. Acc is NaN when N is 0.
type Interval struct {
	Acc float64 `json:"acc"`
	Lo  float64 `json:"lo"`
	Hi  float64 `json:"hi"`
	N   int     `json:"n"`
}

// DefaultResamples is the number of bootstrap resamples PairAccuracy draws
// when asked for none.
const DefaultResamples = 1000

// PairAccuracy returns the share of correct judgements (ties count half) with
// a 95% percentile interval from a cluster bootstrap over people: each
// resample draws as many people as there are, with replacement, and pools all
// their comparisons. People, not comparisons, are the unit because one
// person's comparisons are not independent of each other; resampling pairs
// would give intervals that are too narrow. resamples <= 0 means
// DefaultResamples. The same judgements and seed always give the same
// interval, whatever their order.
func PairAccuracy(judged []Judged, resamples int, seed uint64) Interval {
	if resamples <= 0 {
		resamples = DefaultResamples
	}
	if len(judged) == 0 {
		return Interval{Acc: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	type cluster struct{ sum, n float64 }
	byUser := map[string]*cluster{}
	var total float64
	for _, j := range judged {
		c := byUser[j.User]
		if c == nil {
			c = &cluster{}
			byUser[j.User] = c
		}
		c.sum += j.Correct
		c.n++
		total += j.Correct
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	sort.Strings(users) // map order must not reach the random stream
	cl := make([]cluster, len(users))
	for i, u := range users {
		cl[i] = *byUser[u]
	}
	r := rand.New(rand.NewPCG(seed, 0xb0075))
	accs := make([]float64, resamples)
	for b := range accs {
		var s, n float64
		for range cl {
			c := cl[r.IntN(len(cl))]
			s += c.sum
			n += c.n
		}
		accs[b] = s / n
	}
	slices.Sort(accs)
	return Interval{
		Acc: total / float64(len(judged)),
		Lo:  quantile(accs, 0.025),
		Hi:  quantile(accs, 0.975),
		N:   len(judged),
	}
}

// quantile returns the q-quantile of sorted xs by linear interpolation.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	p := q * float64(len(xs)-1)
	i := int(math.Floor(p))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	f := p - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}

// GapClosure is the share of the way from the non-personal scorer to the
// oracle that acc covers: (acc − nonPersonal) / (oracle − nonPersonal). It
// makes worlds of different difficulty comparable: 0 is no better than the
// non-personal scorer, 1 is as good as the world's truth allows, negative is
// worse than not personalising at all. NaN when the oracle does not beat the
// non-personal scorer, where the gap is undefined.
func GapClosure(acc, nonPersonal, oracle float64) float64 {
	gap := oracle - nonPersonal
	if !(gap > 0) {
		return math.NaN()
	}
	return (acc - nonPersonal) / gap
}

// ScoreFunc scores candidate images for one person from their history items
// (higher = more preferred), the shape every predictor can be adapted to.
type ScoreFunc func(hist []history.Item, cands []int32) []float64

// JudgePairs judges each evaluation pair with score. Consecutive pairs of the
// same person with the same history (as history.Data.EvalPairs returns them)
// are scored in one call, so a predictor that fits something to the history
// fits it once per person. The result is in the order of eps.
func JudgePairs(score ScoreFunc, eps []history.EvalPair) []Judged {
	out := make([]Judged, 0, len(eps))
	var cands []int32
	for lo := 0; lo < len(eps); {
		hi := lo + 1
		for hi < len(eps) && eps[hi].User == eps[lo].User && sameItems(eps[hi].History, eps[lo].History) {
			hi++
		}
		cands = cands[:0]
		for _, e := range eps[lo:hi] {
			cands = append(cands, e.Pair.Win, e.Pair.Lose)
		}
		s := score(eps[lo].History, cands)
		for i, e := range eps[lo:hi] {
			id := ""
			if e.User != nil {
				id = e.User.ID
			}
			c := 0.5
			if len(s) == len(cands) {
				c = Outcome(s[2*i], s[2*i+1])
			}
			out = append(out, Judged{User: id, Correct: c})
		}
		lo = hi
	}
	return out
}

// sameItems reports whether two histories are the same slice or hold the same
// items.
func sameItems(a, b []history.Item) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return slices.Equal(a, b)
}
