package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"palate"
	"palate/api"
	"palate/model"
	"palate/scorer"
)

// rankRequest is api.RankRequest with each candidate decoded on its own, so
// errors name the candidate.
type rankRequest struct {
	Candidates []json.RawMessage `json:"candidates"`
	Personal   *bool             `json:"personal"`
}

func (s *Server) rank(w http.ResponseWriter, r *http.Request) error {
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req rankRequest
	if err := decodeStrict(body, &req, ""); err != nil {
		return err
	}
	switch n := len(req.Candidates); {
	case n == 0:
		return palate.Errorf(palate.EINVALID, "candidates: empty; give at least one")
	case n > s.lim.MaxCandidates:
		return palate.Errorf(palate.ETOOLARGE, "candidates: %d, over the limit of %d", n, s.lim.MaxCandidates)
	}
	cands := make([]api.Candidate, len(req.Candidates))
	for i, raw := range req.Candidates {
		if err := decodeStrict(raw, &cands[i], fmt.Sprintf("candidates[%d]", i)); err != nil {
			return err
		}
	}
	m, err := s.current()
	if err != nil {
		return err
	}
	ctx := r.Context()
	in, err := s.candidates(r, m, cands)
	if err != nil {
		return err
	}
	var uc *userContext
	if req.Personal != nil && !*req.Personal {
		uc = &userContext{m: m, c: m.cold}
	} else if uc, err = s.context(ctx, m, user); err != nil {
		return err
	}
	res, err := s.score(ctx, m, uc, in)
	if err != nil {
		return err
	}
	out := api.RankResponse{User: user, Model: m.version, ColdStart: res.ColdStart, HistoryItems: uc.c.Items,
		HistorySkipped: uc.skipped, Results: make([]api.RankResult, len(in)), Order: order(res.Scores)}
	for i := range in {
		out.Results[i] = api.RankResult{Index: i, ID: cands[i].ID, Score: res.Scores[i], PLike: res.Prob(i)}
	}
	for rank, i := range out.Order {
		out.Results[i].Rank = rank + 1
	}
	return writeJSON(w, http.StatusOK, out)
}

// order returns indexes by score, best first (ties keep request order).
func order(scores []float32) []int {
	o := make([]int, len(scores))
	for i := range o {
		o[i] = i
	}
	sort.SliceStable(o, func(a, b int) bool { return scores[o[a]] > scores[o[b]] })
	return o
}

// candidates turns rank candidates into scorer input for model m.
func (s *Server) candidates(r *http.Request, m *modelState, cands []api.Candidate) ([]scorer.Candidate, error) {
	ck := m.sc.Checkpoint()
	out := make([]scorer.Candidate, len(cands))
	var ids []string
	var idIdx []int
	for i, c := range cands {
		field := func(f string) string { return fmt.Sprintf("candidates[%d].%s", i, f) }
		given := 0
		for _, set := range []bool{c.ID != "", len(c.Image) > 0, len(c.Embedding) > 0} {
			if set {
				given++
			}
		}
		if given != 1 {
			return nil, palate.Errorf(palate.EINVALID, "candidates[%d]: give exactly one of id, image and embedding", i)
		}
		switch {
		case c.ID != "":
			ids = append(ids, c.ID)
			idIdx = append(idIdx, i)
			continue
		case len(c.Image) > 0:
			if s.embedder.Name() != ck.Embedder.Name {
				return nil, palate.Errorf(palate.EINVALID, "%s: this server embeds pictures with %s but the model reads %s vectors; send embedding instead", field("image"), s.embedder.Name(), ck.Embedder.Name)
			}
			v, err := s.embed(r, c.Image, field("image"))
			if err != nil {
				return nil, err
			}
			out[i].Image = v
		default:
			if c.Embedder != "" && c.Embedder != ck.Embedder.Name {
				return nil, palate.Errorf(palate.EINVALID, "%s: %q, but the model reads %s vectors", field("embedder"), c.Embedder, ck.Embedder.Name)
			}
			if err := checkVector(c.Embedding, field("embedding")); err != nil {
				return nil, err
			}
			if len(c.Embedding) != ck.Embedder.Dim {
				return nil, palate.Errorf(palate.EINVALID, "%s: %d values, the model reads %s vectors of %d", field("embedding"), len(c.Embedding), ck.Embedder.Name, ck.Embedder.Dim)
			}
			out[i].Image = c.Embedding
		}
		t, err := s.promptVector(m, c.Prompt)
		if err != nil {
			return nil, err
		}
		out[i].Text = t
	}
	if len(ids) == 0 {
		return out, nil
	}
	imgs, vecs, err := s.storedCandidates(r.Context(), m, ids, idIdx)
	if err != nil {
		return nil, err
	}
	for k, i := range idIdx {
		prompt := cands[i].Prompt
		if prompt == "" {
			prompt = imgs[k].Prompt
		}
		t, err := s.promptVector(m, prompt)
		if err != nil {
			return nil, err
		}
		out[i] = scorer.Candidate{Image: vecs[k], Text: t}
	}
	return out, nil
}

