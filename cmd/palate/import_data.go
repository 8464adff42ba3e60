package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"palate/ingest"
)

// importEmbeddings writes o.Data/embeddings/o.Name.f32 from o.Embeddings.
func importEmbeddings(ctx context.Context, env *Env, o importOptions) error {
	switch {
	case o.Data == "":
		return usagef("--embeddings needs --data, the dataset directory")
	case o.Name == "":
		return usagef("--embeddings needs --name, the embedder name the vectors are stored under")
	}
	res, err := ingest.ImportEmbeddings(ctx, ingest.EmbeddingsOptions{Dir: o.Data, Name: o.Name, File: o.Embeddings, IDs: o.IDs, Replace: o.Replace})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported %d vectors of dimension %d (%s) into %s\n",
		res.Rows, res.Dim, res.Format, filepath.Join(o.Data, "embeddings", o.Name+".f32"))
	return nil
}

// importPickAPic reads the shards in o.PickAPic into the dataset o.Out.
func importPickAPic(ctx context.Context, env *Env, o importOptions) error {
	if o.Out == "" {
		return usagef("--pickapic needs --out, the new dataset directory")
	}
	var files []string
	for _, f := range strings.Split(o.PickAPic, ",") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	res, err := ingest.ImportPickAPic(ctx, files, o.Out)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "read %d rows from %d files into %s: %d comparisons (%d ties), %d images\n",
		res.Rows, res.Files, o.Out, res.Comparisons, res.Ties, res.Images)
	fmt.Fprintf(env.Stdout, "skipped %d rows: %d without a label, %d with identical images, %d repeated ranking ids, %d with an unreadable image\n",
		res.Unlabeled+res.Identical+res.Duplicates+res.BadImages, res.Unlabeled, res.Identical, res.Duplicates, res.BadImages)
	if res.FirstBadImage != "" {
		fmt.Fprintf(env.Stdout, "  first unreadable image: %s\n", res.FirstBadImage)
	}
	return nil
}
