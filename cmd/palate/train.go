package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"palate"
	"palate/dataset"
	"palate/history"
	"palate/model"
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
train.DataOptions (see the README); flags override the file.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			data := fs.String("data", "", "dataset `directory`")
			out := fs.String("out", "", "checkpoint `directory` to write")
			config := fs.String("config", "", "JSON `file` with model, train and data options")
			embedder := fs.String("embedder", "pixels-v1", "which embeddings of the dataset to train on")
			steps := fs.Int("steps", 0, "most optimizer steps (0: the config's or the default)")
			mode := fs.String("mode", "", "joint or two-stage (default joint)")
			seed := fs.Uint64("seed", 0, "random seed (0: the config's or 1)")
			return func(ctx context.Context, env *Env) error {
				if *data == "" || *out == "" {
					return usagef("--data and --out are required")
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
				hd, err := loadHistory(*data, *embedder, tc.Model.TextDim)
				if err != nil {
					return err
				}
				tc.Train.OutDir = *out
				tc.Train.Log = env.Stderr
				tc.Train.Embedder = train.EmbedderInfo{Name: hd.Emb.Embedder, Dim: hd.Emb.Dim}
				tc.Train.TextEmbedder = train.EmbedderInfo{Name: hd.TextName, Dim: len(hd.Text[0])}
				ck, err := train.OnData(ctx, hd, tc.Model, tc.Train, tc.Data)
				if ck != nil {
					s := ck.Summary
					fmt.Fprintf(env.Stdout, "trained %d steps (%d episodes, %.1f episodes/s) in %.0f s; stopped by %s\n",
						s.Steps, s.Episodes, s.EpisodesPerSecond, s.WallSeconds, s.StoppedBy)
					if s.Validated {
						fmt.Fprintf(env.Stdout, "best validation pairwise accuracy %.1f%% at step %d\n", 100*s.BestValAccuracy, s.BestStep)
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
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tc); err != nil {
		return tc, palate.Errorf(palate.EINVALID, "%s: %v", path, err)
	}
	return tc, nil
}

// loadHistory reads a dataset with one of its embeddings and embeds its
// prompts with the built-in text embedder.
func loadHistory(dir, embedder string, textDim int) (*history.Data, error) {
	ds, err := dataset.Read(dir)
	if err != nil {
		return nil, err
	}
	emb, err := dataset.ReadEmbeddings(dir, embedder)
	if err != nil {
		return nil, err
	}
	return history.LoadData(ds, emb, model.NewHashBOW(textDim))
}
