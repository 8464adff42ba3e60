package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"palate"
	"palate/api"
	"palate/features"
)

func (s *Server) postComparisons(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	items, err := decodeItems[api.Comparison](body, s.lim.MaxBatch)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	cs := make([]palate.Comparison, len(items))
	stamped := make([]bool, len(items))
	for i, it := range items {
		f := fieldNamer(len(items) > 1, i)
		switch {
		case it.ID == "":
			return palate.Errorf(palate.EINVALID, "%s: required", f("id"))
		case it.User == "":
			return palate.Errorf(palate.EINVALID, "%s: required", f("user"))
		case it.Image0 == "":
			return palate.Errorf(palate.EINVALID, "%s: required", f("image_0"))
		case it.Image1 == "":
			return palate.Errorf(palate.EINVALID, "%s: required", f("image_1"))
		case it.Label0 == nil:
			return palate.Errorf(palate.EINVALID, "%s: required (1 when image_0 was preferred, 0 when image_1 was, 0.5 for a tie)", f("label_0"))
		case *it.Label0 != 0 && *it.Label0 != 0.5 && *it.Label0 != 1:
			return palate.Errorf(palate.EINVALID, "%s: %v, want 1 (image_0 preferred), 0 (image_1) or 0.5 (a tie)", f("label_0"), *it.Label0)
		}
		t := it.Time
		if t.IsZero() {
			t, stamped[i] = now, true
		}
		cs[i] = palate.Comparison{ID: it.ID, User: it.User, Prompt: it.Prompt, Image0: it.Image0, Image1: it.Image1, Label0: *it.Label0, Time: t}
	}
	wr, err := s.store.AddComparisons(r.Context(), cs)
	if palate.ErrorCode(err) == palate.ECONFLICT && restamp(r.Context(), s.store, cs, stamped, func(c palate.Comparison) string { return c.User },
		func(h *palate.UserHistory) map[string]palate.Comparison {
			return byID(h.Comparisons, func(c palate.Comparison) string { return c.ID })
		},
		func(c palate.Comparison) string { return c.ID },
		func(c *palate.Comparison) *time.Time { return &c.Time }) {
		wr, err = s.store.AddComparisons(r.Context(), cs)
	}
	if err != nil {
		return oneItem(err, len(cs))
	}
	for _, c := range cs {
		s.invalidate(c.User)
	}
	s.metrics.records.WithLabelValues("comparison").Add(float64(wr.Inserted))
	return writeJSON(w, http.StatusOK, api.WriteResult{Inserted: wr.Inserted, Duplicate: wr.Duplicate})
}

func (s *Server) postVotes(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	items, err := decodeItems[api.Vote](body, s.lim.MaxBatch)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	vs := make([]palate.Vote, len(items))
	stamped := make([]bool, len(items))
	for i, it := range items {
		f := fieldNamer(len(items) > 1, i)
		switch {
		case it.ID == "":
			return palate.Errorf(palate.EINVALID, "%s: required", f("id"))
		case it.User == "":
			return palate.Errorf(palate.EINVALID, "%s: required", f("user"))
		case it.Image == "":
			return palate.Errorf(palate.EINVALID, "%s: required", f("image"))
		case it.Vote != palate.Like && it.Vote != palate.Dislike:
			return palate.Errorf(palate.EINVALID, "%s: %q, want %q or %q", f("vote"), it.Vote, palate.Like, palate.Dislike)
		}
		t := it.Time
		if t.IsZero() {
			t, stamped[i] = now, true
		}
		vs[i] = palate.Vote{ID: it.ID, User: it.User, Image: it.Image, Vote: it.Vote, Time: t}
	}
	wr, err := s.store.AddVotes(r.Context(), vs)
	if palate.ErrorCode(err) == palate.ECONFLICT && restamp(r.Context(), s.store, vs, stamped, func(v palate.Vote) string { return v.User },
		func(h *palate.UserHistory) map[string]palate.Vote {
			return byID(h.Votes, func(v palate.Vote) string { return v.ID })
		},
		func(v palate.Vote) string { return v.ID },
		func(v *palate.Vote) *time.Time { return &v.Time }) {
		wr, err = s.store.AddVotes(r.Context(), vs)
	}
	if err != nil {
		return oneItem(err, len(vs))
	}
	for _, v := range vs {
		s.invalidate(v.User)
	}
	s.metrics.records.WithLabelValues("vote").Add(float64(wr.Inserted))
	return writeJSON(w, http.StatusOK, api.WriteResult{Inserted: wr.Inserted, Duplicate: wr.Duplicate})
}

