package train

import (
	"io"
	"time"

	"palate"
)

// Training modes for Options.Mode.
const (
	// ModeJoint trains every variable together.
	ModeJoint = "joint"
	// ModeTwoStage is the paper's schedule: stage 1 trains everything but
	// the preference tokens, stage 2 only the tokens.
	ModeTwoStage = "two-stage"
	// ModeBase trains the base stage alone (BaseSteps steps; Steps is not
	// used). Its checkpoint can start other runs of the same model in
	// place of their own base stage (Options.Start): the bench trains the
	// base stage once for the variants that differ only after it.
	ModeBase = "base"
)

// Learning-rate decay shapes for Options.Decay.
const (
	DecayCosine = "cosine"
	DecayLinear = "linear"
	DecayNone   = "none"
)

// Progress output styles for Options.Progress.
const (
	ProgressAuto  = "auto"  // a bar on a terminal, plain lines otherwise
	ProgressBar   = "bar"   // always the bar
	ProgressPlain = "plain" // a log line every LogEvery
	ProgressNone  = "none"  // silent
)

// Options controls a training run. The zero value of a field means its
// documented default (see DefaultOptions); JSON tags make it part of the
// training summary.
type Options struct {
	// Seed fixes the initial weights and dropout: the same seed and the same
	// batches give bit-identical weights. Default 1.
	Seed uint64 `json:"seed"`
	// Mode is ModeJoint (default), ModeTwoStage or ModeBase.
	Mode string `json:"mode"`
	// Steps is the most optimizer steps of joint training, or of stage 1.
	// Default: OnData sets StepsFor its training set, a fixed number of
	// passes over the training comparisons (300 steps on the default
	// world); Run without data uses 300. On the default, harder and
	// 20-group worlds, 300 joint
	// steps after the same base stage beat 700–800 in all four pairs
	// measured (test accuracy +1.1 seen, +0.8 unseen on average; the
	// cosine decay ends sooner), and early stopping keeps the best
	// validation checkpoint either way (docs/BENCHMARKS.md, session 7).
	// The full bench on the default world then gave 61.7 / 61.5 (seen /
	// unseen, 3 seeds) against 60.6 / 60.6 with 800 (session 8). On a
	// 3,000-person world (44,138 training comparisons, five times the
	// default's) 300 steps underfit: 1,200 gave +1.0 / +1.3 on the true
	// attributes and +0.4 / +0.4 on pixels-v3 (one seed each), and
	// StepsFor's 1,485 +0.4 / +1.0 on pixels-v3 (two seeds; session 11).
	Steps int `json:"steps"`
	// Stage2Steps is the most steps of stage 2 (two-stage only). Default
	// Steps/2.
	Stage2Steps int `json:"stage2_steps"`
	// BaseSteps is the most steps of the base stage, which fits the base
	// head (with model.Config.BasePersonal, the default, also the taste and
	// group heads) as a Bradley–Terry scorer (model.BaseLosses) before the
	// joint stage or stage 1, when the model has a base head; it stops
	// early like any stage. Its steps skip the transformer: on the default
	// world 200 base steps took 34 s on one core with the default model and
	// 12 s without base_personal (whose base steps read no history), where
	// a joint step takes about 0.8 s (another training beside each). Default
	// 4×Steps: on the default world's truth embedding the base head alone
	// went on improving on the validation people for about 1,000 steps;
	// negative means none.
	BaseSteps int `json:"base_steps"`
	// LearningRate is the peak AdamW learning rate. Default 3e-3: on the
	// synthetic taste test (d=32, K=10, 600 steps) 1e-3 reached 72%
	// held-out accuracy, 3e-3 78%, and 1e-2 did not learn; on a 400-person
	// taste world (d=64) 3e-3 with weight decay 0.1 gave the best held-out
	// accuracy of the settings tried (see the README).
	LearningRate float64 `json:"learning_rate"`
	// Stage2LearningRate is stage 2's peak rate. Default LearningRate.
	Stage2LearningRate float64 `json:"stage2_learning_rate"`
	// WarmupSteps ramps the rate linearly from 0 at the start of each stage.
	// Default 5% of the stage's steps.
	WarmupSteps int `json:"warmup_steps"`
	// Decay is DecayCosine (default), DecayLinear or DecayNone, from the
	// peak after warm-up down to MinLRFraction of it at the stage's last step.
	Decay string `json:"decay"`
	// MinLRFraction is the final rate as a fraction of the peak. Default 0.05.
	MinLRFraction float64 `json:"min_lr_fraction"`
	// WeightDecay is AdamW's decoupled decay, applied to weight matrices only
	// (model.ParamSpec.Decay). Default 1, far stronger than usual: a few
	// thousand noisy pairs overfit quickly (measured with model.Config's
	// Dropout, whose doc has the numbers); negative means none.
	WeightDecay float64 `json:"weight_decay"`
	// Beta1, Beta2 and Epsilon are Adam's constants. Defaults 0.9, 0.999, 1e-8.
	Beta1   float64 `json:"beta1"`
	Beta2   float64 `json:"beta2"`
	Epsilon float64 `json:"epsilon"`
	// ClipNorm clips the global gradient norm. Default 1; negative means no
	// clipping.
	ClipNorm float64 `json:"clip_norm"`
	// WeightAverage, below 1, is the decay of an exponential moving
	// average of the weights kept through each stage that reads histories
	// (joint, stage 1, stage 2; not the base stage): validation judges,
	// and checkpoints keep, the averaged weights. The average starts from
	// the weights a stage begins with. Default 0.98 (about the last 50
	// steps); negative judges the weights as they are. Against no average:
	// +0.5 seen and +0.3 unseen on average in four paired runs (default
	// world seeds 1 and 2, harder and 20-group worlds; better in three);
	// in the full bench on the default world palate/full 61.9 / 62.4 over
	// 3 seeds against 61.7 / 61.5, on the harder world 57.2 / 54.7 against
	// 57.4 / 55.4; over those and every other palate variant of the two
	// benches, +0.3 / +0.3 on average (docs/BENCHMARKS.md, sessions 8
	// and 9).
	WeightAverage float64 `json:"weight_average"`
	// EvalEvery is how many steps pass between validations. Default 100.
	EvalEvery int `json:"eval_every"`
	// Patience stops a stage after this many validations in a row without a
	// new best validation accuracy. Default 5; negative disables early
	// stopping.
	Patience int `json:"patience"`
	// MinDelta is how much validation accuracy must rise to count as better.
	// Default 0 (any rise).
	MinDelta float64 `json:"min_delta"`
	// StepTimeout is the watchdog's limit on one step or validation pass.
	// Default DefaultStepTimeout; negative disables the watchdog.
	StepTimeout time.Duration `json:"step_timeout"`
	// Backend is the GoMLX backend configuration. Default DefaultBackend.
	Backend string `json:"backend"`

	// OutDir, if set, receives a checkpoint whenever validation improves
	// (and at the end), so an interrupted run keeps its best model.
	OutDir string `json:"out_dir,omitempty"`
	// Embedder and TextEmbedder are recorded in every checkpoint; Load
	// refuses data made by another embedder.
	Embedder     EmbedderInfo `json:"embedder"`
	TextEmbedder EmbedderInfo `json:"text_embedder"`

	// ImageMean and ImageIStd are the frozen image standardisation of a
	// model with ImageStandardize (model.ImageStats of the training
	// images); OnData fills them from its dataset. Nil leaves mean 0 and
	// scale 1.
	ImageMean []float32 `json:"-"`
	ImageIStd []float32 `json:"-"`

	// Log receives progress; nil means no output.
	Log io.Writer `json:"-"`
	// Progress is ProgressAuto (default), ProgressBar, ProgressPlain or
	// ProgressNone.
	Progress string `json:"-"`
	// LogEvery is the interval of plain progress lines. Default 10 s.
	LogEvery time.Duration `json:"-"`
	// Now is the clock (for tests); default time.Now.
	Now func() time.Time `json:"-"`
	// OnStep, if set, is called after every optimizer step and after every
	// validation, on the training goroutine, whatever Progress says; it
	// should return quickly (a server copies it for GET /v1/training).
	OnStep func(StepInfo) `json:"-"`
	// ColdStartRate is the fraction of training episodes whose history Run
	// hides (all slots made padding), so the model also learns the
	// population-wide preference it must give a person with no history.
	// Default 0.05; negative means none.
	ColdStartRate float64 `json:"cold_start_rate"`

	// Start, if set, is a checkpoint of a ModeBase run of the same model
	// (its config equal to the one trained in every field but Lambda, which
	// the base stage does not read): the run begins from its weights and
	// skips its own base stage. The summary records it (Summary.Start).
	Start *Checkpoint `json:"-"`

	// stepHook, if set (tests), runs inside each guarded training step
	// before the computation: a test makes it block to fake a hung step.
	stepHook func(step int)
}

