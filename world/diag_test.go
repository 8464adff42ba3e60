//go:build diag

// A measurement, not a check (build tag diag): how much of the Scale
// attribute any reader of the pictures could recover, given the layout
// randomness the renderer adds to each subject's size.
//
//	GOEXPERIMENT=simd go test -tags diag -count=1 -run TestDiagScaleFromSizes -v ./world/

package world

import (
	"math"
	"math/rand/v2"
	"testing"

	"palate/internal/linalg"
)

// TestDiagScaleFromSizes fits Scale by least squares on every other one of
// 40,000 random layouts (open prompts; the horizon backdrop's line at 0.6)
// from what a perfect reader of the picture would know: each subject's
// drawn radius (the mean and the largest of their logs, and the mean's
// square), the count and the symmetry, all per count. It prints the R² on
// the other half. Scattered layouts draw each size ×0.7-1.3, and ground
// subjects larger when nearer, so it stays under 1.
func TestDiagScaleFromSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const N = 40000
	var xs [][]float64
	var ys []float64
	for range N {
		a := Attrs{Scale: r.Float64(), Symmetry: r.Float64(), Count: 1 + r.IntN(MaxCount), Subject: r.IntN(len(Subjects)), Background: r.IntN(len(Backgrounds))}
		seed := r.Uint64()
		horizon := float32(0)
		if a.Background == bgHorizon {
			horizon = 0.6
		}
		var insts [MaxCount]instance
		layoutInstances(insts[:a.Count], a, seed, horizon)
		var lm, lmax float64
		lmax = -9
		for _, in := range insts[:a.Count] {
			l := math.Log(float64(in.r))
			lm += l
			lmax = max(lmax, l)
		}
		lm /= float64(a.Count)
		x := []float64{1}
		for c := 1; c <= MaxCount; c++ {
			oh := 0.0
			if a.Count == c {
				oh = 1
			}
			for _, f := range []float64{1, lm, lm * lm, lmax, a.Symmetry, a.Symmetry * lm} {
				x = append(x, oh*f)
			}
		}
		xs = append(xs, x)
		ys = append(ys, a.Scale)
	}
	D := len(xs[0])
	g := make([]float64, D*D)
	b := make([]float64, D)
	for i := 0; i < N; i += 2 {
		for p := range D {
			b[p] += xs[i][p] * ys[i]
			for q := range D {
				g[p*D+q] += xs[i][p] * xs[i][q]
			}
		}
	}
	for p := range D {
		g[p*D+p] += 1e-6
	}
	if !linalg.Solve(g, b, D) {
		t.Fatal("singular normal equations")
	}
	w := b
	var m, ss, se, c float64
	for i := 1; i < N; i += 2 {
		m += ys[i]
		c++
	}
	m /= c
	for i := 1; i < N; i += 2 {
		p := 0.0
		for k := range D {
			p += w[k] * xs[i][k]
		}
		ss += (ys[i] - m) * (ys[i] - m)
		se += (ys[i] - p) * (ys[i] - p)
	}
	t.Logf("R² of scale from drawn radii, count, symmetry: %.3f", 1-se/ss)
}