// restamp makes resending a record without a time idempotent: the server
// stamped it with its clock, so a resend differs from the stored record in
// time alone. For each stamped record whose id is stored with a different
// time, it takes the stored time if the content is otherwise the same, and
// reports whether it changed any (the write is then worth retrying).
func restamp[T comparable](ctx context.Context, store palate.Store, recs []T, stamped []bool, user func(T) string,
	stored func(*palate.UserHistory) map[string]T, id func(T) string, at func(*T) *time.Time) bool {
	changed := false
	hist := map[string]map[string]T{}
	for i := range recs {
		if !stamped[i] {
			continue
		}
		u := user(recs[i])
		if _, ok := hist[u]; !ok {
			h, err := store.History(ctx, u)
			if err != nil {
				return false
			}
			hist[u] = stored(h)
		}
		old, ok := hist[u][id(recs[i])]
		if !ok {
			continue
		}
		cand := recs[i]
		*at(&cand) = *at(&old)
		if cand == old {
			recs[i] = cand
			changed = true
		}
	}
	return changed
}

func byID[T any](recs []T, id func(T) string) map[string]T {
	m := make(map[string]T, len(recs))
	for _, r := range recs {
		m[id(r)] = r
	}
	return m
}

// invalidate drops a person's cached context and descriptor after a write
// through this server (other servers learn of it from the store's event).
func (s *Server) invalidate(user string) {
	s.contexts.drop(user)
	s.descs.drop(user)
}

// oneItem drops the "items[0]" that a store puts before a field when the
// request held one item, whose fields are named plainly (fieldNamer).
func oneItem(err error, n int) error {
	var pe *palate.Error
	if n != 1 || !errors.As(err, &pe) {
		return err
	}
	msg, ok := strings.CutPrefix(pe.Message, "items[0].")
	if !ok {
		msg, ok = strings.CutPrefix(pe.Message, "items[0]: ")
	}
	if !ok {
		return err
	}
	return &palate.Error{Code: pe.Code, Message: msg, Err: pe.Err}
}

// fieldNamer names a field of item i: "items[i].field" in a batch, "field"
// for a single object.
func fieldNamer(batch bool, i int) func(string) string {
	return func(field string) string {
		if !batch {
			return field
		}
		return fmt.Sprintf("items[%d].%s", i, field)
	}
}

