package baseline

import (
	"context"
	"math"

	"palate/history"
)

// Centroid is the in-context centroid, the ViPer-style proxy without
// learning: a candidate scores the cosine similarity of its standardised
// embedding to the person's taste direction, the mean liked minus the mean
// disliked history embedding (liked: Liked or SingleLike). Nothing is
// learnt; Fit only records the table and its standardisation.
//
// Fallbacks: an empty history (or one whose images are all unknown) scores
// every candidate 0; history items with unknown rows are skipped; an unknown
// candidate row scores 0.
type Centroid struct {
	t *table
}

// NewCentroid returns an unfitted centroid predictor.
func NewCentroid() *Centroid { return &Centroid{} }

// Name implements Predictor.
func (*Centroid) Name() string { return "centroid" }

// Fit implements Predictor: it records d and its standardisation.
func (c *Centroid) Fit(ctx context.Context, d *history.Data) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.t = newTable(d)
	return nil
}

// Score implements Predictor.
func (c *Centroid) Score(hist []history.Item, cands []int32) []float64 {
	out := make([]float64, len(cands))
	dir, _, ok := c.t.direction(hist)
	if !ok {
		return out
	}
	unit(dir)
	z := make([]float32, c.t.dim)
	for i, r := range cands {
		if !c.t.z(z, r) {
			continue
		}
		var n float64
		for _, x := range z {
			n += float64(x) * float64(x)
		}
		if n > 0 {
			out[i] = dot32(z, dir) / math.Sqrt(n)
		}
	}
	return out
}

// Descriptor returns the person's unit taste direction from their history
// (normalised mean liked minus mean disliked standardised embedding), the
// simple baseline descriptor for finding people of similar taste; nil when
// the history has no known image or before Fit.
func (c *Centroid) Descriptor(hist []history.Item) []float32 {
	dir, _, ok := c.t.direction(hist)
	if !ok {
		return nil
	}
	unit(dir)
	out := make([]float32, len(dir))
	for i, x := range dir {
		out[i] = float32(x)
	}
	return out
}
