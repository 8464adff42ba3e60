package features

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// TestCalibrate prints per-dimension statistics of the unweighted vector over
// random scenes; run with PALATE_CALIBRATE=1 when changing the recipe.
func TestCalibrate(t *testing.T) {
	if os.Getenv("PALATE_CALIBRATE") == "" {
		t.Skip("set PALATE_CALIBRATE=1")
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 400
	var sum, sum2, mn, mx [Dim]float64
	for i := range mn {
		mn[i], mx[i] = math.Inf(1), math.Inf(-1)
	}
	blockSS := make([]float64, len(blocks))
	for k := 0; k < n; k++ {
		img := randomScene(r).render(64 + 64*r.IntN(2))
		s := new(scratch)
		v := make([]float32, Dim)
		s.load(img)
		s.colour(v)
		s.texture(v)
		s.shape(v)
		s.layout(v)
		for i, x := range v {
			f := float64(x)
			sum[i] += f
			sum2[i] += f * f
			mn[i] = math.Min(mn[i], f)
			mx[i] = math.Max(mx[i], f)
		}
		for bi, b := range blocks {
			for i := b.Offset; i < b.Offset+b.Len; i++ {
				blockSS[bi] += float64(v[i]) * float64(v[i])
			}
		}
	}
	for i := 0; i < Dim; i++ {
		m := sum[i] / n
		fmt.Printf("%3d mean %7.3f std %6.3f min %7.3f max %7.3f\n", i, m, math.Sqrt(sum2[i]/n-m*m), mn[i], mx[i])
	}
	for bi, b := range blocks {
		fmt.Printf("%-24s off %3d n %2d  mean norm² %.3f (weighted %.3f)\n", b.Name, b.Offset, b.Len,
			blockSS[bi]/n, blockSS[bi]/n*float64(b.weight*b.weight))
	}
}
