package bench

import "math"

// contingency counts how often each (pred, truth) label pair occurs, with the
// row (pred) and column (truth) sums. Labels may be any ints.
type contingency struct {
	n          float64
	cells      map[[2]int]float64
	rows, cols map[int]float64
}

func newContingency(pred, truth []int) *contingency {
	c := &contingency{cells: map[[2]int]float64{}, rows: map[int]float64{}, cols: map[int]float64{}}
	for i := range pred {
		c.cells[[2]int{pred[i], truth[i]}]++
		c.rows[pred[i]]++
		c.cols[truth[i]]++
	}
	c.n = float64(len(pred))
	return c
}

// ARI is the adjusted Rand index of two labelings of the same points (Hubert
// and Arabie): the share of point pairs on which they agree, corrected for
// chance, so that identical labelings (up to renaming) give 1 and independent
// ones about 0; it can go below 0. Where the correction is undefined (both
// labelings put everything in one group, or both make every point its own
// group) the labelings are identical up to renaming and ARI is 1. NaN when
// the lengths differ or there are no points.
func ARI(pred, truth []int) float64 {
	if len(pred) != len(truth) || len(pred) == 0 {
		return math.NaN()
	}
	c := newContingency(pred, truth)
	comb2 := func(x float64) float64 { return x * (x - 1) / 2 }
	var index, a, b float64
	for _, v := range c.cells {
		index += comb2(v)
	}
	for _, v := range c.rows {
		a += comb2(v)
	}
	for _, v := range c.cols {
		b += comb2(v)
	}
	expected := a * b / comb2(c.n)
	maxIndex := (a + b) / 2
	if maxIndex == expected { // both trivial: all in one group, or all apart
		return 1
	}
	return (index - expected) / (maxIndex - expected)
}

// NMI is the normalised mutual information of two labelings with arithmetic
// normalisation, I(pred; truth) / ((H(pred) + H(truth)) / 2) (scikit-learn's
// default): 1 for identical labelings up to renaming, about 0 for independent
// ones (it is not adjusted for chance, so many small clusters score a little
// above 0). Two labelings that each put everything in one group give 1; one
// that does while the other does not gives 0. NaN when the lengths differ or
// there are no points.
func NMI(pred, truth []int) float64 {
	if len(pred) != len(truth) || len(pred) == 0 {
		return math.NaN()
	}
	c := newContingency(pred, truth)
	entropy := func(m map[int]float64) float64 {
		var h float64
		for _, v := range m {
			p := v / c.n
			h -= p * math.Log(p)
		}
		return h
	}
	hp, ht := entropy(c.rows), entropy(c.cols)
	if hp == 0 && ht == 0 {
		return 1
	}
	if hp == 0 || ht == 0 {
		return 0
	}
	var mi float64
	for k, v := range c.cells {
		mi += v / c.n * math.Log(v*c.n/(c.rows[k[0]]*c.cols[k[1]]))
	}
	return max(0, mi/((hp+ht)/2))
}
