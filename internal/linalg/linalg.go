// Package linalg holds the small dense linear algebra palate's fits need.
package linalg

import "math"

// Solve solves the n×n system a·x = b in place by Gaussian elimination with
// partial pivoting (a is row-major and destroyed; b becomes x). It reports
// false for a numerically singular system.
func Solve(a []float64, b []float64, n int) bool {
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r*n+c]) > math.Abs(a[p*n+c]) {
				p = r
			}
		}
		if math.Abs(a[p*n+c]) < 1e-300 {
			return false
		}
		if p != c {
			for k := 0; k < n; k++ {
				a[c*n+k], a[p*n+k] = a[p*n+k], a[c*n+k]
			}
			b[c], b[p] = b[p], b[c]
		}
		inv := 1 / a[c*n+c]
		for r := c + 1; r < n; r++ {
			f := a[r*n+c] * inv
			if f == 0 {
				continue
			}
			for k := c; k < n; k++ {
				a[r*n+k] -= f * a[c*n+k]
			}
			b[r] -= f * b[c]
		}
	}
	for c := n - 1; c >= 0; c-- {
		s := b[c]
		for k := c + 1; k < n; k++ {
			s -= a[c*n+k] * b[k]
		}
		b[c] = s / a[c*n+c]
	}
	return true
}
