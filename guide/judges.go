package guide

import (
	"context"
	"sync"
	"time"

	"palate"
	"palate/baseline"
	"palate/history"
	"palate/scorer"
	"palate/world"
)

// Judge names.
const (
	ByPalate      = "palate"
	ByNonPersonal = "non-personal"
	ByCentroid    = "centroid"
	ByOracle      = "oracle"
)

// Palate is palate's trained model as a judge: the person's history (from
// hist) is encoded once and kept, and every picture is scored against it
// with the person's prompt. It keeps every history it encodes, so a
// long-running server should make one per request or session. It
// implements Feedback.
type Palate struct {
	sc   *scorer.Scorer
	d    *history.Data
	emb  palate.Embedder
	hist Histories
	neg  *dislikes

	mu   sync.Mutex
	ctxs map[string]*scorer.Context
}

// NewPalate returns the model as a judge. d holds the histories' images (by
// the model's embedder) and emb embeds new pictures; a mismatch with the
// model's embedder is EINVALID.
func NewPalate(sc *scorer.Scorer, d *history.Data, emb palate.Embedder, hist Histories) (*Palate, error) {
	if err := sc.CheckEmbedder(emb.Name(), emb.Dim()); err != nil {
		return nil, err
	}
	if err := sc.CheckEmbedder(d.Emb.Embedder, d.Emb.Dim); err != nil {
		return nil, err
	}
	return &Palate{sc: sc, d: d, emb: emb, hist: hist, neg: newDislikes(d, hist, emb), ctxs: map[string]*scorer.Context{}}, nil
}

// Name implements Judge.
func (*Palate) Name() string { return ByPalate }

// Context returns the person's encoded history, encoding it on first use.
func (j *Palate) Context(ctx context.Context, user string) (*scorer.Context, error) {
	j.mu.Lock()
	c, ok := j.ctxs[user]
	j.mu.Unlock()
	if ok {
		return c, nil
	}
	h, err := j.hist(user)
	if err != nil {
		return nil, err
	}
	c, err = j.sc.Context(ctx, scorer.FromHistory(j.d, h.Items, h.At))
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	j.ctxs[user] = c
	j.mu.Unlock()
	return c, nil
}

// Scores implements Judge: the model's s+ − s−.
func (j *Palate) Scores(ctx context.Context, user, prompt string, imgs []*Generated) ([]float64, error) {
	c, err := j.Context(ctx, user)
	if err != nil {
		return nil, err
	}
	text, err := j.sc.EmbedPrompt(prompt)
	if err != nil {
		return nil, err
	}
	vs, err := embeddings(ctx, j.emb, imgs)
	if err != nil {
		return nil, err
	}
	cands := make([]scorer.Candidate, len(vs))
	for i, v := range vs {
		cands[i] = scorer.Candidate{Image: v, Text: text}
	}
	res, err := j.sc.Score(ctx, c, cands)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(imgs))
	for i, s := range res.Scores {
		out[i] = float64(s)
	}
	return out, nil
}

// Disliked implements Feedback.
func (j *Palate) Disliked(ctx context.Context, user string, imgs []*Generated) ([]float64, error) {
	return j.neg.similarity(ctx, user, imgs)
}

// NonPersonal is the non-personal scorer (the PickScore analogue) as a
// judge: the same scores for everyone.
type NonPersonal struct {
	m    *baseline.NonPersonal
	emb  palate.Embedder
	text palate.TextEmbedder
}

// NewNonPersonal returns a fitted non-personal scorer as a judge; emb and
// text must be the embedders of the data it was fitted on.
func NewNonPersonal(m *baseline.NonPersonal, emb palate.Embedder, text palate.TextEmbedder) *NonPersonal {
	return &NonPersonal{m: m, emb: emb, text: text}
}

// Name implements Judge.
func (*NonPersonal) Name() string { return ByNonPersonal }

// Scores implements Judge; user is ignored.
func (j *NonPersonal) Scores(ctx context.Context, _ string, prompt string, imgs []*Generated) ([]float64, error) {
	vs, err := embeddings(ctx, j.emb, imgs)
	if err != nil {
		return nil, err
	}
	t := j.text.EmbedText(prompt)
	texts := make([][]float32, len(vs))
	for i := range texts {
		texts[i] = t
	}
	return j.m.ScoreVectors(vs, texts), nil
}

// Centroid is the in-context centroid (ViPer-style, nothing learnt) as a
// judge: cosine to the person's mean liked minus mean disliked image. It
// implements Feedback.
type Centroid struct {
	c    *baseline.Centroid
	emb  palate.Embedder
	hist Histories
	neg  *dislikes
}

// NewCentroid returns a centroid fitted on d as a judge.
func NewCentroid(c *baseline.Centroid, d *history.Data, emb palate.Embedder, hist Histories) *Centroid {
	return &Centroid{c: c, emb: emb, hist: hist, neg: newDislikes(d, hist, emb)}
}

// Name implements Judge.
func (*Centroid) Name() string { return ByCentroid }

// Scores implements Judge.
func (j *Centroid) Scores(ctx context.Context, user, _ string, imgs []*Generated) ([]float64, error) {
	h, err := j.hist(user)
	if err != nil {
		return nil, err
	}
	vs, err := embeddings(ctx, j.emb, imgs)
	if err != nil {
		return nil, err
	}
	return j.c.ScoreVectors(h.Items, vs), nil
}

// Disliked implements Feedback.
func (j *Centroid) Disliked(ctx context.Context, user string, imgs []*Generated) ([]float64, error) {
	return j.neg.similarity(ctx, user, imgs)
}

// Oracle judges pictures of the world generator by a simulated person's
// true utility at a time: the reference that no learnt judge can beat, and
// what measurement judges guided pictures with. It reads the world's truth,
// so only evaluation may use it.
type Oracle struct {
	W      *world.World
	Gen    *World
	People map[string]*world.Person
	// At is when each person is judged (their taste drifts); nil means
	// at the end of their history.
	At func(user string) time.Time
}

// Name implements Judge.
func (*Oracle) Name() string { return ByOracle }

// Scores implements Judge: the person's true utility of each picture's
// attributes. A person the world does not know is ENOTFOUND.
func (o *Oracle) Scores(_ context.Context, user, _ string, imgs []*Generated) ([]float64, error) {
	p, ok := o.People[user]
	if !ok {
		return nil, palate.Errorf(palate.ENOTFOUND, "guide: the world has no person %q", user)
	}
	at := p.Last
	if o.At != nil {
		at = o.At(user)
	}
	out := make([]float64, len(imgs))
	for i, g := range imgs {
		a, err := o.Gen.Attrs(g.Prompt, g.Negative, g.Latent)
		if err != nil {
			return nil, err
		}
		out[i] = o.W.Utility(p, at, &a)
	}
	return out, nil
}
