package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"palate"
	"palate/dataset"
	"palate/features"
)

func init() {
	register(&command{
		name:    "embed",
		summary: "embed a dataset's images with an embedder into embeddings/NAME.f32",
		long: `Reads images.jsonl in --data, decodes every image file (PNG, JPEG, WebP,
GIF), embeds it and writes embeddings/NAME.f32 with its JSON header. Every
image must have a path; a file that cannot be read stops the run with its
name, and nothing is written.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			data := fs.String("data", "", "dataset `directory`")
			name := fs.String("embedder", "pixels-v1", "embedder `name`")
			workers := fs.Int("workers", runtime.NumCPU(), "parallel decoders")
			return func(ctx context.Context, env *Env) error {
				if *data == "" {
					return usagef("--data is required")
				}
				emb, err := embedderFor(*name, false)
				if err != nil {
					return err
				}
				start := time.Now()
				n, err := embedDataset(ctx, *data, emb, *workers, env)
				if err != nil {
					return err
				}
				el := time.Since(start).Seconds()
				fmt.Fprintf(env.Stdout, "embedded %d images with %s (dimension %d) in %.1f s (%.0f images/s) into %s\n",
					n, emb.Name(), emb.Dim(), el, float64(n)/el, filepath.Join(*data, "embeddings", emb.Name()+".f32"))
				return nil
			}
		},
	})
}

// embedderFor returns the embedder called name. With allowNone, "none"
// gives a nil embedder.
func embedderFor(name string, allowNone bool) (palate.Embedder, error) {
	switch {
	case name == features.Name:
		return features.NewPixels(), nil
	case name == "none" && allowNone:
		return nil, nil
	}
	return nil, palate.Errorf(palate.EINVALID, "unknown embedder %q; known: %s", name, features.Name)
}

func embedDataset(ctx context.Context, dir string, emb palate.Embedder, workers int, env *Env) (int, error) {
	images, err := dataset.ReadImages(filepath.Join(dir, "images.jsonl"))
	if err != nil {
		return 0, err
	}
	paths := make([]string, len(images))
	for i, im := range images {
		if im.Path == "" {
			return 0, palate.Errorf(palate.EINVALID, "images.jsonl: image %q has no path; only images with files can be embedded", im.ID)
		}
		paths[i] = filepath.Join(dir, filepath.FromSlash(im.Path))
	}
	vecs := make([][]float32, len(images))
	bar := newProgress(env.Stderr, "embed", len(images), "images")
	done := 0
	err = features.EmbedFiles(ctx, emb, paths, workers, features.DefaultLimits, func(i int, v []float32, err error) error {
		if err != nil {
			return fmt.Errorf("images.jsonl: image %q: %w", images[i].ID, err)
		}
		vecs[i] = v
		done++
		bar.set(done, len(images))
		return nil
	})
	bar.done()
	if err != nil {
		return 0, err
	}
	w, err := dataset.CreateEmbeddings(dir, emb.Name(), features.Version, emb.Dim())
	if err != nil {
		return 0, err
	}
	for i, im := range images {
		if err := w.Add(im.ID, vecs[i]); err != nil {
			w.Close()
			return 0, err
		}
	}
	return len(images), w.Close()
}
