package bench

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"palate/history"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAgreement(t *testing.T) {
	tests := map[string]struct {
		pred, truth []int
		ari, nmi    float64
	}{
		"identical":       {[]int{0, 0, 1, 1, 2, 2}, []int{0, 0, 1, 1, 2, 2}, 1, 1},
		"renamed":         {[]int{5, 5, 9, 9, 1, 1}, []int{0, 0, 1, 1, 2, 2}, 1, 1},
		"split one group": {[]int{0, 0, 1, 1}, []int{0, 0, 1, 2}, 4.0 / 7, 0.8}, // by hand in the comment below
		"crossed":         {[]int{0, 0, 1, 1}, []int{0, 1, 0, 1}, -0.5, 0},
		"both one group":  {[]int{3, 3, 3}, []int{1, 1, 1}, 1, 1},
		"all apart":       {[]int{0, 1, 2}, []int{2, 0, 1}, 1, 1},
	}
	// "split one group": pairs together in both: 1 of C(4,2)=6; pairs
	// together in pred: 2, in truth: 1; expected 2·1/6 = 1/3, max (2+1)/2;
	// ARI = (1 − 1/3)/(3/2 − 1/3) = 4/7. H(pred) = ln 2, H(truth) = 1.5 ln 2,
	// I = ln 2, NMI = ln 2 / (1.25 ln 2) = 0.8.
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ARI(tc.pred, tc.truth); !near(got, tc.ari, 1e-12) {
				t.Errorf("ARI = %v; want %v", got, tc.ari)
			}
			if got := NMI(tc.pred, tc.truth); !near(got, tc.nmi, 1e-12) {
				t.Errorf("NMI = %v; want %v", got, tc.nmi)
			}
			if a, b := ARI(tc.pred, tc.truth), ARI(tc.truth, tc.pred); !near(a, b, 1e-12) {
				t.Errorf("ARI not symmetric: %v vs %v", a, b)
			}
		})
	}
	t.Run("independent", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		a, b := make([]int, 20000), make([]int, 20000)
		for i := range a {
			a[i], b[i] = r.IntN(6), r.IntN(6)
		}
		if got := ARI(a, b); math.Abs(got) > 0.01 {
			t.Errorf("ARI of independent labelings = %v; want ≈ 0", got)
		}
		if got := NMI(a, b); got > 0.01 || got < 0 {
			t.Errorf("NMI of independent labelings = %v; want ≈ 0", got)
		}
	})
	if !math.IsNaN(ARI([]int{1}, []int{1, 2})) || !math.IsNaN(NMI(nil, nil)) {
		t.Error("mismatched or empty labelings should give NaN")
	}
}

