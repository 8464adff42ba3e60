package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"palate"
	"palate/api"
	"palate/dataset"
	"palate/features"
	"palate/model"
	"palate/server"
	"palate/train"
	"palate/world"
)

// defaultDemoSteps is how long the demo trains: with session 6's defaults
// it trained 390 steps, base stage included, in 157 s on 2 cores, the page
// having been ready after 16 s.
const defaultDemoSteps = 150

func init() {
	register(&command{
		name:    "demo",
		summary: "build a small taste world, serve the web page and train a model on it meanwhile",
		long: `Builds a small taste world into --dir/world, loads it into an embedded
SQLite database (--dir/palate.db) and serves the web page and the API at
--addr while it trains a model on the world briefly (--dir/model): the
page records picks at once, its Model view (GET /v1/training) follows the
training, and ranking starts when the model is served. Each step is
skipped when its result is already in --dir, so later runs start in
seconds with the trained model. Ctrl-C stops the server.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			dir := fs.String("dir", "palate-demo", "working `directory` for the demo's world, model and database")
			users := fs.Int("users", 200, "people in the demo world")
			steps := fs.Int("steps", defaultDemoSteps, "training steps")
			addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to serve on (port 0 picks a free one)")
			bench := fs.String("bench", "", "bench report `file` (palate bench --json) to show in the model panel")
			maxComp := fs.Int("comparisons", 0, "most comparisons per person (0: the world's default); small for quick tests")
			return func(ctx context.Context, env *Env) error {
				// The demo world has the default world's taste groups, and
				// each group needs a person.
				if err := atLeast(flagMin{"steps", int64(*steps), 1}, flagMin{"comparisons", int64(*maxComp), 0},
					flagMin{"users", int64(*users), int64(world.DefaultConfig().Groups)}); err != nil {
					return err
				}
				if *maxComp == 1 {
					return usagef("--comparisons 1: want 0 (the world's default) or at least 2")
				}
				// What can be checked in a moment is checked before the
				// world is built and imported.
				if *bench != "" {
					if err := server.CheckBench(*bench); err != nil {
						return fmt.Errorf("--bench: %w", err)
					}
				}
				probe, err := net.Listen("tcp", *addr)
				if err != nil {
					return palate.Errorf(palate.EUNAVAILABLE, "--addr %s: %v", *addr, err)
				}
				probe.Close()
				start := time.Now()
				wdir := filepath.Join(*dir, "world")
				cfg := world.DefaultConfig()
				cfg.Users = *users
				if *maxComp > 0 {
					cfg.ComparisonsPerUser = world.Range{Min: min(cfg.ComparisonsPerUser.Min, *maxComp), Max: *maxComp}
					cfg.VotesPerUser = world.Range{Min: min(cfg.VotesPerUser.Min, *maxComp/2), Max: max(1, *maxComp/2)}
				}
				s, err := loadOrBuildWorld(ctx, cfg, wdir, env)
				if err != nil {
					return err
				}
				printSummary(env.Stdout, cfg, s, wdir)
				mdir := filepath.Join(*dir, "model")
				db := "sqlite:" + filepath.Join(*dir, "palate.db")
				marker := filepath.Join(*dir, "palate.db.imported")
				if _, err := os.Stat(marker); err != nil {
					if err := importDB(ctx, env, importOptions{DB: db, Data: wdir}); err != nil {
						return err
					}
					if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
						return palate.Errorf(palate.EINTERNAL, "demo: %w", err)
					}
				} else {
					fmt.Fprintf(env.Stderr, "demo: reusing the database %s\n", db)
				}
				st, err := openStore(ctx, db)
				if err != nil {
					return err
				}
				defer st.Close()
				trained := reusableModel(mdir, env.Stderr)
				serveDir := ""
				if trained {
					serveDir = mdir
				}
				srv, err := server.New(ctx, server.Config{
					Store: st, ModelDir: serveDir, Images: wdir, Generated: filepath.Join(*dir, "generated"), Bench: *bench,
					Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
				})
				if err != nil {
					return err
				}
				defer srv.Close()
				ln, err := srv.Listen(ctx, *addr)
				if err != nil {
					return err
				}
				trainDone := make(chan struct{})
				if trained {
					close(trainDone)
				} else {
					srv.SetTraining(api.Training{State: api.TrainingRunning, TotalSteps: *steps, Started: time.Now()})
					go func() {
						defer close(trainDone)
						demoTrainServe(ctx, env, srv, wdir, mdir, *steps)
					}()
				}
				// Wait for the training goroutine: it writes into --dir.
				defer func() { <-trainDone }()
				note := ""
				if !trained {
					note = "; the model trains meanwhile (Model view)"
				}
				fmt.Fprintf(env.Stdout, "\npalate demo ready in %s: open http://%s/ (Ctrl-C stops)%s\n", time.Since(start).Round(time.Second), ln.Addr(), note)
				return srv.Serve(ctx, ln)
			}
		},
	})
}

// demoStepHook, if set (tests), sees each training step after the server
// has been told of it.
var demoStepHook func(train.StepInfo)

// demoTrainServe trains a model on the world at wdir into mdir while srv
// serves, reporting progress to srv (GET /v1/training), and then serves the
// trained model. A failure is reported to srv and on stderr; the page keeps
// recording picks.
func demoTrainServe(ctx context.Context, env *Env, srv *server.Server, wdir, mdir string, steps int) {
	started := time.Now()
	err := demoTrain(ctx, env, wdir, mdir, steps, func(i train.StepInfo) {
		t := api.Training{State: api.TrainingRunning, Stage: string(i.Stage), Step: i.Step, TotalSteps: i.TotalSteps,
			Loss: i.Loss, Accuracy: i.Accuracy, EpisodesPerSecond: i.EpisodesPerSecond, Started: started, Updated: time.Now()}
		if i.Validated {
			t.ValAccuracy = &i.ValAccuracy
		}
		srv.SetTraining(t)
		if demoStepHook != nil {
			demoStepHook(i)
		}
	})
	if err == nil {
		err = srv.LoadModelDir(ctx, mdir)
	}
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(env.Stderr, "demo: training failed: %v\n", err)
		}
		srv.SetTraining(api.Training{State: api.TrainingFailed, TotalSteps: steps, Error: err.Error(), Started: started, Updated: time.Now()})
		return
	}
	t := api.Training{State: api.TrainingDone, Started: started, Updated: time.Now()}
	if ck, err := train.Load(mdir); err == nil {
		sum := ck.Summary
		t.Step, t.TotalSteps, t.Loss, t.Accuracy, t.EpisodesPerSecond = sum.Steps, sum.Steps, sum.FinalTrainLoss, sum.FinalTrainAccuracy, sum.EpisodesPerSecond
		if sum.Validated {
			t.ValAccuracy = &sum.BestValAccuracy
		}
	}
	srv.SetTraining(t)
	fmt.Fprintf(env.Stdout, "demo: the model is trained and served\n")
}

// demoTrain trains a model on the world at wdir into mdir, calling onStep
// after each step and validation.
func demoTrain(ctx context.Context, env *Env, wdir, mdir string, steps int, onStep func(train.StepInfo)) error {
	tc := trainConfig{Model: model.DefaultConfig(), Train: train.DefaultOptions()}
	tc.Train.Steps = steps
	tc.Train.EvalEvery = max(10, steps/5)
	hd, err := loadHistory(ctx, wdir, features.Name, model.NewHashBOW(tc.Model.TextDim))
	if err != nil {
		return err
	}
	tc.Train.OutDir = mdir
	tc.Train.Log = env.Stderr
	tc.Train.OnStep = onStep
	tc.Train.Embedder = train.EmbedderInfo{Name: hd.Emb.Embedder, Dim: hd.Emb.Dim}
	tc.Train.TextEmbedder = train.EmbedderInfo{Name: hd.TextName, Dim: len(hd.Text[0])}
	fmt.Fprintf(env.Stderr, "demo: training a model for %d steps into %s\n", steps, mdir)
	ck, err := train.OnData(ctx, hd, tc.Model, tc.Train, tc.Data)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "model: %d steps in %.0f s, best validation pairwise accuracy %.1f%%\n",
		ck.Summary.Steps, ck.Summary.WallSeconds, 100*ck.Summary.BestValAccuracy)
	return nil
}

// loadOrBuildWorld returns the summary of the world at dir when it was
// built from cfg, and builds it otherwise.
func loadOrBuildWorld(ctx context.Context, cfg world.Config, dir string, env *Env) (*world.Summary, error) {
	if b, err := os.ReadFile(filepath.Join(dir, world.WorldFile)); err == nil {
		var wf struct {
			Config  world.Config   `json:"config"`
			Summary *world.Summary `json:"summary"`
		}
		if json.Unmarshal(b, &wf) == nil && wf.Config == cfg && wf.Summary != nil {
			if names, err := dataset.EmbeddingNames(dir); err != nil || !slices.Contains(names, features.Name) {
				return nil, fmt.Errorf("the world in %s has no %s vectors (an older palate built it, with %v); remove the demo directory %s to start afresh",
					dir, features.Name, names, filepath.Dir(dir))
			}
			fmt.Fprintf(env.Stderr, "demo: reusing the world in %s\n", dir)
			return wf.Summary, nil
		}
		return nil, fmt.Errorf("demo: %s holds a world built from another config; remove it or pick another --dir", dir)
	}
	fmt.Fprintf(env.Stderr, "demo: building a world of %d people into %s\n", cfg.Users, dir)
	emb, err := embedderFor(features.Name, false)
	if err != nil {
		return nil, err
	}
	return buildWorld(ctx, cfg, dir, emb, env.Stderr)
}

// reusableModel says whether the demo's model directory holds a model this
// build loads, and says on w what it will do: reuse it, or (when the
// directory holds one that does not load: damaged, or from another palate
// version) train a new one in its place. A missing directory is said
// nothing of: the first run trains as it always does.
func reusableModel(mdir string, w io.Writer) bool {
	_, err := train.Load(mdir)
	switch {
	case err == nil:
		fmt.Fprintf(w, "demo: reusing the model in %s\n", mdir)
		return true
	case palate.ErrorCode(err) != palate.ENOTFOUND:
		fmt.Fprintf(w, "demo: training a new model in place of %s, which does not load: %v\n", mdir, err)
	}
	return false
}