// storedCandidates reads stored images and their vectors; an unknown image
// or one without a vector from the model's embedder is an error naming the
// candidate.
func (s *Server) storedCandidates(ctx context.Context, m *modelState, ids []string, idx []int) ([]palate.Image, [][]float32, error) {
	emb := m.sc.Checkpoint().Embedder.Name
	imgs, err := s.store.Images(ctx, ids)
	if err == nil {
		var vecs [][]float32
		vecs, err = s.store.Embeddings(ctx, emb, ids)
		if err == nil {
			return imgs, vecs, nil
		}
	}
	if palate.ErrorCode(err) != palate.ENOTFOUND {
		return nil, nil, err
	}
	// Find the first candidate at fault.
	for k, id := range ids {
		if _, err := s.store.Images(ctx, []string{id}); err != nil {
			if palate.ErrorCode(err) == palate.ENOTFOUND {
				return nil, nil, palate.Errorf(palate.ENOTFOUND, "candidates[%d].id: image %q not found", idx[k], id)
			}
			return nil, nil, err
		}
		if _, err := s.store.Embeddings(ctx, emb, []string{id}); err != nil {
			if palate.ErrorCode(err) == palate.ENOTFOUND {
				return nil, nil, palate.Errorf(palate.ENOTFOUND, "candidates[%d].id: image %q has no %s vector, which the model reads", idx[k], id, emb)
			}
			return nil, nil, err
		}
	}
	return nil, nil, err
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) error {
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	n, err := intParam(r, "n", 5, s.lim.MaxNeighbours)
	if err != nil {
		return err
	}
	m, err := s.current()
	if err != nil {
		return err
	}
	ctx := r.Context()
	h, err := s.readHistory(ctx, m, user)
	if err != nil {
		return err
	}
	uc, err := s.context(ctx, m, user)
	if err != nil {
		return err
	}
	out := api.Profile{User: user, Model: m.version, Comparisons: h.comparisons, Votes: h.votes,
		ColdStart: uc.c.ColdStart, HistoryItems: uc.c.Items, HistorySkipped: uc.skipped,
		Descriptor: []float32{}, TopLiked: []api.ImageScore{}, TopDisliked: []api.ImageScore{},
		Truth: s.trueTaste(user)}
	if uc.c.ColdStart {
		return writeJSON(w, http.StatusOK, out)
	}
	out.Descriptor = uc.c.Descriptor().Vector()
	// Score each image of the history once; an image both liked and
	// disliked (in different records) appears in both lists.
	seen := map[string]int{}
	var cands []scorer.Candidate
	var ids []string
	for k, it := range h.items {
		if _, ok := seen[it.image]; !ok {
			seen[it.image] = len(ids)
			ids = append(ids, it.image)
			cands = append(cands, scorer.Candidate{Image: h.inputs[k].Image, Text: h.inputs[k].Text})
		}
	}
	res, err := s.score(ctx, m, uc, cands)
	if err != nil {
		return err
	}
	liked, disliked := map[string]bool{}, map[string]bool{}
	for _, it := range h.items {
		if it.label == model.LabelLiked || it.label == model.LabelSingleLike {
			liked[it.image] = true
		} else {
			disliked[it.image] = true
		}
	}
	pick := func(set map[string]bool, best bool) []api.ImageScore {
		out := []api.ImageScore{}
		for _, id := range ids {
			if set[id] {
				k := seen[id]
				out = append(out, api.ImageScore{ID: id, Score: res.Scores[k], PLike: res.Prob(k)})
			}
		}
		sort.SliceStable(out, func(a, b int) bool {
			if best {
				return out[a].Score > out[b].Score
			}
			return out[a].Score < out[b].Score
		})
		return out[:min(n, len(out))]
	}
	out.TopLiked = pick(liked, true)
	out.TopDisliked = pick(disliked, false)
	return writeJSON(w, http.StatusOK, out)
}
