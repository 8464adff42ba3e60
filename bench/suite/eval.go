package suite

import (
	"context"
	"runtime"
	"sync"
	"time"

	"palate"
	"palate/bench"
	"palate/dataset"
	"palate/history"
)

// query is one thing to score for one person: the two images of a held-out
// comparison (preferred first) or the one image of a held-out vote, with the
// history it is judged from and when it happened (palate measures recency
// back from then).
type query struct {
	user *history.UserData
	hist []history.Item
	at   time.Time
	rows []int32
	vote bool
	like bool
}

// evalSet is every query of one part at one history length, person by
// person (a person's comparisons, then their votes), so one encoded history
// serves all of a person's queries. Its comparisons are exactly those of
// history.Data.EvalPairs, in the same order.
type evalSet struct {
	part   dataset.Part
	k      int
	qs     []query
	groups [][2]int // [lo, hi) of each person's queries
	pairs  int
	votes  int
}

// makeSet builds the queries of the given part with k history pairs: the
// Table-1 protocol of history.Data.EvalPairs for comparisons, and, when
// votes is set, the person's held-out votes judged from the same history
// (seen people: their test votes; held-out people: their votes after the
// last of their first k pairs).
func makeSet(d *history.Data, k int, part dataset.Part, votes bool) *evalSet {
	s := &evalSet{part: part, k: k}
	eps := d.EvalPairs(k, part)
	e := 0
	for _, u := range d.Parts(part) {
		var hist []history.Item
		var vs []history.Single
		if u.Part == dataset.Train {
			hist = history.PairItems(u.Pairs[max(0, len(u.Pairs)-k):])
			vs = u.TestVotes
		} else {
			n := min(k, len(u.Pairs))
			hist = history.PairItems(u.Pairs[:n])
			for _, v := range u.Votes {
				if n == 0 || v.Time.After(u.Pairs[n-1].Time) {
					vs = append(vs, v)
				}
			}
		}
		lo := len(s.qs)
		for ; e < len(eps) && eps[e].User == u; e++ {
			p := eps[e].Pair
			s.qs = append(s.qs, query{user: u, hist: hist, at: p.Time, rows: []int32{p.Win, p.Lose}})
			s.pairs++
		}
		if votes {
			for _, v := range vs {
				s.qs = append(s.qs, query{user: u, hist: hist, at: v.Time, rows: []int32{v.Image}, vote: true, like: v.Like})
				s.votes++
			}
		}
		if len(s.qs) > lo {
			s.groups = append(s.groups, [2]int{lo, len(s.qs)})
		}
	}
	return s
}

// scoreFn scores one person's queries (all with the same history): one
// score per row of each query.
type scoreFn func(ctx context.Context, qs []query) ([][]float64, error)

// outcome is one predictor's result on one evalSet.
type outcome struct {
	judged  []bench.Judged // the comparisons, in set order
	vScores []float64      // the votes' scores and labels, in set order
	vLabels []bool
	seconds float64 // wall time of the evaluation
	cands   int     // candidates scored
}

// acc is the plain pairwise accuracy of the judged comparisons.
func (o *outcome) acc() float64 {
	if len(o.judged) == 0 {
		return nan
	}
	var s float64
	for _, j := range o.judged {
		s += j.Correct
	}
	return s / float64(len(o.judged))
}

// evaluate scores every query of set with fn, people in parallel on
// `workers` goroutines (GOMAXPROCS when <= 0).
func evaluate(ctx context.Context, set *evalSet, fn scoreFn, workers int) (*outcome, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	scores := make([][]float64, len(set.qs))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan [2]int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range next {
				s, err := fn(ctx, set.qs[g[0]:g[1]])
				if err == nil && len(s) != g[1]-g[0] {
					err = palate.Errorf(palate.EINTERNAL, "bench: a predictor returned %d scores for %d queries", len(s), g[1]-g[0])
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				copy(scores[g[0]:g[1]], s)
			}
		}()
	}
	for _, g := range set.groups {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- g
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := &outcome{seconds: time.Since(start).Seconds()}
	for i, q := range set.qs {
		s := scores[i]
		o.cands += len(q.rows)
		if q.vote {
			v := nan
			if len(s) == 1 {
				v = s[0]
			}
			o.vScores = append(o.vScores, v)
			o.vLabels = append(o.vLabels, q.like)
			continue
		}
		c := 0.5
		if len(s) == 2 {
			c = bench.Outcome(s[0], s[1])
		}
		o.judged = append(o.judged, bench.Judged{User: q.user.ID, Correct: c})
	}
	return o, nil
}

// averageJudged averages the judgements of several seeds on the same set
// (fractional correctness), so one bootstrap gives the interval of the
// seed-averaged accuracy.
func averageJudged(outs []*outcome) []bench.Judged {
	if len(outs) == 0 {
		return nil
	}
	avg := make([]bench.Judged, len(outs[0].judged))
	copy(avg, outs[0].judged)
	for _, o := range outs[1:] {
		for i, j := range o.judged {
			avg[i].Correct += j.Correct
		}
	}
	for i := range avg {
		avg[i].Correct /= float64(len(outs))
	}
	return avg
}

// filterJudged keeps the judgements of people for whom keep is true.
func filterJudged(js []bench.Judged, keep func(user string) bool) []bench.Judged {
	var out []bench.Judged
	for _, j := range js {
		if keep(j.User) {
			out = append(out, j)
		}
	}
	return out
}

// baselineScore adapts a baseline predictor: one Score call per person.
func baselineScore(score bench.ScoreFunc) scoreFn {
	return func(_ context.Context, qs []query) ([][]float64, error) {
		var rows []int32
		for _, q := range qs {
			rows = append(rows, q.rows...)
		}
		s := score(qs[0].hist, rows)
		out := make([][]float64, len(qs))
		i := 0
		for k, q := range qs {
			if len(s) >= i+len(q.rows) {
				out[k] = s[i : i+len(q.rows)]
			}
			i += len(q.rows)
		}
		return out, nil
	}
}

// truthScore scores with a reference ceiling: the person's true utility at
// the query's time (minus their like baseline for votes, so pooled vote AUC
// is the truth's), their group's utility, the people's mean utility, or the
// shared quality alone.
func (t *Truth) truthScore(kind string, d *history.Data) scoreFn {
	return func(_ context.Context, qs []query) ([][]float64, error) {
		p := t.People[qs[0].user.ID]
		if p == nil {
			return nil, palate.Errorf(palate.EINVALID, "bench: person %q is not in the world's truth", qs[0].user.ID)
		}
		out := make([][]float64, len(qs))
		for k, q := range qs {
			s := make([]float64, len(q.rows))
			for i, r := range q.rows {
				a := t.Attrs[d.Emb.IDs[r]]
				if a == nil {
					return nil, palate.Errorf(palate.EINVALID, "bench: image %q is not in the world's truth", d.Emb.IDs[r])
				}
				switch kind {
				case Oracle:
					s[i] = t.World.Utility(p, q.at, a)
					if q.vote {
						s[i] -= p.Baseline
					}
				case GroupOracle:
					s[i] = t.World.GroupUtility(p, a)
				case CrowdOracle:
					s[i] = t.crowdUtility(a)
				default:
					s[i] = t.World.GlobalUtility(a)
				}
			}
			out[k] = s
		}
		return out, nil
	}
}
