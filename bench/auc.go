package bench

import (
	"math"
	"sort"
)

// AUC is the area under the ROC curve of scores against labels (true =
// positive, e.g. a like): the probability that a random positive scores above
// a random negative, ties counting half (average ranks, the Mann–Whitney
// statistic). 1 is a perfect ranking, 0.5 chance, 0 a reversed one. NaN when
// the lengths differ or either class is empty. A NaN score ranks lowest.
func AUC(scores []float64, labels []bool) float64 {
	n := len(scores)
	if n != len(labels) {
		return math.NaN()
	}
	s := make([]float64, n) // NaN ranks lowest, so sorting stays consistent
	for i, x := range scores {
		if math.IsNaN(x) {
			x = math.Inf(-1)
		}
		s[i] = x
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	var pos, neg int
	var rankSum float64 // sum of the positives' ranks (1-based, ties averaged)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && s[idx[hi]] == s[idx[lo]] {
			hi++
		}
		avg := float64(lo+1+hi) / 2 // mean of ranks lo+1 .. hi
		for _, i := range idx[lo:hi] {
			if labels[i] {
				pos++
				rankSum += avg
			} else {
				neg++
			}
		}
		lo = hi
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	p := float64(pos)
	return (rankSum - p*(p+1)/2) / (p * float64(neg))
}
