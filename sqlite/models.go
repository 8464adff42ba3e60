package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"palate"
	"palate/internal/storekit"
)

// PublishModel implements palate.Store. On success it sets m.Published to
// when the version was first published.
func (s *Store) PublishModel(ctx context.Context, m *palate.ModelRecord) error {
	rec, err := storekit.Model(m)
	if err != nil {
		return err
	}
	var published int64
	err = s.write(ctx, func(tx *sql.Tx) ([]palate.Event, error) {
		old := palate.ModelRecord{Version: rec.Version}
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT embedder, created, summary, archive, published FROM models WHERE version = ?`, rec.Version).
			Scan(&old.Embedder, &created, &old.Summary, &old.Archive, &published)
		if err == nil {
			old.Created = fromMicros(created)
			if !storekit.SameModel(old, rec) {
				return nil, palate.Errorf(palate.ECONFLICT, "model %q is already published with different content", rec.Version)
			}
			return nil, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		published = micros(storekit.Time(s.opt.clock()))
		_, err = tx.ExecContext(ctx, `INSERT INTO models (version, embedder, created, summary, archive, published) VALUES (?, ?, ?, ?, ?, ?)`,
			rec.Version, rec.Embedder, micros(rec.Created), nonNil(rec.Summary), rec.Archive, published)
		if err != nil {
			return nil, err
		}
		return []palate.Event{{Kind: palate.EventModel, Version: rec.Version}}, nil
	})
	if err != nil {
		return err
	}
	m.Published = fromMicros(published)
	return nil
}

// LatestModel implements palate.Store.
func (s *Store) LatestModel(ctx context.Context) (*palate.ModelRecord, error) {
	var m palate.ModelRecord
	err := s.read(ctx, func(tx *sql.Tx) error {
		var created, published int64
		err := tx.QueryRowContext(ctx, `SELECT version, embedder, created, summary, archive, published FROM models ORDER BY seq DESC LIMIT 1`).
			Scan(&m.Version, &m.Embedder, &created, &m.Summary, &m.Archive, &published)
		if errors.Is(err, sql.ErrNoRows) {
			return palate.Errorf(palate.ENOTFOUND, "no model is published")
		}
		m.Created, m.Published = fromMicros(created), fromMicros(published)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(m.Summary) == 0 {
		m.Summary = nil
	}
	return &m, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
