package main

import (
	"context"
	"strings"

	"palate"
	"palate/memstore"
)

// openStore opens the store a --db URL names: "mem:" is an in-memory store
// that lives as long as the process; sqlite:FILE and postgres://... are the
// database backends.
func openStore(ctx context.Context, url string) (palate.Store, error) {
	switch {
	case url == "mem:":
		return memstore.New(), nil
	case strings.HasPrefix(url, "sqlite:"), strings.HasPrefix(url, "postgres:"), strings.HasPrefix(url, "postgresql:"):
		return nil, palate.Errorf(palate.ENOTIMPLEMENTED, "--db %s: this build has no database backends yet; use mem:", url)
	}
	return nil, palate.Errorf(palate.EINVALID, "--db %q: want mem:, sqlite:FILE or postgres://...", url)
}
