package server

import (
	"context"
	"math"
	"net/http"
	"sort"

	"palate"
	"palate/api"
)

// descriptor is a person's taste descriptor under one model; vec is nil for
// a person without usable history.
type descriptor struct {
	m   *modelState
	vec []float32
}

// similar compares the asked person's descriptor with everyone's. The
// descriptors are centred on the population mean first, as `palate similar`
// does, so cosine similarity compares how people differ from everyone
// rather than what everyone shares.
func (s *Server) similar(w http.ResponseWriter, r *http.Request) error {
	user, err := pathID(r, "user")
	if err != nil {
		return err
	}
	n, err := intParam(r, "n", 10, s.lim.MaxNeighbours)
	if err != nil {
		return err
	}
	m, err := s.current()
	if err != nil {
		return err
	}
	ctx := r.Context()
	users, err := s.store.Users(ctx)
	if err != nil {
		return err
	}
	known := false
	descs := map[string][]float32{}
	for _, u := range users {
		known = known || u.User == user
		d, err := s.descriptor(ctx, m, u.User)
		if err != nil {
			return err
		}
		if d != nil {
			descs[u.User] = d
		}
	}
	switch {
	case !known:
		return palate.Errorf(palate.ENOTFOUND, "user %q has no comparisons or votes", user)
	case descs[user] == nil:
		return palate.Errorf(palate.ENOTFOUND, "user %q has no usable history (only ties, or images without %s vectors): nothing to compare", user, m.sc.Checkpoint().Embedder.Name)
	}
	centred := centre(descs)
	me := centred[user]
	out := api.SimilarResponse{User: user, Model: m.version, Users: []api.SimilarUser{}}
	for id, v := range centred {
		if id != user {
			out.Users = append(out.Users, api.SimilarUser{User: id, Similarity: cosine(me, v)})
		}
	}
	sort.Slice(out.Users, func(a, b int) bool {
		x, y := out.Users[a], out.Users[b]
		if x.Similarity != y.Similarity {
			return x.Similarity > y.Similarity
		}
		return x.User < y.User
	})
	out.Users = out.Users[:min(n, len(out.Users))]
	return writeJSON(w, http.StatusOK, out)
}

// descriptor returns a person's descriptor vector under model m (nil for a
// cold start), computing and caching it when needed. It reuses a cached
// context but does not add one, so a similar request does not flush the
// context cache.
func (s *Server) descriptor(ctx context.Context, m *modelState, user string) ([]float32, error) {
	d, ok, ticket := s.descs.get(user)
	if ok && d.m == m {
		return d.vec, nil
	}
	var uc *userContext
	if c, ok := s.contexts.peek(user); ok && c.m == m {
		uc = c
	} else {
		h, err := s.readHistory(ctx, m, user)
		if err != nil {
			return nil, err
		}
		if uc, err = s.encode(ctx, m, h); err != nil {
			return nil, err
		}
	}
	d = &descriptor{m: m}
	if !uc.c.ColdStart {
		d.vec = uc.c.Descriptor().Vector()
	}
	if s.model.Load() == m && uc.skipped == 0 {
		s.descs.put(user, ticket, d)
	}
	return d.vec, nil
}

// centre returns copies of the descriptors minus their mean.
func centre(descs map[string][]float32) map[string][]float32 {
	var mean []float64
	for _, v := range descs {
		if mean == nil {
			mean = make([]float64, len(v))
		}
		for i, x := range v {
			mean[i] += float64(x) / float64(len(descs))
		}
	}
	out := make(map[string][]float32, len(descs))
	for id, v := range descs {
		c := make([]float32, len(v))
		for i := range v {
			c[i] = v[i] - float32(mean[i])
		}
		out[id] = c
	}
	return out
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
