package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"palate"
	"palate/modelpub"
)

func init() {
	register(&command{
		name:    "model",
		usage:   "publish --db URL --model DIR",
		summary: "publish a trained model to a store, where servers pick it up",
		long: `palate model publish packs the checkpoint in --model (verified against its
manifest) and publishes it to the store at --db; every server following that
store loads it in the background and swaps it in. Publishing the same
checkpoint again changes nothing, and says so: it does not make an older
model the latest again.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			db := fs.String("db", defaultDB, "store `URL`: mem:, sqlite:FILE or postgres://...")
			modelDir := fs.String("model", "", "checkpoint `directory` to publish")
			return func(ctx context.Context, env *Env) error {
				if len(env.Args) == 0 {
					return usagef("want a subcommand: publish")
				}
				if env.Args[0] != "publish" {
					return usagef("unknown subcommand %q; want: publish", env.Args[0])
				}
				if err := fs.Parse(env.Args[1:]); err != nil {
					return usagef("%v", err)
				}
				if fs.NArg() > 0 {
					return usagef("unexpected arguments %q", fs.Args())
				}
				if *modelDir == "" {
					return usagef("--model is required")
				}
				rec, err := modelpub.Pack(*modelDir)
				if err != nil {
					return err
				}
				st, err := openStore(ctx, *db)
				if err != nil {
					return err
				}
				defer st.Close()
				// The latest model is read before publishing, so that
				// publishing it again is a no-op, and after, because
				// PublishModel keeps a version the store already has.
				latest, err := latestModel(ctx, st, *db)
				if err != nil {
					return err
				}
				if latest != nil && latest.Version == rec.Version {
					fmt.Fprintf(env.Stdout, "model %s is already the latest published at %s (since %s): nothing to do\n",
						rec.Version, redact(*db), latest.Published.Format(time.RFC3339))
					return nil
				}
				if err := st.PublishModel(ctx, rec); err != nil {
					return err
				}
				if latest, err = latestModel(ctx, st, *db); err != nil {
					return fmt.Errorf("model %s was published, but reading the latest back failed: %w", rec.Version, err)
				}
				if latest != nil && latest.Version != rec.Version {
					// PublishModel keeps a version it already has: publishing
					// an older model again does not make it the latest.
					fmt.Fprintf(env.Stdout, "model %s was already published at %s (%s) and is not the latest, %s is; publishing it again does not roll back (servers keep %s)\n",
						rec.Version, redact(*db), rec.Published.Format(time.RFC3339), latest.Version, latest.Version)
					return nil
				}
				fmt.Fprintf(env.Stdout, "published model %s (embedder %s, %d bytes) to %s\n", rec.Version, rec.Embedder, len(rec.Archive), redact(*db))
				if *db == "mem:" {
					fmt.Fprintln(env.Stdout, "note: mem: is an in-memory store that ends with this command; publish to a database that a server uses")
				}
				return nil
			}
		},
	})
}

// latestModel is the store's latest published model, nil when none is; any
// other failure to read it is an error naming the store.
func latestModel(ctx context.Context, st palate.Store, db string) (*palate.ModelRecord, error) {
	latest, err := st.LatestModel(ctx)
	if palate.ErrorCode(err) == palate.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the latest model at %s: %w", redact(db), err)
	}
	return latest, nil
}
