package server

import (
	"context"
	"encoding/json"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"palate"
	"palate/api"
	"palate/bench"
	"palate/guide"
	"palate/scorer"
	"palate/world"
)

// defaultClusters is k of the taste map's k-means when the data is not a
// taste world.
const defaultClusters = 4

// tasteMap projects every person's taste descriptor to 2-D and clusters
// the descriptors.
func (s *Server) tasteMap(w http.ResponseWriter, r *http.Request) error {
	m, err := s.current()
	if err != nil {
		return err
	}
	ctx := r.Context()
	users, err := s.store.Users(ctx)
	if err != nil {
		return err
	}
	descs := map[string][]float32{}
	var kept []palate.UserSummary
	cold := 0
	for _, u := range users {
		d, err := s.descriptor(ctx, m, u.User)
		if err != nil {
			return err
		}
		if d == nil {
			cold++
			continue
		}
		descs[u.User] = d
		kept = append(kept, u)
	}
	out := api.MapResponse{Model: m.version, Points: []api.MapPoint{}, ColdStart: cold, Clusters: defaultClusters}
	if s.world != nil {
		out.Groups = s.world.cfg.Groups
		out.Clusters = out.Groups
	}
	if len(kept) == 0 {
		return writeJSON(w, http.StatusOK, out)
	}
	centred := centre(descs)
	vecs := make([][]float32, len(kept))
	units := make([][]float32, len(kept))
	for i, u := range kept {
		vecs[i] = centred[u.User]
		units[i] = normalised(vecs[i])
	}
	xy := bench.PCA2(vecs)
	labels := bench.KMeans(units, out.Clusters, 1)
	for i, u := range kept {
		p := api.MapPoint{User: u.User, X: xy[i][0], Y: xy[i][1], Cluster: labels[i], Group: -1,
			Comparisons: u.Comparisons, Votes: u.Votes}
		if s.world != nil {
			if t := s.world.people[u.User]; t != nil {
				p.Group = t.Group
			}
		}
		out.Points = append(out.Points, p)
	}
	return writeJSON(w, http.StatusOK, out)
}

// normalised returns v scaled to length 1 (v itself when zero).
func normalised(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return v
	}
	out := make([]float32, len(v))
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// truthLatents is how many random pictures a phrase's effect on a
// person's true utility is averaged over.
const truthLatents = 64

// trueTaste returns what the world knows of user, nil when it does not
// know them. Each style phrase's effect is the mean, over the same random
// latents, of the person's utility (at the end of their history) with the
// phrase in the prompt less without it.
func (s *Server) trueTaste(user string) *api.TrueTaste {
	if s.world == nil {
		return nil
	}
	p := s.world.people[user]
	if p == nil {
		return nil
	}
	g := guide.NewWorld(s.world.cfg.ImageSize)
	r := mrand.New(mrand.NewPCG(7, 11))
	lats := make([]guide.Latent, truthLatents)
	base := make([]float64, truthLatents)
	for i := range lats {
		lats[i] = g.Sample(r, "")
		a, _ := g.Attrs("", "", lats[i])
		base[i] = s.world.w.Utility(p, p.Last, &a)
	}
	var effects []api.PhraseEffect
	for _, ph := range world.StylePhrases() {
		var sum float64
		for i, l := range lats {
			a, _ := g.Attrs(ph.Words, "", l)
			sum += s.world.w.Utility(p, p.Last, &a) - base[i]
		}
		effects = append(effects, api.PhraseEffect{Words: ph.Words, Effect: sum / truthLatents})
	}
	sort.SliceStable(effects, func(a, b int) bool { return effects[a].Effect > effects[b].Effect })
	out := &api.TrueTaste{Group: p.Group, DriftTo: p.DriftTo, Likes: []api.PhraseEffect{}, Dislikes: []api.PhraseEffect{}}
	for _, e := range effects {
		if e.Effect > 0 && len(out.Likes) < 5 {
			out.Likes = append(out.Likes, e)
		}
	}
	for i := len(effects) - 1; i >= 0; i-- {
		if e := effects[i]; e.Effect < 0 && len(out.Dislikes) < 5 {
			out.Dislikes = append(out.Dislikes, e)
		}
	}
	return out
}

// CheckBench reports whether path holds a bench report that Config.Bench
// accepts, so that a command can refuse a bad one before slow work.
func CheckBench(path string) error {
	_, err := readBench(path)
	return err
}

