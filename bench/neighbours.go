package bench

// PrecisionAtK is the share of each point's k nearest neighbours by cosine
// similarity (itself excluded) that share its true group, averaged over all
// points: how well a descriptor finds people of similar taste. k is clamped
// to the number of other points; fewer than two points give NaN. Ties in
// similarity are broken by index, so the result is deterministic.
func PrecisionAtK[T Float](vectors [][]T, truth []int, k int) float64 {
	n := len(vectors)
	if n < 2 || len(truth) != n {
		return nan()
	}
	k = min(max(k, 1), n-1)
	x := toF64(vectors)
	for _, v := range x {
		normalize(v)
	}
	sims := make([]float64, n)
	top := make([]int, 0, k)
	var total float64
	for i := range x {
		for j := range x {
			sims[j] = dot(x[i], x[j])
		}
		top = top[:0]
		// Keep the k best in a small sorted list: k is small.
		for j := range x {
			if j == i {
				continue
			}
			if len(top) == k && sims[j] <= sims[top[k-1]] {
				continue
			}
			p := len(top)
			if p < k {
				top = append(top, j)
			} else {
				p = k - 1
			}
			for p > 0 && sims[j] > sims[top[p-1]] {
				top[p] = top[p-1]
				p--
			}
			top[p] = j
		}
		same := 0
		for _, j := range top {
			if truth[j] == truth[i] {
				same++
			}
		}
		total += float64(same) / float64(k)
	}
	return total / float64(n)
}
