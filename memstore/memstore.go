// Package memstore is an in-memory palate.Store: every record lives in maps
// guarded by one mutex, and subscribers of the same Store see each other's
// writes. It is for tests, for `palate serve --db mem:` and as the reference
// the storage backends are compared with; nothing survives the process.
package memstore

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"palate"
)

// Store is an in-memory palate.Store, safe for concurrent use. The zero
// value is not usable: call New.
type Store struct {
	now func() time.Time

	mu          sync.Mutex
	closed      bool
	images      map[string]palate.Image
	embedders   map[string]*table
	comparisons map[string]palate.Comparison
	votes       map[string]palate.Vote
	byUser      map[string]*userRecords
	models      map[string]*palate.ModelRecord
	latest      string // version of the most recently published model
	subs        map[*subscriber]struct{}
}

type table struct {
	dim  int
	vecs map[string][]float32
}

type userRecords struct {
	comparisons []string
	votes       []string
}

var _ palate.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		now:         time.Now,
		images:      map[string]palate.Image{},
		embedders:   map[string]*table{},
		comparisons: map[string]palate.Comparison{},
		votes:       map[string]palate.Vote{},
		byUser:      map[string]*userRecords{},
		models:      map[string]*palate.ModelRecord{},
		subs:        map[*subscriber]struct{}{},
	}
}

// begin locks the store after checking ctx and that the store is open; the
// caller unlocks.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return palate.Errorf(palate.EUNAVAILABLE, "memstore: store is closed")
	}
	return nil
}

// PutImages stores images (idempotent by ID). An empty ID is EINVALID.
func (s *Store) PutImages(ctx context.Context, images []palate.Image) (palate.Written, error) {
	for i, im := range images {
		if im.ID == "" {
			return palate.Written{}, palate.Errorf(palate.EINVALID, "items[%d].id: empty", i)
		}
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	defer s.mu.Unlock()
	var w palate.Written
	batch := map[string]palate.Image{}
	for i, im := range images {
		old, ok := s.images[im.ID]
		if !ok {
			old, ok = batch[im.ID]
		}
		if ok {
			if old != im {
				return palate.Written{}, palate.Errorf(palate.ECONFLICT, "items[%d]: image %q is already stored with different content", i, im.ID)
			}
			w.Duplicate++
			continue
		}
		batch[im.ID] = im
		w.Inserted++
	}
	for id, im := range batch {
		s.images[id] = im
	}
	return w, nil
}

// Images returns the images with the given ids, in order.
func (s *Store) Images(ctx context.Context, ids []string) ([]palate.Image, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]palate.Image, len(ids))
	for i, id := range ids {
		im, ok := s.images[id]
		if !ok {
			return nil, palate.Errorf(palate.ENOTFOUND, "image %q not found", id)
		}
		out[i] = im
	}
	return out, nil
}

// ListImages returns up to limit images with ID > after, ordered by ID.
// A limit below 1 is EINVALID.
func (s *Store) ListImages(ctx context.Context, after string, limit int) ([]palate.Image, error) {
	if limit < 1 {
		return nil, palate.Errorf(palate.EINVALID, "limit: %d, want >= 1", limit)
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.images))
	for id := range s.images {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	ids = ids[:min(limit, len(ids))]
	out := make([]palate.Image, len(ids))
	for i, id := range ids {
		out[i] = s.images[id]
	}
	return out, nil
}

// PutEmbeddings stores one vector per id for the named embedder. Besides the
// errors of palate.Store, an empty embedder name, unequal lengths of ids and
// vectors, an empty vector or a non-finite value are EINVALID.
func (s *Store) PutEmbeddings(ctx context.Context, embedder string, ids []string, vectors [][]float32) (palate.Written, error) {
	if embedder == "" {
		return palate.Written{}, palate.Errorf(palate.EINVALID, "embedder: empty name")
	}
	if len(ids) != len(vectors) {
		return palate.Written{}, palate.Errorf(palate.EINVALID, "%d ids but %d vectors", len(ids), len(vectors))
	}
	for i, v := range vectors {
		if len(v) == 0 {
			return palate.Written{}, palate.Errorf(palate.EINVALID, "items[%d].vector: empty", i)
		}
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return palate.Written{}, palate.Errorf(palate.EINVALID, "items[%d].vector[%d]: %v is not a finite number", i, j, x)
			}
		}
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	defer s.mu.Unlock()
	t := s.embedders[embedder]
	dim := 0
	if t != nil {
		dim = t.dim
	} else if len(vectors) > 0 {
		dim = len(vectors[0])
	}
	var w palate.Written
	batch := map[string][]float32{}
	for i, id := range ids {
		if _, ok := s.images[id]; !ok {
			return palate.Written{}, palate.Errorf(palate.ENOTFOUND, "items[%d].id: image %q not found", i, id)
		}
		v := vectors[i]
		if len(v) != dim {
			return palate.Written{}, palate.Errorf(palate.EINVALID, "items[%d].vector: %d values, embedder %q has dimension %d", i, len(v), embedder, dim)
		}
		var old []float32
		ok := false
		if t != nil {
			old, ok = t.vecs[id]
		}
		if !ok {
			old, ok = batch[id]
		}
		if ok {
			if !slices.Equal(old, v) {
				return palate.Written{}, palate.Errorf(palate.ECONFLICT, "items[%d]: image %q already has a different %s vector", i, id, embedder)
			}
			w.Duplicate++
			continue
		}
		batch[id] = slices.Clone(v)
		w.Inserted++
	}
	if len(ids) == 0 {
		return w, nil
	}
	if t == nil {
		t = &table{dim: dim, vecs: map[string][]float32{}}
		s.embedders[embedder] = t
	}
	for id, v := range batch {
		t.vecs[id] = v
	}
	return w, nil
}