// readBench reads the accuracy table of a bench report (palate bench
// --json).
func readBench(path string) ([]api.BenchRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "bench report: %w", err)
	}
	var rep struct {
		Format     string `json:"format"`
		Predictors []struct {
			Name      string `json:"name"`
			Variant   string `json:"variant"`
			Reference bool   `json:"reference"`
			Seen      cell   `json:"seen"`
			Unseen    cell   `json:"unseen"`
		} `json:"predictors"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "bench report %s: %v", path, err)
	}
	if !strings.HasPrefix(rep.Format, "palate-bench") {
		return nil, palate.Errorf(palate.EINVALID, "bench report %s: format %q, want palate-bench-v1 (palate bench --json)", path, rep.Format)
	}
	out := []api.BenchRow{}
	for _, p := range rep.Predictors {
		out = append(out, api.BenchRow{Name: p.Name, Variant: p.Variant, Reference: p.Reference,
			Seen: p.Seen.cell(), Unseen: p.Unseen.cell()})
	}
	return out, nil
}

// cell is a bench Measure as read back (a NaN is written as null).
type cell struct {
	Acc, Lo, Hi *float64
	N           int
}

func (c cell) cell() api.BenchCell {
	return api.BenchCell{Acc: c.Acc, Lo: c.Lo, Hi: c.Hi, N: c.N}
}

// judge is the served model as a guidance judge for one request: the
// person's cached encoded history and the server's embedder.
type judge struct {
	s  *Server
	m  *modelState
	uc *userContext
}

func (*judge) Name() string { return guide.ByPalate }

func (j *judge) Scores(ctx context.Context, _, prompt string, imgs []*guide.Generated) ([]float64, error) {
	text, err := j.m.sc.EmbedPrompt(prompt)
	if err != nil {
		return nil, err
	}
	cands := make([]scorer.Candidate, len(imgs))
	for i, g := range imgs {
		v, err := g.Embedding(ctx, j.s.embedder)
		if err != nil {
			return nil, err
		}
		cands[i] = scorer.Candidate{Image: v, Text: text}
	}
	res, err := j.s.score(ctx, j.m, j.uc, cands)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(imgs))
	for i, x := range res.Scores {
		out[i] = float64(x)
	}
	return out, nil
}

// guideRequest mirrors api.GuideRequest.
type guideRequest struct {
	Prompt string `json:"prompt"`
	Method string `json:"method"`
	N      int    `json:"n"`
	Seed   uint64 `json:"seed"`
}

// defaultGuideBudget is n of a guide request that gives none.
const defaultGuideBudget = 16

func (s *Server) guideUser(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req guideRequest
	if err := decodeStrict(body, &req, ""); err != nil {
		return err
	}
	req.Prompt = strings.TrimSpace(req.Prompt)
	if req.Method == "" {
		req.Method = guide.MethodBestOfN
	}
	if req.N == 0 {
		req.N = defaultGuideBudget
	}
	switch {
	case req.Prompt == "":
		return palate.Errorf(palate.EINVALID, "prompt: required (what to draw)")
	case len(req.Prompt) > 1000:
		return palate.Errorf(palate.ETOOLARGE, "prompt: %d bytes, over the limit of 1000", len(req.Prompt))
	case req.N < 1:
		return palate.Errorf(palate.EINVALID, "n: %d, want at least 1 generator call", req.N)
	case req.N > maxGenerate:
		return palate.Errorf(palate.ETOOLARGE, "n: %d, over the limit of %d", req.N, maxGenerate)
	case req.Method == guide.MethodPrompt && req.N < 3:
		return palate.Errorf(palate.EINVALID, "n: %d, prompt guidance needs at least 3 generator calls", req.N)
	}
	if err := s.canGenerate(); err != nil {
		return err
	}
	m, err := s.current()
	if err != nil {
		return err
	}
	ctx := r.Context()
	uc, err := s.context(ctx, m, user)
	if err != nil {
		return err
	}
	j := &judge{s: s, m: m, uc: uc}
	seed := req.Seed
	if seed == 0 {
		seed = s.rng(0).Uint64()
	}
	opt := guide.Options{Budget: req.N, Seed: seed}
	var res *guide.Result
	switch req.Method {
	case guide.MethodBestOfN:
		res, err = guide.BestOfN(ctx, s.gen, j, user, req.Prompt, opt)
	case guide.MethodLatentSearch:
		res, err = guide.LatentSearch(ctx, s.gen, j, user, req.Prompt, opt)
	case guide.MethodPrompt:
		p, ok := s.gen.(guide.Prompter)
		if !ok {
			return palate.Errorf(palate.EINVALID, "method: this server's generator %s takes no style phrases; use best-of-n or latent-search", s.gen.Name())
		}
		res, err = guide.PromptGuidance(ctx, p, j, user, req.Prompt, opt)
	default:
		return palate.Errorf(palate.EINVALID, "method: %q, want best-of-n, latent-search or prompt", req.Method)
	}
	if err != nil {
		return err
	}
	un, err := guide.Unguided(ctx, s.gen, req.Prompt, opt)
	if err != nil {
		return err
	}
	scores, err := j.Scores(ctx, user, req.Prompt, []*guide.Generated{res.Best, un.Best})
	if err != nil {
		return err
	}
	ids, err := s.keep(ctx, []*guide.Generated{res.Best, un.Best})
	if err != nil {
		return err
	}
	pic := func(k int, g *guide.Generated) api.GuidePicture {
		return api.GuidePicture{ID: ids[k], URL: fileURL(ids[k]), Prompt: g.Prompt, Score: scores[k], PLike: sigmoid(scores[k])}
	}
	out := api.GuideResponse{User: user, Model: m.version, Method: req.Method, ColdStart: uc.c.ColdStart,
		Guided: pic(0, res.Best), Unguided: pic(1, un.Best), Calls: res.Calls, Negative: res.Negative,
		Seconds: time.Since(start).Seconds()}
	return writeJSON(w, http.StatusOK, out)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
