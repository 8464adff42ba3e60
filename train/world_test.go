package train

import (
	"context"
	"testing"

	"palate/dataset"
	"palate/history"
	"palate/model"
	"palate/world"
	"palate/world/worldtest"
)

// smallWorld builds a taste world of users people in 4 groups with 16-pixel
// pictures and no image files, and loads it with the truth embedding and
// 16-float prompt vectors.
func smallWorld(t *testing.T, users int, comparisons world.Range) *history.Data {
	t.Helper()
	c := world.DefaultConfig()
	c.Users, c.Groups, c.ImageSize, c.Images = users, 4, 16, "none"
	c.ComparisonsPerUser = comparisons
	dir, _ := worldtest.Build(t, c, nil)
	ds, emb := worldtest.Read(t, dir, world.TruthEmbedder)
	d, err := history.LoadData(ds, emb, model.NewHashBOW(16))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLearnsTasteWorld trains briefly on a small taste world and checks
// that the loss falls and that held-out pairwise accuracy clearly beats
// chance (the world's global oracle is about 60%, its oracle about 80%).
func TestLearnsTasteWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	d := smallWorld(t, 250, world.Range{Min: 20, Max: 60})
	cfg := model.DefaultConfig()
	cfg.DModel, cfg.Layers, cfg.MaxHistory, cfg.PrefTokens, cfg.TextDim = 64, 1, 16, 4, 16
	opts := DefaultOptions()
	opts.Steps, opts.EvalEvery, opts.Progress = 150, 50, ProgressNone
	ck, err := OnData(context.Background(), d, cfg, opts, DataOptions{Batch: 32})
	if err != nil {
		t.Fatal(err)
	}
	s := ck.Summary
	// The base stage minimises another loss: compare within the joint stage.
	var joint []EvalPoint
	for _, e := range s.Evals {
		if e.Stage == StageJoint {
			joint = append(joint, e)
		}
	}
	if len(joint) < 2 || s.StageSteps[StageBase] == 0 {
		t.Fatalf("%d joint validations, %d base steps; want both stages", len(joint), s.StageSteps[StageBase])
	}
	first, last := joint[0].TrainLoss, s.FinalTrainLoss
	pairs := d.EvalPairs(8, dataset.Train, dataset.Unseen)
	tr, err := NewTrainer(ck.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SetWeights(ck.Weights); err != nil {
		t.Fatal(err)
	}
	acc, err := PairAccuracy(context.Background(), tr, EvalBatches(ck.Config, d, pairs, 64))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("train loss %.3f -> %.3f; held-out accuracy %.3f on %d pairs; best validation %.3f", first, last, acc, len(pairs), s.BestValAccuracy)
	if !(last < first) {
		t.Errorf("training loss did not fall: %.3f -> %.3f", first, last)
	}
	if acc < 0.56 {
		t.Errorf("held-out pairwise accuracy %.3f; want clearly above chance (>= 0.56; SE is about 0.008)", acc)
	}
}

// TestDefaultStepsFollowData checks that OnData, given no Steps, trains for
// StepsFor its training comparisons, and that StepsFor keeps the default
// world's 300 and its bounds.
func TestDefaultStepsFollowData(t *testing.T) {
	for _, c := range []struct{ pairs, batch, want int }{
		{8920, 64, 300}, // the default world: 300 steps, as before
		{8921, 64, 301},
		{44138, 64, 1485}, // five times the people
		{44138, 32, 2969},
		{100, 64, 300},
		{0, 64, 300},
		{1_000_000, 64, 3000},
		{1 << 40, 1, 3000},
	} {
		if got := StepsFor(c.pairs, c.batch); got != c.want {
			t.Errorf("StepsFor(%d, %d) = %d; want %d", c.pairs, c.batch, got, c.want)
		}
	}
	if got := DefaultOptions().Steps; got != 0 {
		t.Errorf("DefaultOptions().Steps = %d; want 0 (follow the data)", got)
	}

	d := smallWorld(t, 300, world.Range{Min: 100, Max: 200})
	pairs := 0
	for _, u := range d.Parts(dataset.Train) {
		pairs += len(u.Pairs)
	}
	want := StepsFor(pairs, 16)
	if got := StepsForData(d, 16); got != want {
		t.Errorf("StepsForData = %d; want StepsFor(%d, 16) = %d", got, pairs, want)
	}
	if want <= 300 {
		t.Fatalf("%d training comparisons give %d steps; the test needs a world over the floor", pairs, want)
	}
	cfg := model.DefaultConfig()
	cfg.DModel, cfg.Layers, cfg.MaxHistory, cfg.PrefTokens, cfg.TextDim = 16, 1, 8, 2, 16
	opts := DefaultOptions()
	opts.Progress = ProgressNone
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.OnStep = func(StepInfo) { cancel() } // one step is enough to see the plan
	ck, err := OnData(ctx, d, cfg, opts, DataOptions{Batch: 16})
	if ck == nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	o := ck.Summary.Options
	if o.Steps != want || o.BaseSteps != 4*want {
		t.Errorf("trained with steps %d, base steps %d; want %d and %d for %d comparisons", o.Steps, o.BaseSteps, want, 4*want, pairs)
	}
}
