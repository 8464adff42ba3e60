package suite

import (
	"context"
	"math"
	"slices"
	"sort"

	"palate/bench"
	"palate/dataset"
	"palate/history"
)

// descHistory is the history that describes a person for the similar-users
// measure: a seen person's n most recent training pairs, a held-out
// person's first n pairs (never a test comparison).
func descHistory(u *history.UserData, n int) []history.Item {
	if u.Part == dataset.Train {
		return history.PairItems(u.Pairs[max(0, len(u.Pairs)-n):])
	}
	return history.PairItems(u.Pairs[:min(n, len(u.Pairs))])
}

// describe computes descriptors of every seen and unseen person with a
// history: fn returns one vector per name (nil or empty: none). A name that
// gets no vector for anyone (a descriptor the model does not have) is
// left out of the report. Nothing is done without the world's truth,
// which the measure needs.
func (r *runner) describe(ctx context.Context, names []string, d *history.Data, fn func(context.Context, []history.Item) ([][]float32, error)) error {
	if r.truth == nil {
		return nil
	}
	n := min(r.opt.DescriptorPairs, r.cap)
	for _, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
		for _, u := range d.Parts(part) {
			h := descHistory(u, n)
			if len(h) == 0 {
				continue
			}
			vs, err := fn(ctx, h)
			if err != nil {
				return err
			}
			for i, v := range vs {
				if i >= len(names) || len(v) == 0 {
					continue
				}
				if r.descs[names[i]] == nil {
					r.descs[names[i]] = map[string][]float32{}
					r.descOrder = append(r.descOrder, names[i])
				}
				r.descs[names[i]][u.ID] = slices.Clone(v)
			}
		}
	}
	return nil
}

// describeTruth adds the people's true starting tastes as a descriptor, the
// ceiling of what any descriptor can show of the groups.
func (r *runner) describeTruth() {
	if r.truth == nil {
		return
	}
	m := map[string][]float32{}
	for _, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
		for _, u := range r.d.Parts(part) {
			p := r.truth.People[u.ID]
			if p == nil {
				continue
			}
			v := make([]float32, len(p.Taste))
			for i, x := range p.Taste {
				v[i] = float32(x)
			}
			m[u.ID] = v
		}
	}
	r.descs["truth/taste"] = m
	r.descOrder = append(r.descOrder, "truth/taste")
}

// similar scores one descriptor: vectors are centred by the mean over every
// described person and scaled to unit length, then for each part clustered
// by k-means into the world's number of groups (ARI, NMI against the true
// groups) and searched for their 10 nearest neighbours (precision@10). It
// also returns the 2-D projection of all described people.
func (r *runner) similar(name string) ([]bench.SimilarResult, bench.Projection) {
	m := r.descs[name]
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var mean []float64
	for _, id := range ids {
		v := m[id]
		if mean == nil {
			mean = make([]float64, len(v))
		}
		for i, x := range v {
			if i < len(mean) {
				mean[i] += float64(x) / float64(len(ids))
			}
		}
	}
	vec := map[string][]float64{}
	for _, id := range ids {
		v := make([]float64, len(mean))
		var n float64
		for i := range v {
			if i < len(m[id]) {
				v[i] = float64(m[id][i]) - mean[i]
			}
			n += v[i] * v[i]
		}
		if n > 0 {
			for i := range v {
				v[i] /= math.Sqrt(n)
			}
		}
		vec[id] = v
	}
	var out []bench.SimilarResult
	for _, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
		var vs [][]float64
		var truth []int
		for _, u := range r.d.Parts(part) {
			if v, ok := vec[u.ID]; ok {
				vs = append(vs, v)
				truth = append(truth, r.truth.People[u.ID].Group)
			}
		}
		res := bench.SimilarResult{Descriptor: name, Part: partName(part), People: len(vs),
			ARI: bench.Num(nan), NMI: bench.Num(nan), PAt10: bench.Num(nan)}
		if len(vs) >= 2 {
			labels := bench.KMeans(vs, r.truth.Groups(), 1)
			res.ARI = bench.Num(bench.ARI(labels, truth))
			res.NMI = bench.Num(bench.NMI(labels, truth))
			res.PAt10 = bench.Num(bench.PrecisionAtK(vs, truth, 10))
		}
		out = append(out, res)
	}
	all := make([][]float64, len(ids))
	for i, id := range ids {
		all[i] = vec[id]
	}
	proj := bench.Projection{Descriptor: name}
	for i, xy := range bench.PCA2(all) {
		proj.Points = append(proj.Points, bench.Point{X: xy[0], Y: xy[1], Group: r.truth.People[ids[i]].Group, Label: ids[i]})
	}
	return out, proj
}

func partName(p dataset.Part) string {
	if p == dataset.Train {
		return "seen"
	}
	return "unseen"
}