func TestAUC(t *testing.T) {
	tests := map[string]struct {
		scores []float64
		labels []bool
		want   float64
	}{
		"perfect":  {[]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		"reversed": {[]float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		"known":    {[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		"all tied": {[]float64{3, 3, 3, 3}, []bool{false, true, false, true}, 0.5},
		"one tie":  {[]float64{1, 1, 2}, []bool{false, true, true}, 0.75}, // (0.5 + 1) / 2
		"nan low":  {[]float64{math.NaN(), 1}, []bool{false, true}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := AUC(tc.scores, tc.labels); !near(got, tc.want, 1e-12) {
				t.Errorf("AUC = %v; want %v", got, tc.want)
			}
		})
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("one class only should give NaN")
	}
}

// people makes judgements for n people with m comparisons each, person i
// right with probability p(i).
func people(n, m int, p func(i int) float64, seed uint64) []Judged {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []Judged
	for i := range n {
		for range m {
			c := 0.0
			if r.Float64() < p(i) {
				c = 1
			}
			out = append(out, Judged{User: string(rune('A'+i%26)) + string(rune('a'+i/26)), Correct: c})
		}
	}
	return out
}

func TestPairAccuracy(t *testing.T) {
	vary := func(i int) float64 { return 0.4 + 0.4*float64(i%5)/4 }
	few := PairAccuracy(people(20, 30, vary, 1), 0, 9)
	many := PairAccuracy(people(400, 30, vary, 1), 0, 9)
	for name, iv := range map[string]Interval{"few": few, "many": many} {
		if !(iv.Lo <= iv.Acc && iv.Acc <= iv.Hi) {
			t.Errorf("%s: interval [%v, %v] misses the estimate %v", name, iv.Lo, iv.Hi, iv.Acc)
		}
		if !near(iv.Acc, 0.6, 0.05) {
			t.Errorf("%s: accuracy %v; want ≈ 0.6", name, iv.Acc)
		}
	}
	if wf, wm := few.Hi-few.Lo, many.Hi-many.Lo; !(wm < wf/2.5) {
		t.Errorf("interval width %v with 400 people, %v with 20; want it to shrink about √20 times", wm, wf)
	}
	if few.N != 600 || many.N != 12000 {
		t.Errorf("N = %d, %d", few.N, many.N)
	}

	// Half the people always right, half always wrong: the comparisons are
	// not independent, and a person-level interval must be wide (a
	// pair-level one would be ±0.03).
	split := PairAccuracy(people(20, 50, func(i int) float64 { return float64(i % 2) }, 2), 0, 3)
	if w := split.Hi - split.Lo; w < 0.3 {
		t.Errorf("clustered judgements give an interval %v wide; want a person-level width ≥ 0.3", w)
	}

	// Same seed, any order: same interval. Ties count half.
	j := people(30, 10, vary, 4)
	a := PairAccuracy(j, 200, 5)
	rev := append([]Judged(nil), j...)
	for i, k := 0, len(rev)-1; i < k; i, k = i+1, k-1 {
		rev[i], rev[k] = rev[k], rev[i]
	}
	if b := PairAccuracy(rev, 200, 5); a != b {
		t.Errorf("order changed the interval: %+v vs %+v", a, b)
	}
	if got := PairAccuracy([]Judged{{"a", 0.5}, {"b", 1}}, 10, 1).Acc; got != 0.75 {
		t.Errorf("tie counted as %v; want half", got)
	}
	if e := PairAccuracy(nil, 10, 1); !math.IsNaN(e.Acc) || e.N != 0 {
		t.Errorf("empty: %+v", e)
	}
}

func TestOutcomeAndGap(t *testing.T) {
	for _, tc := range []struct{ w, l, want float64 }{{2, 1, 1}, {1, 2, 0}, {1, 1, 0.5}, {math.NaN(), 1, 0.5}} {
		if got := Outcome(tc.w, tc.l); got != tc.want {
			t.Errorf("Outcome(%v, %v) = %v; want %v", tc.w, tc.l, got, tc.want)
		}
	}
	for _, tc := range []struct{ acc, np, or, want float64 }{
		{0.70, 0.60, 0.80, 0.5}, {0.60, 0.60, 0.80, 0}, {0.80, 0.60, 0.80, 1}, {0.55, 0.60, 0.80, -0.25},
	} {
		if got := GapClosure(tc.acc, tc.np, tc.or); !near(got, tc.want, 1e-12) {
			t.Errorf("GapClosure(%v, %v, %v) = %v; want %v", tc.acc, tc.np, tc.or, got, tc.want)
		}
	}
	if !math.IsNaN(GapClosure(0.7, 0.8, 0.8)) {
		t.Error("no gap should give NaN")
	}
}

// blobs makes n points around each of k well-separated centres in dim
// dimensions.
func blobs(k, n, dim int, sd float64, seed uint64) ([][]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 11))
	centres := make([][]float64, k)
	for c := range centres {
		centres[c] = make([]float64, dim)
		for j := range centres[c] {
			centres[c][j] = 3 * r.NormFloat64()
		}
	}
	var vs [][]float32
	var truth []int
	for i := range k * n {
		c := i % k
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(centres[c][j] + sd*r.NormFloat64())
		}
		vs = append(vs, v)
		truth = append(truth, c)
	}
	return vs, truth
}

