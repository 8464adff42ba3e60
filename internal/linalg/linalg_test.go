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
