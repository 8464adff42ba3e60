package bench

import (
	"math"
	"math/rand/v2"
)

// KMeansRestarts is how many k-means++ starts KMeans runs; the one with the
// lowest inertia wins.
const KMeansRestarts = 10

// KMeans clusters vectors into k groups by Lloyd's algorithm with k-means++
// starts, KMeansRestarts of them, keeping the clustering with the lowest
// inertia (sum of squared distances to the centres), and returns each
// vector's cluster in [0, k). k is clamped to [1, len(vectors)]; no vectors
// give nil. Vectors are compared as given: normalise them first for cosine
// clustering. The same inputs and seed give the same labels.
func KMeans[T Float](vectors [][]T, k int, seed uint64) []int {
	n := len(vectors)
	if n == 0 {
		return nil
	}
	k = min(max(k, 1), n)
	x := toF64(vectors)
	r := rand.New(rand.NewPCG(seed, 0x6b6d65616e73))
	var best []int
	bestInertia := math.Inf(1)
	for range KMeansRestarts {
		labels, inertia := lloyd(x, k, r)
		if inertia < bestInertia {
			best, bestInertia = labels, inertia
		}
	}
	return best
}

// lloyd runs one k-means++ start to convergence (or 300 rounds).
func lloyd(x [][]float64, k int, r *rand.Rand) ([]int, float64) {
	n, d := len(x), len(x[0])
	centres := make([][]float64, k)
	// k-means++: the first centre uniformly, each next one with probability
	// proportional to the squared distance to the nearest centre so far.
	dist := make([]float64, n)
	centres[0] = append([]float64(nil), x[r.IntN(n)]...)
	for i := range x {
		dist[i] = sqDist(x[i], centres[0])
	}
	for c := 1; c < k; c++ {
		var total float64
		for _, v := range dist {
			total += v
		}
		pick := r.IntN(n)
		if total > 0 {
			u := r.Float64() * total
			for i, v := range dist {
				u -= v
				if u < 0 {
					pick = i
					break
				}
			}
		}
		centres[c] = append([]float64(nil), x[pick]...)
		for i := range x {
			dist[i] = min(dist[i], sqDist(x[i], centres[c]))
		}
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	counts := make([]int, k)
	var inertia float64
	for round := 0; round < 300; round++ {
		changed := false
		inertia = 0
		for i, v := range x {
			bi, bd := 0, math.Inf(1)
			for c, ctr := range centres {
				if dd := sqDist(v, ctr); dd < bd {
					bi, bd = c, dd
				}
			}
			if labels[i] != bi {
				labels[i] = bi
				changed = true
			}
			inertia += bd
		}
		if !changed {
			break
		}
		for c := range centres {
			clear(centres[c])
			counts[c] = 0
		}
		for i, v := range x {
			c := centres[labels[i]]
			for j := range d {
				c[j] += v[j]
			}
			counts[labels[i]]++
		}
		for c := range centres {
			if counts[c] == 0 {
				continue
			}
			inv := 1 / float64(counts[c])
			for j := range centres[c] {
				centres[c][j] *= inv
			}
		}
		for c := range centres {
			if counts[c] != 0 {
				continue
			}
			// An empty cluster restarts at the point farthest from its
			// centre, taken from a cluster that can spare it.
			far, fd := -1, -1.0
			for i, v := range x {
				if counts[labels[i]] < 2 {
					continue
				}
				if dd := sqDist(v, centres[labels[i]]); dd > fd {
					far, fd = i, dd
				}
			}
			if far < 0 {
				continue
			}
			copy(centres[c], x[far])
			counts[labels[far]]--
			labels[far] = c
			counts[c] = 1
		}
	}
	return labels, inertia
}
