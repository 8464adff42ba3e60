package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"palate"
	"palate/model"
)

func quietOptions() Options {
	o := DefaultOptions()
	o.Progress = ProgressNone
	o.StepTimeout = time.Minute
	// The synthetic worlds here have no taste everyone shares, so no base
	// stage: step counts are the joint stage's.
	o.BaseSteps = -1
	return o
}

// A tiny synthetic taste problem trains for a few seconds: the loss must
// fall and held-out users' pairwise accuracy must clearly beat 50%.
func TestLearnsSyntheticTaste(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 200, 1)
	opts := quietOptions()
	opts.Steps = 400
	opts.LearningRate = 3e-3
	opts.EvalEvery = 50
	opts.Patience = -1
	var log bytes.Buffer
	opts.Log, opts.Progress = &log, ProgressPlain
	opts.LogEvery = time.Hour // only the final line
	opts.Embedder = EmbedderInfo{Name: "synthetic", Dim: cfg.ImageDim}
	val := w.fixedBatches(4, 64, 150, 175, 2)
	test := w.fixedBatches(4, 64, 175, 200, 3)

	tr, err := NewTrainer(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	before, err := PairAccuracy(context.Background(), tr, test)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	ck, err := Run(context.Background(), cfg, opts, w.source(32, 0, 150, 4), ValidateOn(val))
	if err != nil {
		t.Fatal(err)
	}
	s := ck.Summary
	t.Logf("%d steps in %.1fs (%.1f episodes/s); evals %+v", s.Steps, time.Since(start).Seconds(), s.EpisodesPerSecond, s.Evals)
	if s.Steps != 400 || s.StoppedBy != StopMaxSteps {
		t.Fatalf("steps %d stopped by %q", s.Steps, s.StoppedBy)
	}
	first, last := s.Evals[0], s.Evals[len(s.Evals)-1]
	if !(last.TrainLoss < first.TrainLoss*0.9) {
		t.Errorf("training loss did not fall: %.3f at step %d, %.3f at step %d", first.TrainLoss, first.Step, last.TrainLoss, last.Step)
	}

	tr2, err := NewTrainer(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr2.SetWeights(ck.Weights); err != nil {
		t.Fatal(err)
	}
	after, err := PairAccuracy(context.Background(), tr2, test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out pairwise accuracy: %.3f before training, %.3f after (best val %.3f)", before, after, s.BestValAccuracy)
	if after < 0.65 {
		t.Errorf("held-out accuracy %.3f, want > 0.65", after)
	}
	if !strings.Contains(log.String(), "stopped (max-steps)") {
		t.Errorf("plain log missing final line:\n%s", log.String())
	}
}

// Same seed and same batches give bit-identical weights; another seed does not.
func TestDeterministic(t *testing.T) {
	cfg := synthConfig()
	cfg.Dropout = 0.1 // dropout must be seeded too
	w := newSynthWorld(cfg, 20, 1)
	batches := w.fixedBatches(4, 8, 0, 20, 5)
	run := func(seed uint64) map[string][]float32 {
		o := quietOptions()
		o.Seed = seed
		tr, err := NewTrainer(cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range batches {
			if _, err := tr.Step(b, 1e-3); err != nil {
				t.Fatal(err)
			}
		}
		wt, err := tr.Weights()
		if err != nil {
			t.Fatal(err)
		}
		return wt
	}
	a, b, c := run(3), run(3), run(4)
	differs := false
	for path, va := range a {
		vb, vc := b[path], c[path]
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				t.Fatalf("%s[%d]: %v vs %v with the same seed", path, i, va[i], vb[i])
			}
			differs = differs || va[i] != vc[i]
		}
	}
	if !differs {
		t.Fatal("different seeds gave identical weights")
	}
}

// Two-stage training must update only what each stage owns.
func TestTwoStageFreezes(t *testing.T) {
	for _, mode := range []string{model.TokenModeFixed, model.TokenModePool} {
		t.Run(mode, func(t *testing.T) {
			cfg := synthConfig()
			cfg.TokenMode = mode
			cfg.PoolSize = 6
			w := newSynthWorld(cfg, 20, 1)
			tr, err := NewTrainer(cfg, quietOptions())
			if err != nil {
				t.Fatal(err)
			}
			batches := w.fixedBatches(3, 8, 0, 20, 6)
			stage := func(s Stage) (before, after map[string][]float32) {
				if err := tr.SetStage(s); err != nil {
					t.Fatal(err)
				}
				before, _ = tr.Weights()
				for _, b := range batches {
					if _, err := tr.Step(b, 1e-2); err != nil {
						t.Fatal(err)
					}
				}
				after, _ = tr.Weights()
				return before, after
			}
			changed := func(a, b []float32) bool {
				for i := range a {
					if a[i] != b[i] {
						return true
					}
				}
				return false
			}
			b0, a0 := stage(StageBase)
			b1, a1 := stage(Stage1)
			b2, a2 := stage(Stage2)
			nPref, nBase, nFrozen := 0, 0, 0
			for _, p := range model.Params(cfg) {
				nPref += b2i(p.Pref)
				nBase += b2i(p.Base)
				nFrozen += b2i(p.Frozen)
				// The base stage trains exactly the base head.
				if got := changed(b0[p.Path], a0[p.Path]); got != p.Base {
					t.Errorf("base stage: %s changed=%v, base=%v", p.Path, got, p.Base)
				}
				// Stage 1 trains exactly the non-token variables, frozen
				// statistics aside. (Every variable gets a gradient here:
				// no gain or bias sits where its gradient is exactly zero.)
				if got := changed(b1[p.Path], a1[p.Path]); got != (!p.Pref && !p.Frozen) {
					t.Errorf("stage 1: %s changed=%v, pref=%v, frozen=%v", p.Path, got, p.Pref, p.Frozen)
				}
				if got := changed(b2[p.Path], a2[p.Path]); got != p.Pref {
					t.Errorf("stage 2: %s changed=%v, pref=%v", p.Path, got, p.Pref)
				}
			}
			if nPref == 0 || nBase == 0 || nFrozen == 0 {
				t.Fatalf("%d preference-token, %d base and %d frozen variables; want some of each", nPref, nBase, nFrozen)
			}
		})
	}
}

func TestRunTwoStageAndK0(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	opts.Mode = ModeTwoStage
	opts.Steps, opts.Stage2Steps, opts.BaseSteps = 6, 4, 3
	opts.EvalEvery = 3
	ck, err := Run(context.Background(), cfg, opts, w.source(8, 0, 20, 1), ValidateOn(w.fixedBatches(1, 16, 0, 20, 2)))
	if err != nil {
		t.Fatal(err)
	}
	// Validations: the base stage's 3rd step, stage 1's 3rd and 6th, stage
	// 2's 3rd and last.
	if ck.Summary.StageSteps[StageBase] != 3 || ck.Summary.StageSteps[Stage1] != 6 || ck.Summary.StageSteps[Stage2] != 4 ||
		len(ck.Summary.Evals) != 5 || ck.Summary.Evals[0].Stage != StageBase {
		t.Fatalf("summary %+v", ck.Summary)
	}
	// The base stage only starts the model: the kept weights are a later
	// stage's, however well the base head validated.
	if ck.Summary.BestStage == StageBase || ck.Summary.BestStage == "" {
		t.Fatalf("best weights from stage %q", ck.Summary.BestStage)
	}
	// K = 0 has no tokens: two-stage is just stage 1.
	cfg.PrefTokens = 0
	ck, err = Run(context.Background(), cfg, opts, w.source(8, 0, 20, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Summary.Steps != 9 || ck.Summary.Validated {
		t.Fatalf("K=0 summary %+v", ck.Summary)
	}
	if _, err := NewTrainer(cfg, opts); err != nil {
		t.Fatal(err)
	}
	tr, _ := NewTrainer(cfg, opts)
	if err := tr.SetStage(Stage2); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("stage 2 with K=0: %v, want EINVALID", err)
	}
}

func TestEarlyStoppingKeepsBest(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	opts.Steps = 1000
	opts.EvalEvery = 2
	opts.Patience = 2
	accs := []float64{0.6, 0.7, 0.65, 0.69, 0.5}
	calls := 0
	var bestWeights map[string][]float32
	validate := func(ctx context.Context, ev Evaluator) (float64, error) {
		a := accs[min(calls, len(accs)-1)]
		if calls == 1 {
			bestWeights, _ = ev.(*Trainer).Weights()
		}
		calls++
		return a, nil
	}
	ck, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), validate)
	if err != nil {
		t.Fatal(err)
	}
	s := ck.Summary
	if s.StoppedBy != StopEarly || s.Steps != 8 || s.BestValAccuracy != 0.7 || s.BestStep != 4 {
		t.Fatalf("stopped by %q after %d steps, best %.2f at %d", s.StoppedBy, s.Steps, s.BestValAccuracy, s.BestStep)
	}
	for p, v := range bestWeights {
		for i := range v {
			if v[i] != ck.Weights[p][i] {
				t.Fatalf("returned weights are not the best validated ones (%s)", p)
			}
		}
	}
}

