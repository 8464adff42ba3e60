package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, on its own registry.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	scores     prometheus.Counter
	records    *prometheus.CounterVec
	model      *prometheus.GaugeVec
	modelLoads *prometheus.CounterVec
	cache      *prometheus.CounterVec
	events     *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, s *Server) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palate_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "palate_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms to 16 s
		}, []string{"route", "code"}),
		scores: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "palate_scores_total",
			Help: "Candidates scored (rank and profile requests).",
		}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palate_records_inserted_total",
			Help: "New records written, by kind (image, comparison, vote).",
		}, []string{"kind"}),
		model: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "palate_model_info",
			Help: "The model being served: 1 for its version and embedder.",
		}, []string{"version", "embedder"}),
		modelLoads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palate_model_loads_total",
			Help: "Loads of published models, by result (ok, error).",
		}, []string{"result"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palate_context_cache_total",
			Help: "Lookups of encoded user histories, by result (hit, miss).",
		}, []string{"result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palate_store_events_total",
			Help: "Store events received, by kind (user, model, lost, subscribe_error).",
		}, []string{"kind"}),
	}
	cached := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "palate_context_cache_users",
		Help: "Users whose encoded history is cached.",
	}, func() float64 { return float64(s.contexts.len()) })
	reg.MustRegister(m.requests, m.latency, m.scores, m.records, m.model, m.modelLoads, m.cache, m.events, cached,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) setModel(s *modelState) {
	m.model.Reset()
	m.model.WithLabelValues(s.version, s.sc.Checkpoint().Embedder.Name).Set(1)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// instrument counts and times every request of one route.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			code := strconv.Itoa(sw.code())
			s.metrics.requests.WithLabelValues(route, code).Inc()
			s.metrics.latency.WithLabelValues(route, code).Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes through for streaming handlers (promhttp may use it).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
