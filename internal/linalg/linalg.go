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
	upperSolve(a, b, n)
	return true
}

// upperSolve solves u·x = b in place for the upper triangle of the n×n
// row-major u (b becomes x): back substitution.
func upperSolve(u, b []float64, n int) {
	for c := n - 1; c >= 0; c-- {
		s := b[c]
		for k := c + 1; k < n; k++ {
			s -= u[c*n+k] * b[k]
		}
		b[c] = s / u[c*n+c]
	}
}

// Cholesky is the factor L·Lᵀ of a positive definite matrix, kept to solve
// systems with it for many right-hand sides.
type Cholesky struct {
	n     int
	l, lt []float64 // L and its transpose, row-major (Lᵀ kept so back substitution reads rows, not strided columns)
}

// NewCholesky factors the n×n row-major positive definite a (left as it
// is). It reports false when a is not numerically positive definite.
func NewCholesky(a []float64, n int) (*Cholesky, bool) {
	c := &Cholesky{n: n, l: make([]float64, n*n), lt: make([]float64, n*n)}
	for i := range n {
		for j := 0; j <= i; j++ {
			s := a[i*n+j]
			for k := range j {
				s -= c.l[i*n+k] * c.l[j*n+k]
			}
			if i == j {
				if !(s > 0) {
					return nil, false
				}
				c.l[i*n+i] = math.Sqrt(s)
			} else {
				c.l[i*n+j] = s / c.l[j*n+j]
			}
			c.lt[j*n+i] = c.l[i*n+j]
		}
	}
	return c, true
}

// Solve returns x with L·Lᵀ·x = b; b is left as it is.
func (c *Cholesky) Solve(b []float64) []float64 {
	n, x := c.n, make([]float64, c.n)
	for i := range n { // forward substitution: L·y = b
		s := b[i]
		for k := range i {
			s -= c.l[i*n+k] * x[k]
		}
		x[i] = s / c.l[i*n+i]
	}
	upperSolve(c.lt, x, n) // Lᵀ·x = y
	return x
}
