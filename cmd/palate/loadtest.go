package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"palate/api"
	"palate/memstore"
	"palate/server"
)

func init() {
	register(&command{
		name:    "loadtest",
		summary: "measure rank latency of a server under concurrent clients",
		long: `Records --images images (random vectors of the model's dimension) and one
person's history of --history comparisons through the API, ranks once to
fill the server's context cache, then for each count in --clients runs that
many clients, each ranking --candidates stored images for that person in a
loop for --duration, and prints requests per second and latency percentiles.

Without --server it starts its own server on a loopback port over an
in-memory store, serving --model. With --server it writes its images and
person (ids prefixed "loadtest-") into that server's store, so it needs the
write key (PALATE_WRITE_KEY) if the server has keys. Traffic goes only to
that server; every run stops by itself.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			srvURL := fs.String("server", "", "palate server `URL` (default: start one on 127.0.0.1)")
			modelDir := fs.String("model", "", "checkpoint `directory` for the built-in server")
			cands := fs.Int("candidates", 64, "candidates per rank request")
			images := fs.Int("images", 256, "images to record")
			hist := fs.Int("history", 16, "comparisons in the person's history")
			clients := fs.String("clients", "1,32", "comma-separated numbers of concurrent clients")
			dur := fs.Duration("duration", 10*time.Second, "how long each client count runs (at most 10m)")
			maxComp := fs.Int("max-computations", 0, "the built-in server's bound on model computations at once (0: its default)")
			return func(ctx context.Context, env *Env) error {
				counts, err := parseCounts(*clients)
				if err != nil {
					return err
				}
				if *dur <= 0 || *dur > 10*time.Minute {
					return usagef("--duration %s: want more than 0 and at most 10m", *dur)
				}
				if err := atLeast(flagMin{"max-computations", int64(*maxComp), 0}); err != nil {
					return err
				}
				if *cands < 1 || *images < *cands || *images < 2 || *hist < 1 {
					return usagef("want --candidates >= 1, --images >= --candidates and >= 2, --history >= 1")
				}
				url := *srvURL
				if url == "" {
					if *modelDir == "" {
						return usagef("give --server, or --model for a built-in server")
					}
					stop, u, err := startLocal(ctx, *modelDir, *maxComp)
					if err != nil {
						return err
					}
					defer stop()
					url = u
				}
				maxC := slices.Max(counts)
				c, err := newClient(url)
				if err != nil {
					return err
				}
				if k := os.Getenv("PALATE_WRITE_KEY"); k != "" {
					c.Key = k
				}
				c.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxC + 1, MaxIdleConns: maxC + 1}}
				req, err := seedLoad(ctx, c, *images, *cands, *hist)
				if err != nil {
					return err
				}
				first, err := c.Rank(ctx, loadUser, req)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "server %s, model %s, %d candidates per request, history of %d items\n", url, first.Model, *cands, first.HistoryItems)
				fmt.Fprintf(env.Stdout, "%7s %9s %7s %9s %9s %9s %9s %9s\n", "clients", "requests", "errors", "req/s", "cands/s", "p50 ms", "p99 ms", "max ms")
				for _, n := range counts {
					r := runLoad(ctx, c, req, n, *dur)
					fmt.Fprintf(env.Stdout, "%7d %9d %7d %9.1f %9.0f %9.2f %9.2f %9.2f\n", n, r.requests, r.errors, r.rps, r.rps*float64(*cands), r.p50, r.p99, r.max)
					if r.firstErr != nil {
						fmt.Fprintf(env.Stdout, "first error: %v\n", r.firstErr)
					}
				}
				if m, err := c.Metrics(ctx); err == nil {
					fmt.Fprintf(env.Stdout, "context cache: %s hits, %s misses\n",
						sample(m, `palate_context_cache_total{result="hit"}`), sample(m, `palate_context_cache_total{result="miss"}`))
				}
				return ctx.Err()
			}
		},
	})
}

const loadUser = "loadtest-user"

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, usagef("--clients: %q is not a number of clients in [1, 1024]", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// startLocal serves modelDir on a loopback port over an in-memory store.
func startLocal(ctx context.Context, modelDir string, maxComp int) (stop func(), url string, err error) {
	st := memstore.New()
	srv, err := server.New(ctx, server.Config{Store: st, ModelDir: modelDir, Logger: quietLog(), MaxComputations: maxComp})
	if err != nil {
		return nil, "", err
	}
	ln, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, "", err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx, ln); close(done) }()
	return func() { cancel(); <-done; srv.Close(); st.Close() }, "http://" + ln.Addr().String(), nil
}

// seedLoad records the images and the person's history and returns the
// rank request of the first ncand images.
func seedLoad(ctx context.Context, c *api.Client, nimg, ncand, nhist int) (api.RankRequest, error) {
	mi, err := c.Model(ctx)
	if err != nil {
		return api.RankRequest{}, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var imgs []api.Image
	for i := range nimg {
		v := make([]float32, mi.EmbedderDim)
		var norm float64
		for j := range v {
			v[j] = float32(rng.NormFloat64())
			norm += float64(v[j] * v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(norm))
		}
		imgs = append(imgs, api.Image{ID: fmt.Sprintf("loadtest-img-%d", i), Prompt: fmt.Sprintf("loadtest prompt %d", i%7), Embedding: v, Embedder: mi.Embedder})
	}
	for start := 0; start < len(imgs); start += 500 {
		if _, err := c.AddImages(ctx, imgs[start:min(start+500, len(imgs))]); err != nil {
			return api.RankRequest{}, err
		}
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var cs []api.Comparison
	for i := range nhist {
		a := rng.IntN(nimg)
		b := (a + 1 + rng.IntN(nimg-1)) % nimg
		cs = append(cs, api.Comparison{ID: fmt.Sprintf("loadtest-c%d", i), User: loadUser, Image0: imgs[a].ID, Image1: imgs[b].ID,
			Label0: api.Float(float64(rng.IntN(2))), Time: t0.Add(time.Duration(i) * time.Minute)})
	}
	if _, err := c.AddComparisons(ctx, cs); err != nil {
		return api.RankRequest{}, err
	}
	req := api.RankRequest{}
	for i := range ncand {
		req.Candidates = append(req.Candidates, api.Candidate{ID: imgs[i].ID})
	}
	return req, nil
}

type loadResult struct {
	requests, errors int
	rps              float64
	p50, p99, max    float64 // milliseconds
	firstErr         error
}

// runLoad runs n clients ranking req for dur.
func runLoad(ctx context.Context, c *api.Client, req api.RankRequest, n int, dur time.Duration) loadResult {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var mu sync.Mutex
	var lat []float64
	var res loadResult
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			for ctx.Err() == nil {
				t := time.Now()
				_, err := c.Rank(ctx, loadUser, req)
				if ctx.Err() != nil {
					break // cut off by the end of the run: not counted
				}
				mu.Lock()
				if err != nil {
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
				}
				mu.Unlock()
				mine = append(mine, float64(time.Since(t).Microseconds())/1000)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	slices.Sort(lat)
	res.requests = len(lat)
	if len(lat) > 0 {
		res.rps = float64(len(lat)) / el
		res.p50 = percentile(lat, 0.50)
		res.p99 = percentile(lat, 0.99)
		res.max = lat[len(lat)-1]
	}
	return res
}

// percentile of sorted values (nearest rank).
func percentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// sample returns a metric sample's value as printed, or "?".
func sample(metrics, name string) string {
	for _, l := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return "?"
}

// quietLog keeps the built-in server's errors and drops its info messages.
func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
