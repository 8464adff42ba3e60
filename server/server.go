// Package server is palate's HTTP service: it records images, comparisons
// and votes into a palate.Store, ranks candidates for a person with the
// trained model, finds people with similar taste and describes a person's
// profile. Wire types and a Go client are in package api; the routes are
// documented by the OpenAPI document served at /v1/openapi.json.
//
// A Server keeps each person's encoded history (scorer.Context) in an LRU
// cache and every person's taste descriptor in a second cache; both are
// invalidated by the store's events, so servers sharing one database never
// serve a history older than the last event they received. Without a model
// directory it serves the latest model published in the store and swaps to
// a newly published one in the background: a request is served entirely by
// the model it started with.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"palate"
	"palate/api"
	"palate/features"
	"palate/guide"
	"palate/scorer"
)

// Limits bound what one request may ask. Zero fields take the defaults of
// DefaultLimits.
type Limits struct {
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	// MaxImageBytes bounds one encoded picture; MaxImagePixels its decoded
	// width×height, checked before the pixels are decoded.
	MaxImageBytes  int64
	MaxImagePixels int
	// MaxBatch bounds the items of one write.
	MaxBatch int
	// MaxCandidates bounds the candidates of one rank request.
	MaxCandidates int
	// MaxNeighbours bounds n of similar and profile requests.
	MaxNeighbours int
	// RequestTimeout bounds the time spent on one request.
	RequestTimeout time.Duration
}

// DefaultLimits suit a service behind a gateway that scores at most a few
// thousand candidates at once.
var DefaultLimits = Limits{
	MaxBodyBytes:   64 << 20,
	MaxImageBytes:  16 << 20,
	MaxImagePixels: 40_000_000,
	MaxBatch:       1000,
	MaxCandidates:  1024,
	MaxNeighbours:  1000,
	RequestTimeout: 30 * time.Second,
}

func (l Limits) resolve() Limits {
	d := DefaultLimits
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxImageBytes <= 0 {
		l.MaxImageBytes = d.MaxImageBytes
	}
	if l.MaxImagePixels <= 0 {
		l.MaxImagePixels = d.MaxImagePixels
	}
	if l.MaxBatch <= 0 {
		l.MaxBatch = d.MaxBatch
	}
	if l.MaxCandidates <= 0 {
		l.MaxCandidates = d.MaxCandidates
	}
	if l.MaxNeighbours <= 0 {
		l.MaxNeighbours = d.MaxNeighbours
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = d.RequestTimeout
	}
	return l
}

// DefaultMaxComputations is Config.MaxComputations when it is not set.
const DefaultMaxComputations = 2

// Config holds a Server's dependencies and settings.
type Config struct {
	// Store is where records and published models live. Required.
	Store palate.Store
	// Embedder embeds uploaded pictures (pixels-v3 when nil). It should be
	// the model's embedder, or uploads cannot be ranked.
	Embedder palate.Embedder
	// ModelDir, when set, is a checkpoint directory to serve; published
	// models are then ignored. When empty the server serves the latest
	// model published in Store and follows new publications.
	ModelDir string
	// ReadKey and WriteKey are the bearer keys: write routes need WriteKey,
	// read routes either key. With no keys every route is open (and
	// Listen refuses non-loopback addresses). A ReadKey without a WriteKey
	// is refused by New.
	ReadKey, WriteKey string
	// Limits bound requests (DefaultLimits where zero).
	Limits Limits
	// CacheUsers bounds the per-user context cache (default 10,000).
	CacheUsers int
	// Scorer configures the scorers built for each model.
	Scorer scorer.Options
	// MaxComputations bounds the model computations (encoding a history,
	// scoring a request's candidates) that run at once; requests beyond it
	// wait their turn. Each computation already spreads over every core
	// (scorer.Options.Parallelism), so many at once only add contention,
	// but two let one request's serial parts overlap another's: on the
	// 2-core machine, 32 clients ranking 64 candidates (palate loadtest,
	// four interleaved rounds, docs/BENCHMARKS.md "Session 13") got 476-530
	// requests/s with one at a time, 614-659 with two and 639-665 with
	// three, p99 73-78 ms, 60-62 and 61-64. Default DefaultMaxComputations.
	MaxComputations int
	// PollInterval is how often a server without a model asks the store
	// for one, in case an event was missed (default 30 s).
	PollInterval time.Duration
	// Logger receives operational messages (slog.Default when nil).
	Logger *slog.Logger
	// Now is the clock for records sent without a time (time.Now when nil).
	Now func() time.Time

	// Images is the dataset directory that stored images' paths are
	// relative to (GET /v1/images/{id}/file). When it holds a taste world
	// (world.json), the server also draws pictures with the world's
	// renderer and reports its people's true taste.
	Images string
	// Generated is the directory where pictures the server makes are kept
	// (POST /v1/generate, guide); without it the server makes none.
	Generated string
	// Generator makes pictures; nil takes the taste world's renderer when
	// Images holds one.
	Generator guide.Generator
	// Bench is a bench report (palate bench --json) whose accuracy table
	// GET /v1/model shows.
	Bench string
}