func TestKMeans(t *testing.T) {
	for name, tc := range map[string]struct{ k, n, dim int }{
		"4 blobs in 10-D": {4, 50, 10},
		"8 blobs in 3-D":  {8, 30, 3},
		"2 blobs in 50-D": {2, 100, 50},
	} {
		t.Run(name, func(t *testing.T) {
			vs, truth := blobs(tc.k, tc.n, tc.dim, 0.3, 3)
			got := KMeans(vs, tc.k, 1)
			if ari := ARI(got, truth); ari < 0.95 {
				t.Errorf("ARI %v; want > 0.95", ari)
			}
			again := KMeans(vs, tc.k, 1)
			if ARI(got, again) != 1 {
				t.Error("same seed, different clustering")
			}
		})
	}
	if KMeans[float64](nil, 3, 1) != nil {
		t.Error("no vectors should give nil")
	}
	if got := KMeans([][]float64{{1}, {2}}, 5, 1); len(got) != 2 || got[0] == got[1] {
		t.Errorf("k clamped to n: %v", got)
	}
}

func TestPrecisionAtK(t *testing.T) {
	vs, truth := blobs(4, 40, 8, 0.3, 5)
	if p := PrecisionAtK(vs, truth, 10); p < 0.99 {
		t.Errorf("P@10 on separated blobs = %v; want ≈ 1", p)
	}
	r := rand.New(rand.NewPCG(8, 8))
	shuffled := make([]int, len(truth))
	for i := range shuffled {
		shuffled[i] = r.IntN(4)
	}
	if p := PrecisionAtK(vs, shuffled, 10); !near(p, 0.25, 0.08) {
		t.Errorf("P@10 against random groups = %v; want ≈ 0.25", p)
	}
	// By hand: on the unit circle, a's nearest is b (same group), b's is a,
	// c's is b (other group): (1 + 1 + 0) / 3.
	tri := [][]float64{{1, 0}, {1, 0.1}, {0, 1}}
	if p := PrecisionAtK(tri, []int{0, 0, 1}, 1); !near(p, 2.0/3, 1e-12) {
		t.Errorf("P@1 = %v; want 2/3", p)
	}
}

func TestPCA2(t *testing.T) {
	// Points on a line in 5-D: the first coordinate keeps their spacing, the
	// second is zero.
	dir := []float64{1, 2, -2, 0, 4} // length 5
	var vs [][]float64
	ts := []float64{-3, -1, 0, 0.5, 2, 7}
	for _, s := range ts {
		v := []float64{10, 10, 10, 10, 10}
		for j := range v {
			v[j] += s * dir[j]
		}
		vs = append(vs, v)
	}
	p := PCA2(vs)
	for i := range ts {
		if math.Abs(p[i][1]) > 1e-6 {
			t.Errorf("point %d: second coordinate %v; want 0", i, p[i][1])
		}
		for j := range ts {
			if d := math.Abs(p[i][0] - p[j][0]); !near(d, 5*math.Abs(ts[i]-ts[j]), 1e-6) {
				t.Fatalf("distance %d–%d is %v; want %v", i, j, d, 5*math.Abs(ts[i]-ts[j]))
			}
		}
	}
	// An elongated cloud: the first component carries the long axis.
	r := rand.New(rand.NewPCG(4, 4))
	var cloud [][]float32
	for range 500 {
		a, b := 5*r.NormFloat64(), r.NormFloat64()
		cloud = append(cloud, []float32{float32(a + b), float32(a - b), float32(0.1 * r.NormFloat64())})
	}
	var v1, v2 float64
	for _, q := range PCA2(cloud) {
		v1 += q[0] * q[0]
		v2 += q[1] * q[1]
	}
	if ratio := v1 / v2; !near(ratio, 25, 5) {
		t.Errorf("variance ratio of the components %v; want ≈ 25", ratio)
	}
	if len(PCA2[float32](nil)) != 0 {
		t.Error("no vectors")
	}
}

