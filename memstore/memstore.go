// Package memstore is an in-memory palate.Store: every record lives in maps
// guarded by one mutex. A Store is a handle on such a database; New makes a
// fresh database and (*Store).Open a second handle on the same one, as a
// second process opening the same file would. Handles see each other's
// writes and events, and closing one leaves the data to the others. It is for
// tests, for `palate serve --db mem:` and as the reference the storage
// backends are compared with; nothing survives the process.
package memstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"palate"
	"palate/internal/storekit"
)

// Store is a handle on an in-memory database, safe for concurrent use. The
// zero value is not usable: call New.
type Store struct {
	db     *db
	closed atomic.Bool              // set under db.mu
	subs   map[*subscriber]struct{} // guarded by db.mu
}

// db is the data every handle of one database shares.
type db struct {
	now func() time.Time

	mu          sync.Mutex
	handles     map[*Store]struct{} // open handles, for events
	images      map[string]palate.Image
	embedders   map[string]*table
	comparisons map[string]palate.Comparison
	votes       map[string]palate.Vote
	byUser      map[string]*userRecords
	models      map[string]*palate.ModelRecord
	latest      string // version of the most recently published model
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

// New returns a handle on a new, empty database.
func New() *Store {
	d := &db{
		now:         time.Now,
		handles:     map[*Store]struct{}{},
		images:      map[string]palate.Image{},
		embedders:   map[string]*table{},
		comparisons: map[string]palate.Comparison{},
		votes:       map[string]palate.Vote{},
		byUser:      map[string]*userRecords{},
		models:      map[string]*palate.ModelRecord{},
	}
	return d.open()
}

// Open returns a new handle on s's database, as a second process opening the
// same database would: it sees every write and event of the other handles,
// and has its own Close. It works whether or not s is closed.
func (s *Store) Open() *Store { return s.db.open() }

func (d *db) open() *Store {
	s := &Store{db: d, subs: map[*subscriber]struct{}{}}
	d.mu.Lock()
	d.handles[s] = struct{}{}
	d.mu.Unlock()
	return s
}

// begin locks the database after checking ctx and that the handle is open;
// the caller unlocks.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.db.mu.Lock()
	if s.closed.Load() {
		s.db.mu.Unlock()
		return palate.Errorf(palate.EUNAVAILABLE, "memstore: store is closed")
	}
	return nil
}

