package bench

import "math"

// Float is the element type of the vectors the clustering measures accept:
// descriptors come as float32 from predictors and as float64 from analysis.
type Float interface{ ~float32 | ~float64 }

// toF64 copies vectors into float64 rows of one length, the longest row's;
// shorter rows are padded with zeros.
func toF64[T Float](vs [][]T) [][]float64 {
	d := 0
	for _, v := range vs {
		d = max(d, len(v))
	}
	out := make([][]float64, len(vs))
	flat := make([]float64, len(vs)*d)
	for i, v := range vs {
		row := flat[i*d : (i+1)*d]
		for j, x := range v {
			row[j] = float64(x)
		}
		out[i] = row
	}
	return out
}

func dot(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

func sqDist(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		d := x - b[i]
		s += d * d
	}
	return s
}

// normalize scales v to unit length in place; a zero vector stays zero.
func normalize(v []float64) {
	n := math.Sqrt(dot(v, v))
	if n == 0 {
		return
	}
	for i := range v {
		v[i] /= n
	}
}

func nan() float64 { return math.NaN() }
