package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"palate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change, from migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their numbers must
// run 1, 2, 3, ... with no gap.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migration
	for i, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", base, i+1)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	return out, nil
}

// migrate applies the migrations the database lacks, in one transaction that
// holds SQLite's write lock, so processes opening the file at once apply
// each migration exactly once. A database migrated by a newer palate is
// refused rather than written to.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "sqlite: %w", err)
	}
	// Usually there is nothing to do: find that out without the write
	// lock, which a busy writer in another process could keep for long.
	if have, err := version(ctx, db); err != nil {
		return dbErr(err)
	} else if have == len(ms) {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see Open
	if err != nil {
		return dbErr(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`); err != nil {
		return dbErr(err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return dbErr(err)
	}
	if have > len(ms) {
		return palate.Errorf(palate.EINVALID, "sqlite: the database has schema version %d; this palate knows up to %d (upgrade palate)", have, len(ms))
	}
	for _, m := range ms[have:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return palate.Errorf(palate.EINTERNAL, "sqlite: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMicro()); err != nil {
			return dbErr(err)
		}
	}
	return dbErr(tx.Commit())
}

// version returns the newest migration applied, 0 for a new database.
func version(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations')
		THEN 1 ELSE 0 END`).Scan(&v)
	if err != nil || v == 0 {
		return 0, err
	}
	err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