// wellFormed parses an SVG document fully and returns its text.
func wellFormed(t *testing.T, b []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var text strings.Builder
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = v.Name.Local
			}
		case xml.CharData:
			text.Write(v)
			text.WriteByte('\n')
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q; want svg", root)
	}
	return text.String()
}

func TestPlots(t *testing.T) {
	ks := []float64{0, 1, 2, 4, 8, 16, 32}
	curve := func(base float64) []float64 {
		out := make([]float64, len(ks))
		for i, k := range ks {
			out[i] = base + 0.03*math.Log2(1+k)
		}
		return out
	}
	lo, hi := curve(0.5), curve(0.56)
	line := LinePlot("Accuracy vs history <k>", "history pairs k", "pairwise accuracy", []Series{
		{Name: "palate & co", X: ks, Y: curve(0.53), Lo: lo, Hi: hi},
		{Name: "centroid", X: ks, Y: curve(0.5)},
		{Name: "oracle", X: []float64{0, 32}, Y: []float64{0.8, 0.8}, Dashed: true},
		{Name: "with gap", X: ks, Y: append([]float64{math.NaN()}, curve(0.45)[1:]...)},
	})
	text := wellFormed(t, line)
	for _, want := range []string{"Accuracy vs history <k>", "palate & co", "centroid", "oracle", "history pairs k", "pairwise accuracy", "32", "16"} {
		if !strings.Contains(text, want) {
			t.Errorf("line plot lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(string(line)), "nan,") || strings.Contains(string(line), ",NaN") {
		t.Error("line plot drew a NaN coordinate")
	}

	var pts []Point
	for i := range 200 {
		g := i % 20
		pts = append(pts, Point{X: float64(g) + 0.1*float64(i%7), Y: float64(i % 13), Group: g, Label: "user " + string(rune('a'+i%26))})
	}
	scatter := ScatterPlot("Descriptors", pts)
	text = wellFormed(t, scatter)
	for _, want := range []string{"Descriptors", "group 0", "group 15", "4 more groups", "user a (group 0)"} {
		if !strings.Contains(text, want) {
			t.Errorf("scatter plot lacks %q", want)
		}
	}
	wellFormed(t, ScatterPlot("empty", nil))
	wellFormed(t, LinePlot("empty", "x", "y", nil))
	wellFormed(t, LinePlot("flat", "x", "y", []Series{{Name: "one", X: []float64{3}, Y: []float64{0.5}}}))
}

func TestJudgePairs(t *testing.T) {
	u1, u2 := &history.UserData{ID: "u1"}, &history.UserData{ID: "u2"}
	h1 := []history.Item{{Image: 1, Label: history.Liked}, {Image: 2, Label: history.Disliked}}
	eps := []history.EvalPair{
		{User: u1, Pair: history.Pair{Win: 5, Lose: 4}, History: h1},
		{User: u1, Pair: history.Pair{Win: 3, Lose: 6}, History: h1},
		{User: u2, Pair: history.Pair{Win: 7, Lose: 7}, History: nil},
	}
	calls := 0
	// Scores are the image rows: a higher row is preferred.
	got := JudgePairs(func(_ []history.Item, cands []int32) []float64 {
		calls++
		out := make([]float64, len(cands))
		for i, c := range cands {
			out[i] = float64(c)
		}
		return out
	}, eps)
	want := []Judged{{"u1", 1}, {"u1", 0}, {"u2", 0.5}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("judgement %d = %+v; want %+v", i, got[i], want[i])
		}
	}
	if calls != 2 {
		t.Errorf("%d scoring calls; want one per person", calls)
	}
}