// Embeddings returns the vectors of ids for the embedder, in order (copies).
func (s *Store) Embeddings(ctx context.Context, embedder string, ids []string) ([][]float32, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	t := s.embedders[embedder]
	out := make([][]float32, len(ids))
	for i, id := range ids {
		var v []float32
		ok := false
		if t != nil {
			v, ok = t.vecs[id]
		}
		if !ok {
			return nil, palate.Errorf(palate.ENOTFOUND, "image %q has no %s embedding", id, embedder)
		}
		out[i] = slices.Clone(v)
	}
	return out, nil
}

func checkComparison(i int, c palate.Comparison) error {
	bad := func(field, format string, args ...any) error {
		return palate.Errorf(palate.EINVALID, "items[%d].%s: "+format, append([]any{i, field}, args...)...)
	}
	switch {
	case c.ID == "":
		return bad("id", "empty")
	case c.User == "":
		return bad("user", "empty")
	case c.Image0 == "":
		return bad("image_0", "empty")
	case c.Image1 == "":
		return bad("image_1", "empty")
	case c.Image0 == c.Image1:
		return bad("image_1", "same image as image_0 (%q)", c.Image0)
	case c.Label0 != 0 && c.Label0 != 0.5 && c.Label0 != 1:
		return bad("label_0", "%v, want 1 (image_0 preferred), 0 (image_1) or 0.5 (tie)", c.Label0)
	}
	return nil
}

func checkVote(i int, v palate.Vote) error {
	bad := func(field, format string, args ...any) error {
		return palate.Errorf(palate.EINVALID, "items[%d].%s: "+format, append([]any{i, field}, args...)...)
	}
	switch {
	case v.ID == "":
		return bad("id", "empty")
	case v.User == "":
		return bad("user", "empty")
	case v.Image == "":
		return bad("image", "empty")
	case v.Vote != palate.Like && v.Vote != palate.Dislike:
		return bad("vote", "%q, want %q or %q", v.Vote, palate.Like, palate.Dislike)
	}
	return nil
}

// sameComparison compares content; times compare as instants.
func sameComparison(a, b palate.Comparison) bool {
	return a.ID == b.ID && a.User == b.User && a.Prompt == b.Prompt && a.Image0 == b.Image0 &&
		a.Image1 == b.Image1 && a.Label0 == b.Label0 && a.Time.Equal(b.Time)
}

func sameVote(a, b palate.Vote) bool {
	return a.ID == b.ID && a.User == b.User && a.Image == b.Image && a.Vote == b.Vote && a.Time.Equal(b.Time)
}

