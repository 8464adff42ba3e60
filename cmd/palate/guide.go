package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"palate"
	"palate/baseline"
	"palate/bench"
	"palate/bench/suite"
	"palate/features"
	"palate/guide"
	"palate/history"
	"palate/internal/outdir"
	"palate/model"
	"palate/train"
)

func init() {
	register(&command{
		name:    "guide",
		summary: "steer a generator toward one person's taste, or measure how well guidance works",
		long: `Makes one picture for --prompt steered toward --user's taste and one
unguided picture (same generator, a random latent), and writes guided.png,
unguided.png and summary.json (scores, generator calls, seconds; in a taste
world also each picture's true utility for the person) into --out.

Methods (--method): best-of-n makes --n pictures and keeps the judge's
favourite; latent-search runs an evolution strategy over the generator's
latent space within --n generator calls, penalising closeness to what the
person disliked; prompt estimates each style phrase's effect on the judge's
score and writes liked phrases into the prompt and disliked ones into a
negative prompt. The judge (--by) is the --model checkpoint (palate, reading
the person's whole history in --data), the non-personal scorer (fitted on
--data here) or the centroid of the person's history.

The generator is the taste world's renderer when --data is a taste world,
or an AUTOMATIC1111/Forge server given by --a1111 URL (its pictures are
embedded with pixels-v3, the built-in embedder, for the judges).

With --measure it instead measures guidance on the taste world --data: for
--people seen and unseen people (their 8-pair Table-1 history) and --prompts
prompts each, every method guided by palate, the non-personal scorer, the
centroid and the person's true utility, judged by the simulated people
against unguided pictures and head to head at the same --n budget; it writes
the win-rate table to --json and --markdown.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			modelDir := fs.String("model", "", "checkpoint `directory` (needed for --by palate and --measure)")
			data := fs.String("data", "", "dataset `directory`")
			user := fs.String("user", "", "person `id`")
			prompt := fs.String("prompt", "", "what to draw")
			method := fs.String("method", guide.MethodBestOfN, "best-of-n, latent-search or prompt")
			n := fs.Int("n", guide.DefaultBudget, "generator calls per guided picture")
			by := fs.String("by", guide.ByPalate, "judge: palate, non-personal or centroid")
			seed := fs.Uint64("seed", 1, "random seed")
			a1111 := fs.String("a1111", "", "AUTOMATIC1111/Forge server `URL` to generate with")
			out := fs.String("out", "", "output `directory` for the pictures and summary.json")
			measure := fs.Bool("measure", false, "measure guidance on the taste world --data instead")
			people := fs.Int("people", 0, "--measure: seen and unseen people judged (0: 50 each)")
			prompts := fs.Int("prompts", 0, "--measure: prompts per person (0: 4)")
			k := fs.Int("k", 0, "--measure: history pairs per person, the Table-1 protocol's (0: 8)")
			methods := fs.String("methods", "", "--measure: comma-separated methods (default: all three)")
			avoid := fs.Float64("avoid", 0, "latent search's negative-feedback weight (0: default 0.5; negative: off)")
			jsonOut := fs.String("json", "", "--measure: write the report as JSON to this `file`")
			mdOut := fs.String("markdown", "", "--measure: write the table as Markdown to this `file`")
			return func(ctx context.Context, env *Env) error {
				if err := atLeast(flagMin{"n", int64(*n), 1}, flagMin{"people", int64(*people), 0}, flagMin{"prompts", int64(*prompts), 0}, flagMin{"k", int64(*k), 0}); err != nil {
					return err
				}
				if *measure {
					if *modelDir == "" || *data == "" {
						return usagef("--measure needs --model and --data")
					}
					if *jsonOut == "" && *mdOut == "" {
						return usagef("give --json or --markdown (or both), or nothing would be kept")
					}
					opt := suite.GuidanceOptions{
						Data: *data, Model: *modelDir, People: *people, Prompts: *prompts, Budget: *n, K: *k,
						Avoid: *avoid, Seed: *seed, Log: env.Stderr,
					}
					if *methods != "" {
						for _, m := range strings.Split(*methods, ",") {
							opt.Methods = append(opt.Methods, strings.TrimSpace(m))
						}
					}
					return measureGuidance(ctx, env, fs, opt, *jsonOut, *mdOut)
				}
				if *data == "" || *user == "" || strings.TrimSpace(*prompt) == "" || *out == "" {
					return usagef("--data, --user, --prompt and --out are required")
				}
				switch *method {
				case guide.MethodBestOfN, guide.MethodLatentSearch, guide.MethodPrompt:
				default:
					return usagef("--method is %q; want best-of-n, latent-search or prompt", *method)
				}
				if *n < 1 {
					return usagef("--n is %d; want at least 1", *n)
				}
				earlier, err := checkGuideOut(*out)
				if err != nil {
					return err
				}
				if err := guideOne(ctx, env, guideArgs{
					model: *modelDir, data: *data, user: *user, prompt: strings.TrimSpace(*prompt), method: *method,
					by: *by, n: *n, avoid: *avoid, seed: *seed, a1111: *a1111, out: *out,
				}); err != nil {
					return err
				}
				if len(earlier) > 0 {
					fmt.Fprintf(env.Stderr, "guide: replaced the earlier run's %s in %s\n", strings.Join(earlier, ", "), *out)
				}
				return nil
			}
		},
	})
}

// guideOutputs are the files a guide run writes into --out.
var guideOutputs = []string{"guided.png", "unguided.png", "summary.json"}

// checkGuideOut refuses an --out that is a file, or a directory holding
// anything but an earlier run's outputs, which a run would overwrite. It
// returns the earlier run's outputs that are there.
func checkGuideOut(out string) (earlier []string, err error) {
	_, ents, err := outdir.Entries(out, "--out")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !slices.Contains(guideOutputs, e.Name()) {
			return nil, palate.Errorf(palate.ECONFLICT, "--out %s holds %s, which is not a guide run's output; choose a new or empty directory", out, e.Name())
		}
		earlier = append(earlier, e.Name())
	}
	return earlier, nil
}

type guideArgs struct {
	model, data, user, prompt, method, by string
	n                                     int
	avoid                                 float64
	seed                                  uint64
	a1111, out                            string
}

// pictureSummary is one picture of summary.json.
type pictureSummary struct {
	File     string       `json:"file"`
	Prompt   string       `json:"prompt"`
	Negative string       `json:"negative,omitempty"`
	Latent   guide.Latent `json:"latent"`
	// Score is the judge's score for the person's prompt.
	Score   float64 `json:"score"`
	Calls   int     `json:"calls"`
	Seconds float64 `json:"seconds"`
	// TrueUtility is the person's utility in a taste world.
	TrueUtility *float64 `json:"true_utility,omitempty"`
}

// guideSummary is summary.json.
type guideSummary struct {
	User      string         `json:"user"`
	Prompt    string         `json:"prompt"`
	Method    string         `json:"method"`
	GuidedBy  string         `json:"guided_by"`
	Generator string         `json:"generator"`
	Budget    int            `json:"budget"`
	Seed      uint64         `json:"seed"`
	Guided    pictureSummary `json:"guided"`
	Unguided  pictureSummary `json:"unguided"`
	// Positive, Negative and Effects are prompt guidance's.
	Positive string         `json:"positive,omitempty"`
	Negative string         `json:"negative,omitempty"`
	Effects  []guide.Effect `json:"effects,omitempty"`
	// WinProbability is, in a taste world, the Bradley–Terry probability
	// that the person picks the guided picture over the unguided one.
	WinProbability *float64 `json:"win_probability,omitempty"`
}

func guideOne(ctx context.Context, env *Env, a guideArgs) error {
	// The judge and the history data, read with pixels-v3 embeddings (what
	// the generated pictures are embedded with).
	px := features.NewPixels()
	var judge guide.Judge
	var hd *history.Data
	switch a.by {
	case guide.ByPalate:
		if a.model == "" {
			return usagef("--by palate needs --model")
		}
		sc, d, err := loadScorer(ctx, a.model, a.data, "")
		if err != nil {
			return err
		}
		hd = d
		if d.User(a.user) == nil {
			return palate.Errorf(palate.ENOTFOUND, "--user: %q has no comparisons or votes in %s", a.user, a.data)
		}
		if judge, err = guide.NewPalate(sc, d, px, guide.AllHistory(d)); err != nil {
			return err
		}
	case guide.ByNonPersonal, guide.ByCentroid:
		textDim := model.DefaultConfig().TextDim
		var err error
		if hd, err = loadHistory(ctx, a.data, px.Name(), model.NewHashBOW(textDim)); err != nil {
			return err
		}
		if hd.User(a.user) == nil {
			return palate.Errorf(palate.ENOTFOUND, "--user: %q has no comparisons or votes in %s", a.user, a.data)
		}
		if a.by == guide.ByNonPersonal {
			np := baseline.NewNonPersonal(baseline.NonPersonalOptions{Seed: a.seed})
			if err := np.Fit(ctx, hd); err != nil {
				return err
			}
			judge = guide.NewNonPersonal(np, px, model.NewHashBOW(textDim))
		} else {
			ce := baseline.NewCentroid()
			if err := ce.Fit(ctx, hd); err != nil {
				return err
			}
			judge = guide.NewCentroid(ce, hd, px, guide.AllHistory(hd))
		}
	default:
		return usagef("--by is %q; want palate, non-personal or centroid", a.by)
	}

	// The generator.
	var gen guide.Generator
	var wg *guide.World
	truth, err := suite.LoadTruth(a.data)
	if err != nil {
		return err
	}
	if a.a1111 != "" {
		if gen, err = guide.NewA1111(guide.A1111Options{URL: a.a1111}); err != nil {
			return err
		}
	} else {
		if truth == nil {
			return usagef("--data %s is not a taste world: give --a1111 URL to generate with a real model", a.data)
		}
		wg = guide.NewWorld(truth.World.Config.ImageSize)
		gen = wg
	}

	opt := guide.Options{Budget: a.n, Seed: a.seed, Avoid: a.avoid}
	var res *guide.Result
	switch a.method {
	case guide.MethodBestOfN:
		res, err = guide.BestOfN(ctx, gen, judge, a.user, a.prompt, opt)
	case guide.MethodLatentSearch:
		res, err = guide.LatentSearch(ctx, gen, judge, a.user, a.prompt, opt)
	case guide.MethodPrompt:
		p, ok := gen.(guide.Prompter)
		if !ok {
			return palate.Errorf(palate.EINVALID, "generator %s cannot be steered with words", gen.Name())
		}
		res, err = guide.PromptGuidance(ctx, p, judge, a.user, a.prompt, opt)
	}
	if err != nil {
		return err
	}
	un, err := guide.Unguided(ctx, gen, a.prompt, opt)
	if err != nil {
		return err
	}
	us, err := judge.Scores(ctx, a.user, a.prompt, []*guide.Generated{un.Best})
	if err != nil {
		return err
	}
	un.Score = us[0]

	if err := os.MkdirAll(a.out, 0o755); err != nil {
		return err
	}
	s := guideSummary{User: a.user, Prompt: a.prompt, Method: a.method, GuidedBy: judge.Name(), Generator: gen.Name(),
		Budget: a.n, Seed: a.seed, Effects: res.Effects}
	if a.method == guide.MethodPrompt {
		s.Positive, s.Negative = res.Positive, res.Negative
	}
	for _, x := range []struct {
		file string
		r    *guide.Result
		dst  *pictureSummary
	}{{"guided.png", res, &s.Guided}, {"unguided.png", un, &s.Unguided}} {
		if err := writePNG(filepath.Join(a.out, x.file), x.r.Best); err != nil {
			return err
		}
		*x.dst = pictureSummary{File: x.file, Prompt: x.r.Best.Prompt, Negative: x.r.Best.Negative, Latent: x.r.Best.Latent,
			Score: x.r.Score, Calls: x.r.Calls, Seconds: x.r.Seconds}
	}
	if wg != nil && truth.People[a.user] != nil {
		o := &guide.Oracle{W: truth.World, Gen: wg, People: truth.People}
		u, err := o.Scores(ctx, a.user, a.prompt, []*guide.Generated{res.Best, un.Best})
		if err != nil {
			return err
		}
		s.Guided.TrueUtility, s.Unguided.TrueUtility = &u[0], &u[1]
		p := 1 / (1 + math.Exp(-(u[0]-u[1])/truth.World.Config.Noise))
		s.WinProbability = &p
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "guide summary: %v", err)
	}
	if err := os.WriteFile(filepath.Join(a.out, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s guided by %s for %s: %q\n", a.method, judge.Name(), a.user, a.prompt)
	if a.method == guide.MethodPrompt {
		fmt.Fprintf(env.Stdout, "  positive prompt: %q\n  negative prompt: %q\n", res.Positive, res.Negative)
	}
	fmt.Fprintf(env.Stdout, "  guided:   score %8.3f  (%d generator calls, %.2f s)\n", res.Score, res.Calls, res.Seconds)
	fmt.Fprintf(env.Stdout, "  unguided: score %8.3f\n", un.Score)
	if s.WinProbability != nil {
		fmt.Fprintf(env.Stdout, "  true utility: guided %.3f, unguided %.3f; the person picks the guided picture with probability %.2f\n",
			*s.Guided.TrueUtility, *s.Unguided.TrueUtility, *s.WinProbability)
	}
	fmt.Fprintf(env.Stdout, "written to %s (guided.png, unguided.png, summary.json)\n", a.out)
	return nil
}

func writePNG(path string, g *guide.Generated) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, g.Image); err != nil {
		f.Close()
		return palate.Errorf(palate.EINTERNAL, "writing %s: %v", path, err)
	}
	return f.Close()
}

func measureGuidance(ctx context.Context, env *Env, fs *flag.FlagSet, opt suite.GuidanceOptions, jsonOut, mdOut string) error {
	res, err := suite.Guidance(ctx, opt)
	if err != nil {
		return err
	}
	cmd := strings.Replace(commandLine(fs), "palate bench", "palate guide", 1)
	rep := &bench.Report{
		Format:   bench.ReportFormat,
		Settings: bench.Settings{Command: cmd, Data: opt.Data, Embedder: res.Embedder, Model: opt.Model, Seeds: 1, K: res.K},
		Guidance: res.Rows,
		Cost:     bench.Cost{WallSeconds: bench.Num(res.Seconds), Threads: runtime.GOMAXPROCS(0), SIMD: train.SIMDBuild()},
		Notes:    res.Notes,
	}
	if truth, err := suite.LoadTruth(opt.Data); err == nil && truth != nil {
		rep.World = truth.Raw
	}
	if jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return palate.Errorf(palate.EINTERNAL, "guidance report: %v", err)
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "json: %s\n", jsonOut)
	}
	if mdOut != "" {
		if err := os.WriteFile(mdOut, rep.Markdown(""), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "markdown: %s\n", mdOut)
	}
	fmt.Fprintf(env.Stdout, "%-14s %-13s %-13s %22s %8s\n", "method", "guided by", "against", "win rate", "calls")
	for _, r := range res.Rows {
		fmt.Fprintf(env.Stdout, "%-14s %-13s %-13s %6.1f%% [%5.1f, %5.1f] %8.1f\n", r.Method, r.GuidedBy, r.Against,
			100*float64(r.WinRate.WinRate), 100*float64(r.Lo), 100*float64(r.Hi), float64(r.Calls))
	}
	fmt.Fprintf(env.Stdout, "wall time %.0f s\n", res.Seconds)
	return nil
}
