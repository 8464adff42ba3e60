package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"palate"
	"palate/internal/storekit"
)

// sortedBy returns idx sorted by key, so concurrent writers lock rows in one
// order and cannot deadlock on each other.
func sortedBy(idx []int, key func(i int) string) []int {
	out := slices.Clone(idx)
	slices.SortFunc(out, func(a, b int) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return out
}

// storable returns ids with every string PostgreSQL could not take as text
// replaced by "" (stored ids are never empty), so looking it up finds
// nothing instead of failing.
func storable(ids []string) []string {
	for i, id := range ids {
		if !storekit.Storable(id) {
			ids = slices.Clone(ids)
			for j := i; j < len(ids); j++ {
				if !storekit.Storable(ids[j]) {
					ids[j] = ""
				}
			}
			break
		}
	}
	return ids
}

// returned collects the first column of rows as a set of strings.
func returned(rows pgx.Rows) (map[string]bool, error) {
	got := make(map[string]bool)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		got[id] = true
	}
	return got, rows.Err()
}

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
	if len(first) == 0 { // an empty batch
		return palate.Written{}, s.check()
	}
	var w palate.Written
	err = s.write(ctx, func(tx pgx.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		var ids, prompts, paths []string
		for _, i := range sortedBy(first, func(i int) string { return ims[i].ID }) {
			ids, prompts, paths = append(ids, ims[i].ID), append(prompts, ims[i].Prompt), append(paths, ims[i].Path)
		}
		rows, _ := tx.Query(ctx, `INSERT INTO images (id, prompt, path)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (id) DO NOTHING RETURNING id`, ids, prompts, paths)
		inserted, err := returned(rows)
		if err != nil {
			return nil, err
		}
		w.Inserted = len(inserted)
		var old []string
		for _, i := range first {
			if !inserted[ims[i].ID] {
				old = append(old, ims[i].ID)
			}
		}
		if len(old) == 0 {
			return nil, nil
		}
		stored, err := s.images(ctx, tx, old)
		if err != nil {
			return nil, err
		}
		for _, i := range first {
			if inserted[ims[i].ID] {
				continue
			}
			if stored[ims[i].ID] != ims[i] {
				return nil, storekit.Item(palate.ECONFLICT, i, "", "image %q is already stored with different content", ims[i].ID)
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

// images returns the stored images among ids, by id.
func (s *Store) images(ctx context.Context, tx pgx.Tx, ids []string) (map[string]palate.Image, error) {
	rows, _ := tx.Query(ctx, `SELECT id, prompt, path FROM images WHERE id = ANY($1)`, ids)
	out := make(map[string]palate.Image, len(ids))
	for rows.Next() {
		var im palate.Image
		if err := rows.Scan(&im.ID, &im.Prompt, &im.Path); err != nil {
			return nil, err
		}
		out[im.ID] = im
	}
	return out, rows.Err()
}

// storedImages returns which of ids name stored images.
func storedImages(ctx context.Context, tx pgx.Tx, ids []string) (map[string]bool, error) {
	rows, _ := tx.Query(ctx, `SELECT id FROM images WHERE id = ANY($1)`, ids)
	return returned(rows)
}

// Images implements palate.Store.
func (s *Store) Images(ctx context.Context, ids []string) ([]palate.Image, error) {
	keys := storable(ids)
	out := make([]palate.Image, len(ids))
	err := s.read(ctx, func(tx pgx.Tx) error {
		stored, err := s.images(ctx, tx, keys)
		if err != nil {
			return err
		}
		for i, id := range ids {
			im, ok := stored[keys[i]]
			if !ok {
				return palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q is not stored", i, id)
			}
			out[i] = im
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
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, prompt, path FROM images WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (palate.Image, error) {
		var im palate.Image
		err := r.Scan(&im.ID, &im.Prompt, &im.Path)
		return im, err
	})
	if err != nil {
		return nil, dbErr(err)
	}
	if out == nil {
		out = []palate.Image{}
	}
	return out, nil
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
	err = s.write(ctx, func(tx pgx.Tx) ([]palate.Event, error) {
		w = palate.Written{Duplicate: dup}
		if _, err := tx.Exec(ctx, `INSERT INTO embedders (name, dim) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, embedder, dim); err != nil {
			return nil, err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT dim FROM embedders WHERE name = $1`, embedder).Scan(&have); err != nil {
			return nil, err
		}
		if have != dim {
			return nil, palate.Errorf(palate.EINVALID, "vectors[0]: has %d values; embedder %q has dimension %d", dim, embedder, have)
		}
		var refs []string
		for _, i := range first {
			refs = append(refs, ids[i])
		}
		known, err := storedImages(ctx, tx, refs)
		if err != nil {
			return nil, err
		}
		for _, i := range first {
			if !known[ids[i]] {
				return nil, palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q is not stored", i, ids[i])
			}
		}
		var images []string
		var blobs [][]byte
		for _, i := range sortedBy(first, func(i int) string { return ids[i] }) {
			images, blobs = append(images, ids[i]), append(blobs, storekit.EncodeVector(vectors[i]))
		}
		rows, _ := tx.Query(ctx, `INSERT INTO embeddings (embedder, image, vector)
			SELECT $1, * FROM unnest($2::text[], $3::bytea[]) ON CONFLICT DO NOTHING RETURNING image`, embedder, images, blobs)
		inserted, err := returned(rows)
		if err != nil {
			return nil, err
		}
		w.Inserted = len(inserted)
		var old []string
		for _, i := range first {
			if !inserted[ids[i]] {
				old = append(old, ids[i])
			}
		}
		if len(old) == 0 {
			return nil, nil
		}
		stored, err := s.vectors(ctx, tx, embedder, old)
		if err != nil {
			return nil, err
		}
		for _, i := range first {
			if inserted[ids[i]] {
				continue
			}
			if !storekit.SameVector(stored[ids[i]], vectors[i]) {
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

// vectors returns the stored vectors of embedder among ids, by id.
func (s *Store) vectors(ctx context.Context, tx pgx.Tx, embedder string, ids []string) (map[string][]float32, error) {
	rows, _ := tx.Query(ctx, `SELECT image, vector FROM embeddings WHERE embedder = $1 AND image = ANY($2)`, embedder, ids)
	out := make(map[string][]float32, len(ids))
	for rows.Next() {
		var id string
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		v, err := storekit.DecodeVector(b)
		if err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// Embeddings implements palate.Store.
func (s *Store) Embeddings(ctx context.Context, embedder string, ids []string) ([][]float32, error) {
	keys := storable(ids)
	out := make([][]float32, len(ids))
	err := s.read(ctx, func(tx pgx.Tx) error {
		stored, err := s.vectors(ctx, tx, embedder, keys)
		if err != nil {
			return err
		}
		for i, id := range ids {
			v, ok := stored[keys[i]]
			if !ok {
				return palate.Errorf(palate.ENOTFOUND, "ids[%d]: image %q has no %s vector", i, id, embedder)
			}
			out[i] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
