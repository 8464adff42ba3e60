package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"palate"
	"palate/memstore"
	"palate/postgres"
	"palate/sqlite"
)

// openStore opens the store a URL names: sqlite:FILE or a bare FILE.db for
// SQLite, postgres://... or postgresql://... for PostgreSQL, and "mem:" for
// an in-memory store that lives as long as the process.
func openStore(ctx context.Context, u string) (palate.Store, error) {
	// Each case checks err itself so a failed open returns a nil
	// interface, not one holding a nil pointer.
	switch {
	case u == "mem:":
		return memstore.New(), nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		s, err := postgres.Open(ctx, u)
		if err != nil {
			return nil, err
		}
		return s, nil
	case strings.HasPrefix(u, "sqlite:") || strings.HasSuffix(u, ".db") && !strings.Contains(u, "://"):
		path := strings.TrimPrefix(u, "sqlite:")
		if path == "" {
			return nil, palate.Errorf(palate.EINVALID, "store URL %q names no file (want sqlite:FILE)", u)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			if palate.ErrorCode(err) == palate.EINTERNAL {
				// A file that cannot be opened or created is the URL's fault
				// far more often than the program's.
				return nil, palate.Errorf(palate.EINVALID, "store %s: %w", u, err)
			}
			return nil, fmt.Errorf("store %s: %w", u, err)
		}
		return s, nil
	}
	return nil, palate.Errorf(palate.EINVALID, "store URL %q: want sqlite:FILE, FILE.db, mem: or postgres://USER:PASS@HOST/DB", redact(u))
}

// redact hides a URL's password, for messages and logs.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	return p.Redacted()
}
