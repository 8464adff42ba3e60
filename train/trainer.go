package train

import (
	"context"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"

	"palate"
	"palate/model"
)

// Stage selects which variables a training step updates.
type Stage string

// Stages.
const (
	// StageJoint updates every model variable.
	StageJoint Stage = "joint"
	// Stage1 updates every variable except the preference tokens.
	Stage1 Stage = "stage1"
	// Stage2 updates only the preference tokens (and pool keys).
	Stage2 Stage = "stage2"
	// StageBase updates only the base head, on model.BaseLosses: a
	// non-personal scorer fitted to the targets' pairs before the stages
	// that read histories (Options.BaseSteps).
	StageBase Stage = "base"
)

const optimScope = "/optim"

// StepResult is what one training step measured on its batch, before the
// update.
type StepResult struct {
	Loss     float64 `json:"loss"`
	Base     float64 `json:"base"`
	CP       float64 `json:"cp"`
	Key      float64 `json:"key"`
	Accuracy float64 `json:"accuracy"`
	GradNorm float64 `json:"grad_norm"`
}

// Evaluator runs the model with its current weights, without dropout. It is
// what a ValidateFunc gets to measure validation accuracy with.
type Evaluator interface {
	// Config is the model's configuration (batch shapes must match it).
	Config() model.Config
	// Logits returns [B, T, 2] logits (s+, s-) for the batch, flat.
	Logits(ctx context.Context, b *model.Batch) ([]float32, error)
}

// Trainer owns a model's weights, its AdamW state and the compiled training
// step. It is the building block of Run; use it directly for custom loops.
// It is not safe for concurrent use.
type Trainer struct {
	cfg     model.Config
	opts    Options
	backend compute.Backend
	store   *mlm.Store
	specs   []model.ParamSpec

	stage     Stage
	trainable []int // indices into specs
	stepExec  *mlm.Exec
	evalExec  *mlm.Exec
	broken    error // set when a step hung: the weights are gone
	steps     int   // steps taken, for opts.stepHook
}

// NewTrainer initialises a model from opts.Seed and prepares to train it.
func NewTrainer(cfg model.Config, opts Options) (*Trainer, error) {
	opts.fill()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	backend, err := NewBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	store := mlm.NewStore()
	if err := model.InitParams(store, cfg, opts.Seed); err != nil {
		return nil, err
	}
	if cfg.ImageStandardize && opts.ImageMean != nil {
		if len(opts.ImageMean) != cfg.ImageDim || len(opts.ImageIStd) != cfg.ImageDim {
			return nil, palate.Errorf(palate.EINVALID, "image statistics have %d and %d floats, want image_dim %d",
				len(opts.ImageMean), len(opts.ImageIStd), cfg.ImageDim)
		}
		for path, v := range map[string][]float32{"in/img_mean": opts.ImageMean, "in/img_istd": opts.ImageIStd} {
			t := tensors.FromFlatDataAndDimensions(append([]float32(nil), v...), cfg.ImageDim)
			if err := store.GetVariable(model.Root + "/" + path).SetValue(t); err != nil {
				return nil, palate.Errorf(palate.EINTERNAL, "set %s: %w", path, err)
			}
		}
	}
	if err := store.SetRNGStateFromSeed(int64(opts.Seed)); err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "seed dropout: %w", err)
	}
	t := &Trainer{cfg: cfg, opts: opts, backend: backend, store: store, specs: model.Params(cfg)}
	if _, err := store.CreateVariable(optimScope+"/step", tensors.FromValue(float32(0))); err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "create optimizer step: %w", err)
	}
	for _, p := range t.specs {
		for _, moment := range []string{"m", "v"} {
			z := tensors.FromFlatDataAndDimensions(make([]float32, size(p.Dims)), p.Dims...)
			if _, err := store.CreateVariable(optimScope+"/"+moment+p.Path, z); err != nil {
				return nil, palate.Errorf(palate.EINTERNAL, "create optimizer state: %w", err)
			}
		}
	}
	if err := t.SetStage(StageJoint); err != nil {
		return nil, err
	}
	return t, nil
}

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// Config implements Evaluator.
func (t *Trainer) Config() model.Config { return t.cfg }

// Stage returns the current stage.
func (t *Trainer) Stage() Stage { return t.stage }

