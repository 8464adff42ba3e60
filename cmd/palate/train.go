package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"palate"
	"palate/dataset"
	"palate/features"
	"palate/history"
	"palate/model"
	"palate/onnx"
	"palate/train"
)

func init() {
	register(&command{
		name:    "train",
		summary: "train the preference model on a dataset's training split",
		long: `Trains the preference model (preference tokens + transformer + contrastive
preference loss) on the training part of --data, early-stopping on its
validation people, and writes the best checkpoint to --out (atomically: an
interrupted save never leaves a checkpoint that loads wrong). Ctrl-C stops
after the current step and keeps the best checkpoint so far.

--config is a JSON file {"model": {...}, "train": {...}, "data": {...}} whose
keys override the defaults of model.Config, train.Options and
train.DataOptions (see the README); flags override the file.

--mode base trains the base stage alone; --start BASE begins a run from such
a checkpoint instead of a base stage of its own (the model must be the same
but for lambda), so variants that differ only after the base stage can
share it, as the bench's do.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			data := fs.String("data", "", "dataset `directory`")
			out := fs.String("out", "", "checkpoint `directory` to write")
			config := fs.String("config", "", "JSON `file` with model, train and data options")
			embedder := fs.String("embedder", features.Name, "which embeddings of the dataset to train on")
			textEmb := fs.String("text-embedder", model.HashBOWName, "prompt embedder: "+model.HashBOWName+" or onnx:TEXT.onnx (with its tokenizer.json)")
			steps := fs.Int("steps", 0, "most steps of the stages that read histories; the base stage before them takes up to 4 times as many (train.base_steps) (0: the config's, else about 2 passes over the training comparisons: 300 on the default world)")
			mode := fs.String("mode", "", "joint, two-stage or base (the base stage alone; default joint)")
			seed := fs.Uint64("seed", 0, "random seed (0: the config's or 1)")
			start := fs.String("start", "", "checkpoint `directory` of a --mode base run of the same model to begin from, instead of a base stage of its own")
			return func(ctx context.Context, env *Env) error {
				if *data == "" || *out == "" {
					return usagef("--data and --out are required")
				}
				if err := atLeast(flagMin{"steps", int64(*steps), 0}); err != nil {
					return err
				}
				tc, err := readTrainConfig(*config)
				if err != nil {
					return err
				}
				if *steps > 0 {
					tc.Train.Steps = *steps
				}
				if *mode != "" {
					tc.Train.Mode = *mode
				}
				if *seed != 0 {
					tc.Train.Seed = *seed
				}
				if *start != "" {
					if tc.Train.Start, err = train.Load(*start); err != nil {
						return fmt.Errorf("--start: %w", err)
					}
					if m := tc.Train.Start.Summary.Mode; m != train.ModeBase {
						return usagef("--start %s holds a %s checkpoint; want one from palate train --mode base", *start, m)
					}
				}
				if err := train.CheckOutDir(*out); err != nil {
					return err
				}
				if old, err := train.Load(*out); err == nil {
					fmt.Fprintf(env.Stderr, "train: --out %s holds a checkpoint (%s, %d steps, trained %s); this run replaces it when it saves\n",
						*out, old.Embedder.Name, old.Summary.Steps, old.Summary.Started.Format(time.RFC3339))
				} else if _, serr := os.Stat(filepath.Join(*out, train.ManifestFile)); serr == nil {
					fmt.Fprintf(env.Stderr, "train: --out %s holds a checkpoint that does not load (%v); this run replaces it when it saves\n", *out, err)
				}
				te, tinfo, err := openTextEmbedder(*textEmb, tc.Model.TextDim)
				if err != nil {
					return err
				}
				tc.Model.TextDim = te.Dim()
				hd, err := loadHistory(ctx, *data, *embedder, te)
				if err != nil {
					return err
				}
				tc.Train.OutDir = *out
				tc.Train.Log = env.Stderr
				tc.Train.Embedder = train.EmbedderInfo{Name: hd.Emb.Embedder, Dim: hd.Emb.Dim}
				tc.Train.TextEmbedder = tinfo
				ck, err := train.OnData(ctx, hd, tc.Model, tc.Train, tc.Data)
				if ck != nil {
					s := ck.Summary
					fmt.Fprintf(env.Stdout, "trained %d steps (%s; %d episodes, %.1f episodes/s) in %.0f s; stopped by %s\n",
						s.Steps, stageSteps(s.StageSteps), s.Episodes, s.EpisodesPerSecond, s.WallSeconds, s.StoppedBy)
					if s.Start != nil {
						fmt.Fprintf(env.Stdout, "started from %s: a base stage of %d steps, %.0f s\n", *start, s.Start.Steps, s.Start.WallSeconds)
					}
					switch {
					case s.Validated && s.BestValAccuracy >= 0:
						fmt.Fprintf(env.Stdout, "best validation pairwise accuracy %.1f%% at step %d\n", 100*s.BestValAccuracy, s.BestStep)
					case s.Validated:
						fmt.Fprintln(env.Stdout, "no validation ran after the base stage: the checkpoint holds the last weights")
					}
					fmt.Fprintf(env.Stdout, "checkpoint: %s\n", *out)
				}
				return err
			}
		},
	})
}

// trainConfig is the --config file of palate train.
type trainConfig struct {
	Model model.Config      `json:"model"`
	Train train.Options     `json:"train"`
	Data  train.DataOptions `json:"data"`
}

func readTrainConfig(path string) (trainConfig, error) {
	tc := trainConfig{Model: model.DefaultConfig(), Train: train.DefaultOptions()}
	if path == "" {
		return tc, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return tc, palate.Errorf(palate.EINVALID, "--config: %w", err)
	}
	return tc, dataset.DecodeFileObject(path, b, &tc)
}

// loadHistory reads a dataset with one of its embeddings and embeds its
// prompts with text. A text embedder that embeds in batches (an ONNX text
// encoder) embeds every distinct prompt at once, and its error stops the
// load.
func loadHistory(ctx context.Context, dir, embedder string, text palate.TextEmbedder) (*history.Data, error) {
	ds, err := dataset.Read(dir)
	if err != nil {
		return nil, err
	}
	emb, err := dataset.ReadEmbeddings(dir, embedder)
	if err != nil {
		return nil, err
	}
	if b, ok := text.(batchTextEmbedder); ok {
		seen := map[string]bool{}
		var prompts []string
		for _, im := range ds.Images {
			if !seen[im.Prompt] {
				seen[im.Prompt] = true
				prompts = append(prompts, im.Prompt)
			}
		}
		vecs, err := b.EmbedTexts(ctx, prompts)
		if err != nil {
			return nil, err
		}
		pre := embeddedPrompts{TextEmbedder: text, vecs: make(map[string][]float32, len(prompts))}
		for i, p := range prompts {
			pre.vecs[p] = vecs[i]
		}
		text = pre
	}
	return history.LoadData(ds, emb, text)
}

// batchTextEmbedder is a text embedder that embeds many prompts at once
// and reports its errors (onnx.TextEncoder).
type batchTextEmbedder interface {
	EmbedTexts(ctx context.Context, prompts []string) ([][]float32, error)
}

// embeddedPrompts answers EmbedText from vectors computed beforehand.
type embeddedPrompts struct {
	palate.TextEmbedder
	vecs map[string][]float32
}

func (e embeddedPrompts) EmbedText(prompt string) []float32 {
	if v, ok := e.vecs[prompt]; ok {
		return v
	}
	return e.TextEmbedder.EmbedText(prompt)
}

// openTextEmbedder opens the prompt embedder called name: hashbow-v1 with
// dimension dim, or onnx:TEXT.onnx, an ONNX text encoder with its config in
// TEXT.onnx.json and its tokenizer.json beside it. The info recorded in a
// checkpoint names an ONNX model's absolute path and version.
func openTextEmbedder(name string, dim int) (palate.TextEmbedder, train.EmbedderInfo, error) {
	switch {
	case name == model.HashBOWName:
		h := model.NewHashBOW(dim)
		return h, train.EmbedderInfo{Name: h.Name(), Dim: h.Dim()}, nil
	case strings.HasPrefix(name, onnxPrefix):
		path := strings.TrimPrefix(name, onnxPrefix)
		if path == "" {
			return nil, train.EmbedderInfo{}, palate.Errorf(palate.EINVALID, "--text-embedder %q: give the model file, onnx:PATH/TO/text.onnx", name)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, train.EmbedderInfo{}, palate.Errorf(palate.EINVALID, "--text-embedder %q: %v", name, err)
		}
		e, err := onnx.OpenText(abs, onnx.Options{})
		if err != nil {
			return nil, train.EmbedderInfo{}, err
		}
		return e, train.EmbedderInfo{Name: e.Name(), Dim: e.Dim(), Path: abs, Version: e.Version()}, nil
	}
	return nil, train.EmbedderInfo{}, palate.Errorf(palate.EINVALID, "unknown --text-embedder %q; known: %s, onnx:TEXT.onnx", name, model.HashBOWName)
}

// stageSteps lists the steps of each stage that ran, in training order:
// "base 600, joint 300".
func stageSteps(m map[train.Stage]int) string {
	var parts []string
	for _, st := range []train.Stage{train.StageBase, train.StageJoint, train.Stage1, train.Stage2} {
		if n := m[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, n))
		}
	}
	return strings.Join(parts, ", ")
}
