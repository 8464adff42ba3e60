package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"palate/features"
	"palate/server"
)

// defaultDB is the --db of serve and model publish.
const defaultDB = "sqlite:palate.db"

func init() {
	register(&command{
		name:    "serve",
		summary: "serve the HTTP API: record interactions, rank images for a person, similar people",
		long: `Serves palate's HTTP API (see the README's Service section and
/v1/openapi.json) over the store at --db. Without --model it serves the
latest model published to the store (palate model publish) and swaps to a
newer one as soon as it is published; with --model it serves that checkpoint.

Keys come from the environment: PALATE_WRITE_KEY for the write routes,
PALATE_READ_KEY (optional) for the read routes, sent as "Authorization:
Bearer KEY". Without keys the server only listens on a loopback address.
Ctrl-C stops it after the requests in flight.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			db := fs.String("db", defaultDB, "store `URL`: mem:, sqlite:FILE or postgres://...")
			addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
			modelDir := fs.String("model", "", "checkpoint `directory` to serve (default: the latest published)")
			cacheUsers := fs.Int("cache-users", 10_000, "most people whose encoded history is cached")
			maxCands := fs.Int("max-candidates", server.DefaultLimits.MaxCandidates, "most candidates per rank request")
			maxBatch := fs.Int("max-batch", server.DefaultLimits.MaxBatch, "most items per write")
			maxBody := fs.Int64("max-body", server.DefaultLimits.MaxBodyBytes, "most `bytes` in a request body")
			maxImage := fs.Int64("max-image-bytes", server.DefaultLimits.MaxImageBytes, "most `bytes` in one uploaded picture")
			maxPixels := fs.Int("max-image-pixels", server.DefaultLimits.MaxImagePixels, "most pixels (width×height) in one uploaded picture")
			maxComp := fs.Int("max-computations", server.DefaultMaxComputations, "most model computations at once; more requests wait")
			timeout := fs.Duration("timeout", server.DefaultLimits.RequestTimeout, "longest time spent on one request")
			images := fs.String("images", "", "dataset `directory` whose picture files the server serves (a taste world also gives the generator and true tastes)")
			generated := fs.String("generated", "", "`directory` for pictures the server generates (default: beside a sqlite database, else a temporary directory)")
			textEmb := fs.String("text-embedder", "", textEmbedderUsage)
			bench := fs.String("bench", "", "bench report `file` (palate bench --json) shown by GET /v1/model")
			embName := fs.String("embedder", features.Name, "embedder `name` for uploaded and generated pictures (pixels-v3, pixels-v2, pixels-v1 or onnx:MODEL.onnx): the one the model was trained on")
			return func(ctx context.Context, env *Env) error {
				if err := atLeast(flagMin{"cache-users", int64(*cacheUsers), 1}, flagMin{"max-candidates", int64(*maxCands), 1}, flagMin{"max-batch", int64(*maxBatch), 1},
					flagMin{"max-image-pixels", int64(*maxPixels), 1}, flagMin{"max-computations", int64(*maxComp), 1},
					flagMin{"max-body", *maxBody, 1}, flagMin{"max-image-bytes", *maxImage, 1}); err != nil {
					return err
				}
				if *timeout <= 0 {
					return usagef("--timeout %s: want more than 0", *timeout)
				}
				emb, err := embedderFor(*embName, false)
				if err != nil {
					return err
				}
				st, err := openStore(ctx, *db)
				if err != nil {
					return err
				}
				defer st.Close()
				log := slog.New(slog.NewTextHandler(env.Stderr, nil))
				gdir := *generated
				if gdir == "" {
					if f, ok := strings.CutPrefix(*db, "sqlite:"); ok {
						gdir = f + ".generated"
					} else {
						tmp, err := os.MkdirTemp("", "palate-generated-")
						if err != nil {
							return err
						}
						defer os.RemoveAll(tmp)
						gdir = tmp
						fmt.Fprintf(env.Stderr, "palate serve: pictures made by POST /v1/generate go to %s and are removed on exit; give --generated DIR (shared by every server on this database) to keep them\n", tmp)
					}
				}
				scOpts, err := scorerOptions(*textEmb)
				if err != nil {
					return err
				}
				srv, err := server.New(ctx, server.Config{
					Embedder: emb,
					Scorer:   scOpts,
					Store:    st,
					ModelDir: *modelDir,
					ReadKey:  os.Getenv("PALATE_READ_KEY"),
					WriteKey: os.Getenv("PALATE_WRITE_KEY"),
					Limits: server.Limits{MaxCandidates: *maxCands, MaxBatch: *maxBatch, MaxBodyBytes: *maxBody,
						MaxImageBytes: *maxImage, MaxImagePixels: *maxPixels, RequestTimeout: *timeout},
					CacheUsers:      *cacheUsers,
					MaxComputations: *maxComp,
					Logger:          log,
					Images:          *images,
					Generated:       gdir,
					Bench:           *bench,
				})
				if err != nil {
					return err
				}
				defer srv.Close()
				ln, err := srv.Listen(ctx, *addr)
				if err != nil {
					return err
				}
				auth := "no keys: loopback only"
				if os.Getenv("PALATE_WRITE_KEY") != "" {
					auth = "keys from PALATE_WRITE_KEY / PALATE_READ_KEY"
				}
				fmt.Fprintf(env.Stdout, "palate serving on http://%s (store %s, %s)\n", ln.Addr(), redact(*db), auth)
				start := time.Now()
				err = srv.Serve(ctx, ln)
				fmt.Fprintf(env.Stdout, "palate stopped after %s\n", time.Since(start).Round(time.Second))
				return err
			}
		},
	})
}