// AddComparisons stores comparisons (idempotent by ID). Besides the errors
// of palate.Store, a missing id, user or image, the same image twice and a
// label_0 other than 0, 0.5 or 1 are EINVALID.
func (s *Store) AddComparisons(ctx context.Context, cs []palate.Comparison) (palate.Written, error) {
	for i, c := range cs {
		if err := checkComparison(i, c); err != nil {
			return palate.Written{}, err
		}
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	var w palate.Written
	batch := map[string]palate.Comparison{}
	var order []string
	for i, c := range cs {
		for _, f := range []struct{ field, id string }{{"image_0", c.Image0}, {"image_1", c.Image1}} {
			if _, ok := s.images[f.id]; !ok {
				s.mu.Unlock()
				return palate.Written{}, palate.Errorf(palate.ENOTFOUND, "items[%d].%s: image %q not found", i, f.field, f.id)
			}
		}
		old, ok := s.comparisons[c.ID]
		if !ok {
			old, ok = batch[c.ID]
		}
		if ok {
			if !sameComparison(old, c) {
				s.mu.Unlock()
				return palate.Written{}, palate.Errorf(palate.ECONFLICT, "items[%d]: comparison %q is already stored with different content", i, c.ID)
			}
			w.Duplicate++
			continue
		}
		batch[c.ID] = c
		order = append(order, c.ID)
		w.Inserted++
	}
	users := map[string]bool{}
	for _, id := range order {
		c := batch[id]
		s.comparisons[id] = c
		s.user(c.User).comparisons = append(s.user(c.User).comparisons, id)
		users[c.User] = true
	}
	s.mu.Unlock()
	s.notifyUsers(users)
	return w, nil
}

// AddVotes stores votes (idempotent by ID). Besides the errors of
// palate.Store, a missing id, user or image and a vote other than "like" or
// "dislike" are EINVALID; an unknown image is ENOTFOUND.
func (s *Store) AddVotes(ctx context.Context, vs []palate.Vote) (palate.Written, error) {
	for i, v := range vs {
		if err := checkVote(i, v); err != nil {
			return palate.Written{}, err
		}
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	var w palate.Written
	batch := map[string]palate.Vote{}
	var order []string
	for i, v := range vs {
		if _, ok := s.images[v.Image]; !ok {
			s.mu.Unlock()
			return palate.Written{}, palate.Errorf(palate.ENOTFOUND, "items[%d].image: image %q not found", i, v.Image)
		}
		old, ok := s.votes[v.ID]
		if !ok {
			old, ok = batch[v.ID]
		}
		if ok {
			if !sameVote(old, v) {
				s.mu.Unlock()
				return palate.Written{}, palate.Errorf(palate.ECONFLICT, "items[%d]: vote %q is already stored with different content", i, v.ID)
			}
			w.Duplicate++
			continue
		}
		batch[v.ID] = v
		order = append(order, v.ID)
		w.Inserted++
	}
	users := map[string]bool{}
	for _, id := range order {
		v := batch[id]
		s.votes[id] = v
		s.user(v.User).votes = append(s.user(v.User).votes, id)
		users[v.User] = true
	}
	s.mu.Unlock()
	s.notifyUsers(users)
	return w, nil
}

func (s *Store) user(id string) *userRecords {
	u := s.byUser[id]
	if u == nil {
		u = &userRecords{}
		s.byUser[id] = u
	}
	return u
}

// History returns a person's comparisons and votes ordered by time, then id.
func (s *Store) History(ctx context.Context, user string) (*palate.UserHistory, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	h := &palate.UserHistory{User: user, Comparisons: []palate.Comparison{}, Votes: []palate.Vote{}}
	u := s.byUser[user]
	if u == nil {
		return h, nil
	}
	for _, id := range u.comparisons {
		h.Comparisons = append(h.Comparisons, s.comparisons[id])
	}
	for _, id := range u.votes {
		h.Votes = append(h.Votes, s.votes[id])
	}
	sort.Slice(h.Comparisons, func(i, j int) bool {
		a, b := h.Comparisons[i], h.Comparisons[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.ID < b.ID
	})
	sort.Slice(h.Votes, func(i, j int) bool {
		a, b := h.Votes[i], h.Votes[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.ID < b.ID
	})
	return h, nil
}

// Users returns every user with at least one comparison or vote, ordered by
// user id.
func (s *Store) Users(ctx context.Context) ([]palate.UserSummary, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]palate.UserSummary, 0, len(s.byUser))
	for id, u := range s.byUser {
		sum := palate.UserSummary{User: id, Comparisons: len(u.comparisons), Votes: len(u.votes)}
		for _, cid := range u.comparisons {
			if t := s.comparisons[cid].Time; t.After(sum.Last) {
				sum.Last = t
			}
		}
		for _, vid := range u.votes {
			if t := s.votes[vid].Time; t.After(sum.Last) {
				sum.Last = t
			}
		}
		out = append(out, sum)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].User < out[j].User })
	return out, nil
}

// PublishModel stores a trained model. An empty version is EINVALID;
// publishing a version again with the same archive is a no-op.
func (s *Store) PublishModel(ctx context.Context, m *palate.ModelRecord) error {
	if m == nil || m.Version == "" {
		return palate.Errorf(palate.EINVALID, "version: empty")
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	if old, ok := s.models[m.Version]; ok {
		s.mu.Unlock()
		if !slices.Equal(old.Archive, m.Archive) {
			return palate.Errorf(palate.ECONFLICT, "model version %q is already published with different bytes", m.Version)
		}
		return nil
	}
	rec := *m
	rec.Summary = slices.Clone(m.Summary)
	rec.Archive = slices.Clone(m.Archive)
	rec.Published = s.now()
	s.models[m.Version] = &rec
	s.latest = m.Version
	s.mu.Unlock()
	s.notify(palate.Event{Kind: palate.EventModel, Version: m.Version})
	return nil
}

// LatestModel returns the most recently published model (a copy).
func (s *Store) LatestModel(ctx context.Context) (*palate.ModelRecord, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if s.latest == "" {
		return nil, palate.Errorf(palate.ENOTFOUND, "no model is published")
	}
	rec := *s.models[s.latest]
	rec.Summary = slices.Clone(rec.Summary)
	rec.Archive = slices.Clone(rec.Archive)
	return &rec, nil
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	s.mu.Unlock()
	return nil
}

// Close closes every subscription; later calls return EUNAVAILABLE.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for sub := range s.subs {
		sub.stop()
	}
	clear(s.subs)
	return nil
}
