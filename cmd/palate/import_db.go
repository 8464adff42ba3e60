package main

import (
	"context"

	"palate"
)

// importDB loads o.Data into the store at o.DB.
func importDB(ctx context.Context, env *Env, o importOptions) error {
	return palate.Errorf(palate.ENOTIMPLEMENTED, "import --db: storage is not built yet")
}
