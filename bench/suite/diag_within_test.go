//go:build diag

package suite

import (
	"fmt"
	"slices"
	"testing"

	"palate/world"
)

// TestDiagWithin asks whether what a linear probe misses of an attribute is
// in the vectors but needs another attribute to read: it reads scale,
// contrast, symmetry and clutter by ridge regression on every other image,
// once for all images, once with a one-hot of the true subject, count or
// backdrop kind beside the vectors (an offset per kind), and once
// separately within each kind (offset and slopes; each judged on the
// held-out images of its own fit). A higher R² with offsets means the
// vectors read the kind too poorly; a higher one only within a kind means
// the attribute reads with other slopes per kind, an interaction a linear
// reader cannot use.
//
//	PALATE_DIAG_DATA=/tmp/wb2 PALATE_DIAG_EMBEDDER=pixels-v3 \
//	  GOEXPERIMENT=simd go test -tags diag -count=1 -run TestDiagWithin -v ./bench/suite/
func TestDiagWithin(t *testing.T) {
	X, attrs := diagImages(t)
	n := len(X)
	targets := []struct {
		name string
		y    func(r int) float64
	}{
		{"scale", func(r int) float64 { return attrs[r].Scale }},
		{"contrast", func(r int) float64 { return attrs[r].Contrast }},
		{"symmetry", func(r int) float64 { return attrs[r].Symmetry }},
		{"clutter", func(r int) float64 { return attrs[r].Clutter }},
	}
	kinds := []struct {
		name string
		key  func(a *world.Attrs) int
	}{
		{"subject", func(a *world.Attrs) int { return a.Subject }},
		{"count", func(a *world.Attrs) int { return a.Count }},
		{"backdrop", func(a *world.Attrs) int { return a.Background }},
	}
	var odd []int
	for r := 1; r < n; r += 2 {
		odd = append(odd, r)
	}
	all := ridgeOnHalf(X, 10)
	for _, tg := range targets {
		p := all(tg.y)
		line := fmt.Sprintf("%-9s all %.3f", tg.name, heldR2(odd, func(r int) float64 { return p[r] }, tg.y))
		for _, kd := range kinds {
			groups := map[int][]int{}
			for r := range n {
				k := kd.key(attrs[r])
				groups[k] = append(groups[k], r)
			}
			pred := make([]float64, n)
			var held []int
			for _, rows := range groups {
				sub := make([][]float64, len(rows))
				for i, r := range rows {
					sub[i] = X[r]
				}
				ps := ridgeOnHalf(sub, 10)(func(i int) float64 { return tg.y(rows[i]) })
				for i, r := range rows {
					pred[r] = ps[i]
					if i%2 == 1 {
						held = append(held, r)
					}
				}
			}
			// The same kinds as offsets only: the vectors and a one-hot of
			// the true kind, one reader for all images.
			Xk := make([][]float64, n)
			for r := range n {
				oh := make([]float64, 8)
				oh[min(kd.key(attrs[r]), 7)] = 1
				Xk[r] = append(slices.Clone(X[r]), oh...)
			}
			pk := ridgeOnHalf(Xk, 10)(tg.y)
			line += fmt.Sprintf(", %s offsets %.3f, within %s %.3f", kd.name, heldR2(odd, func(r int) float64 { return pk[r] }, tg.y),
				kd.name, heldR2(held, func(r int) float64 { return pred[r] }, tg.y))
		}
		t.Log(line)
	}
}
