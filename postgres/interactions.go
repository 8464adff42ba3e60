package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"palate"
	"palate/internal/storekit"
)

// ref is one image a record names, by item index and field.
type ref struct {
	item  int
	field string
	id    string
}

// checkRefs returns ENOTFOUND naming the first ref (in batch order) whose
// image is not stored.
func checkRefs(ctx context.Context, tx pgx.Tx, refs []ref) error {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.id
	}
	known, err := storedImages(ctx, tx, ids)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if !known[r.id] {
			return storekit.Item(palate.ENOTFOUND, r.item, r.field, "image %q is not stored", r.id)
		}
	}
	return nil
}

// AddComparisons implements palate.Store.
func (s *Store) AddComparisons(ctx context.Context, cs []palate.Comparison) (palate.Written, error) {
	cs, err := storekit.Comparisons(cs)
	if err != nil {
		return palate.Written{}, err
	}
	first, dup, err := storekit.Dedup("items", cs, func(c palate.Comparison) string { return c.ID }, storekit.SameComparison)
	if err != nil {
		return palate.Written{}, err
	}
	if len(first) == 0 { // an empty batch
		return palate.Written{}, s.check()
	}
	var w palate.Written
	err = s.write(ctx, func(tx pgx.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		var refs []ref
		for _, i := range first {
			refs = append(refs, ref{i, "image_0", cs[i].Image0}, ref{i, "image_1", cs[i].Image1})
		}
		if err := checkRefs(ctx, tx, refs); err != nil {
			return nil, err
		}
		n := len(first)
		ids, users, prompts, im0, im1 := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		labels, times := make([]float64, 0, n), make([]time.Time, 0, n)
		for _, i := range sortedBy(first, func(i int) string { return cs[i].ID }) {
			c := cs[i]
			ids, users, prompts, im0, im1 = append(ids, c.ID), append(users, c.User), append(prompts, c.Prompt), append(im0, c.Image0), append(im1, c.Image1)
			labels, times = append(labels, c.Label0), append(times, c.Time)
		}
		rows, _ := tx.Query(ctx, `INSERT INTO comparisons (id, user_id, prompt, image_0, image_1, label_0, time)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::timestamptz[])
			ON CONFLICT (id) DO NOTHING RETURNING id`, ids, users, prompts, im0, im1, labels, times)
		inserted, err := returned(rows)
		if err != nil {
			return nil, err
		}
		var d storekit.Deltas
		var old []string
		for _, i := range first {
			if inserted[cs[i].ID] {
				w.Inserted++
				d.Add(cs[i].User, false, cs[i].Time.UnixMicro())
			} else {
				old = append(old, cs[i].ID)
			}
		}
		if len(old) > 0 {
			rows, _ := tx.Query(ctx, `SELECT id, user_id, prompt, image_0, image_1, label_0, time FROM comparisons WHERE id = ANY($1)`, old)
			stored, err := pgx.CollectRows(rows, scanComparison)
			if err != nil {
				return nil, err
			}
			byID := make(map[string]palate.Comparison, len(stored))
			for _, c := range stored {
				byID[c.ID] = c
			}
			for _, i := range first {
				if inserted[cs[i].ID] {
					continue
				}
				if !storekit.SameComparison(byID[cs[i].ID], cs[i]) {
					return nil, storekit.Item(palate.ECONFLICT, i, "", "comparison %q is already stored with different content", cs[i].ID)
				}
				w.Duplicate++
			}
		}
		return d.Events(), addUsers(ctx, tx, &d)
	})
	if err != nil {
		return palate.Written{}, err
	}
	return w, nil
}

func scanComparison(r pgx.CollectableRow) (palate.Comparison, error) {
	var c palate.Comparison
	err := r.Scan(&c.ID, &c.User, &c.Prompt, &c.Image0, &c.Image1, &c.Label0, &c.Time)
	c.Time = c.Time.UTC()
	return c, err
}

func scanVote(r pgx.CollectableRow) (palate.Vote, error) {
	var v palate.Vote
	err := r.Scan(&v.ID, &v.User, &v.Image, &v.Vote, &v.Time)
	v.Time = v.Time.UTC()
	return v, err
}

