package sqlite

import (
	"context"
	"database/sql"

	"palate"
	"palate/internal/storekit"
)

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
	var w palate.Written
	err = s.write(ctx, func(tx *sql.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		stored, done, err := imageCheck(ctx, tx)
		if err != nil {
			return nil, err
		}
		defer done()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO comparisons (id, user_id, prompt, image_0, image_1, label_0, time)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return nil, err
		}
		defer ins.Close()
		var d storekit.Deltas
		for _, i := range first {
			c := cs[i]
			for _, ref := range []struct{ field, id string }{{"image_0", c.Image0}, {"image_1", c.Image1}} {
				if ok, err := stored(ref.id); err != nil {
					return nil, err
				} else if !ok {
					return nil, storekit.Item(palate.ENOTFOUND, i, ref.field, "image %q is not stored", ref.id)
				}
			}
			res, err := ins.ExecContext(ctx, c.ID, c.User, c.Prompt, c.Image0, c.Image1, c.Label0, micros(c.Time))
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				w.Inserted++
				d.Add(c.User, false, micros(c.Time))
				continue
			}
			old := palate.Comparison{ID: c.ID}
			var t int64
			err = tx.QueryRowContext(ctx, `SELECT user_id, prompt, image_0, image_1, label_0, time FROM comparisons WHERE id = ?`, c.ID).
				Scan(&old.User, &old.Prompt, &old.Image0, &old.Image1, &old.Label0, &t)
			if err != nil {
				return nil, err
			}
			old.Time = fromMicros(t)
			if !storekit.SameComparison(old, c) {
				return nil, storekit.Item(palate.ECONFLICT, i, "", "comparison %q is already stored with different content", c.ID)
			}
			w.Duplicate++
		}
		return d.Events(), addUsers(ctx, tx, &d)
	})
	if err != nil {
		return palate.Written{}, err
	}
	return w, nil
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
	var w palate.Written
	err = s.write(ctx, func(tx *sql.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		stored, done, err := imageCheck(ctx, tx)
		if err != nil {
			return nil, err
		}
		defer done()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO votes (id, user_id, image, vote, time)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return nil, err
		}
		defer ins.Close()
		var d storekit.Deltas
		for _, i := range first {
			v := vs[i]
			if ok, err := stored(v.Image); err != nil {
				return nil, err
			} else if !ok {
				return nil, storekit.Item(palate.ENOTFOUND, i, "image", "image %q is not stored", v.Image)
			}
			res, err := ins.ExecContext(ctx, v.ID, v.User, v.Image, v.Vote, micros(v.Time))
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				w.Inserted++
				d.Add(v.User, true, micros(v.Time))
				continue
			}
			old := palate.Vote{ID: v.ID}
			var t int64
			err = tx.QueryRowContext(ctx, `SELECT user_id, image, vote, time FROM votes WHERE id = ?`, v.ID).
				Scan(&old.User, &old.Image, &old.Vote, &t)
			if err != nil {
				return nil, err
			}
			old.Time = fromMicros(t)
			if !storekit.SameVote(old, v) {
				return nil, storekit.Item(palate.ECONFLICT, i, "", "vote %q is already stored with different content", v.ID)
			}
			w.Duplicate++
		}
		return d.Events(), addUsers(ctx, tx, &d)
	})
	if err != nil {
		return palate.Written{}, err
	}
	return w, nil
}

// addUsers adds a write's new records to the per-person counts.
func addUsers(ctx context.Context, tx *sql.Tx, d *storekit.Deltas) error {
	list := d.List()
	if len(list) == 0 {
		return nil
	}
	up, err := tx.PrepareContext(ctx, `INSERT INTO users (user_id, comparisons, votes, last) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET comparisons = comparisons + excluded.comparisons,
			votes = votes + excluded.votes, last = max(last, excluded.last)`)
	if err != nil {
		return err
	}
	defer up.Close()
	for _, u := range list {
		if _, err := up.ExecContext(ctx, u.User, u.Comparisons, u.Votes, u.Last); err != nil {
			return err
		}
	}
	return nil
}

// History implements palate.Store.
func (s *Store) History(ctx context.Context, user string) (*palate.UserHistory, error) {
	h := &palate.UserHistory{User: user, Comparisons: []palate.Comparison{}, Votes: []palate.Vote{}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, prompt, image_0, image_1, label_0, time FROM comparisons
			WHERE user_id = ? ORDER BY time, id`, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := palate.Comparison{User: user}
			var t int64
			if err := rows.Scan(&c.ID, &c.Prompt, &c.Image0, &c.Image1, &c.Label0, &t); err != nil {
				return err
			}
			c.Time = fromMicros(t)
			h.Comparisons = append(h.Comparisons, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT id, image, vote, time FROM votes WHERE user_id = ? ORDER BY time, id`, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v := palate.Vote{User: user}
			var t int64
			if err := rows.Scan(&v.ID, &v.Image, &v.Vote, &t); err != nil {
				return err
			}
			v.Time = fromMicros(t)
			h.Votes = append(h.Votes, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Users implements palate.Store.
func (s *Store) Users(ctx context.Context) ([]palate.UserSummary, error) {
	out := []palate.UserSummary{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT user_id, comparisons, votes, last FROM users ORDER BY user_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u palate.UserSummary
			var t int64
			if err := rows.Scan(&u.User, &u.Comparisons, &u.Votes, &t); err != nil {
				return err
			}
			u.Last = fromMicros(t)
			out = append(out, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
