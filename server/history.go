package server

import (
	"context"
	"time"

	"palate"
	"palate/model"
	"palate/scorer"
)

// userContext is a person's history encoded by one model, as cached.
type userContext struct {
	m       *modelState
	c       *scorer.Context
	skipped int // history images without a vector from the model's embedder
}

// histItem is one history element with the image it names.
type histItem struct {
	image string
	label model.Label
	at    time.Time
}

// userHistory is a person's history read from the store, as scorer input.
type userHistory struct {
	comparisons, votes int
	items              []histItem // those with a vector, in the order of inputs
	inputs             []scorer.HistoryItem
	skipped            int
}

// readHistory reads a person's history and the vectors of its images for
// model m. Ties carry no preference and are left out; images without a
// vector from the model's embedder are counted in skipped, and a comparison
// with one such image is left out whole. Ages are
// measured back from just after the person's last record, as the CLI's
// score command does, so a cached context stays valid as time passes.
func (s *Server) readHistory(ctx context.Context, m *modelState, user string) (*userHistory, error) {
	h, err := s.store.History(ctx, user)
	if err != nil {
		return nil, err
	}
	out := &userHistory{comparisons: len(h.Comparisons), votes: len(h.Votes)}
	var items []histItem
	for _, c := range h.Comparisons {
		win, lose, ok := c.Winner()
		if !ok {
			continue
		}
		items = append(items, histItem{win, model.LabelLiked, c.Time}, histItem{lose, model.LabelDisliked, c.Time})
	}
	for _, v := range h.Votes {
		l := model.LabelSingleDislike
		if v.Liked() {
			l = model.LabelSingleLike
		}
		items = append(items, histItem{v.Image, l, v.Time})
	}
	if len(items) == 0 {
		return out, nil
	}
	var last time.Time
	seen := map[string]bool{}
	var ids []string
	for _, it := range items {
		if it.at.After(last) {
			last = it.at
		}
		if !seen[it.image] {
			seen[it.image] = true
			ids = append(ids, it.image)
		}
	}
	at := last.Add(time.Second)
	vecs, err := s.vectors(ctx, m, ids)
	if err != nil {
		return nil, err
	}
	imgs, err := s.store.Images(ctx, ids)
	if err != nil {
		return nil, err
	}
	texts := map[string][]float32{}
	for i, id := range ids {
		if vecs[id] == nil {
			continue
		}
		t, err := s.promptVector(m, imgs[i].Prompt)
		if err != nil {
			return nil, err
		}
		texts[id] = t
	}
	for i := 0; i < len(items); i++ {
		unit := items[i : i+1]
		if items[i].label == model.LabelLiked && i+1 < len(items) && items[i+1].label == model.LabelDisliked {
			unit = items[i : i+2] // a comparison: both images or neither, so no false pair forms
			i++
		}
		missing := false
		for _, it := range unit {
			missing = missing || vecs[it.image] == nil
		}
		if missing {
			out.skipped += len(unit)
			continue
		}
		for _, it := range unit {
			out.items = append(out.items, it)
			out.inputs = append(out.inputs, scorer.HistoryItem{Image: vecs[it.image], Text: texts[it.image], Label: it.label, Age: at.Sub(it.at)})
		}
	}
	return out, nil
}

// vectors returns the vectors of ids from the model's embedder; ids without
// one are absent from the map.
func (s *Server) vectors(ctx context.Context, m *modelState, ids []string) (map[string][]float32, error) {
	emb := m.sc.Checkpoint().Embedder.Name
	out := make(map[string][]float32, len(ids))
	vecs, err := s.store.Embeddings(ctx, emb, ids)
	if err == nil {
		for i, id := range ids {
			out[id] = vecs[i]
		}
		return out, nil
	}
	if palate.ErrorCode(err) != palate.ENOTFOUND {
		return nil, err
	}
	// Some have none: ask one by one to learn which.
	for _, id := range ids {
		v, err := s.store.Embeddings(ctx, emb, []string{id})
		switch {
		case err == nil:
			out[id] = v[0]
		case palate.ErrorCode(err) != palate.ENOTFOUND:
			return nil, err
		}
	}
	return out, nil
}

// promptVector embeds a prompt with the model's text embedder.
func (s *Server) promptVector(m *modelState, prompt string) ([]float32, error) {
	return m.sc.EmbedPrompt(prompt)
}

// context returns a person's encoded history for model m, from the cache
// when it holds one for m.
func (s *Server) context(ctx context.Context, m *modelState, user string) (*userContext, error) {
	uc, ok, ticket := s.contexts.get(user)
	if ok && uc.m == m {
		s.metrics.cache.WithLabelValues("hit").Inc()
		return uc, nil
	}
	s.metrics.cache.WithLabelValues("miss").Inc()
	h, err := s.readHistory(ctx, m, user)
	if err != nil {
		return nil, err
	}
	uc, err = s.encode(ctx, m, h)
	if err != nil {
		return nil, err
	}
	// A history with images that have no vector yet is not cached: adding
	// a vector sends no event, and the next request should see it.
	if s.model.Load() == m && h.skipped == 0 {
		s.contexts.put(user, ticket, uc)
	}
	return uc, nil
}

func (s *Server) encode(ctx context.Context, m *modelState, h *userHistory) (*userContext, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	c, err := m.sc.Context(ctx, h.inputs)
	if err != nil {
		return nil, err
	}
	return &userContext{m: m, c: c, skipped: h.skipped}, nil
}

// score scores candidates against an encoded history.
func (s *Server) score(ctx context.Context, m *modelState, uc *userContext, cands []scorer.Candidate) (scorer.Result, error) {
	if err := s.acquire(ctx); err != nil {
		return scorer.Result{}, err
	}
	defer s.release()
	res, err := m.sc.Score(ctx, uc.c, cands)
	if err == nil {
		s.metrics.scores.Add(float64(len(cands)))
	}
	return res, err
}

// acquire waits for one of the model computation slots (see
// Config.MaxComputations) or for ctx to end.
func (s *Server) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) release() { <-s.slots }
