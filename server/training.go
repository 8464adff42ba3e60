package server

import (
	"context"
	"fmt"
	"net/http"

	"palate/api"
)

// SetTraining records the progress of a training run going on beside the
// server (palate demo trains while it serves): GET /v1/training answers
// it, and while no model is loaded readiness and model routes say that
// one is training.
func (s *Server) SetTraining(t api.Training) {
	if t.State == "" {
		t.State = api.TrainingRunning
	}
	s.training.Store(&t)
}

// LoadModelDir loads the checkpoint in dir and serves it from now on; a
// request already running finishes with the model it started with. A model
// published in the store later still replaces it unless the server was
// started with Config.ModelDir.
func (s *Server) LoadModelDir(ctx context.Context, dir string) error {
	return s.loadDir(ctx, dir)
}

// trainingNote describes the training run for a "no model" answer, or
// returns "" when none is known.
func (s *Server) trainingNote() string {
	t := s.training.Load()
	if t == nil {
		return ""
	}
	switch t.State {
	case api.TrainingRunning:
		return fmt.Sprintf("no model yet: the model is training (step %d of %d); GET /v1/training follows it", t.Step, t.TotalSteps)
	case api.TrainingFailed:
		return "no model: training failed: " + t.Error
	}
	return ""
}

func (s *Server) trainingInfo(w http.ResponseWriter, r *http.Request) error {
	out := api.Training{State: api.TrainingNone}
	if t := s.training.Load(); t != nil {
		out = *t
	}
	return writeJSON(w, http.StatusOK, out)
}
