package features

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"palate/internal/linalg"
)

// ridge fits w minimising |Xw - y|² + lambda|w|² (X with a bias column) by
// Cholesky, for the probes below.
func ridge(X [][]float64, ys [][]float64, lambda float64) [][]float64 {
	d := len(X[0])
	A := make([]float64, d*d)
	for _, x := range X {
		for i := 0; i < d; i++ {
			if x[i] == 0 {
				continue
			}
			for j := 0; j <= i; j++ {
				A[i*d+j] += x[i] * x[j]
			}
		}
	}
	for i := 0; i < d; i++ {
		A[i*d+i] += lambda
	}
	chol, ok := linalg.NewCholesky(A, d) // reads the lower triangle, filled above
	if !ok {
		panic("features: ridge matrix not positive definite")
	}
	out := make([][]float64, len(ys[0]))
	for t := range out {
		b := make([]float64, d)
		for n, x := range X {
			for i := range b {
				b[i] += x[i] * ys[n][t]
			}
		}
		out[t] = chol.Solve(b)
	}
	return out
}

func dot(w, x []float64) float64 {
	var s float64
	for i := range w {
		s += w[i] * x[i]
	}
	return s
}

// TestLinearProbe checks that each scene property can be read off the vector
// by a linear model fitted on other scenes: categorical properties by
// one-vs-rest accuracy, continuous ones by R². The floors are well under
// what the recipe reaches, so that they catch a broken block, not noise.
func TestLinearProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 1600 scenes")
	}
	r := rand.New(rand.NewPCG(21, 22))
	const nTrain, nTest = 1200, 400
	p := NewPixels()
	var X [][]float64
	var scenes []scene
	for range nTrain + nTest {
		// Grain is capped at a third of the generator's range and colour
		// kept visible, so that the probe measures the vector, not how
		// much a heavy grain hides.
		sc := randomScene(r)
		sc.grain *= 0.3
		sc.sat = 0.3 + 0.7*sc.sat
		size := 64
		if r.IntN(2) == 0 {
			size = 128
		}
		v, err := p.Embed(context.Background(), sc.render(size))
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, Dim+1)
		for i, f := range v {
			x[i] = float64(f) * math.Sqrt(Dim) // unit-variance-ish inputs
		}
		x[Dim] = 1
		X = append(X, x)
		scenes = append(scenes, sc)
	}
	hueFamily := func(s scene) int { return int(s.hue*8+0.5) % 8 }
	categorical := map[string]struct {
		n     int
		get   func(scene) int
		floor float64
	}{
		"subject":    {8, func(s scene) int { return s.subject }, 0.42},
		"count":      {5, func(s scene) int { return s.count - 1 }, 0.42},
		"background": {6, func(s scene) int { return s.background }, 0.85},
		"hue family": {8, hueFamily, 0.4},
		"symmetric":  {2, func(s scene) int { return map[bool]int{false: 0, true: 1}[s.symmetric] }, 0.85},
	}
	for name, c := range categorical {
		t.Run(name, func(t *testing.T) {
			ys := make([][]float64, len(X))
			for i, s := range scenes {
				ys[i] = make([]float64, c.n)
				ys[i][c.get(s)] = 1
			}
			W := ridge(X[:nTrain], ys[:nTrain], 1)
			right := 0
			for i := nTrain; i < len(X); i++ {
				best, arg := math.Inf(-1), 0
				for k, w := range W {
					if s := dot(w, X[i]); s > best {
						best, arg = s, k
					}
				}
				if arg == c.get(scenes[i]) {
					right++
				}
			}
			acc := float64(right) / nTest
			t.Logf("accuracy %.3f (chance %.3f)", acc, 1/float64(c.n))
			if acc < c.floor {
				t.Errorf("accuracy %.3f under the floor %.2f", acc, c.floor)
			}
		})
	}
	continuous := map[string]struct {
		get   func(scene) float64
		floor float64
	}{
		"saturation": {func(s scene) float64 { return s.sat }, 0.5},
		"brightness": {func(s scene) float64 { return s.bright }, 0.88},
		"contrast":   {func(s scene) float64 { return s.contrast }, 0.7},
		"grain":      {func(s scene) float64 { return s.grain }, 0.55},
		"harmony":    {func(s scene) float64 { return s.harmony }, 0.35},
		"scale":      {func(s scene) float64 { return s.scale }, 0.55},
		"clutter":    {func(s scene) float64 { return s.clutter }, 0.35},
	}
	for name, c := range continuous {
		t.Run(name, func(t *testing.T) {
			ys := make([][]float64, len(X))
			for i, s := range scenes {
				ys[i] = []float64{c.get(s)}
			}
			W := ridge(X[:nTrain], ys[:nTrain], 1)
			var mean, ssTot, ssRes float64
			for i := nTrain; i < len(X); i++ {
				mean += ys[i][0] / nTest
			}
			for i := nTrain; i < len(X); i++ {
				d := ys[i][0] - dot(W[0], X[i])
				ssRes += d * d
				ssTot += (ys[i][0] - mean) * (ys[i][0] - mean)
			}
			r2 := 1 - ssRes/ssTot
			t.Logf("R² %.3f", r2)
			if r2 < c.floor {
				t.Errorf("R² %.3f under the floor %.2f", r2, c.floor)
			}
		})
	}
}
