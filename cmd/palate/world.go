package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"palate"
	"palate/features"
	"palate/world"
)

func init() {
	register(&command{
		name:    "world",
		summary: "build a simulated taste world: pictures, people, their picks and the truth",
		long: `Builds a taste world into --out as a dataset directory (images.jsonl,
comparisons.jsonl, votes.jsonl, splits.json, embeddings/) plus its truth
(world.json, truth.jsonl, image_truth.jsonl), and prints its summary: the
counts and the accuracy of the oracle, group oracle and global oracle on the
test comparisons. --config is a JSON file whose keys override the defaults
(see the README); without it the default world is built.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			config := fs.String("config", "", "world config JSON `file` (default: the built-in defaults)")
			out := fs.String("out", "", "output `directory` (must not exist or be empty)")
			embedder := fs.String("embedder", features.Name, "embedder run on every picture as it is made, or \"none\"")
			return func(ctx context.Context, env *Env) error {
				if *out == "" {
					return usagef("--out is required")
				}
				cfg := world.DefaultConfig()
				if *config != "" {
					f, err := os.Open(*config)
					if err != nil {
						return palate.Errorf(palate.EINVALID, "--config: %w", err)
					}
					cfg, err = world.ParseConfig(f)
					f.Close()
					if err != nil {
						return err // it names the file
					}
				}
				emb, err := embedderFor(*embedder, true)
				if err != nil {
					return err
				}
				s, err := buildWorld(ctx, cfg, *out, emb, env.Stderr)
				if err != nil {
					return err
				}
				printSummary(env.Stdout, cfg, s, *out)
				return nil
			}
		},
	})
}

// buildWorld builds cfg's world into dir with a progress line on w.
func buildWorld(ctx context.Context, cfg world.Config, dir string, emb palate.Embedder, w io.Writer) (*world.Summary, error) {
	wd, err := world.New(cfg)
	if err != nil {
		return nil, err
	}
	bar := newProgress(w, "world", cfg.Users, "people")
	s, err := wd.Build(ctx, dir, emb, bar.set)
	bar.done()
	return s, err
}

func printSummary(w io.Writer, cfg world.Config, s *world.Summary, dir string) {
	fmt.Fprintf(w, "world: %d people in %d taste groups (%d seen, %d unseen, %d validation; %d drifting)\n",
		s.Users, cfg.Groups, s.SeenUsers, s.UnseenUsers, s.ValidationUsers, s.DriftingUsers)
	fmt.Fprintf(w, "  %d images, %d comparisons (%.1f%% ties), %d votes (%.0f%% likes)\n",
		s.Images, s.Comparisons, 100*s.TieRate, s.Votes, 100*s.LikeRate)
	fmt.Fprintf(w, "  reference predictors, pairwise accuracy on test comparisons (ties excluded):\n")
	fmt.Fprintf(w, "    %-14s %8s %8s %8s\n", "", "seen", "unseen", "all")
	row := func(name string, f func(world.Accuracies) float64) {
		fmt.Fprintf(w, "    %-14s %7.1f%% %7.1f%% %7.1f%%\n", name, 100*f(s.Seen), 100*f(s.Unseen), 100*f(s.All))
	}
	row("oracle", func(a world.Accuracies) float64 { return a.Oracle })
	row("group oracle", func(a world.Accuracies) float64 { return a.GroupOracle })
	row("global oracle", func(a world.Accuracies) float64 { return a.GlobalOracle })
	fmt.Fprintf(w, "    %-14s %8d %8d %8d\n", "comparisons", s.Seen.N, s.Unseen.N, s.All.N)
	fmt.Fprintf(w, "  embeddings: %v\n  written to %s in %.1f s\n", s.Embedders, dir, s.Seconds)
}
