package main

import (
	"context"

	"palate"
)

// importEmbeddings writes o.Data/embeddings/o.Name.f32 from o.Embeddings.
func importEmbeddings(ctx context.Context, env *Env, o importOptions) error {
	return palate.Errorf(palate.ENOTIMPLEMENTED, "import --embeddings: not built yet")
}

// importPickAPic reads the shards in o.PickAPic into the dataset o.Out.
func importPickAPic(ctx context.Context, env *Env, o importOptions) error {
	return palate.Errorf(palate.ENOTIMPLEMENTED, "import --pickapic: not built yet")
}
