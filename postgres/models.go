package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

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
	var published time.Time
	err = s.write(ctx, func(tx pgx.Tx) ([]palate.Event, error) {
		published = storekit.Time(s.clock())
		summary := rec.Summary
		if summary == nil {
			summary = []byte{}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO models (version, embedder, created, summary, archive, published)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version) DO NOTHING`,
			rec.Version, rec.Embedder, rec.Created, summary, rec.Archive, published)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 1 {
			return []palate.Event{{Kind: palate.EventModel, Version: rec.Version}}, nil
		}
		old := palate.ModelRecord{Version: rec.Version}
		err = tx.QueryRow(ctx, `SELECT embedder, created, summary, archive, published FROM models WHERE version = $1`, rec.Version).
			Scan(&old.Embedder, &old.Created, &old.Summary, &old.Archive, &published)
		if err != nil {
			return nil, err
		}
		if !storekit.SameModel(old, rec) {
			return nil, palate.Errorf(palate.ECONFLICT, "model %q is already published with different content", rec.Version)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	m.Published = published.UTC()
	return nil
}

// LatestModel implements palate.Store.
func (s *Store) LatestModel(ctx context.Context) (*palate.ModelRecord, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var m palate.ModelRecord
	err := s.pool.QueryRow(ctx, `SELECT version, embedder, created, summary, archive, published FROM models ORDER BY seq DESC LIMIT 1`).
		Scan(&m.Version, &m.Embedder, &m.Created, &m.Summary, &m.Archive, &m.Published)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, palate.Errorf(palate.ENOTFOUND, "no model is published")
	}
	if err != nil {
		return nil, dbErr(err)
	}
	m.Created, m.Published = m.Created.UTC(), m.Published.UTC()
	if len(m.Summary) == 0 {
		m.Summary = nil
	}
	return &m, nil
}
