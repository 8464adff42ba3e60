package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"palate"
	"palate/internal/storekit"
)

// PutImages implements palate.Store.
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
	var w palate.Written
	err = s.write(ctx, func(tx *sql.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO images (id, prompt, path) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return nil, err
		}
		defer ins.Close()
		for _, i := range first {
			im := ims[i]
			res, err := ins.ExecContext(ctx, im.ID, im.Prompt, im.Path)
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				w.Inserted++
				continue
			}
			var old palate.Image
			err = tx.QueryRowContext(ctx, `SELECT id, prompt, path FROM images WHERE id = ?`, im.ID).Scan(&old.ID, &old.Prompt, &old.Path)
			if err != nil {
				return nil, err
			}
			if old != im {
				return nil, storekit.Item(palate.ECONFLICT, i, "", "image %q is already stored with different content", im.ID)
			}
			w.Duplicate++
		}
		return nil, nil
	})
	if err != nil {
		return palate.Written{}, err
	}
	return w, nil
}

// Images implements palate.Store.
func (s *Store) Images(ctx context.Context, ids []string) ([]palate.Image, error) {
	out := make([]palate.Image, len(ids))
	err := s.read(ctx, func(tx *sql.Tx) error {
		get, err := tx.PrepareContext(ctx, `SELECT id, prompt, path FROM images WHERE id = ?`)
		if err != nil {
			return err
		}
		defer get.Close()
		for i, id := range ids {
			err := get.QueryRowContext(ctx, id).Scan(&out[i].ID, &out[i].Prompt, &out[i].Path)
			if errors.Is(err, sql.ErrNoRows) {
				return palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q is not stored", i, id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListImages implements palate.Store.
func (s *Store) ListImages(ctx context.Context, after string, limit int) ([]palate.Image, error) {
	if limit < 1 {
		return nil, palate.Errorf(palate.EINVALID, "limit is %d; want at least 1", limit)
	}
	out := []palate.Image{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, prompt, path FROM images WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var im palate.Image
			if err := rows.Scan(&im.ID, &im.Prompt, &im.Path); err != nil {
				return err
			}
			out = append(out, im)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// imageCheck returns a function that reports whether an image is stored,
// remembering answers for the rest of the transaction.
func imageCheck(ctx context.Context, tx *sql.Tx) (func(id string) (bool, error), func(), error) {
	st, err := tx.PrepareContext(ctx, `SELECT 1 FROM images WHERE id = ?`)
	if err != nil {
		return nil, nil, err
	}
	known := make(map[string]bool)
	return func(id string) (bool, error) {
		if ok, seen := known[id]; seen {
			return ok, nil
		}
		var one int
		err := st.QueryRowContext(ctx, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			known[id] = false
			return false, nil
		}
		if err != nil {
			return false, err
		}
		known[id] = true
		return true, nil
	}, func() { st.Close() }, nil
}

// PutEmbeddings implements palate.Store.
func (s *Store) PutEmbeddings(ctx context.Context, embedder string, ids []string, vectors [][]float32) (palate.Written, error) {
	dim, err := storekit.Embeddings(embedder, ids, vectors, 0)
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
	var w palate.Written
	err = s.write(ctx, func(tx *sql.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		var have int
		err := tx.QueryRowContext(ctx, `SELECT dim FROM embedders WHERE name = ?`, embedder).Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO embedders (name, dim) VALUES (?, ?)`, embedder, dim); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		case have != dim:
			return nil, palate.Errorf(palate.EINVALID, "vectors[0]: has %d values; embedder %q has dimension %d", dim, embedder, have)
		}
		stored, done, err := imageCheck(ctx, tx)
		if err != nil {
			return nil, err
		}
		defer done()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO embeddings (embedder, image, vector) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return nil, err
		}
		defer ins.Close()
		for _, i := range first {
			if ok, err := stored(ids[i]); err != nil {
				return nil, err
			} else if !ok {
				return nil, palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q is not stored", i, ids[i])
			}
			res, err := ins.ExecContext(ctx, embedder, ids[i], storekit.EncodeVector(vectors[i]))
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				w.Inserted++
				continue
			}
			var b []byte
			if err := tx.QueryRowContext(ctx, `SELECT vector FROM embeddings WHERE embedder = ? AND image = ?`, embedder, ids[i]).Scan(&b); err != nil {
				return nil, err
			}
			old, err := storekit.DecodeVector(b)
			if err != nil {
				return nil, err
			}
			if !storekit.SameVector(old, vectors[i]) {
				return nil, palate.Errorf(palate.ECONFLICT, "ids[%d]: image %q already has a different %s vector", i, ids[i], embedder)
			}
			w.Duplicate++
		}
		return nil, nil
	})
	if err != nil {
		return palate.Written{}, err
	}
	return w, nil
}

// Embeddings implements palate.Store.
func (s *Store) Embeddings(ctx context.Context, embedder string, ids []string) ([][]float32, error) {
	out := make([][]float32, len(ids))
	err := s.read(ctx, func(tx *sql.Tx) error {
		get, err := tx.PrepareContext(ctx, `SELECT vector FROM embeddings WHERE embedder = ? AND image = ?`)
		if err != nil {
			return err
		}
		defer get.Close()
		for i, id := range ids {
			var b []byte
			err := get.QueryRowContext(ctx, embedder, id).Scan(&b)
			if errors.Is(err, sql.ErrNoRows) {
				return palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q has no %s vector", i, id, embedder)
			}
			if err != nil {
				return err
			}
			if out[i], err = storekit.DecodeVector(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
