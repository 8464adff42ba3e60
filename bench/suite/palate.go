package suite

import (
	"context"
	"slices"
	"sort"
	"time"

	"palate/history"
	"palate/model"
	"palate/scorer"
	"palate/train"
)

// Variant is one palate configuration the bench trains: a change to the
// model config and training options of the full model.
type Variant struct {
	// Name is the variant's name in tables ("full", "no-cp", ...).
	Name string
	// Apply changes the full model's config and options; nil for full.
	Apply func(cfg *model.Config, o *train.Options)
	// Truth trains on the world's true-attribute embedding instead of the
	// bench's embedder (the embedder diagnostic).
	Truth bool
}

// Variants are palate's variants, in table order: the full model, the
// paper's ablations (no L_CP, no preference tokens), the token pool, the
// paper's two-stage schedule, the K sweep (K = 10 is the full model) and the
// embedder diagnostic.
var Variants = []Variant{
	{Name: "full"},
	{Name: "no-cp", Apply: func(c *model.Config, _ *train.Options) { c.Lambda = 0 }},
	{Name: "k=0", Apply: func(c *model.Config, _ *train.Options) { c.PrefTokens = 0 }},
	{Name: "pool", Apply: func(c *model.Config, _ *train.Options) { c.TokenMode = model.TokenModePool }},
	{Name: "two-stage", Apply: func(_ *model.Config, o *train.Options) { o.Mode = train.ModeTwoStage }},
	{Name: "k=1", Apply: func(c *model.Config, _ *train.Options) { c.PrefTokens = 1 }},
	{Name: "k=5", Apply: func(c *model.Config, _ *train.Options) { c.PrefTokens = 5 }},
	{Name: "k=20", Apply: func(c *model.Config, _ *train.Options) { c.PrefTokens = 20; c.PoolSize = max(c.PoolSize, 20) }},
	{Name: "truth-embedder", Truth: true},
}

// QuickVariants are the variants --quick trains: the full model and the
// paper's two ablations.
var QuickVariants = []string{"full", "no-cp", "k=0"}

func variantByName(name string) (Variant, bool) {
	for _, v := range Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// palateModel is one trained (or loaded) palate model ready to score.
type palateModel struct {
	variant string
	seed    uint64
	ck      *train.Checkpoint
	sc      *scorer.Scorer
	d       *history.Data // the data its embedder made
}

// score adapts the scorer to the bench: one person's queries share a
// history, but recency is measured back from each query's own time, so the
// queries are grouped by the recency buckets their history gets and each
// group is encoded once. noRecency sets every bucket to 0 (the drift
// measure without the recency signal).
func (m *palateModel) score(noRecency bool) scoreFn {
	buckets := m.sc.Config().RecencyBuckets
	return func(ctx context.Context, qs []query) ([][]float64, error) {
		type sub struct {
			at  time.Time
			idx []int
		}
		var subs []*sub
		bySig := map[string]*sub{}
		sig := make([]byte, 0, 64)
		for i, q := range qs {
			sig = sig[:0]
			if !noRecency {
				for _, it := range q.hist {
					sig = append(sig, byte(model.AgeBucket(q.at.Sub(it.Time), buckets)))
				}
			}
			s := bySig[string(sig)]
			if s == nil {
				s = &sub{at: q.at}
				bySig[string(sig)] = s
				subs = append(subs, s)
			}
			s.idx = append(s.idx, i)
		}
		out := make([][]float64, len(qs))
		hist := qs[0].hist
		for _, s := range subs {
			items := scorer.FromHistory(m.d, hist, s.at)
			if noRecency {
				for i := range items {
					items[i].Age = 0
				}
			}
			c, err := m.sc.Context(ctx, items)
			if err != nil {
				return nil, err
			}
			var rows []int32
			for _, i := range s.idx {
				rows = append(rows, qs[i].rows...)
			}
			res, err := m.sc.Score(ctx, c, scorer.Candidates(m.d, rows))
			if err != nil {
				return nil, err
			}
			j := 0
			for _, i := range s.idx {
				v := make([]float64, len(qs[i].rows))
				for r := range v {
					v[r] = float64(res.Scores[j])
					j++
				}
				out[i] = v
			}
		}
		return out, nil
	}
}

// descriptor returns the scorer's descriptors of a history, encoded as of
// just after its last item; nil for an empty history.
func (m *palateModel) descriptor(ctx context.Context, hist []history.Item) (*scorer.Descriptor, error) {
	if len(hist) == 0 {
		return nil, nil
	}
	at := hist[0].Time
	for _, it := range hist {
		if it.Time.After(at) {
			at = it.Time
		}
	}
	return m.sc.Descriptor(ctx, scorer.FromHistory(m.d, hist, at.Add(time.Second)))
}

// params counts the model's learnt parameters.
func params(cfg model.Config) int {
	n := 0
	for _, p := range model.Params(cfg) {
		k := 1
		for _, d := range p.Dims {
			k *= d
		}
		n += k
	}
	return n
}

// timing measures the scorer on the seen person with the most training
// pairs: the median time to encode a history of up to maxPairs pairs, and
// the median time per candidate of scoring 512 candidates against it.
func (m *palateModel) timing(ctx context.Context, maxPairs int) (encode, perCand float64, err error) {
	var best *history.UserData
	for _, u := range m.d.Users {
		if best == nil || len(u.Pairs) > len(best.Pairs) {
			best = u
		}
	}
	if best == nil || len(best.Pairs) == 0 {
		return nan, nan, nil
	}
	hist := history.PairItems(best.Pairs[max(0, len(best.Pairs)-maxPairs):])
	items := scorer.FromHistory(m.d, hist, best.Pairs[len(best.Pairs)-1].Time.Add(time.Hour))
	var c *scorer.Context
	var enc []float64
	for range 6 {
		t0 := time.Now()
		if c, err = m.sc.Context(ctx, items); err != nil {
			return nan, nan, err
		}
		enc = append(enc, time.Since(t0).Seconds())
	}
	rows := make([]int32, 512)
	n := len(m.d.Emb.IDs)
	for i := range rows {
		rows[i] = int32((i * 7919) % n)
	}
	cands := scorer.Candidates(m.d, rows)
	var sc []float64
	for range 4 {
		t0 := time.Now()
		if _, err := m.sc.Score(ctx, c, cands); err != nil {
			return nan, nan, err
		}
		sc = append(sc, time.Since(t0).Seconds()/float64(len(rows)))
	}
	// The first call of each shape compiles its graph: drop it.
	return median(enc[1:]), median(sc[1:]), nil
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return nan
	}
	s := slices.Clone(x)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