// SetStage chooses which variables the next steps update and restarts the
// optimizer (moments and bias correction) for them, as a new stage should.
func (t *Trainer) SetStage(s Stage) error {
	if t.broken != nil {
		return t.broken
	}
	if s != StageJoint && s != Stage1 && s != Stage2 && s != StageBase {
		return palate.Errorf(palate.EINVALID, "unknown training stage %q", s)
	}
	var idx []int
	for i, p := range t.specs {
		switch {
		case p.Frozen:
		case s == StageJoint,
			s == Stage1 && !p.Pref,
			s == Stage2 && p.Pref,
			s == StageBase && p.Base:
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return palate.Errorf(palate.EINVALID, "training stage %q has no variables to train (pref_tokens = %d, base_hidden = %d)", s, t.cfg.PrefTokens, t.cfg.BaseHidden)
	}
	for i, p := range t.specs {
		v := t.store.GetVariable(p.Path)
		v.Trainable = false
		for _, j := range idx {
			if j == i {
				v.Trainable = true
			}
		}
		for _, moment := range []string{"m", "v"} {
			z := tensors.FromFlatDataAndDimensions(make([]float32, size(p.Dims)), p.Dims...)
			if err := t.store.GetVariable(optimScope + "/" + moment + p.Path).SetValue(z); err != nil {
				return palate.Errorf(palate.EINTERNAL, "reset optimizer state: %w", err)
			}
		}
	}
	if err := t.store.GetVariable(optimScope + "/step").SetValue(tensors.FromValue(float32(0))); err != nil {
		return palate.Errorf(palate.EINTERNAL, "reset optimizer step: %w", err)
	}
	if t.stepExec != nil {
		t.stepExec.Finalize()
	}
	t.stage, t.trainable = s, idx
	exec, err := mlm.NewExec(t.backend, t.store, t.stepGraph)
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "build training step: %w", err)
	}
	t.stepExec = exec.WithName("palate_train_step")
	return nil
}

// stepGraph builds one training step: the losses, their gradients for the
// trainable variables, global-norm clipping and the AdamW update. Inputs are
// the batch tensors followed by the learning rate (float32 scalar).
func (t *Trainer) stepGraph(scope *mlm.Scope, inputs []*Node) []*Node {
	g := inputs[0].Graph()
	cfg, o := t.cfg, t.opts
	in := model.InputsFromNodes(inputs[:model.NumInputs])
	var losses model.Losses
	if t.stage == StageBase {
		losses = model.BaseLosses(scope, cfg, in, true)
	} else {
		losses = model.TrainLosses(scope, cfg, in, true)
	}
	lr := inputs[model.NumInputs]

	vars := make([]*mlm.Variable, len(t.trainable))
	nodes := make([]*Node, len(t.trainable))
	for i, j := range t.trainable {
		vars[i] = t.store.GetVariable(t.specs[j].Path)
		nodes[i] = vars[i].NodeValue(g)
	}
	grads := Gradient(losses.Total, nodes...)

	// Global gradient norm and clipping.
	sq := ScalarZero(g, dtypes.Float32)
	for _, gr := range grads {
		sq = Add(sq, ReduceAllSum(Square(gr)))
	}
	norm := Sqrt(sq)
	clip := ScalarOne(g, dtypes.Float32)
	if o.ClipNorm > 0 {
		clip = Min(clip, Div(Scalar(g, dtypes.Float32, o.ClipNorm), MaxScalar(norm, 1e-12)))
	}
	// A non-finite gradient skips the update instead of poisoning the weights.
	finite := IsFinite(norm)

	stepVar := t.store.GetVariable(optimScope + "/step")
	step := AddScalar(stepVar.NodeValue(g), 1)
	stepVar.SetNodeValue(Where(finite, step, stepVar.NodeValue(g)))
	b1 := Scalar(g, dtypes.Float32, o.Beta1)
	b2 := Scalar(g, dtypes.Float32, o.Beta2)
	bc1 := OneMinus(Pow(b1, step))
	bc2 := OneMinus(Pow(b2, step))
	for i, v := range vars {
		spec := t.specs[t.trainable[i]]
		mVar := t.store.GetVariable(optimScope + "/m" + spec.Path)
		vVar := t.store.GetVariable(optimScope + "/v" + spec.Path)
		gr := Mul(grads[i], clip)
		m := Add(MulScalar(mVar.NodeValue(g), o.Beta1), MulScalar(gr, 1-o.Beta1))
		s := Add(MulScalar(vVar.NodeValue(g), o.Beta2), MulScalar(Square(gr), 1-o.Beta2))
		upd := Div(Div(m, bc1), AddScalar(Sqrt(Div(s, bc2)), o.Epsilon))
		w := nodes[i]
		if spec.Decay && o.WeightDecay > 0 {
			upd = Add(upd, MulScalar(w, o.WeightDecay))
		}
		neww := Sub(w, Mul(lr, upd))
		v.SetNodeValue(Where(finite, neww, w))
		mVar.SetNodeValue(Where(finite, m, mVar.NodeValue(g)))
		vVar.SetNodeValue(Where(finite, s, vVar.NodeValue(g)))
	}
	return []*Node{losses.Total, losses.Base, losses.CP, losses.Key, losses.Accuracy, norm}
}