// EmbedderInfo names the embedder that made a model's input vectors. Path
// and Version are set for an embedder read from a model file (an ONNX text
// encoder): the file, so a scorer can reopen it, and its fingerprint, so a
// different file under the same name is refused.
type EmbedderInfo struct {
	Name    string `json:"name"`
	Dim     int    `json:"dimension"`
	Path    string `json:"path,omitempty"`
	Version string `json:"version,omitempty"`
}

// DefaultOptions returns Options with every default filled in, except
// Steps, Stage2Steps and BaseSteps: they stay zero, so that Steps follows
// the training data (OnData; Run alone fills 300) and the other two follow
// whatever Steps is.
func DefaultOptions() Options {
	var o Options
	o.fill()
	o.Steps, o.Stage2Steps, o.BaseSteps = 0, 0, 0
	return o
}

// Bounds and rate of StepsFor.
const (
	minDefaultSteps = 300
	maxDefaultSteps = 3000
	// The default steps draw each training comparison as a history's
	// target as many times on average as 300 steps of 64 do on the default
	// world's 8,920 comparisons: passesNum/passesDen, about 2.15.
	passesNum, passesDen = 300 * 64, 8920
)

// StepsFor is the default Steps for a training set of pairs decided
// comparisons sampled batch histories per step: the same number of passes
// over the comparisons as 300 steps of 64 make on the default world (about
// 2.15), at least 300 and at most 3,000, so that a larger dataset is not
// left underfit and a very large one does not train for hours on a CPU by
// default (early stopping ends most runs sooner; --steps overrides).
func StepsFor(pairs, batch int) int {
	if pairs <= 0 || batch <= 0 {
		return minDefaultSteps
	}
	d := int64(passesDen) * int64(batch)
	n := (int64(pairs)*passesNum + d - 1) / d
	return int(min(max(n, minDefaultSteps), maxDefaultSteps))
}