// Server serves palate's HTTP API. Create it with New, serve Handler, and
// Close it when done.
type Server struct {
	store    palate.Store
	embedder palate.Embedder
	modelDir string
	readKey  string
	writeKey string
	lim      Limits
	poll     time.Duration
	log      *slog.Logger
	now      func() time.Time
	scOpts   scorer.Options

	imagesDir    string
	generatedDir string
	gen          guide.Generator
	world        *tasteWorld
	bench        []api.BenchRow

	model     atomic.Pointer[modelState]
	loadErr   atomic.Pointer[string]
	training  atomic.Pointer[api.Training]
	contexts  *cache[*userContext]
	descs     *cache[*descriptor]
	reload    chan struct{}
	slots     chan struct{}
	metrics   *metrics
	reg       *prometheus.Registry
	mux       *http.ServeMux
	probe     *http.ServeMux
	routes    []string
	handler   http.Handler
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New creates a server: it loads the model (from cfg.ModelDir, or the latest
// published one; a store with none leaves the server not ready until one is
// published) and subscribes to the store's events. A model directory that
// cannot be loaded is an error; so is a ReadKey without a WriteKey.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, palate.Errorf(palate.EINVALID, "server: no store")
	}
	if cfg.ReadKey != "" && cfg.WriteKey == "" {
		return nil, palate.Errorf(palate.EINVALID, "server: a read key without a write key would leave no way to write; set the write key too (PALATE_WRITE_KEY)")
	}
	s := &Server{
		store:    cfg.Store,
		embedder: cfg.Embedder,
		modelDir: cfg.ModelDir,
		readKey:  cfg.ReadKey,
		writeKey: cfg.WriteKey,
		lim:      cfg.Limits.resolve(),
		poll:     cfg.PollInterval,
		log:      cfg.Logger,
		now:      cfg.Now,
		scOpts:   cfg.Scorer,
		reload:   make(chan struct{}, 1),
	}
	if s.embedder == nil {
		s.embedder = features.NewPixels()
	}
	s.imagesDir, s.generatedDir, s.gen = cfg.Images, cfg.Generated, cfg.Generator
	if s.imagesDir != "" {
		if st, err := os.Stat(s.imagesDir); err != nil || !st.IsDir() {
			if err == nil {
				err = fmt.Errorf("a file, not a directory")
			}
			return nil, palate.Errorf(palate.EINVALID, "server: images directory %s: %v", s.imagesDir, err)
		}
		tw, err := loadWorld(s.imagesDir)
		if err != nil {
			return nil, err
		}
		s.world = tw
		if tw != nil && s.gen == nil {
			s.gen = guide.NewWorld(tw.cfg.ImageSize)
		}
	}
	if cfg.Bench != "" {
		rows, err := readBench(cfg.Bench)
		if err != nil {
			return nil, err
		}
		s.bench = rows
	}
	slots := cfg.MaxComputations
	if slots <= 0 {
		slots = DefaultMaxComputations
	}
	s.slots = make(chan struct{}, slots)
	if s.poll <= 0 {
		s.poll = 30 * time.Second
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	n := cfg.CacheUsers
	if n <= 0 {
		n = 10_000
	}
	s.contexts = newCache[*userContext](n)
	s.descs = newCache[*descriptor](0)
	s.reg = prometheus.NewRegistry()
	s.metrics = newMetrics(s.reg, s)
	s.routes, s.mux, s.probe = s.buildRoutes()
	// Browsers' cross-origin writes are refused (the standard library's
	// CSRF check, by Sec-Fetch-Site or Origin against Host): without keys a
	// loopback server would otherwise take votes from any web page the
	// person visits. Clients that are not browsers send neither header.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, palate.Errorf(palate.EFORBIDDEN, "cross-origin request refused: a page from %s may not %s %s here", originOf(r), r.Method, r.URL.Path))
	}))
	s.handler = cop.Handler(cleanPaths(s, s.mux))

	// Subscribe before loading, so no publication between the two is missed.
	bg, cancel := context.WithCancel(context.Background())
	events, err := s.store.Subscribe(bg)
	if err != nil {
		s.log.Error("subscribing to store events failed; retrying in the background", "err", err)
		events = nil
	}
	if s.modelDir != "" {
		if err := s.loadDir(ctx, s.modelDir); err != nil {
			cancel()
			return nil, err
		}
	} else if err := s.loadLatest(ctx); err != nil && palate.ErrorCode(err) != palate.ENOTFOUND {
		s.log.Error("no model loaded at start; will retry", "err", err)
	}
	s.cancel = cancel
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.watch(bg, events) }()
	go func() { defer s.wg.Done(); s.loader(bg) }()
	return s, nil
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns the registered route patterns ("METHOD /path").
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// Close stops following the store's events and waits for a model load in
// progress. It does not close the store.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// originOf names where a cross-origin request came from, for its error.
func originOf(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	return "another site (Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site") + ")"
}
