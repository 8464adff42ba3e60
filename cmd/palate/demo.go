package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"palate/world"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "build a small taste world on embedded defaults and show what palate does with it",
		long: `Builds a small taste world into --dir (reused on later runs) and prints
its summary. Later steps of the demo (training, the web page) reuse what was
built.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			dir := fs.String("dir", "palate-demo", "working `directory` for the demo's world, model and database")
			users := fs.Int("users", 200, "people in the demo world")
			return func(ctx context.Context, env *Env) error {
				wdir := filepath.Join(*dir, "world")
				cfg := world.DefaultConfig()
				cfg.Users = *users
				s, err := loadOrBuildWorld(ctx, cfg, wdir, env)
				if err != nil {
					return err
				}
				printSummary(env.Stdout, cfg, s, wdir)
				mdir := filepath.Join(*dir, "model")
				fmt.Fprintf(env.Stdout, "\nnext:\n  palate train --data %s --out %s\n  palate score --model %s --data %s --user %s --images %s-i0,%s-i1\n  palate similar --model %s --data %s --user %s\n",
					wdir, mdir, mdir, wdir, firstUser(cfg), firstUser(cfg), firstUser(cfg), mdir, wdir, firstUser(cfg))
				return nil
			}
		},
	})
}

// firstUser is the id of person 0 of a world made from cfg.
func firstUser(cfg world.Config) string {
	w, err := world.New(cfg)
	if err != nil {
		return "u0"
	}
	return w.UserID(0)
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
			fmt.Fprintf(env.Stderr, "demo: reusing the world in %s\n", dir)
			return wf.Summary, nil
		}
		return nil, fmt.Errorf("demo: %s holds a world built from another config; remove it or pick another --dir", dir)
	}
	fmt.Fprintf(env.Stderr, "demo: building a world of %d people into %s\n", cfg.Users, dir)
	emb, err := embedderFor("pixels-v1", false)
	if err != nil {
		return nil, err
	}
	return buildWorld(ctx, cfg, dir, emb, env.Stderr)
}
