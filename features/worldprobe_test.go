package features_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"palate"
	"palate/features"
	"palate/world"
)

// What a linear probe reads from each built-in embedder on the taste
// world's own pictures (open prompts, so every attribute varies): the main
// hue family, the cosine of the hue and palette harmony, which pixels-v2's
// figure/ground block was added for, and the subject, which it was not.
// pixels-v2 must read hue and harmony clearly better than pixels-v1 and
// lose nothing on the subject. Run with -v for the table.
func TestWorldProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 6000 pictures")
	}
	const nFit, nTest = 4500, 1500
	r := rand.New(rand.NewPCG(31, 32))
	open := world.OpenPrompt("")
	attrs := make([]world.Attrs, nFit+nTest)
	embs := []palate.Embedder{features.NewPixelsV1(), features.NewPixels()}
	X := make([][][]float64, len(embs))
	for i := range attrs {
		var l world.Latent
		for j := range l.U {
			l.U[j] = r.Float64()
		}
		l.Seed = r.Uint64()
		attrs[i] = world.Resolve(open, l)
		img := world.Draw(attrs[i], l.Seed, 64)
		for e, emb := range embs {
			v, err := emb.Embed(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float64, len(v)+1)
			for j, f := range v {
				x[j] = float64(f) * math.Sqrt(float64(len(v)))
			}
			x[len(v)] = 1
			X[e] = append(X[e], x)
		}
	}
	hueFamily := func(a world.Attrs) int { return int(a.Hue*8+0.5) % 8 }
	type result struct{ hueFam, hueCos, harmony, subject float64 }
	res := make([]result, len(embs))
	for e := range embs {
		acc := func(n int, get func(world.Attrs) int) float64 {
			ys := make([][]float64, len(attrs))
			for i, a := range attrs {
				ys[i] = make([]float64, n)
				ys[i][get(a)] = 1
			}
			W := features.Ridge(X[e][:nFit], ys[:nFit], 10)
			right := 0
			for i := nFit; i < len(attrs); i++ {
				best, arg := math.Inf(-1), 0
				for k, w := range W {
					if s := features.Dot(w, X[e][i]); s > best {
						best, arg = s, k
					}
				}
				if arg == get(attrs[i]) {
					right++
				}
			}
			return float64(right) / nTest
		}
		r2 := func(get func(world.Attrs) float64) float64 {
			ys := make([][]float64, len(attrs))
			var mean float64
			for i, a := range attrs {
				ys[i] = []float64{get(a)}
				if i >= nFit {
					mean += get(a) / nTest
				}
			}
			W := features.Ridge(X[e][:nFit], ys[:nFit], 10)
			var res, tot float64
			for i := nFit; i < len(attrs); i++ {
				d := ys[i][0] - features.Dot(W[0], X[e][i])
				res += d * d
				tot += (ys[i][0] - mean) * (ys[i][0] - mean)
			}
			return 1 - res/tot
		}
		res[e] = result{
			hueFam:  acc(8, hueFamily),
			hueCos:  r2(func(a world.Attrs) float64 { return math.Cos(2 * math.Pi * a.Hue) }),
			harmony: r2(func(a world.Attrs) float64 { return a.Harmony }),
			subject: acc(len(world.Subjects), func(a world.Attrs) int { return a.Subject }),
		}
		t.Logf("%s: hue family %.3f, R² hue cosine %.3f, R² harmony %.3f, subject %.3f",
			embs[e].Name(), res[e].hueFam, res[e].hueCos, res[e].harmony, res[e].subject)
	}
	v1, v2 := res[0], res[1]
	if v2.hueFam < v1.hueFam+0.1 || v2.hueCos < v1.hueCos+0.1 || v2.harmony < v1.harmony+0.1 {
		t.Errorf("pixels-v2 does not read hue and harmony clearly better than pixels-v1: %+v against %+v", v2, v1)
	}
	if v2.subject < v1.subject-0.02 {
		t.Errorf("pixels-v2 reads the subject worse than pixels-v1: %.3f against %.3f", v2.subject, v1.subject)
	}
}
