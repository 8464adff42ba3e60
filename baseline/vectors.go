package baseline

import (
	"math"

	"palate/history"
)

// Vectors score images that are not in the fitted table, such as pictures a
// generator has just made: each is given as its raw embedding (the table's
// embedder) and its prompt's embedding, and goes through the same
// standardisation as the table's rows.

// zVec writes x's standardised vector into dst (length dim) and reports
// whether x has the table's dimension; a wrong-length x leaves dst zero.
func (t *table) zVec(dst []float32, x []float32) bool {
	if t == nil || len(x) != t.dim {
		clear(dst)
		return false
	}
	for j, v := range x {
		dst[j] = (v - t.mean[j]) * t.is[j]
	}
	return true
}

// ScoreVectors scores images given as raw embeddings with their prompts'
// embeddings (texts may be nil, or hold nil entries, for no prompt); the
// non-personal scorer ignores any history. An image of the wrong length, or
// any image before Fit, scores 0.
func (m *NonPersonal) ScoreVectors(images, texts [][]float32) []float64 {
	out := make([]float64, len(images))
	if m.w1 == nil {
		return out
	}
	w := m.newWork()
	for i, x := range images {
		if !m.t.zVec(w.x[:m.t.dim], x) {
			continue
		}
		tx := w.x[m.t.dim:]
		clear(tx)
		if i < len(texts) {
			copy(tx, texts[i])
		}
		out[i] = m.hidden(w.x, w.hw)
	}
	return out
}

// ScoreVectors scores images given as raw embeddings against the person's
// taste direction from hist, as Score does for table rows. An empty
// history, an image of the wrong length, or any image before Fit, scores 0.
func (c *Centroid) ScoreVectors(hist []history.Item, images [][]float32) []float64 {
	out := make([]float64, len(images))
	dir, _, ok := c.t.direction(hist)
	if !ok {
		return out
	}
	unit(dir)
	z := make([]float32, c.t.dim)
	for i, x := range images {
		if !c.t.zVec(z, x) {
			continue
		}
		var n float64
		for _, v := range z {
			n += float64(v) * float64(v)
		}
		if n > 0 {
			out[i] = dot32(z, dir) / math.Sqrt(n)
		}
	}
	return out
}