// Cancelling the context stops cleanly and leaves the best checkpoint.
func TestCancelKeepsCheckpoint(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	opts.Steps = 1000
	opts.EvalEvery = 3
	opts.OutDir = t.TempDir() + "/model"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inner := w.source(4, 0, 20, 1)
	n := 0
	src := SourceFunc(func(ctx context.Context) (*model.Batch, error) {
		if n++; n == 8 {
			cancel()
		}
		return inner.Next(ctx)
	})
	ck, err := Run(ctx, cfg, opts, src, ValidateOn(w.fixedBatches(1, 8, 0, 20, 2)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if ck == nil || ck.Summary.StoppedBy != StopCanceled || ck.Summary.Steps != 7 {
		t.Fatalf("checkpoint %v", ck)
	}
	saved, err := Load(opts.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	// Validated at steps 3 and 6; the saved weights are the better ones.
	best := saved.Summary.Evals[0]
	for _, e := range saved.Summary.Evals {
		if e.ValAccuracy > best.ValAccuracy {
			best = e
		}
	}
	if s := saved.Summary; s.StoppedBy != StopCanceled || len(s.Evals) != 2 || s.BestStep != best.Step {
		t.Fatalf("saved summary %+v", s)
	}
}

func TestLearningRateSchedule(t *testing.T) {
	const peak = 1e-3
	for _, c := range []struct {
		step, total, warm int
		decay             string
		want              float64
	}{
		{0, 100, 10, DecayCosine, peak / 10},
		{9, 100, 10, DecayCosine, peak},
		{10, 100, 10, DecayCosine, peak},
		{99, 100, 10, DecayCosine, peak * 0.05},
		{99, 100, 10, DecayLinear, peak * 0.05},
		{15, 21, 10, DecayLinear, peak * (0.05 + 0.95*0.5)},
		{50, 100, 0, DecayNone, peak},
	} {
		got := LearningRate(c.step, c.total, c.warm, peak, 0.05, c.decay)
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("LearningRate(%d, %d, %d, %s) = %g, want %g", c.step, c.total, c.warm, c.decay, got, c.want)
		}
	}
}

// Padding episodes past Batch.Valid do not count in validation accuracy.
func TestPairAccuracyValid(t *testing.T) {
	ev := fakeEvaluator{logits: []float32{
		1, 0, 0, 0, // liked wins
		0, 0, 0, 1, // liked wins
		0, 1, 0, 0, // disliked wins (padding below)
		0, 1, 0, 0,
	}}
	b := model.NewBatch(4, 1, 2, 1, 1)
	got, err := PairAccuracy(context.Background(), ev, []*model.Batch{b})
	if err != nil || got != 0.5 {
		t.Fatalf("all episodes: %v, %v; want 0.5", got, err)
	}
	b.Valid = 2
	got, err = PairAccuracy(context.Background(), ev, []*model.Batch{b})
	if err != nil || got != 1 {
		t.Fatalf("2 valid episodes: %v, %v; want 1", got, err)
	}
}

type fakeEvaluator struct{ logits []float32 }

func (f fakeEvaluator) Config() model.Config { return model.Config{} }
func (f fakeEvaluator) Logits(context.Context, *model.Batch) ([]float32, error) {
	return f.logits, nil
}

// The progress bar and the plain lines both report loss, accuracy and
// episodes/s.
func TestProgressOutput(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	for _, mode := range []string{ProgressBar, ProgressPlain} {
		var buf bytes.Buffer
		opts := quietOptions()
		opts.Steps, opts.EvalEvery = 4, 2
		opts.Log, opts.Progress, opts.LogEvery = &buf, mode, time.Nanosecond
		if _, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), ValidateOn(w.fixedBatches(1, 4, 0, 20, 2))); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{"loss", "acc", "ep/s", "val", "stopped (max-steps)"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s output lacks %q:\n%s", mode, want, out)
			}
		}
	}
}