// PutImages stores images (idempotent by ID).
func (s *Store) PutImages(ctx context.Context, images []palate.Image) (palate.Written, error) {
	ims, err := storekit.Images(images)
	if err != nil {
		return palate.Written{}, err
	}
	first, dup, err := storekit.Dedup("items", ims, func(im palate.Image) string { return im.ID },
		func(a, b palate.Image) bool { return a == b })
	if err != nil {
		return palate.Written{}, err
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	defer s.db.mu.Unlock()
	w := palate.Written{Duplicate: dup}
	var add []int
	for _, i := range first {
		im := ims[i]
		if old, ok := s.db.images[im.ID]; ok {
			if old != im {
				return palate.Written{}, storekit.Item(palate.ECONFLICT, i, "", "image %q is already stored with different content", im.ID)
			}
			w.Duplicate++
			continue
		}
		add = append(add, i)
	}
	for _, i := range add {
		s.db.images[ims[i].ID] = ims[i]
	}
	w.Inserted = len(add)
	return w, nil
}

// Images returns the images with the given ids, in order.
func (s *Store) Images(ctx context.Context, ids []string) ([]palate.Image, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	out := make([]palate.Image, len(ids))
	for i, id := range ids {
		im, ok := s.db.images[id]
		if !ok {
			return nil, palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q is not stored", i, id)
		}
		out[i] = im
	}
	return out, nil
}

// ListImages returns up to limit images with ID > after, ordered by ID.
// A limit below 1 is EINVALID.
func (s *Store) ListImages(ctx context.Context, after string, limit int) ([]palate.Image, error) {
	if limit < 1 {
		return nil, palate.Errorf(palate.EINVALID, "limit is %d; want at least 1", limit)
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	ids := make([]string, 0, len(s.db.images))
	for id := range s.db.images {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(limit, len(ids))]
	out := make([]palate.Image, len(ids))
	for i, id := range ids {
		out[i] = s.db.images[id]
	}
	return out, nil
}

// PutEmbeddings stores one vector per id for the named embedder.
func (s *Store) PutEmbeddings(ctx context.Context, embedder string, ids []string, vectors [][]float32) (palate.Written, error) {
	if err := storekit.Name("embedder", embedder); err != nil {
		return palate.Written{}, err
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	defer s.db.mu.Unlock()
	t := s.db.embedders[embedder]
	have := 0
	if t != nil {
		have = t.dim
	}
	// Checked under the lock so a vector of the wrong length is named by
	// its own index against the stored dimension.
	dim, err := storekit.Embeddings(embedder, ids, vectors, have)
	if err != nil || len(ids) == 0 {
		return palate.Written{}, err
	}
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	first, dup, err := storekit.Dedup("ids", idx, func(i int) string { return ids[i] },
		func(i, j int) bool { return storekit.SameVector(vectors[i], vectors[j]) })
	if err != nil {
		return palate.Written{}, err
	}
	w := palate.Written{Duplicate: dup}
	var add []int
	for _, i := range first {
		if _, ok := s.db.images[ids[i]]; !ok {
			return palate.Written{}, palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q is not stored", i, ids[i])
		}
		if t != nil {
			if old, ok := t.vecs[ids[i]]; ok {
				if !storekit.SameVector(old, vectors[i]) {
					return palate.Written{}, palate.Errorf(palate.ECONFLICT, "ids[%d]: image %q already has a different %s vector", i, ids[i], embedder)
				}
				w.Duplicate++
				continue
			}
		}
		add = append(add, i)
	}
	if t == nil {
		t = &table{dim: dim, vecs: map[string][]float32{}}
		s.db.embedders[embedder] = t
	}
	for _, i := range add {
		t.vecs[ids[i]] = slices.Clone(vectors[i])
	}
	w.Inserted = len(add)
	return w, nil
}

// Embeddings returns the vectors of ids for the embedder, in order (copies).
func (s *Store) Embeddings(ctx context.Context, embedder string, ids []string) ([][]float32, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	t := s.db.embedders[embedder]
	out := make([][]float32, len(ids))
	for i, id := range ids {
		var v []float32
		ok := false
		if t != nil {
			v, ok = t.vecs[id]
		}
		if !ok {
			return nil, palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q has no %s vector", i, id, embedder)
		}
		out[i] = slices.Clone(v)
	}
	return out, nil
}

// AddComparisons stores comparisons (idempotent by ID).
func (s *Store) AddComparisons(ctx context.Context, cs []palate.Comparison) (palate.Written, error) {
	cs, err := storekit.Comparisons(cs)
	if err != nil {
		return palate.Written{}, err
	}
	first, dup, err := storekit.Dedup("items", cs, func(c palate.Comparison) string { return c.ID }, storekit.SameComparison)
	if err != nil {
		return palate.Written{}, err
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	defer s.db.mu.Unlock()
	w := palate.Written{Duplicate: dup}
	var add []int
	for _, i := range first {
		c := cs[i]
		for _, ref := range []struct{ field, id string }{{"image_0", c.Image0}, {"image_1", c.Image1}} {
			if _, ok := s.db.images[ref.id]; !ok {
				return palate.Written{}, storekit.Item(palate.ENOTFOUND, i, ref.field, "image %q is not stored", ref.id)
			}
		}
		if old, ok := s.db.comparisons[c.ID]; ok {
			if !storekit.SameComparison(old, c) {
				return palate.Written{}, storekit.Item(palate.ECONFLICT, i, "", "comparison %q is already stored with different content", c.ID)
			}
			w.Duplicate++
			continue
		}
		add = append(add, i)
	}
	var d storekit.Deltas
	for _, i := range add {
		c := cs[i]
		s.db.comparisons[c.ID] = c
		u := s.db.user(c.User)
		u.comparisons = append(u.comparisons, c.ID)
		d.Add(c.User, false, c.Time.UnixMicro())
	}
	w.Inserted = len(add)
	s.db.notify(d.Events()...)
	return w, nil
}

// AddVotes stores votes (idempotent by ID).
func (s *Store) AddVotes(ctx context.Context, vs []palate.Vote) (palate.Written, error) {
	vs, err := storekit.Votes(vs)
	if err != nil {
		return palate.Written{}, err
	}
	first, dup, err := storekit.Dedup("items", vs, func(v palate.Vote) string { return v.ID }, storekit.SameVote)
	if err != nil {
		return palate.Written{}, err
	}
	if err := s.begin(ctx); err != nil {
		return palate.Written{}, err
	}
	defer s.db.mu.Unlock()
	w := palate.Written{Duplicate: dup}
	var add []int
	for _, i := range first {
		v := vs[i]
		if _, ok := s.db.images[v.Image]; !ok {
			return palate.Written{}, storekit.Item(palate.ENOTFOUND, i, "image", "image %q is not stored", v.Image)
		}
		if old, ok := s.db.votes[v.ID]; ok {
			if !storekit.SameVote(old, v) {
				return palate.Written{}, storekit.Item(palate.ECONFLICT, i, "", "vote %q is already stored with different content", v.ID)
			}
			w.Duplicate++
			continue
		}
		add = append(add, i)
	}
	var d storekit.Deltas
	for _, i := range add {
		v := vs[i]
		s.db.votes[v.ID] = v
		u := s.db.user(v.User)
		u.votes = append(u.votes, v.ID)
		d.Add(v.User, true, v.Time.UnixMicro())
	}
	w.Inserted = len(add)
	s.db.notify(d.Events()...)
	return w, nil
}

func (d *db) user(id string) *userRecords {
	u := d.byUser[id]
	if u == nil {
		u = &userRecords{}
		d.byUser[id] = u
	}
	return u
}

// byTimeThenID orders records by time, then id.
func byTimeThenID(at, bt time.Time, aid, bid string) int {
	if c := at.Compare(bt); c != 0 {
		return c
	}
	return cmp.Compare(aid, bid)
}

// History returns a person's comparisons and votes ordered by time, then id.
func (s *Store) History(ctx context.Context, user string) (*palate.UserHistory, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	h := &palate.UserHistory{User: user, Comparisons: []palate.Comparison{}, Votes: []palate.Vote{}}
	u := s.db.byUser[user]
	if u == nil {
		return h, nil
	}
	for _, id := range u.comparisons {
		h.Comparisons = append(h.Comparisons, s.db.comparisons[id])
	}
	for _, id := range u.votes {
		h.Votes = append(h.Votes, s.db.votes[id])
	}
	slices.SortFunc(h.Comparisons, func(a, b palate.Comparison) int { return byTimeThenID(a.Time, b.Time, a.ID, b.ID) })
	slices.SortFunc(h.Votes, func(a, b palate.Vote) int { return byTimeThenID(a.Time, b.Time, a.ID, b.ID) })
	return h, nil
}

// Users returns every user with at least one comparison or vote, ordered by
// user id.
func (s *Store) Users(ctx context.Context) ([]palate.UserSummary, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	out := make([]palate.UserSummary, 0, len(s.db.byUser))
	for id, u := range s.db.byUser {
		sum := palate.UserSummary{User: id, Comparisons: len(u.comparisons), Votes: len(u.votes)}
		for _, cid := range u.comparisons {
			if t := s.db.comparisons[cid].Time; t.After(sum.Last) {
				sum.Last = t
			}
		}
		for _, vid := range u.votes {
			if t := s.db.votes[vid].Time; t.After(sum.Last) {
				sum.Last = t
			}
		}
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b palate.UserSummary) int { return cmp.Compare(a.User, b.User) })
	return out, nil
}

// PublishModel stores a trained model and sets m.Published to when its
// version was first published.
func (s *Store) PublishModel(ctx context.Context, m *palate.ModelRecord) error {
	rec, err := storekit.Model(m)
	if err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.db.mu.Unlock()
	if old, ok := s.db.models[rec.Version]; ok {
		if !storekit.SameModel(*old, rec) {
			return palate.Errorf(palate.ECONFLICT, "model %q is already published with different content", rec.Version)
		}
		m.Published = old.Published
		return nil
	}
	rec.Summary = slices.Clone(rec.Summary)
	rec.Archive = slices.Clone(rec.Archive)
	rec.Published = storekit.Time(s.db.now())
	s.db.models[rec.Version] = &rec
	s.db.latest = rec.Version
	m.Published = rec.Published
	s.db.notify(palate.Event{Kind: palate.EventModel, Version: rec.Version})
	return nil
}

// LatestModel returns the most recently published model (a copy).
func (s *Store) LatestModel(ctx context.Context) (*palate.ModelRecord, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.db.mu.Unlock()
	if s.db.latest == "" {
		return nil, palate.Errorf(palate.ENOTFOUND, "no model is published")
	}
	rec := *s.db.models[s.db.latest]
	rec.Summary = slices.Clone(rec.Summary)
	rec.Archive = slices.Clone(rec.Archive)
	return &rec, nil
}

// Ping reports whether this handle is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	s.db.mu.Unlock()
	return nil
}

// Close closes this handle and its subscriptions; its later calls return
// EUNAVAILABLE. The data stays for the database's other handles (see Open).
// Close may be repeated.
func (s *Store) Close() error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	delete(s.db.handles, s)
	for sub := range s.subs {
		sub.stop()
	}
	clear(s.subs)
	return nil
}
