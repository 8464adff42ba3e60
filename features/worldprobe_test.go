package features_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"palate"
	"palate/features"
	"palate/world"
)

// probeTargets names the columns of worldProbeTargets: world.AttrVector's
// dims and the shared quality.
var probeTargets = append(world.AttrVectorNames(), "quality")

// Indices into probeTargets.
const (
	ptHueCos   = 0
	ptHarmony  = 6
	ptSymmetry = 7
	ptScale    = 8
	ptClutter  = 9
	ptCount    = 10
	ptSubject  = 11
)

var ptBackground = ptSubject + len(world.Subjects)

func worldProbeTargets(a world.Attrs) []float64 {
	var y []float64
	for _, x := range world.AttrVector(&a) {
		y = append(y, float64(x))
	}
	return append(y, world.Quality(&a))
}

// probeResult is what a linear probe reads from one embedder: R² of each
// target on held-out pictures, and the accuracy of the argmax over the
// subject, background and hue-family outputs.
type probeResult struct {
	r2                      []float64
	hueFam, subject, backgr float64
}

// What a linear ridge probe reads from each built-in embedder on the taste
// world's own pictures (open prompts, so every attribute varies): R² of
// every dim of world.AttrVector and of world.Quality, and the accuracy of
// the hue family, subject and background. pixels-v2 must read hue and
// harmony clearly better than pixels-v1 (its figure/ground block) and lose
// nothing on the subject; pixels-v3 must lose nothing on any target against
// pixels-v2 and read symmetry, scale, clutter and count clearly better (its
// structure block). Run with -v for the table.
func TestWorldProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 6000 pictures")
	}
	const nFit, nTest = 4500, 1500
	r := rand.New(rand.NewPCG(31, 32))
	open := world.OpenPrompt("")
	attrs := make([]world.Attrs, nFit+nTest)
	embs := []palate.Embedder{features.NewPixelsV1(), features.NewPixelsV2(), features.NewPixels()}
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
	Y := make([][]float64, len(attrs))
	for i, a := range attrs {
		y := worldProbeTargets(a)
		// Hue family one-hot, after the targets.
		fam := make([]float64, 8)
		fam[int(a.Hue*8+0.5)%8] = 1
		Y[i] = append(y, fam...)
	}
	nt := len(probeTargets)
	res := make([]probeResult, len(embs))
	for e := range embs {
		W := features.Ridge(X[e][:nFit], Y[:nFit], 10)
		pred := make([][]float64, nTest)
		for i := range pred {
			pred[i] = make([]float64, len(W))
			for k, w := range W {
				pred[i][k] = features.Dot(w, X[e][nFit+i])
			}
		}
		r2 := make([]float64, nt)
		for k := range nt {
			var mean, res, tot float64
			for i := range nTest {
				mean += Y[nFit+i][k] / nTest
			}
			for i := range nTest {
				y := Y[nFit+i][k]
				res += (y - pred[i][k]) * (y - pred[i][k])
				tot += (y - mean) * (y - mean)
			}
			r2[k] = 1 - res/tot
		}
		acc := func(lo, n int) float64 {
			right := 0
			for i := range nTest {
				arg, truth := 0, 0
				for k := range n {
					if pred[i][lo+k] > pred[i][lo+arg] {
						arg = k
					}
					if Y[nFit+i][lo+k] == 1 {
						truth = k
					}
				}
				if arg == truth {
					right++
				}
			}
			return float64(right) / nTest
		}
		res[e] = probeResult{r2: r2, hueFam: acc(nt, 8),
			subject: acc(ptSubject, len(world.Subjects)), backgr: acc(ptBackground, len(world.Backgrounds))}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s", "R² / accuracy")
	for _, emb := range embs {
		fmt.Fprintf(&b, " %9s", emb.Name())
	}
	row := func(name string, get func(probeResult) float64) {
		fmt.Fprintf(&b, "\n%-20s", name)
		for _, r := range res {
			fmt.Fprintf(&b, " %9.3f", get(r))
		}
	}
	for k, name := range probeTargets {
		row(name, func(r probeResult) float64 { return r.r2[k] })
	}
	row("hue family acc", func(r probeResult) float64 { return r.hueFam })
	row("subject acc", func(r probeResult) float64 { return r.subject })
	row("background acc", func(r probeResult) float64 { return r.backgr })
	t.Log("\n" + b.String())

	v1, v2, v3 := res[0], res[1], res[2]
	if v2.hueFam < v1.hueFam+0.1 || v2.r2[ptHueCos] < v1.r2[ptHueCos]+0.1 || v2.r2[ptHarmony] < v1.r2[ptHarmony]+0.1 {
		t.Errorf("pixels-v2 does not read hue and harmony clearly better than pixels-v1: hue family %.3f against %.3f, R² hue cosine %.3f against %.3f, harmony %.3f against %.3f",
			v2.hueFam, v1.hueFam, v2.r2[ptHueCos], v1.r2[ptHueCos], v2.r2[ptHarmony], v1.r2[ptHarmony])
	}
	if v2.subject < v1.subject-0.02 {
		t.Errorf("pixels-v2 reads the subject worse than pixels-v1: %.3f against %.3f", v2.subject, v1.subject)
	}
	for k, name := range probeTargets {
		if !(v3.r2[k] >= v2.r2[k]-0.02) { // NaN fails too
			t.Errorf("pixels-v3 reads %s worse than pixels-v2: R² %.3f against %.3f", name, v3.r2[k], v2.r2[k])
		}
	}
	for _, c := range []struct {
		name   string
		v3, v2 float64
	}{{"hue family", v3.hueFam, v2.hueFam}, {"subject", v3.subject, v2.subject}, {"background", v3.backgr, v2.backgr}} {
		if !(c.v3 >= c.v2-0.02) {
			t.Errorf("pixels-v3 reads the %s worse than pixels-v2: accuracy %.3f against %.3f", c.name, c.v3, c.v2)
		}
	}
	weak := []int{ptSymmetry, ptClutter, ptCount, ptScale}
	var m2, m3 float64
	for _, k := range weak {
		m2 += v2.r2[k] / float64(len(weak))
		m3 += v3.r2[k] / float64(len(weak))
	}
	if !(m3 >= m2+0.05) {
		t.Errorf("pixels-v3 does not read symmetry, clutter, count and scale clearly better than pixels-v2: mean R² %.3f against %.3f", m3, m2)
	}
}