// fill replaces zero values by defaults.
func (o *Options) fill() {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Mode == "" {
		o.Mode = ModeJoint
	}
	if o.Steps == 0 {
		o.Steps = minDefaultSteps
	}
	if o.Stage2Steps == 0 {
		o.Stage2Steps = max(1, o.Steps/2)
	}
	if o.BaseSteps == 0 {
		o.BaseSteps = 4 * o.Steps
	}
	if o.LearningRate == 0 {
		o.LearningRate = 3e-3
	}
	if o.Stage2LearningRate == 0 {
		o.Stage2LearningRate = o.LearningRate
	}
	if o.Decay == "" {
		o.Decay = DecayCosine
	}
	if o.MinLRFraction == 0 {
		o.MinLRFraction = 0.05
	}
	if o.WeightDecay == 0 {
		o.WeightDecay = 1
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	if o.Epsilon == 0 {
		o.Epsilon = 1e-8
	}
	if o.ClipNorm == 0 {
		o.ClipNorm = 1
	}
	if o.WeightAverage == 0 {
		o.WeightAverage = 0.98
	}
	if o.EvalEvery == 0 {
		o.EvalEvery = 100
	}
	if o.Patience == 0 {
		o.Patience = 5
	}
	if o.StepTimeout == 0 {
		o.StepTimeout = DefaultStepTimeout
	}
	if o.Backend == "" {
		o.Backend = DefaultBackend
	}
	if o.Progress == "" {
		o.Progress = ProgressAuto
	}
	if o.LogEvery == 0 {
		o.LogEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ColdStartRate == 0 {
		o.ColdStartRate = 0.05
	}
}

// validate reports the first unusable option as EINVALID.
func (o *Options) validate() error {
	bad := func(field string, v any, want string) error {
		return palate.Errorf(palate.EINVALID, "training option %s = %v, want %s", field, v, want)
	}
	switch {
	case o.Mode != ModeJoint && o.Mode != ModeTwoStage && o.Mode != ModeBase:
		return bad("mode", o.Mode, `"joint", "two-stage" or "base"`)
	case o.Start != nil && o.Mode == ModeBase:
		return bad("mode", o.Mode, `"joint" or "two-stage" when starting from a base checkpoint`)
	case o.Start != nil && o.Start.Summary.Mode != ModeBase:
		return bad("start", o.Start.Summary.Mode+" checkpoint", "a checkpoint of a base-mode run")
	case o.Steps < 0 || o.Stage2Steps < 0:
		return bad("steps", o.Steps, ">= 0")
	case o.LearningRate < 0 || o.Stage2LearningRate < 0:
		return bad("learning_rate", o.LearningRate, "> 0")
	case o.Decay != DecayCosine && o.Decay != DecayLinear && o.Decay != DecayNone:
		return bad("decay", o.Decay, `"cosine", "linear" or "none"`)
	case o.WarmupSteps < 0:
		return bad("warmup_steps", o.WarmupSteps, ">= 0")
	case o.WeightAverage >= 1:
		return bad("weight_average", o.WeightAverage, "below 1 (negative: no averaging)")
	case o.EvalEvery < 0:
		return bad("eval_every", o.EvalEvery, "> 0")
	case o.Beta1 < 0 || o.Beta1 >= 1 || o.Beta2 < 0 || o.Beta2 >= 1:
		return bad("beta", [2]float64{o.Beta1, o.Beta2}, "in [0, 1)")
	}
	switch o.Progress {
	case ProgressAuto, ProgressBar, ProgressPlain, ProgressNone:
	default:
		return bad("progress", o.Progress, `"auto", "bar", "plain" or "none"`)
	}
	return nil
}
