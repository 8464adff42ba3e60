package main

import (
	"context"
	"flag"
)

// importOptions are the flags of `palate import`; which are set picks the mode.
type importOptions struct {
	DB         string // --db: load a dataset directory into a store
	Data       string // --data: the dataset directory
	Embeddings string // --embeddings: a .npy or .jsonl file of precomputed vectors
	Name       string // --name: the embedder name the vectors are stored under
	Replace    bool   // --replace: overwrite an existing table of that name
	IDs        string // --ids: image ids, one per line, for a .npy file
	PickAPic   string // --pickapic: a Pick-a-Pic parquet shard (comma-separated for several)
	Out        string // --out: the dataset directory a Pick-a-Pic import writes
}

func init() {
	register(&command{
		name:    "import",
		summary: "load a dataset into a store, or bring precomputed embeddings or Pick-a-Pic data into a dataset",
		long: `Three modes, picked by the flags given:

  palate import --db URL --data DIR
      loads a dataset directory (images, comparisons, votes and every
      embeddings file) into a store; resumable and idempotent.
  palate import --data DIR --embeddings FILE --name NAME [--ids IDS.txt] [--replace]
      writes embeddings/NAME.f32 into DIR from a NumPy .npy file (row i is
      the image on line i of IDS.txt) or a JSONL file of {"id", "vector"};
      an existing table of that name is kept unless --replace is given.
  palate import --pickapic FILE.parquet[,FILE...] --out DIR
      reads Pick-a-Pic v1/v2 parquet shards into a new dataset directory.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			var o importOptions
			fs.StringVar(&o.DB, "db", "", "store `URL` (sqlite:FILE or postgres://...)")
			fs.StringVar(&o.Data, "data", "", "dataset `directory`")
			fs.StringVar(&o.Embeddings, "embeddings", "", "precomputed embeddings `file` (.npy or .jsonl)")
			fs.StringVar(&o.Name, "name", "", "embedder `name` for --embeddings")
			fs.BoolVar(&o.Replace, "replace", false, "let --embeddings overwrite an existing table of the same --name")
			fs.StringVar(&o.IDs, "ids", "", "image ids `file` for a .npy, one per line")
			fs.StringVar(&o.PickAPic, "pickapic", "", "Pick-a-Pic parquet `files`, comma-separated")
			fs.StringVar(&o.Out, "out", "", "output dataset `directory` for --pickapic")
			return func(ctx context.Context, env *Env) error {
				switch {
				case o.PickAPic != "":
					return importPickAPic(ctx, env, o)
				case o.Embeddings != "":
					return importEmbeddings(ctx, env, o)
				case o.DB != "":
					return importDB(ctx, env, o)
				}
				return usagef("give --db and --data, --data and --embeddings, or --pickapic and --out")
			}
		},
	})
}
