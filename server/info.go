package server

import (
	_ "embed"
	"encoding/json"
	"net/http"

	"palate"
	"palate/api"
)

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) users(w http.ResponseWriter, r *http.Request) error {
	us, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	out := api.UsersResponse{Users: make([]api.UserSummary, len(us))}
	for i, u := range us {
		out.Users[i] = api.UserSummary{User: u.User, Comparisons: u.Comparisons, Votes: u.Votes, Last: u.Last}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) modelInfo(w http.ResponseWriter, r *http.Request) error {
	m, err := s.current()
	if err != nil {
		return err
	}
	ck := m.sc.Checkpoint()
	cfg, err := json.Marshal(ck.Config)
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "encode model config: %w", err)
	}
	return writeJSON(w, http.StatusOK, api.ModelInfo{
		Version: m.version, Source: m.source,
		Embedder: ck.Embedder.Name, EmbedderDim: ck.Embedder.Dim,
		TextEmbedder: ck.TextEmbedder.Name, TextEmbedderDim: ck.TextEmbedder.Dim,
		Loaded: m.loaded, Config: cfg, Summary: m.summary, Bench: s.bench,
	})
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDoc)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	out := api.Health{Status: "ok"}
	if m := s.model.Load(); m != nil {
		out.Model = m.version
	}
	return writeJSON(w, http.StatusOK, out)
}

// readyz answers 200 when a model is loaded and the store answers a ping,
// and 503 (EUNAVAILABLE, saying which is missing) otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	m, err := s.current()
	if err != nil {
		return err
	}
	if err := s.store.Ping(r.Context()); err != nil {
		return palate.Errorf(palate.EUNAVAILABLE, "store does not answer: %v", err)
	}
	return writeJSON(w, http.StatusOK, api.Health{Status: "ready", Model: m.version})
}