// Step trains on one batch (T/2 pairs: liked, disliked) with learning rate lr,
// under the watchdog. After a watchdog error the Trainer is unusable: the
// hung step holds its weights.
func (t *Trainer) Step(b *model.Batch, lr float64) (StepResult, error) {
	if t.broken != nil {
		return StepResult{}, t.broken
	}
	if err := b.Validate(t.cfg); err != nil {
		return StepResult{}, err
	}
	if b.T < 2 || b.T%2 != 0 {
		return StepResult{}, palate.Errorf(palate.EINVALID, "training batch has T=%d targets, want pairs (liked, disliked)", b.T)
	}
	args := make([]any, 0, model.NumInputs+1)
	for _, x := range b.Tensors() {
		args = append(args, x)
	}
	args = append(args, float32(lr))
	t.steps++
	out, err := Guard(t.opts.StepTimeout, "training step", func() ([]*tensors.Tensor, error) {
		if t.opts.stepHook != nil {
			t.opts.stepHook(t.steps)
		}
		return t.stepExec.Call(args...)
	})
	if err != nil {
		if palate.ErrorCode(err) == palate.EINTERNAL {
			t.broken = err
		}
		return StepResult{}, err
	}
	v := make([]float64, len(out))
	for i, x := range out {
		v[i] = float64(tensors.MustCopyFlatData[float32](x)[0])
		x.FinalizeAll()
	}
	return StepResult{Loss: v[0], Base: v[1], CP: v[2], Key: v[3], Accuracy: v[4], GradNorm: v[5]}, nil
}

// Logits implements Evaluator: the forward pass without dropout, under the
// watchdog.
func (t *Trainer) Logits(ctx context.Context, b *model.Batch) ([]float32, error) {
	if t.broken != nil {
		return nil, t.broken
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := b.Validate(t.cfg); err != nil {
		return nil, err
	}
	if t.evalExec == nil {
		cfg := t.cfg
		exec, err := mlm.NewExec(t.backend, t.store, func(scope *mlm.Scope, in []*Node) *Node {
			logits, _ := model.Forward(scope, cfg, model.InputsFromNodes(in), false)
			return logits
		})
		if err != nil {
			return nil, palate.Errorf(palate.EINTERNAL, "build evaluation: %w", err)
		}
		t.evalExec = exec.WithName("palate_eval")
	}
	args := make([]any, 0, model.NumInputs)
	for _, x := range b.Tensors() {
		args = append(args, x)
	}
	out, err := Guard(t.opts.StepTimeout, "evaluation", func() ([]*tensors.Tensor, error) {
		return t.evalExec.Call(args...)
	})
	if err != nil {
		if palate.ErrorCode(err) == palate.EINTERNAL {
			t.broken = err
		}
		return nil, err
	}
	defer out[0].FinalizeAll()
	return tensors.MustCopyFlatData[float32](out[0]), nil
}

// Weights returns a copy of the model's variables (optimizer state
// excluded), keyed by variable path.
func (t *Trainer) Weights() (map[string][]float32, error) {
	if t.broken != nil {
		return nil, t.broken
	}
	w := make(map[string][]float32, len(t.specs))
	for _, p := range t.specs {
		v := t.store.GetVariable(p.Path)
		val, err := v.Value()
		if err != nil {
			return nil, palate.Errorf(palate.EINTERNAL, "read %s: %w", p.Path, err)
		}
		w[p.Path] = tensors.MustCopyFlatData[float32](val)
	}
	return w, nil
}

// SetWeights replaces the model's variables by copies of w (as from
// Weights); w is not kept.
func (t *Trainer) SetWeights(w map[string][]float32) error {
	if t.broken != nil {
		return t.broken
	}
	for _, p := range t.specs {
		data, ok := w[p.Path]
		if !ok || len(data) != size(p.Dims) {
			return palate.Errorf(palate.EINVALID, "weights for %s: missing or wrong size", p.Path)
		}
		if err := t.store.GetVariable(p.Path).SetValue(tensors.FromFlatDataAndDimensions(data, p.Dims...)); err != nil {
			return palate.Errorf(palate.EINTERNAL, "set %s: %w", p.Path, err)
		}
	}
	return nil
}

// PairAccuracy returns the fraction of episodes in batches (T = 2: liked,
// disliked) whose liked target scores higher; ties count half. Episodes past
// a batch's Valid count are padding and not counted.
func PairAccuracy(ctx context.Context, ev Evaluator, batches []*model.Batch) (float64, error) {
	var sum float64
	var total int
	for _, b := range batches {
		if b.T != 2 {
			return 0, palate.Errorf(palate.EINVALID, "validation batch has T=%d targets, want 2 (liked, disliked)", b.T)
		}
		logits, err := ev.Logits(ctx, b)
		if err != nil {
			return 0, err
		}
		n := b.B
		if b.Valid > 0 && b.Valid < b.B {
			n = b.Valid
		}
		for e := range n {
			l := logits[e*4 : e*4+4]
			pos, neg := l[0]-l[1], l[2]-l[3]
			switch {
			case pos > neg:
				sum++
			case pos == neg:
				sum += 0.5
			}
			total++
		}
	}
	if total == 0 {
		return math.NaN(), palate.Errorf(palate.EINVALID, "no validation episodes")
	}
	return sum / float64(total), nil
}

// ValidateOn returns a ValidateFunc measuring pairwise accuracy on a fixed
// set of validation batches.
func ValidateOn(batches []*model.Batch) ValidateFunc {
	return func(ctx context.Context, ev Evaluator) (float64, error) {
		return PairAccuracy(ctx, ev, batches)
	}
}

// String describes the trainer for logs.
func (t *Trainer) String() string {
	return fmt.Sprintf("palate trainer (%s, stage %s, %d variables trained)", BuildNote(t.opts.Backend), t.stage, len(t.trainable))
}
