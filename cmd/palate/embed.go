package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"palate"
	"palate/dataset"
	"palate/features"
	"palate/onnx"
)

func init() {
	register(&command{
		name:    "embed",
		summary: "embed a dataset's images with an embedder into embeddings/NAME.f32",
		long: `Reads images.jsonl in --data, decodes every image file (PNG, JPEG, WebP,
GIF), embeds it and writes embeddings/NAME.f32 with its JSON header. Every
image must have a path; a file that cannot be read stops the run with its
name, and nothing is written.

--embedder onnx:PATH runs an image encoder exported to ONNX (for example
CLIP ViT-B/32's vision tower) in pure Go. Its preprocessing comes from
PATH.json (or --onnx-config FILE), e.g. {"name": "clip-vit-b32", "preset":
"clip"}; the table is named after "name", else "onnx-" and the file's base
name.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			data := fs.String("data", "", "dataset `directory`")
			name := fs.String("embedder", features.Name, "embedder `name`, or onnx:MODEL.onnx")
			onnxConfig := fs.String("onnx-config", "", "preprocessing config `file` for onnx:MODEL (default MODEL.json)")
			workers := fs.Int("workers", runtime.NumCPU(), "parallel decoders")
			return func(ctx context.Context, env *Env) error {
				if *data == "" {
					return usagef("--data is required")
				}
				if err := atLeast(flagMin{"workers", int64(*workers), 1}); err != nil {
					return err
				}
				if *onnxConfig != "" && !strings.HasPrefix(*name, onnxPrefix) {
					return usagef("--onnx-config needs --embedder onnx:MODEL")
				}
				emb, err := openEmbedder(*name, false, *onnxConfig)
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

// onnxPrefix marks an ONNX model path in an embedder name.
const onnxPrefix = "onnx:"

// embedderFor returns the embedder called name: pixels-v3, pixels-v2, pixels-v1, or
// onnx:MODEL.onnx with its config in MODEL.onnx.json. With allowNone,
// "none" gives a nil embedder.
func embedderFor(name string, allowNone bool) (palate.Embedder, error) {
	return openEmbedder(name, allowNone, "")
}

// openEmbedder is embedderFor with the config file of an ONNX model
// ("" means MODEL.json).
func openEmbedder(name string, allowNone bool, onnxConfig string) (palate.Embedder, error) {
	if px, ok := features.ByName(name); ok {
		return px, nil
	}
	switch {
	case name == "none" && allowNone:
		return nil, nil
	case strings.HasPrefix(name, onnxPrefix):
		path := strings.TrimPrefix(name, onnxPrefix)
		if path == "" {
			return nil, palate.Errorf(palate.EINVALID, "embedder %q: give the model file, onnx:PATH/TO/model.onnx", name)
		}
		return onnx.Open(path, onnx.Options{Sidecar: onnxConfig})
	}
	none := ""
	if allowNone {
		none = `, or "none" for only the true-attribute vectors`
	}
	return nil, palate.Errorf(palate.EINVALID, "unknown embedder %q; known: %s, %s, %s, onnx:MODEL.onnx%s", name, features.Name, features.NameV2, features.NameV1, none)
}

// embedderVersion is the version stored with an embedder's table.
func embedderVersion(emb palate.Embedder) string {
	if v, ok := emb.(interface{ Version() string }); ok {
		return v.Version()
	}
	return features.Version
}

func embedDataset(ctx context.Context, dir string, emb palate.Embedder, workers int, env *Env) (int, error) {
	list := filepath.Join(dir, dataset.ImagesFile)
	images, err := dataset.ReadImages(list)
	if err != nil {
		return 0, err
	}
	paths := make([]string, len(images))
	for i, im := range images {
		if im.Path == "" {
			return 0, palate.Errorf(palate.EINVALID, "%s: image %q has no path; only images with files can be embedded", list, im.ID)
		}
		paths[i] = filepath.Join(dir, filepath.FromSlash(im.Path))
	}
	vecs := make([][]float32, len(images))
	bar := newProgress(env.Stderr, "embed", len(images), "images")
	done := 0
	err = features.EmbedFiles(ctx, emb, paths, workers, features.DefaultLimits, func(i int, v []float32, err error) error {
		if err != nil {
			return fmt.Errorf("%s: image %q: %w", list, images[i].ID, err)
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
	w, err := dataset.CreateEmbeddings(dir, emb.Name(), embedderVersion(emb), emb.Dim())
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
