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

// TestLearnsTasteWorld trains briefly on a small taste world and checks
// that the loss falls and that held-out pairwise accuracy clearly beats
// chance (the world's global oracle is about 60%, its oracle about 80%).
func TestLearnsTasteWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	c := world.DefaultConfig()
	c.Users, c.Groups, c.ImageSize, c.Images = 250, 4, 16, "none"
	c.ComparisonsPerUser = world.Range{Min: 20, Max: 60}
	dir, _ := worldtest.Build(t, c, nil)
	ds, emb := worldtest.Read(t, dir, world.TruthEmbedder)
	d, err := history.LoadData(ds, emb, model.NewHashBOW(16))
	if err != nil {
		t.Fatal(err)
	}
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
