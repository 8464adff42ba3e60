package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"palate"
	"palate/bench"
	"palate/bench/suite"
	"palate/features"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "measure palate against its baselines and the world's ceilings (the headline table)",
		long: `Judges every predictor on the same held-out comparisons of --data with the
same k history pairs per person (the paper's Table-1 protocol, k = 8): the
world's reference ceilings (oracle, group oracle, crowd oracle, global
oracle, recomputed on exactly those comparisons), the non-personal scorer, the in-context
centroid, the per-user linear model, user-kNN (plain and on the
non-personal scorer), and palate: the --model checkpoint, or else palate
trained here in its variants (full; no-cp, λ = 0; k=0, no preference
tokens; pool tokens; two-stage training; K = 1, 5, 20; and the full model on
the world's true-attribute embedding). It measures accuracy with 95%
bootstrap intervals over people, gap closure, accuracy vs history length,
vote AUC, similar-user clustering of descriptors, drift and cost, and writes
them as JSON (--json), Markdown tables (--markdown) and SVG plots (--plots).

The full bench took 35 minutes on 2 cores for the default 600-person
world (2,117 s, docs/BENCHMARKS.md); palate's runs train --train-parallel
at a time, each on one core. --quick trains only full, no-cp and k=0, with one seed, in under 10
minutes on the default world (the base stage is shared by full and
no-cp). Each palate run takes as many steps as palate train would on the
data (300 joint steps on the default world, more for more training
comparisons), after a base stage of up to 4 times as many. On a taste world read through pixels-v3 it
also measures generation guidance (win rates of guided pictures, judged by
the simulated people), guided by palate/full's first seed: 12 seen and 12
unseen people with 2 prompts each with --quick. Progress goes to stderr.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			data := fs.String("data", "", "dataset `directory` (a taste world for the ceilings)")
			modelDir := fs.String("model", "", "checkpoint `directory` to evaluate as palate/full instead of training")
			seeds := fs.Int("seeds", 0, "seeds for palate/full and the seeded baselines (0: 3, or 1 with --quick)")
			quick := fs.Bool("quick", false, "reduced bench: one seed, variants full, no-cp and k=0")
			embedder := fs.String("embedder", features.Name, "which embeddings of the dataset to read")
			steps := fs.Int("steps", 0, "most joint-stage steps per palate run, after a base stage of up to 4 times as many (0: as palate train, 300 on the default world)")
			variants := fs.String("variants", "", "comma-separated palate variants to train (default: all, or full,no-cp,k=0 with --quick)")
			jsonOut := fs.String("json", "", "write the report as JSON to this `file`")
			mdOut := fs.String("markdown", "", "write the report as Markdown to this `file`")
			plots := fs.String("plots", "", "write SVG plots into this `directory`")
			guidePeople := fs.Int("guidance-people", -1, "seen and unseen people in the generation-guidance measurement (-1: 50, or 12 with --quick; 0: none)")
			trainPar := fs.Int("train-parallel", 0, "palate training runs at once, each on one core (0: GOMAXPROCS)")
			guidePrompts := fs.Int("guidance-prompts", 0, "prompts per person in the guidance measurement (0: 4, or 2 with --quick)")
			return func(ctx context.Context, env *Env) error {
				if *data == "" {
					return usagef("--data is required")
				}
				if *jsonOut == "" && *mdOut == "" {
					return usagef("give --json or --markdown (or both), or nothing would be kept")
				}
				if err := atLeast(flagMin{"seeds", int64(*seeds), 0}, flagMin{"steps", int64(*steps), 0}, flagMin{"guidance-people", int64(*guidePeople), -1},
					flagMin{"train-parallel", int64(*trainPar), 0}, flagMin{"guidance-prompts", int64(*guidePrompts), 0}); err != nil {
					return err
				}
				// A full bench runs for half an hour: an output that cannot
				// be written is refused now, not after the run.
				for _, o := range []struct{ flag, path string }{{"json", *jsonOut}, {"markdown", *mdOut}} {
					if err := checkWritable(o.flag, o.path); err != nil {
						return err
					}
				}
				if *plots != "" {
					if err := os.MkdirAll(*plots, 0o755); err != nil {
						return palate.Errorf(palate.EINVALID, "--plots: %v", err)
					}
				}
				opt := suite.Options{
					Data: *data, Embedder: *embedder, Model: *modelDir, Seeds: *seeds, Quick: *quick,
					Steps: *steps, Log: env.Stderr, Command: commandLine(fs),
					GuidancePeople: *guidePeople, GuidancePrompts: *guidePrompts, TrainParallel: *trainPar,
				}
				if opt.GuidancePeople < 0 {
					opt.GuidancePeople = 50
					if *quick {
						opt.GuidancePeople = 12
					}
				}
				if opt.GuidancePrompts == 0 && !*quick {
					opt.GuidancePrompts = 4
				}
				if *variants != "" {
					for _, v := range strings.Split(*variants, ",") {
						opt.Variants = append(opt.Variants, strings.TrimSpace(v))
					}
				}
				rep, err := suite.Run(ctx, opt)
				if err != nil {
					return err
				}
				return writeReport(env, rep, *jsonOut, *mdOut, *plots)
			}
		},
	})
}

// checkWritable refuses an output file path (flag --flag) that cannot be
// written: its directory missing or not writable, or the path a directory.
// It creates and removes a scratch file beside it; "" passes.
func checkWritable(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return palate.Errorf(palate.EINVALID, "--%s %s is a directory; give a file path", flag, path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".palate-write-check-*")
	if err != nil {
		return palate.Errorf(palate.EINVALID, "--%s %s cannot be written: %v", flag, path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeReport writes the report's JSON, Markdown and plots and prints the
// headline rows.
func writeReport(env *Env, rep *bench.Report, jsonOut, mdOut, plots string) error {
	if plots != "" {
		if err := os.MkdirAll(plots, 0o755); err != nil {
			return err
		}
		figs := rep.Plots()
		names := make([]string, 0, len(figs))
		for n := range figs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(plots, n), figs[n], 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.Stdout, "plots: %s (%s)\n", plots, strings.Join(names, ", "))
	}
	if jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return palate.Errorf(palate.EINTERNAL, "bench report: %v", err)
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
		fmt.Fprintf(env.Stdout, "json: %s\n", jsonOut)
	}
	if mdOut != "" {
		rel := ""
		if plots != "" {
			if r, err := filepath.Rel(filepath.Dir(mdOut), plots); err == nil {
				rel = filepath.ToSlash(r)
			} else if abs, err := filepath.Abs(plots); err == nil {
				rel = filepath.ToSlash(abs)
			}
		}
		if err := os.WriteFile(mdOut, rep.Markdown(rel), 0o644); err != nil {
			return fmt.Errorf("--markdown: %w", err)
		}
		fmt.Fprintf(env.Stdout, "markdown: %s\n", mdOut)
	}
	fmt.Fprintf(env.Stdout, "%-32s %22s %22s %8s\n", "predictor (k=8)", "seen", "unseen", "gap")
	for _, pr := range rep.Predictors {
		name := pr.Name
		if pr.Variant != "" && pr.Variant != "default" && pr.Variant != "truth" {
			name += "/" + pr.Variant
		}
		fmt.Fprintf(env.Stdout, "%-32s %22s %22s %8.2f\n", name, interval(pr.Seen), interval(pr.Unseen), float64(pr.GapClosure))
	}
	fmt.Fprintf(env.Stdout, "wall time %.0f s\n", float64(rep.Cost.WallSeconds))
	return nil
}

// commandLine rebuilds the bench command line from the flags that were set.
func commandLine(fs *flag.FlagSet) string {
	parts := []string{"palate bench"}
	fs.Visit(func(f *flag.Flag) {
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() && f.Value.String() == "true" {
			parts = append(parts, "--"+f.Name)
			return
		}
		parts = append(parts, "--"+f.Name+" "+f.Value.String())
	})
	return strings.Join(parts, " ")
}

func interval(m bench.Measure) string {
	if m.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*float64(m.Acc), 100*float64(m.Lo), 100*float64(m.Hi))
}