// OnStep sees every step and every validation, even with progress output
// off.
func TestOnStep(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	opts.Steps, opts.EvalEvery = 4, 2
	var seen []StepInfo
	opts.OnStep = func(i StepInfo) { seen = append(seen, i) }
	if _, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), ValidateOn(w.fixedBatches(1, 4, 0, 20, 2))); err != nil {
		t.Fatal(err)
	}
	// 4 steps and 2 validations (after steps 2 and 4).
	if len(seen) != 6 {
		t.Fatalf("%d calls, want 6: %+v", len(seen), seen)
	}
	if seen[0].Step != 1 || seen[0].TotalSteps != 4 || seen[0].Validated || seen[0].EpisodesPerSecond <= 0 || seen[0].Loss <= 0 {
		t.Errorf("first call %+v", seen[0])
	}
	v := seen[2]
	if v.Step != 2 || !v.Validated || v.ValAccuracy < 0 || v.ValAccuracy > 1 {
		t.Errorf("call after the first validation %+v", v)
	}
	if last := seen[len(seen)-1]; last.Step != 4 || !last.Validated || last.Stage == "" {
		t.Errorf("last call %+v", last)
	}
}

// When early stopping ends stages sooner, the planned total shrinks to
// what ran, and a stage's validation is not reported beside the next
// stage's steps.
func TestOnStepAcrossStages(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	// No validation can beat the one before by a whole 1: each stage
	// stops at its second validation, step 2.
	opts.Steps, opts.BaseSteps, opts.EvalEvery, opts.Patience, opts.MinDelta = 6, 8, 1, 1, 1
	var seen []StepInfo
	opts.OnStep = func(i StepInfo) { seen = append(seen, i) }
	ck, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), ValidateOn(w.fixedBatches(1, 4, 0, 20, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if got := ck.Summary.StageSteps; got[StageBase] != 2 || got[StageJoint] != 2 {
		t.Fatalf("stage steps %v; want 2 and 2", got)
	}
	if seen[0].TotalSteps != 14 {
		t.Errorf("first call plans %d steps, want 14", seen[0].TotalSteps)
	}
	if last := seen[len(seen)-1]; last.TotalSteps != ck.Summary.Steps || last.Step != 4 {
		t.Errorf("last call: step %d of %d; the run took %d", last.Step, last.TotalSteps, ck.Summary.Steps)
	}
	for _, i := range seen {
		if i.Stage == StageJoint {
			if i.Validated || i.TotalSteps != 8 {
				t.Errorf("first joint call %+v: want no validation yet, 8 steps planned", i)
			}
			break
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// However well the base head validates, the kept weights come from the
// stage after it: the base stage only starts the model.
func TestBaseStageNotKept(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	opts.Steps, opts.BaseSteps, opts.EvalEvery = 4, 2, 2
	// The base stage validates at its step 2, the joint stage at 2 and 4.
	validate, calls := scriptedValidate(0.9, 0.6, 0.7)
	ck, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), validate)
	if err != nil {
		t.Fatal(err)
	}
	s := ck.Summary
	if *calls != 3 || s.BestStage != StageJoint || s.BestStep != 4 || s.BestValAccuracy != 0.7 {
		t.Fatalf("%d validations; best %.2f at %s step %d, want 0.70 at joint step 4", *calls, s.BestValAccuracy, s.BestStage, s.BestStep)
	}
}

// scriptedValidate returns a ValidateFunc that reports accs in turn (the
// last one from then on) and the count of its calls.
func scriptedValidate(accs ...float64) (ValidateFunc, *int) {
	calls := new(int)
	return func(ctx context.Context, ev Evaluator) (float64, error) {
		a := accs[min(*calls, len(accs)-1)]
		*calls++
		return a, nil
	}, calls
}

// A base-mode run trains the base stage alone, and a run started from its
// checkpoint skips its own base stage, begins from exactly those weights
// and says so in its summary. A start of another model, or one that is not
// a base-mode checkpoint, is refused.
func TestStartFromBase(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	opts.Mode, opts.Steps, opts.BaseSteps, opts.EvalEvery = ModeBase, 4, 3, 3
	base, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := base.Summary; s.Steps != 3 || s.StageSteps[StageBase] != 3 || s.Mode != ModeBase {
		t.Fatalf("base run: mode %s, %d steps (%v), want 3 base steps", s.Mode, s.Steps, s.StageSteps)
	}

	cfg.Lambda = 0 // the only field a start may differ in
	opts.Mode, opts.BaseSteps, opts.Start = ModeJoint, 3, base
	opts.Steps, opts.LearningRate = 1, 1e-30 // one step that moves nothing
	ck, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := ck.Summary
	if s.Steps != 1 || s.StageSteps[StageBase] != 0 || s.Start == nil || s.Start.Steps != 3 {
		t.Fatalf("started run: %d steps (%v), start %+v; want 1 joint step from a 3-step base", s.Steps, s.StageSteps, s.Start)
	}
	for path, want := range base.Weights {
		got := ck.Weights[path]
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				t.Fatalf("%s[%d] = %g, want the base checkpoint's %g", path, i, got[i], want[i])
			}
		}
	}

	other := cfg
	other.DModel = 16
	if _, err := Run(context.Background(), other, opts, w.source(4, 0, 20, 1), nil); palate.ErrorCode(err) != palate.EINVALID ||
		!strings.Contains(err.Error(), "only lambda may differ") || !strings.Contains(err.Error(), "d_model 32 (start) against 16") {
		t.Errorf("start of another model: %v, want EINVALID naming lambda", err)
	}
	opts.Start = ck
	if _, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), nil); palate.ErrorCode(err) != palate.EINVALID ||
		!strings.Contains(err.Error(), "base-mode") {
		t.Errorf("start from a joint checkpoint: %v, want EINVALID", err)
	}
	opts.Start, opts.BaseSteps, opts.Mode = nil, -1, ModeBase
	if _, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), nil); palate.ErrorCode(err) != palate.EINVALID {
		t.Errorf("base mode without base steps: %v, want EINVALID", err)
	}
}

