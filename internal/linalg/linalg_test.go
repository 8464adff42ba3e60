package linalg

import (
	"math"
	"slices"
	"testing"
)

func TestSolve(t *testing.T) {
	a := []float64{0, 2, 1, 1, 1, 1, 2, 1, 3} // needs a pivot: a[0][0] = 0
	want := []float64{1, -2, 3}
	b := make([]float64, 3)
	for i := range 3 {
		for j := range 3 {
			b[i] += a[i*3+j] * want[j]
		}
	}
	if !Solve(slices.Clone(a), b, 3) {
		t.Fatal("singular?")
	}
	for i := range want {
		if math.Abs(b[i]-want[i]) > 1e-12 {
			t.Fatalf("x = %v; want %v", b, want)
		}
	}
	if Solve([]float64{1, 2, 2, 4}, []float64{1, 1}, 2) {
		t.Error("a singular system should report false")
	}
}

func TestCholesky(t *testing.T) {
	// a = m·mᵀ + I is positive definite.
	const n = 5
	m := []float64{3, 1, 0, 2, -1, 1, 4, 1, 0, 2, 0, 1, 5, 1, 1, 2, 0, 1, 3, 0, -1, 2, 1, 0, 6}
	a := make([]float64, n*n)
	for i := range n {
		for j := range n {
			for k := range n {
				a[i*n+j] += m[i*n+k] * m[j*n+k]
			}
		}
		a[i*n+i]++
	}
	want := []float64{1, -2, 0.5, 3, -1}
	b := make([]float64, n)
	for i := range n {
		for j := range n {
			b[i] += a[i*n+j] * want[j]
		}
	}
	c, ok := NewCholesky(a, n)
	if !ok {
		t.Fatal("a positive definite matrix was refused")
	}
	x := c.Solve(b)
	for i := range want {
		if math.Abs(x[i]-want[i]) > 1e-10 {
			t.Fatalf("x = %v; want %v", x, want)
		}
	}
	if _, ok := NewCholesky([]float64{1, 2, 2, 1}, 2); ok {
		t.Error("an indefinite matrix should report false")
	}
}
