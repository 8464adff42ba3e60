package bench

import "math"

// PCA2 projects vectors onto their first two principal components (centred,
// unscaled), found by power iteration with deflation, and returns each
// vector's coordinates: the 2-D picture of user descriptors. Each component's
// sign is fixed so that its largest-magnitude loading is positive, so the
// picture does not flip between runs. A component that does not exist (all
// points on a line, or fewer than three points) gives zeros.
func PCA2[T Float](vectors [][]T) [][2]float64 {
	n := len(vectors)
	out := make([][2]float64, n)
	if n == 0 {
		return out
	}
	x := toF64(vectors)
	d := len(x[0])
	if d == 0 {
		return out
	}
	mean := make([]float64, d)
	for _, v := range x {
		for j, e := range v {
			mean[j] += e
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for _, v := range x {
		for j := range v {
			v[j] -= mean[j]
		}
	}
	var total float64 // total variance times n, to judge a vanishing component
	for _, v := range x {
		total += dot(v, v)
	}
	xv := make([]float64, n)
	var comps [][]float64
	for c := 0; c < 2; c++ {
		v := make([]float64, d)
		for j := range v { // a fixed, generic start
			v[j] = 1 + 0.01*float64(j%7) + math.Sin(float64(j+1))
		}
		deflate(v, comps)
		normalize(v)
		var lambda float64
		for it := 0; it < 1000; it++ {
			// w = Xᵀ X v, then remove earlier components.
			for i, row := range x {
				xv[i] = dot(row, v)
			}
			w := make([]float64, d)
			for i, row := range x {
				for j, e := range row {
					w[j] += xv[i] * e
				}
			}
			deflate(w, comps)
			lambda = math.Sqrt(dot(w, w))
			if lambda == 0 {
				break
			}
			for j := range w {
				w[j] /= lambda
			}
			diff := sqDist(w, v)
			v = w
			if diff < 1e-20 {
				break
			}
		}
		if !(lambda > 1e-12*total) {
			break
		}
		big := 0
		for j := range v {
			if math.Abs(v[j]) > math.Abs(v[big]) {
				big = j
			}
		}
		if v[big] < 0 {
			for j := range v {
				v[j] = -v[j]
			}
		}
		comps = append(comps, v)
	}
	for i, row := range x {
		for c, v := range comps {
			out[i][c] = dot(row, v)
		}
	}
	return out
}

// deflate removes from v its projection on each (unit) component.
func deflate(v []float64, comps [][]float64) {
	for _, c := range comps {
		p := dot(v, c)
		for j := range v {
			v[j] -= p * c[j]
		}
	}
}