// With WeightAverage, validation judges (and the checkpoint keeps) the
// exponential moving average of the weights, started from the stage's
// first weights, while training goes on from the raw weights: the judged
// weights are the average, worked here from a run without averaging (the
// same seed, so the same raw weights after every step).
func TestWeightAverage(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	const steps, decay = 4, 0.75 // not 0.5, where decay and 1-decay would be the same
	run := func(avg float64) (*Checkpoint, []map[string][]float32) {
		t.Helper()
		opts := quietOptions()
		opts.Steps, opts.EvalEvery, opts.Patience, opts.WeightAverage = steps, 1, -1, avg
		var judged []map[string][]float32
		// Every check is better than the last, so the last one is kept.
		validate := func(ctx context.Context, ev Evaluator) (float64, error) {
			w, err := ev.(*Trainer).Weights()
			judged = append(judged, w)
			return float64(len(judged)), err
		}
		ck, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), validate)
		if err != nil {
			t.Fatal(err)
		}
		return ck, judged
	}
	_, raw := run(-1)
	ck, avg := run(decay)
	if len(raw) != steps || len(avg) != steps {
		t.Fatalf("%d and %d validations, want %d", len(raw), len(avg), steps)
	}
	opts := quietOptions()
	tr, err := NewTrainer(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tr.Weights()
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for s := range steps {
		// The average after step s: decay·(the one before) + (1-decay)·(the
		// raw weights after step s), worked here rather than by averageInto.
		for k, v := range want {
			for i := range v {
				v[i] = float32(decay*float64(v[i]) + (1-decay)*float64(raw[s][k][i]))
				if d := math.Abs(float64(avg[s][k][i] - v[i])); d > 1e-6 {
					t.Fatalf("step %d, %s[%d]: judged %g, the average is %g", s+1, k, i, avg[s][k][i], v[i])
				}
				if avg[s][k][i] != raw[s][k][i] {
					moved = true
				}
			}
		}
	}
	if !moved {
		t.Fatal("the averaged weights equal the raw ones")
	}
	for k, v := range avg[steps-1] {
		if !slices.Equal(ck.Weights[k], v) {
			t.Fatalf("the checkpoint's %s is not the last average judged", k)
		}
	}
	bad := quietOptions()
	bad.WeightAverage = 1
	if _, err := NewTrainer(cfg, bad); palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "weight_average") {
		t.Fatalf("weight_average 1: %v, want EINVALID naming it", err)
	}
}