// postImages stores images and their vectors. Every item is checked,
// decoded and embedded before anything is written; then the images are
// written as one batch and their vectors as one batch per embedder. The
// store refuses a conflicting image before writing any; a vector that
// conflicts with a stored one leaves the batch's images written (a retry
// with corrected vectors is then a duplicate for the images).
func (s *Server) postImages(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	items, err := decodeItems[api.Image](body, s.lim.MaxBatch)
	if err != nil {
		return err
	}
	ctx := r.Context()
	images := make([]palate.Image, len(items))
	type group struct {
		ids  []string
		vecs [][]float32
	}
	groups := map[string]*group{}
	var order []string
	for i, it := range items {
		f := fieldNamer(len(items) > 1, i)
		if it.ID == "" {
			return palate.Errorf(palate.EINVALID, "%s: required", f("id"))
		}
		var name string
		var vec []float32
		switch {
		case len(it.Image) > 0 && len(it.Embedding) > 0:
			return palate.Errorf(palate.EINVALID, "%s: give image or embedding, not both", f("image"))
		case len(it.Image) > 0:
			if it.Embedder != "" && it.Embedder != s.embedder.Name() {
				return palate.Errorf(palate.EINVALID, "%s: %q, but this server embeds pictures with %q", f("embedder"), it.Embedder, s.embedder.Name())
			}
			name = s.embedder.Name()
			vec, err = s.embed(r, it.Image, f("image"))
			if err != nil {
				return err
			}
		case len(it.Embedding) > 0:
			if it.Embedder == "" {
				return palate.Errorf(palate.EINVALID, "%s: required with embedding (the name of the embedder that made it)", f("embedder"))
			}
			name, vec = it.Embedder, it.Embedding
			if err := checkVector(vec, f("embedding")); err != nil {
				return err
			}
			if name == s.embedder.Name() && len(vec) != s.embedder.Dim() {
				return palate.Errorf(palate.EINVALID, "%s: %d values, but %s makes %d", f("embedding"), len(vec), name, s.embedder.Dim())
			}
			if m := s.model.Load(); m != nil {
				if ck := m.sc.Checkpoint(); ck.Embedder.Name == name && len(vec) != ck.Embedder.Dim {
					return palate.Errorf(palate.EINVALID, "%s: %d values, but the model reads %s vectors of %d", f("embedding"), len(vec), name, ck.Embedder.Dim)
				}
			}
		default:
			return palate.Errorf(palate.EINVALID, "%s: give image (base64 PNG, JPEG, WebP or GIF) or embedding with embedder", f("image"))
		}
		images[i] = palate.Image{ID: it.ID, Prompt: it.Prompt}
		g := groups[name]
		if g == nil {
			g = &group{}
			groups[name] = g
			order = append(order, name)
		}
		g.ids = append(g.ids, it.ID)
		g.vecs = append(g.vecs, vec)
	}
	wr, err := s.store.PutImages(ctx, images)
	if err != nil {
		return oneItem(err, len(images))
	}
	for _, name := range order {
		g := groups[name]
		if _, err := s.store.PutEmbeddings(ctx, name, g.ids, g.vecs); err != nil {
			if len(order) > 1 {
				return &palate.Error{Code: palate.ErrorCode(err), Message: fmt.Sprintf("%s vectors (items counted among those with this embedder): %v", name, err), Err: err}
			}
			return err
		}
	}
	s.metrics.records.WithLabelValues("image").Add(float64(wr.Inserted))
	return writeJSON(w, http.StatusOK, api.WriteResult{Inserted: wr.Inserted, Duplicate: wr.Duplicate})
}

// embed decodes a picture within the limits and embeds it; errors keep
// their code (ETOOLARGE, EINVALID) and name the field.
func (s *Server) embed(r *http.Request, data []byte, field string) ([]float32, error) {
	img, _, err := features.Decode(bytes.NewReader(data), features.Limits{MaxBytes: s.lim.MaxImageBytes, MaxPixels: s.lim.MaxImagePixels})
	if err != nil {
		return nil, &palate.Error{Code: palate.ErrorCode(err), Message: field + ": " + err.Error(), Err: err}
	}
	vec, err := s.embedder.Embed(r.Context(), img)
	if err != nil {
		return nil, &palate.Error{Code: palate.ErrorCode(err), Message: field + ": " + err.Error(), Err: err}
	}
	return vec, nil
}

// checkVector refuses empty vectors, and values that are not finite or not
// under palate.MaxEmbeddingValue in magnitude.
func checkVector(v []float32, field string) error {
	if len(v) == 0 {
		return palate.Errorf(palate.EINVALID, "%s: empty", field)
	}
	for j, x := range v {
		if !palate.EmbeddingValueOK(x) {
			return palate.Errorf(palate.EINVALID, "%s[%d]: %v; want a finite number under %d in magnitude", field, j, x, palate.MaxEmbeddingValue)
		}
	}
	return nil
}
