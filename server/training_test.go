package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"palate"
	"palate/api"
)

// GET /v1/training goes from "none" to "training" (readiness and ranking
// then say a model is training) to "done" once LoadModelDir serves the
// trained model; a failed run is reported with its error.
func TestTrainingStates(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	tr, err := e.c.Training(ctx)
	if err != nil || tr.State != api.TrainingNone {
		t.Fatalf("before any training: %+v %v", tr, err)
	}

	val := 0.61
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.srv.SetTraining(api.Training{State: api.TrainingRunning, Stage: "joint", Step: 7, TotalSteps: 20, Loss: 0.68,
		Accuracy: 0.55, ValAccuracy: &val, EpisodesPerSecond: 123, Started: start, Updated: start.Add(time.Second)})
	tr, err = e.c.Training(ctx)
	if err != nil || tr.State != api.TrainingRunning || tr.Step != 7 || tr.TotalSteps != 20 || tr.Loss != 0.68 ||
		tr.Accuracy != 0.55 || tr.ValAccuracy == nil || *tr.ValAccuracy != val || tr.EpisodesPerSecond != 123 || !tr.Started.Equal(start) {
		t.Fatalf("while training: %+v %v", tr, err)
	}
	_, err = e.c.Ready(ctx)
	wantErr(t, err, palate.EUNAVAILABLE, "training (step 7 of 20)")
	e.seedImages(2)
	_, err = e.c.Rank(ctx, "u", api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}}})
	wantErr(t, err, palate.EUNAVAILABLE, "model is training")
	// Recording needs no model.
	one := 1.0
	if _, err := e.c.AddComparisons(ctx, []api.Comparison{{ID: "c1", User: "u", Image0: "img0", Image1: "img1", Label0: &one}}); err != nil {
		t.Fatalf("recording while training: %v", err)
	}

	if err := e.srv.LoadModelDir(ctx, modelDirs[0]); err != nil {
		t.Fatal(err)
	}
	e.srv.SetTraining(api.Training{State: api.TrainingDone, Step: 20, TotalSteps: 20})
	if r, err := e.c.Ready(ctx); err != nil || !strings.HasPrefix(r.Model, "dir-") {
		t.Fatalf("ready after loading the trained model: %+v %v", r, err)
	}
	if tr, err = e.c.Training(ctx); err != nil || tr.State != api.TrainingDone || tr.ValAccuracy != nil {
		t.Fatalf("after training: %+v %v", tr, err)
	}

	f := newEnv(t, Config{})
	f.srv.SetTraining(api.Training{State: api.TrainingFailed, Error: "step 3 hung"})
	_, err = f.c.Ready(ctx)
	wantErr(t, err, palate.EUNAVAILABLE, "training failed: step 3 hung")
	if err := f.srv.LoadModelDir(ctx, t.TempDir()); err == nil {
		t.Fatal("LoadModelDir of an empty directory: no error")
	}
}
