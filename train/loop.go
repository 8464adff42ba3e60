package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"time"

	"palate"
	"palate/model"
)

// Source yields training batches (T/2 target pairs: target 2p liked, 2p+1
// disliked). The episode sampler implements it. Next returns io.EOF when it
// has no more batches (training then stops normally); sources that sample
// forever never do.
type Source interface {
	Next(ctx context.Context) (*model.Batch, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (*model.Batch, error)

// Next implements Source.
func (f SourceFunc) Next(ctx context.Context) (*model.Batch, error) { return f(ctx) }

// ValidateFunc measures validation pairwise accuracy with the current
// weights; Run early-stops on it and keeps the best weights. ValidateOn makes
// one from fixed batches.
type ValidateFunc func(ctx context.Context, ev Evaluator) (accuracy float64, err error)

// Why training stopped, for Summary.StoppedBy.
const (
	StopMaxSteps   = "max-steps"
	StopEarly      = "early-stop"
	StopCanceled   = "canceled"
	StopSourceDone = "source-exhausted"
	StopError      = "error"
)

// EvalPoint is one validation during training.
type EvalPoint struct {
	Stage         Stage   `json:"stage"`
	Step          int     `json:"step"` // steps done in the stage
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"`
	ValAccuracy   float64 `json:"val_accuracy"`
	Seconds       float64 `json:"seconds"` // since training started
}

// Summary records how a training run went; it is saved with the checkpoint.
type Summary struct {
	Mode    string `json:"mode"`
	Seed    uint64 `json:"seed"`
	Backend string `json:"backend"`
	SIMD    bool   `json:"simd"`
	// Steps is the number of optimizer steps taken in all stages;
	// StageSteps splits it by stage.
	Steps      int           `json:"steps"`
	StageSteps map[Stage]int `json:"stage_steps"`
	// Episodes counts target pairs trained on (histories × pairs each).
	Episodes int64 `json:"episodes"`
	// StoppedBy says why training ended (Stop* constants).
	StoppedBy string `json:"stopped_by"`
	// Validated says whether a ValidateFunc ran; the Best* fields are only
	// meaningful then. The kept weights are the best validated ones after
	// the base stage (which only starts the model). BestValAccuracy is -1
	// while no validation after the base stage has run (a run stopped
	// early); the checkpoint then holds the last weights.
	Validated       bool    `json:"validated"`
	BestValAccuracy float64 `json:"best_val_accuracy"`
	BestStage       Stage   `json:"best_stage,omitempty"`
	BestStep        int     `json:"best_step"`
	// FinalTrainLoss and FinalTrainAccuracy are moving averages over the
	// last steps.
	FinalTrainLoss     float64     `json:"final_train_loss"`
	FinalTrainAccuracy float64     `json:"final_train_accuracy"`
	WallSeconds        float64     `json:"wall_seconds"`
	EpisodesPerSecond  float64     `json:"episodes_per_second"`
	SecondsPerStep     float64     `json:"seconds_per_step"`
	Evals              []EvalPoint `json:"evals"`
	// Start describes the base-mode run whose weights began this one
	// (Options.Start); nil when the run made its own start. Steps,
	// Episodes and WallSeconds above do not include it.
	Start    *StartInfo `json:"start,omitempty"`
	Options  Options    `json:"options"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
}

// StartInfo is what a run's summary keeps of the base-mode run it began
// from.
type StartInfo struct {
	Steps           int     `json:"steps"`
	WallSeconds     float64 `json:"wall_seconds"`
	BestValAccuracy float64 `json:"best_val_accuracy"`
	BestStep        int     `json:"best_step"`
}

type stagePlan struct {
	stage Stage
	steps int
	lr    float64
}

// LearningRate is the schedule: linear warm-up over warmup steps from 0 to
// peak, then decay (cosine or linear) to peak*minFrac at step total-1.
func LearningRate(step, total, warmup int, peak, minFrac float64, decay string) float64 {
	if warmup > 0 && step < warmup {
		return peak * float64(step+1) / float64(warmup)
	}
	if decay == DecayNone || total-warmup <= 1 {
		return peak
	}
	p := float64(step-warmup) / float64(total-warmup-1)
	p = min(max(p, 0), 1)
	f := 1 - p
	if decay == DecayCosine {
		f = 0.5 * (1 + math.Cos(math.Pi*p))
	}
	return peak * (minFrac + (1-minFrac)*f)
}

// Run trains a new model (weights from opts.Seed) on batches from src and
// returns the best checkpoint: the weights with the highest validation
// accuracy after the base stage when validate is given, else the last ones.
// With opts.OutDir set,
// the checkpoint is saved there whenever validation improves and at the end.
//
// Cancelling ctx (Ctrl-C) stops after the current step: Run saves and
// returns the best checkpoint so far together with ctx's error. A step that
// hangs past opts.StepTimeout returns an error wrapping ErrStuck; the best
// checkpoint saved before it stays on disk.
func Run(ctx context.Context, cfg model.Config, opts Options, src Source, validate ValidateFunc) (*Checkpoint, error) {
	opts.fill()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.OutDir != "" {
		if err := CheckOutDir(opts.OutDir); err != nil {
			return nil, err
		}
	}
	if cfg.ImageDim == 0 && opts.Embedder.Dim > 0 {
		cfg.ImageDim = opts.Embedder.Dim
	}
	if opts.Embedder.Dim > 0 && opts.Embedder.Dim != cfg.ImageDim {
		return nil, palate.Errorf(palate.EINVALID, "embedder %q makes %d-float vectors but the model config says image_dim %d",
			opts.Embedder.Name, opts.Embedder.Dim, cfg.ImageDim)
	}
	if opts.TextEmbedder.Name == "" {
		h := model.NewHashBOW(cfg.TextDim)
		opts.TextEmbedder = EmbedderInfo{Name: h.Name(), Dim: h.Dim()}
	}
	if opts.Mode == ModeBase && (cfg.BaseHidden <= 0 || opts.BaseSteps <= 0) {
		return nil, palate.Errorf(palate.EINVALID, "base mode needs a base head (base_hidden %d) and base steps (%d)", cfg.BaseHidden, opts.BaseSteps)
	}
	if opts.Start != nil {
		if err := sameBase(opts.Start.Config, cfg); err != nil {
			return nil, err
		}
	}
	tr, err := NewTrainer(cfg, opts)
	if err != nil {
		return nil, err
	}
	plans := []stagePlan{{StageJoint, opts.Steps, opts.LearningRate}}
	switch opts.Mode {
	case ModeTwoStage:
		plans = []stagePlan{{Stage1, opts.Steps, opts.LearningRate}}
		if cfg.PrefTokens > 0 {
			plans = append(plans, stagePlan{Stage2, opts.Stage2Steps, opts.Stage2LearningRate})
		}
	case ModeBase:
		plans = nil
	}
	if cfg.BaseHidden > 0 && opts.BaseSteps > 0 && opts.Start == nil {
		plans = append([]stagePlan{{StageBase, opts.BaseSteps, opts.LearningRate}}, plans...)
	}
	total := 0
	for _, p := range plans {
		total += p.steps
	}

	start := opts.Now()
	sum := Summary{
		Mode: opts.Mode, Seed: opts.Seed, Backend: opts.Backend, SIMD: SIMDBuild(),
		StageSteps: map[Stage]int{}, Options: opts, Started: start, BestValAccuracy: -1,
	}
	if opts.Start != nil {
		if err := tr.SetWeights(opts.Start.Weights); err != nil {
			return nil, err
		}
		st := opts.Start.Summary
		sum.Start = &StartInfo{Steps: st.Steps, WallSeconds: st.WallSeconds, BestValAccuracy: st.BestValAccuracy, BestStep: st.BestStep}
	}
	prog := newProgress(opts, total)
	baseNote := ""
	switch {
	case opts.Mode == ModeBase:
		baseNote = " (the base stage alone)"
	case opts.Start != nil:
		baseNote = fmt.Sprintf(" from a base stage of %d steps trained before", opts.Start.Summary.Steps)
	case plans[0].stage == StageBase:
		baseNote = fmt.Sprintf(" after a base stage of up to %d steps", plans[0].steps)
	}
	prog.event("training %d-layer d=%d K=%d (%s) on %s, %s mode%s, %d steps in all", cfg.Layers, cfg.DModel, cfg.PrefTokens, cfg.TokenMode, BuildNote(opts.Backend), opts.Mode, baseNote, total)

	var best map[string][]float32
	var ema emaStats
	finish := func(stop string, runErr error) (*Checkpoint, error) {
		sum.StoppedBy = stop
		sum.Finished = opts.Now()
		sum.WallSeconds = sum.Finished.Sub(start).Seconds()
		if sum.WallSeconds > 0 {
			sum.EpisodesPerSecond = float64(sum.Episodes) / sum.WallSeconds
		}
		if sum.Steps > 0 {
			sum.SecondsPerStep = sum.WallSeconds / float64(sum.Steps)
		}
		sum.FinalTrainLoss, sum.FinalTrainAccuracy = finite(ema.loss), finite(ema.acc)
		prog.finish()
		w := best
		if w == nil {
			var err error
			if w, err = tr.Weights(); err != nil {
				// The weights died with a hung step and nothing was
				// validated: nothing to keep.
				return nil, errors.Join(runErr, err)
			}
		}
		ck := &Checkpoint{Config: cfg, Embedder: opts.Embedder, TextEmbedder: opts.TextEmbedder, Summary: sum, Weights: w}
		if opts.OutDir != "" {
			if err := Save(opts.OutDir, ck); err != nil {
				return ck, errors.Join(runErr, err)
			}
		}
		best := fmt.Sprintf("best validation accuracy %.4f", sum.BestValAccuracy)
		if sum.BestValAccuracy < 0 {
			best = "no validation after the base stage"
		}
		prog.event("stopped (%s) after %d steps, %.0f s, %.1f episodes/s; %s",
			stop, sum.Steps, sum.WallSeconds, sum.EpisodesPerSecond, best)
		return ck, runErr
	}

	// avg is the running average of the weights (Options.WeightAverage)
	// in a stage that keeps one, else nil.
	var avg map[string][]float32
	evaluate := func(stage Stage, step int) (improved bool, err error) {
		if avg != nil {
			// Judge (and keep) the average: swap it in, and the weights
			// being trained back afterwards.
			raw, werr := tr.Weights()
			if werr != nil {
				return false, werr
			}
			// SetWeights copies, so avg stays the trainer's own.
			if werr := tr.SetWeights(avg); werr != nil {
				return false, werr
			}
			defer func() {
				if serr := tr.SetWeights(raw); err == nil {
					err = serr
				}
			}()
		}
		acc, err := validate(ctx, tr)
		if err != nil {
			return false, err
		}
		sum.Validated = true
		sum.Evals = append(sum.Evals, EvalPoint{Stage: stage, Step: step, TrainLoss: finite(ema.loss), TrainAccuracy: finite(ema.acc),
			ValAccuracy: acc, Seconds: opts.Now().Sub(start).Seconds()})
		prog.val(acc)
		if acc > sum.BestValAccuracy+opts.MinDelta || best == nil {
			sum.BestValAccuracy, sum.BestStage, sum.BestStep = acc, stage, step
			if best, err = tr.Weights(); err != nil {
				return false, err
			}
			if opts.OutDir != "" {
				ck := &Checkpoint{Config: cfg, Embedder: opts.Embedder, TextEmbedder: opts.TextEmbedder, Summary: sum, Weights: best}
				if err := Save(opts.OutDir, ck); err != nil {
					return true, err
				}
			}
			return true, nil
		}
		return false, nil
	}

	coldRNG := rand.New(rand.NewPCG(opts.Seed, 0xc01d))
	lastStopped := false
	for _, plan := range plans {
		if plan.steps == 0 {
			continue
		}
		if err := tr.SetStage(plan.stage); err != nil {
			return finish(StopError, err)
		}
		// Stages minimise different losses: the averages start afresh.
		ema = emaStats{}
		warmup := opts.WarmupSteps
		if warmup == 0 {
			warmup = plan.steps / 20
		}
		avg = nil
		if opts.WeightAverage > 0 && plan.stage != StageBase {
			if avg, err = tr.Weights(); err != nil {
				return finish(StopError, err)
			}
		}
		sinceBest := 0
		stopStage := false
		done := 0
		for step := 0; step < plan.steps && !stopStage; step++ {
			done = step + 1
			if err := ctx.Err(); err != nil {
				return finish(StopCanceled, err)
			}
			b, err := src.Next(ctx)
			if errors.Is(err, io.EOF) {
				return finish(StopSourceDone, nil)
			}
			if err != nil {
				if ctx.Err() != nil {
					return finish(StopCanceled, ctx.Err())
				}
				return finish(StopError, err)
			}
			if opts.ColdStartRate > 0 {
				b = hideHistories(b, opts.ColdStartRate, coldRNG)
			}
			lr := LearningRate(step, plan.steps, warmup, plan.lr, opts.MinLRFraction, opts.Decay)
			res, err := tr.Step(b, lr)
			if err != nil {
				return finish(StopError, err)
			}
			if avg != nil {
				w, err := tr.Weights()
				if err != nil {
					return finish(StopError, err)
				}
				averageInto(avg, w, opts.WeightAverage)
			}
			sum.Steps++
			sum.StageSteps[plan.stage]++
			sum.Episodes += int64(b.B * b.T / 2) // one episode per target pair
			ema.add(res)
			prog.step(plan.stage, sum.Steps, &ema, float64(sum.Episodes)/opts.Now().Sub(start).Seconds())
			if validate != nil && ((step+1)%opts.EvalEvery == 0 || step+1 == plan.steps) {
				improved, err := evaluate(plan.stage, step+1)
				if err != nil {
					if ctx.Err() != nil {
						return finish(StopCanceled, ctx.Err())
					}
					return finish(StopError, err)
				}
				if improved {
					sinceBest = 0
				} else if sinceBest++; opts.Patience > 0 && sinceBest >= opts.Patience {
					prog.event("%s: no better validation accuracy in %d checks, stopping the stage at step %d", plan.stage, sinceBest, step+1)
					stopStage = true
				}
			}
		}
		prog.stageEnd(plan.steps - done)
		// The next stage starts from this stage's best weights.
		if best != nil {
			if err := tr.SetWeights(best); err != nil {
				return finish(StopError, err)
			}
		}
		// The base stage only starts the model: what training keeps is
		// the best of the stages that read histories, even where the base
		// head alone validated better (the bench's k = 0 column shows it).
		// Otherwise every variant that differs only after the base stage
		// would return the same weights.
		if plan.stage == StageBase && len(plans) > 1 {
			best = nil
			sum.BestValAccuracy, sum.BestStage, sum.BestStep = -1, "", 0
		}
		lastStopped = stopStage
	}
	if lastStopped {
		return finish(StopEarly, nil)
	}
	return finish(StopMaxSteps, nil)
}

// averageInto moves the running average avg toward w by 1-decay.
func averageInto(avg, w map[string][]float32, decay float64) {
	a := float32(1 - decay)
	for k, v := range w {
		m := avg[k]
		for i := range m {
			m[i] += a * (v[i] - m[i])
		}
	}
}

// hideHistories returns b with the history of each episode hidden
// (labels set to padding) with probability rate. b itself is not changed.
func hideHistories(b *model.Batch, rate float64, rng *rand.Rand) *model.Batch {
	var labels []int32
	for e := range b.B {
		if rng.Float64() >= rate {
			continue
		}
		if labels == nil {
			labels = append([]int32(nil), b.HistLabel...)
		}
		clear(labels[e*b.H : (e+1)*b.H])
	}
	if labels == nil {
		return b
	}
	c := *b
	c.HistLabel = labels
	return &c
}

// emaStats smooths step results for display.
type emaStats struct {
	n              int
	loss, acc, gn  float64
	lastLR, lastEp float64
}

func (e *emaStats) add(r StepResult) {
	const a = 0.05
	if e.n == 0 {
		e.loss, e.acc, e.gn = r.Loss, r.Accuracy, r.GradNorm
	} else {
		e.loss += a * (r.Loss - e.loss)
		e.acc += a * (r.Accuracy - e.acc)
		e.gn += a * (r.GradNorm - e.gn)
	}
	e.n++
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return -1
	}
	return x
}

// sameBase refuses a start checkpoint whose model is not the one being
// trained: every config field must match but Lambda, which only the stages
// after the base stage read. The error names the fields that differ.
func sameBase(start, cfg model.Config) error {
	start.Lambda = cfg.Lambda
	if reflect.DeepEqual(start, cfg) {
		return nil
	}
	var a, b map[string]any
	ja, _ := json.Marshal(start)
	jb, _ := json.Marshal(cfg)
	json.Unmarshal(ja, &a)
	json.Unmarshal(jb, &b)
	var diff []string
	for k, v := range b {
		if !reflect.DeepEqual(a[k], v) {
			diff = append(diff, fmt.Sprintf("%s %v (start) against %v", k, a[k], v))
		}
	}
	slices.Sort(diff)
	if len(diff) == 0 {
		diff = []string{"a field its JSON does not show"}
	}
	return palate.Errorf(palate.EINVALID, "the start checkpoint's model differs from the one being trained in %s; only lambda may differ",
		strings.Join(diff, ", "))
}
