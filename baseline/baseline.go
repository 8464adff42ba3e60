// Package baseline holds the predictors palate is measured against, none of
// them a neural sequence model: a non-personal Bradley–Terry scorer (the
// PickScore analogue), the in-context centroid (the ViPer-style proxy without
// learning), a per-user logistic regression shrunk toward the non-personal
// scorer, and user-kNN. Each reads the same history items the model reads and
// scores any number of candidate images, so the bench judges them all on the
// same comparisons with the same k history pairs per person.
//
// Every predictor is deterministic given its options' seed, learns only from
// the training part of the data (seen people's training comparisons and
// votes; never test comparisons, never held-out people), chooses its
// hyperparameters on that same training part (never on test), and is safe for
// concurrent Score calls after Fit. The package uses only the standard
// library: plain float32/float64 loops, no GoMLX.
//
// All predictors work in a standardised embedding space: every dimension is
// centred and scaled to unit variance over the images of the seen people's
// training interactions (an unsupervised statistic of the training part), so
// that one ridge penalty or one cosine treats every dimension alike, whatever
// the embedder's scale.
package baseline

import (
	"context"
	"math"

	"palate/dataset"
	"palate/history"
)

// Predictor scores candidate images for one person given their history.
type Predictor interface {
	// Name is the predictor's stable name in tables: "non-personal",
	// "centroid", "per-user-linear" or "user-knn".
	Name() string
	// Fit learns from the training part of d (seen people's Pairs and Votes
	// only; never TestPairs, never held-out people). May be a no-op.
	Fit(ctx context.Context, d *history.Data) error
	// Score returns one score per candidate image row (higher = more
	// preferred), given the person's history items. Must be safe for
	// concurrent use after Fit.
	Score(hist []history.Item, cands []int32) []float64
}

// table is an embeddings table seen through the training part's
// standardisation: row r becomes (x − mean) / sd, dimension by dimension.
type table struct {
	d        *history.Data
	dim      int
	mean, is []float32 // mean and inverse standard deviation (0 for a constant dimension)
}

// newTable computes the standardisation over the images of the seen people's
// training pairs and votes (all rows when there are none).
func newTable(d *history.Data) *table {
	t := &table{d: d, dim: d.Emb.Dim}
	rows := trainingRows(d)
	if len(rows) == 0 {
		for r := range d.Emb.IDs {
			rows = append(rows, int32(r))
		}
	}
	sum := make([]float64, t.dim)
	sq := make([]float64, t.dim)
	for _, r := range rows {
		for j, x := range d.Emb.Row(int(r)) {
			sum[j] += float64(x)
			sq[j] += float64(x) * float64(x)
		}
	}
	t.mean = make([]float32, t.dim)
	t.is = make([]float32, t.dim)
	n := float64(max(len(rows), 1))
	for j := range sum {
		m := sum[j] / n
		v := sq[j]/n - m*m
		t.mean[j] = float32(m)
		if v > 1e-12 {
			t.is[j] = float32(1 / math.Sqrt(v))
		}
	}
	return t
}

// trainingRows lists, once each, the image rows of seen people's training
// pairs and votes.
func trainingRows(d *history.Data) []int32 {
	seen := make([]bool, len(d.Emb.IDs))
	var rows []int32
	add := func(r int32) {
		if r >= 0 && int(r) < len(seen) && !seen[r] {
			seen[r] = true
			rows = append(rows, r)
		}
	}
	for _, u := range d.Parts(dataset.Train) {
		for _, p := range u.Pairs {
			add(p.Win)
			add(p.Lose)
		}
		for _, v := range u.Votes {
			add(v.Image)
		}
	}
	return rows
}

// known reports whether r is a row of the table.
func (t *table) known(r int32) bool { return t != nil && r >= 0 && int(r) < len(t.d.Emb.IDs) }

// z writes row r's standardised vector into dst (length dim) and reports
// whether the row is known; an unknown row leaves dst zero.
func (t *table) z(dst []float32, r int32) bool {
	if !t.known(r) {
		clear(dst)
		return false
	}
	for j, x := range t.d.Emb.Row(int(r)) {
		dst[j] = (x - t.mean[j]) * t.is[j]
	}
	return true
}

// text returns row r's prompt embedding, or nil when there is none.
func (t *table) text(r int32) []float32 {
	if r < 0 || int(r) >= len(t.d.Text) {
		return nil
	}
	return t.d.Text[r]
}

// direction returns the standardised mean liked minus mean disliked
// embedding of the history's known items (liked: Liked or SingleLike), the
// number of known items it used, and false when it used none. With only
// likes it is the mean liked embedding (the training mean is the origin);
// with only dislikes, minus the mean disliked one.
func (t *table) direction(hist []history.Item) ([]float64, int, bool) {
	if t == nil || len(hist) == 0 {
		return nil, 0, false
	}
	pos := make([]float64, t.dim)
	neg := make([]float64, t.dim)
	z := make([]float32, t.dim)
	var np, nn int
	for _, it := range hist {
		if !t.z(z, it.Image) {
			continue
		}
		acc := neg
		if it.Label.Positive() {
			acc, np = pos, np+1
		} else {
			nn++
		}
		for j, x := range z {
			acc[j] += float64(x)
		}
	}
	if np+nn == 0 {
		return nil, 0, false
	}
	for j := range pos {
		var v float64
		if np > 0 {
			v += pos[j] / float64(np)
		}
		if nn > 0 {
			v -= neg[j] / float64(nn)
		}
		pos[j] = v
	}
	return pos, np + nn, true
}

// dot32 is the dot product of a float32 and a float64 vector.
func dot32(a []float32, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += float64(x) * b[i]
	}
	return s
}

func dot64(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

func norm64(a []float64) float64 { return math.Sqrt(dot64(a, a)) }

// unit scales v to length 1 in place and returns it; a zero vector stays
// zero.
func unit(v []float64) []float64 {
	if n := norm64(v); n > 0 {
		for i := range v {
			v[i] /= n
		}
	}
	return v
}

// sigmoid is the logistic function, stable for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// logLoss is −log σ(m), stable for large |m|.
func logLoss(m float64) float64 {
	if m > 0 {
		return math.Log1p(math.Exp(-m))
	}
	return -m + math.Log1p(math.Exp(m))
}
