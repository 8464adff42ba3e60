package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"palate"
	"palate/modelpub"
	"palate/scorer"
	"palate/train"
)

// modelState is one loaded model; requests hold the pointer they started
// with, so a swap never changes the model under a request.
type modelState struct {
	sc      *scorer.Scorer
	version string
	source  string
	loaded  time.Time
	summary json.RawMessage
	// cold is the empty history's context: the model's non-personal score.
	cold *scorer.Context
}

// current returns the model being served, or EUNAVAILABLE.
func (s *Server) current() (*modelState, error) {
	m := s.model.Load()
	if m == nil {
		msg := "no model loaded: train one and publish it (palate model publish), or start the server with --model"
		if note := s.trainingNote(); note != "" {
			msg = note
		}
		if e := s.loadErr.Load(); e != nil {
			msg += "; last load failed: " + *e
		}
		return nil, palate.Errorf(palate.EUNAVAILABLE, "%s", msg)
	}
	return m, nil
}

// prepare builds a scorer for a checkpoint and compiles its encoder and
// smallest scoring graph, so the first requests after a swap do not pay for
// compilation.
func (s *Server) prepare(ctx context.Context, ck *train.Checkpoint, version, source string) (*modelState, error) {
	sc, err := scorer.New(ck, s.scOpts)
	if err != nil {
		return nil, err
	}
	c, err := sc.Context(ctx, nil)
	if err != nil {
		return nil, err
	}
	cand := scorer.Candidate{Image: make([]float32, ck.Config.ImageDim)}
	if _, err := sc.Score(ctx, c, []scorer.Candidate{cand}); err != nil {
		return nil, err
	}
	sum, err := json.Marshal(ck.Summary)
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "model %s: %w", version, err)
	}
	return &modelState{sc: sc, version: version, source: source, loaded: s.now(), summary: sum, cold: c}, nil
}

// install makes m the served model and drops every cache of the old one.
func (s *Server) install(m *modelState) {
	old := s.model.Swap(m)
	s.loadErr.Store(nil)
	s.contexts.dropAll()
	s.descs.dropAll()
	s.metrics.setModel(m)
	from := ""
	if old != nil {
		from = old.version
	}
	e := m.sc.Checkpoint().Embedder
	s.log.Info("model loaded", "version", m.version, "source", m.source, "previous", from, "embedder", e.Name)
	if e.Name != s.embedder.Name() || e.Dim != s.embedder.Dim() {
		// Legitimate (stored vectors and vectors sent with requests still
		// rank), but uploaded pictures cannot: say so where it is seen.
		s.log.Warn("the model reads another embedder's vectors than uploads are embedded with: uploaded pictures cannot be ranked, stored and sent vectors can",
			"model_embedder", e.Name, "upload_embedder", s.embedder.Name())
	}
}

// loadDir serves the checkpoint in dir; its version is "dir-" and the first
// 12 hex digits of its manifest's SHA-256.
func (s *Server) loadDir(ctx context.Context, dir string) error {
	ck, err := train.Load(dir)
	if err != nil {
		return err
	}
	man, err := os.ReadFile(filepath.Join(dir, train.ManifestFile))
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "model %s: %w", dir, err)
	}
	sum := sha256.Sum256(man)
	m, err := s.prepare(ctx, ck, "dir-"+hex.EncodeToString(sum[:6]), dir)
	if err != nil {
		return err
	}
	s.install(m)
	return nil
}

// loadLatest serves the latest published model unless it is already served.
func (s *Server) loadLatest(ctx context.Context) error {
	rec, err := s.store.LatestModel(ctx)
	if err != nil {
		return err
	}
	if m := s.model.Load(); m != nil && m.version == rec.Version {
		return nil
	}
	start := time.Now()
	ck, err := modelpub.Open(rec)
	if err != nil {
		s.metrics.modelLoads.WithLabelValues("error").Inc()
		msg := err.Error()
		s.loadErr.Store(&msg)
		return err
	}
	m, err := s.prepare(ctx, ck, rec.Version, "store")
	if err != nil {
		s.metrics.modelLoads.WithLabelValues("error").Inc()
		msg := err.Error()
		s.loadErr.Store(&msg)
		return err
	}
	if len(rec.Summary) > 0 && json.Valid(rec.Summary) {
		m.summary = json.RawMessage(rec.Summary)
	}
	s.install(m)
	s.metrics.modelLoads.WithLabelValues("ok").Inc()
	s.log.Info("published model ready", "version", rec.Version, "seconds", time.Since(start).Seconds())
	return nil
}

// requestReload asks the loader to look for a newer published model.
func (s *Server) requestReload() {
	if s.modelDir != "" {
		return
	}
	select {
	case s.reload <- struct{}{}:
	default:
	}
}

// loader loads published models in the background, one at a time: a
// request that arrives during a load makes it look again afterwards. While
// no model is served it also polls the store.
func (s *Server) loader(ctx context.Context) {
	if s.modelDir != "" {
		return
	}
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.reload:
		case <-tick.C:
			if s.model.Load() != nil {
				continue
			}
		}
		if err := s.loadLatest(ctx); err != nil && palate.ErrorCode(err) != palate.ENOTFOUND && ctx.Err() == nil {
			s.log.Error("loading the published model failed; still serving the previous one", "err", err)
		}
	}
}

// watch follows the store's events from first (nil if New could not
// subscribe) until ctx ends, subscribing again (and dropping every cache,
// since events may have been missed) when the subscription ends or fails.
func (s *Server) watch(ctx context.Context, first <-chan palate.Event) {
	backoff := 100 * time.Millisecond
	ch := first
	for {
		if ch != nil {
			for e := range ch {
				s.handleEvent(e)
			}
		}
		if ctx.Err() != nil {
			return
		}
		s.handleEvent(palate.Event{Kind: palate.EventLost})
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		var err error
		ch, err = s.store.Subscribe(ctx)
		if err != nil {
			s.log.Error("subscribing to store events failed; retrying", "err", err, "in", backoff)
			s.metrics.events.WithLabelValues("subscribe_error").Inc()
			ch = nil
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

func (s *Server) handleEvent(e palate.Event) {
	s.metrics.events.WithLabelValues(e.Kind).Inc()
	switch e.Kind {
	case palate.EventUser:
		s.contexts.drop(e.User)
		s.descs.drop(e.User)
	case palate.EventModel:
		s.requestReload()
	case palate.EventLost:
		s.contexts.dropAll()
		s.descs.dropAll()
		s.requestReload()
	}
}
