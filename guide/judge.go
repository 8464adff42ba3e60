package guide

import (
	"context"
	"math"
	"time"

	"palate"
	"palate/dataset"
	"palate/history"
)

// Judge scores pictures for one person: what guidance maximises. Each
// method can be guided by any judge (palate's model, the non-personal
// scorer, the centroid, or, in measurement, the person's true utility).
// Implementations are safe for concurrent use.
type Judge interface {
	// Name names the judge in summaries and tables: "palate",
	// "non-personal", "centroid", "oracle".
	Name() string
	// Scores returns one score per picture, higher for pictures the
	// person is expected to like more. prompt is the person's request
	// (not any guidance words added to it): every picture answers it.
	// Scores of one call are comparable with each other and, for one
	// person and prompt, across calls.
	Scores(ctx context.Context, user, prompt string, imgs []*Generated) ([]float64, error)
}

// Feedback is a judge that also knows what the person disliked: latent
// search penalises pictures close to it (negative feedback).
type Feedback interface {
	// Disliked returns, per picture, its highest cosine similarity (in the
	// standardised embedding) to the images of the person's history they
	// disliked; 0 for everything when they disliked nothing.
	Disliked(ctx context.Context, user string, imgs []*Generated) ([]float64, error)
}

// History is what a judge knows of a person: items of a dataset's history
// and the time the guidance is asked for (ages are measured back from it).
type History struct {
	Items []history.Item
	At    time.Time
}

// Histories gives the history of a person. A person the data does not know
// gets an empty history (a cold start) when allowed, or ENOTFOUND.
type Histories func(user string) (History, error)

// AllHistory is what a deployed model knows: every decided comparison and
// vote of the person in d, asked for just after the last one. A person d
// does not know is ENOTFOUND.
func AllHistory(d *history.Data) Histories {
	return func(user string) (History, error) {
		u := d.User(user)
		if u == nil {
			return History{}, palate.Errorf(palate.ENOTFOUND, "guide: %q has no comparisons or votes in the data", user)
		}
		items := u.All()
		h := History{Items: items, At: time.Now()}
		if len(items) > 0 {
			h.At = items[len(items)-1].Time.Add(time.Second)
		}
		return h, nil
	}
}

// ProtocolHistory is the bench's Table-1 protocol: a seen person's k most
// recent training pairs, a held-out person's first k pairs, asked for just
// after the last of them. A person d does not know is ENOTFOUND.
func ProtocolHistory(d *history.Data, k int) Histories {
	return func(user string) (History, error) {
		u := d.User(user)
		if u == nil {
			return History{}, palate.Errorf(palate.ENOTFOUND, "guide: %q has no comparisons or votes in the data", user)
		}
		var ps []history.Pair
		if u.Part == dataset.Train {
			ps = u.Pairs[max(0, len(u.Pairs)-k):]
		} else {
			ps = u.Pairs[:min(k, len(u.Pairs))]
		}
		h := History{Items: history.PairItems(ps)}
		for _, p := range ps {
			if p.Time.After(h.At) {
				h.At = p.Time
			}
		}
		h.At = h.At.Add(time.Second)
		return h, nil
	}
}

// embeddings returns the pictures' embeddings by e.
func embeddings(ctx context.Context, e palate.Embedder, imgs []*Generated) ([][]float32, error) {
	out := make([][]float32, len(imgs))
	for i, g := range imgs {
		v, err := g.Embedding(ctx, e)
		if err != nil {
			return nil, palate.Errorf(palate.ErrorCode(err), "guide: embedding picture %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// standardiser centres and scales an embedding dimension by dimension with
// the mean and spread of a dataset's table, so a cosine treats every
// dimension alike whatever the embedder's scale.
type standardiser struct {
	mean, inv []float64
}

func newStandardiser(emb *palate.Embeddings) *standardiser {
	s := &standardiser{mean: make([]float64, emb.Dim), inv: make([]float64, emb.Dim)}
	sq := make([]float64, emb.Dim)
	n := float64(max(len(emb.IDs), 1))
	for i := range emb.IDs {
		for j, x := range emb.Row(i) {
			s.mean[j] += float64(x)
			sq[j] += float64(x) * float64(x)
		}
	}
	for j := range s.mean {
		s.mean[j] /= n
		if v := sq[j]/n - s.mean[j]*s.mean[j]; v > 1e-12 {
			s.inv[j] = 1 / math.Sqrt(v)
		}
	}
	return s
}

// unit returns x standardised and scaled to length 1 (nil for a zero or
// wrong-length vector).
func (s *standardiser) unit(x []float32) []float64 {
	if len(x) != len(s.mean) {
		return nil
	}
	z := make([]float64, len(x))
	var n float64
	for j, v := range x {
		z[j] = (float64(v) - s.mean[j]) * s.inv[j]
		n += z[j] * z[j]
	}
	if n == 0 {
		return nil
	}
	n = math.Sqrt(n)
	for j := range z {
		z[j] /= n
	}
	return z
}

// dislikes is the negative-feedback part shared by the judges that read a
// history: the standardised unit vectors of the images a person disliked.
type dislikes struct {
	d    *history.Data
	std  *standardiser
	hist Histories
	emb  palate.Embedder
}

func newDislikes(d *history.Data, hist Histories, emb palate.Embedder) *dislikes {
	return &dislikes{d: d, std: newStandardiser(d.Emb), hist: hist, emb: emb}
}

func (f *dislikes) similarity(ctx context.Context, user string, imgs []*Generated) ([]float64, error) {
	h, err := f.hist(user)
	if err != nil {
		return nil, err
	}
	var neg [][]float64
	for _, it := range h.Items {
		if it.Label.Positive() || it.Image < 0 || int(it.Image) >= len(f.d.Emb.IDs) {
			continue
		}
		if v := f.std.unit(f.d.Emb.Row(int(it.Image))); v != nil {
			neg = append(neg, v)
		}
	}
	out := make([]float64, len(imgs))
	if len(neg) == 0 {
		return out, nil
	}
	vs, err := embeddings(ctx, f.emb, imgs)
	if err != nil {
		return nil, err
	}
	for i, v := range vs {
		z := f.std.unit(v)
		if z == nil {
			continue
		}
		best := math.Inf(-1)
		for _, n := range neg {
			var c float64
			for j := range z {
				c += z[j] * n[j]
			}
			best = max(best, c)
		}
		out[i] = best
	}
	return out, nil
}