// AddVotes implements palate.Store.
func (s *Store) AddVotes(ctx context.Context, vs []palate.Vote) (palate.Written, error) {
	vs, err := storekit.Votes(vs)
	if err != nil {
		return palate.Written{}, err
	}
	first, dup, err := storekit.Dedup("items", vs, func(v palate.Vote) string { return v.ID }, storekit.SameVote)
	if err != nil {
		return palate.Written{}, err
	}
	if len(first) == 0 { // an empty batch
		return palate.Written{}, s.check()
	}
	var w palate.Written
	err = s.write(ctx, func(tx pgx.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		var refs []ref
		for _, i := range first {
			refs = append(refs, ref{i, "image", vs[i].Image})
		}
		if err := checkRefs(ctx, tx, refs); err != nil {
			return nil, err
		}
		n := len(first)
		ids, users, images, votes, times := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]time.Time, 0, n)
		for _, i := range sortedBy(first, func(i int) string { return vs[i].ID }) {
			v := vs[i]
			ids, users, images, votes, times = append(ids, v.ID), append(users, v.User), append(images, v.Image), append(votes, v.Vote), append(times, v.Time)
		}
		rows, _ := tx.Query(ctx, `INSERT INTO votes (id, user_id, image, vote, time)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
			ON CONFLICT (id) DO NOTHING RETURNING id`, ids, users, images, votes, times)
		inserted, err := returned(rows)
		if err != nil {
			return nil, err
		}
		var d storekit.Deltas
		var old []string
		for _, i := range first {
			if inserted[vs[i].ID] {
				w.Inserted++
				d.Add(vs[i].User, true, vs[i].Time.UnixMicro())
			} else {
				old = append(old, vs[i].ID)
			}
		}
		if len(old) > 0 {
			rows, _ := tx.Query(ctx, `SELECT id, user_id, image, vote, time FROM votes WHERE id = ANY($1)`, old)
			stored, err := pgx.CollectRows(rows, scanVote)
			if err != nil {
				return nil, err
			}
			byID := make(map[string]palate.Vote, len(stored))
			for _, v := range stored {
				byID[v.ID] = v
			}
			for _, i := range first {
				if inserted[vs[i].ID] {
					continue
				}
				if !storekit.SameVote(byID[vs[i].ID], vs[i]) {
					return nil, storekit.Item(palate.ECONFLICT, i, "", "vote %q is already stored with different content", vs[i].ID)
				}
				w.Duplicate++
			}
		}
		return d.Events(), addUsers(ctx, tx, &d)
	})
	if err != nil {
		return palate.Written{}, err
	}
	return w, nil
}

// addUsers adds a write's new records to the per-person counts, in user
// order.
func addUsers(ctx context.Context, tx pgx.Tx, d *storekit.Deltas) error {
	list := d.List()
	if len(list) == 0 {
		return nil
	}
	users, cs, vs, last := make([]string, len(list)), make([]int64, len(list)), make([]int64, len(list)), make([]time.Time, len(list))
	for i, u := range list {
		users[i], cs[i], vs[i], last[i] = u.User, int64(u.Comparisons), int64(u.Votes), time.UnixMicro(u.Last).UTC()
	}
	_, err := tx.Exec(ctx, `INSERT INTO users (user_id, comparisons, votes, last)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[])
		ON CONFLICT (user_id) DO UPDATE SET comparisons = users.comparisons + excluded.comparisons,
			votes = users.votes + excluded.votes, last = GREATEST(users.last, excluded.last)`, users, cs, vs, last)
	return err
}

// History implements palate.Store.
func (s *Store) History(ctx context.Context, user string) (*palate.UserHistory, error) {
	h := &palate.UserHistory{User: user, Comparisons: []palate.Comparison{}, Votes: []palate.Vote{}}
	if !storekit.Storable(user) { // no such person can be stored
		if err := s.check(); err != nil {
			return nil, err
		}
		return h, nil
	}
	err := s.read(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, user_id, prompt, image_0, image_1, label_0, time FROM comparisons
			WHERE user_id = $1 ORDER BY time, id`, user)
		var err error
		if h.Comparisons, err = pgx.CollectRows(rows, scanComparison); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `SELECT id, user_id, image, vote, time FROM votes WHERE user_id = $1 ORDER BY time, id`, user)
		h.Votes, err = pgx.CollectRows(rows, scanVote)
		return err
	})
	if err != nil {
		return nil, err
	}
	if h.Comparisons == nil {
		h.Comparisons = []palate.Comparison{}
	}
	if h.Votes == nil {
		h.Votes = []palate.Vote{}
	}
	return h, nil
}

// Users implements palate.Store.
func (s *Store) Users(ctx context.Context) ([]palate.UserSummary, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, `SELECT user_id, comparisons, votes, last FROM users ORDER BY user_id`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (palate.UserSummary, error) {
		var u palate.UserSummary
		err := r.Scan(&u.User, &u.Comparisons, &u.Votes, &u.Last)
		u.Last = u.Last.UTC()
		return u, err
	})
	if err != nil {
		return nil, dbErr(err)
	}
	if out == nil {
		out = []palate.UserSummary{}
	}
	return out, nil
}
