package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"palate"
	"palate/api"
	"palate/memstore"
)

// Two servers share one store: a vote recorded through the second reaches
// the first's next rank through the store's event alone, and so does a new
// person for similar.
func TestEventFromSecondServerInvalidatesCache(t *testing.T) {
	mem := memstore.New()
	ctx := context.Background()
	if err := mem.PublishModel(ctx, records[0]); err != nil {
		t.Fatal(err)
	}
	a := newEnv(t, Config{Store: mem})
	b := newEnv(t, Config{Store: mem})
	a.seedImages(6)
	a.seedUser("u", 3, 6, true, 1)
	a.seedUser("w", 3, 6, false, 2)
	req := api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}, {ID: "img5"}}}
	first, err := a.c.Rank(ctx, "u", req)
	if err != nil || first.HistoryItems != 6 {
		t.Fatalf("first rank: %+v %v", first, err)
	}
	if _, err := a.c.Rank(ctx, "u", req); err != nil {
		t.Fatal(err)
	}
	if hits := counter(t, a, `palate_context_cache_total{result="hit"}`); hits != 1 {
		t.Fatalf("second rank of u was not served from the cache (%v hits)", hits)
	}
	sim, err := a.c.Similar(ctx, "u", 10)
	if err != nil || len(sim.Users) != 1 {
		t.Fatalf("similar: %+v %v", sim, err)
	}

	if _, err := b.c.AddVotes(ctx, []api.Vote{{ID: "v", User: "u", Image: "img3", Vote: "like", Time: t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "server A sees the vote made through B", func() error {
		r, err := a.c.Rank(ctx, "u", req)
		if err != nil {
			return err
		}
		if r.HistoryItems != 7 {
			return fmt.Errorf("history items %d; want 7", r.HistoryItems)
		}
		return nil
	})
	b.seedUser("x", 2, 6, true, 3)
	eventually(t, "server A's similar sees the person added through B", func() error {
		sim, err := a.c.Similar(ctx, "u", 10)
		if err != nil {
			return err
		}
		if len(sim.Users) != 2 {
			return fmt.Errorf("%d neighbours; want 2", len(sim.Users))
		}
		return nil
	})
}

// A lost event drops every cached context.
func TestLostEventDropsAll(t *testing.T) {
	e := publishedEnv(t)
	ctx := context.Background()
	e.seedImages(4)
	e.seedUser("u", 2, 4, true, 1)
	if _, err := e.c.Rank(ctx, "u", api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}}}); err != nil {
		t.Fatal(err)
	}
	if e.srv.contexts.len() != 1 {
		t.Fatalf("%d cached contexts; want 1", e.srv.contexts.len())
	}
	e.srv.handleEvent(palate.Event{Kind: palate.EventLost})
	if e.srv.contexts.len() != 0 {
		t.Fatal("a lost event left cached contexts")
	}
}

// Publishing a new model while clients rank swaps it in without a failed
// request; afterwards every answer comes from the new model.
func TestHotSwapUnderLoad(t *testing.T) {
	e := publishedEnv(t)
	ctx := context.Background()
	e.seedImages(8)
	for i := range 4 {
		e.seedUser(fmt.Sprint("u", i), 4, 8, i%2 == 0, uint64(i))
	}
	req := api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}, {ID: "img1"}, {ID: "img2"}, {Embedding: vec(5)}}}
	before, err := e.c.Rank(ctx, "u0", req)
	if err != nil {
		t.Fatal(err)
	}
	var (
		stop     atomic.Bool
		requests atomic.Int64
		mu       sync.Mutex
		errs     []error
		versions = map[string]int{}
		wg       sync.WaitGroup
	)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r, err := e.c.Rank(ctx, fmt.Sprint("u", g%4), req)
				requests.Add(1)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					versions[r.Model]++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if err := e.mem.PublishModel(ctx, records[1]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new model answers", func() error {
		mu.Lock()
		defer mu.Unlock()
		if versions[records[1].Version] < 20 {
			return fmt.Errorf("%d answers from the new model", versions[records[1].Version])
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed during the swap; first: %v", len(errs), requests.Load(), errs[0])
	}
	if versions[records[0].Version] == 0 {
		t.Fatalf("no request was served by the old model: %v", versions)
	}
	after, err := e.c.Rank(ctx, "u0", req)
	if err != nil || after.Model != records[1].Version {
		t.Fatalf("after the swap: %+v %v", after, err)
	}
	if after.Results[0].Score == before.Results[0].Score {
		t.Fatal("the new model gives the old model's scores: contexts of the old model were reused")
	}
	if got := counterMatch(t, e, `palate_model_info\{embedder="pixels-v3",version="`+records[1].Version+`"\} 1`); !got {
		t.Fatal("model info gauge does not show the new version")
	}
}

// Every registered route is documented in the OpenAPI document, and every
// documented operation is registered.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0]})
	raw, err := e.c.OpenAPI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	routes := e.srv.Routes()
	if len(routes) < 12 {
		t.Fatalf("only %d routes registered: %v", len(routes), routes)
	}
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("the OpenAPI document has %q, which is not a route", d)
		}
	}
	// Every schema reference resolves.
	var full map[string]any
	json.Unmarshal(raw, &full)
	schemas := full["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range regexp.MustCompile(`"#/components/schemas/(\w+)"`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := schemas[m[1]]; !ok {
			t.Errorf("reference to undefined schema %s", m[1])
		}
	}
}

func TestMetrics(t *testing.T) {
	e := publishedEnv(t)
	ctx := context.Background()
	e.seedImages(4)
	for range 3 {
		if _, err := e.c.Rank(ctx, "u", api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}, {ID: "img1"}}}); err != nil {
			t.Fatal(err)
		}
	}
	e.do("GET", "/v1/nothing", "", "")
	m, err := e.c.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`palate_http_requests_total{code="200",route="POST /v1/users/{user}/rank"} 3`,
		`palate_http_requests_total{code="200",route="POST /v1/images"} 1`,
		`palate_http_requests_total{code="404",route="unmatched"} 1`,
		`palate_http_request_duration_seconds_count{code="200",route="POST /v1/users/{user}/rank"} 3`,
		`palate_http_request_duration_seconds_bucket{code="200",route="POST /v1/users/{user}/rank",le="+Inf"} 3`,
		`palate_scores_total 6`,
		`palate_records_inserted_total{kind="image"} 4`,
		`palate_model_info{embedder="pixels-v3",version="` + records[0].Version + `"} 1`,
		`palate_context_cache_total{result="hit"} 2`,
		`palate_context_cache_users 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	resp, err := http.Get(e.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("metrics content type %q", ct)
	}
}

// counter reads one sample's value from the metrics.
func counter(t *testing.T, e *env, sample string) float64 {
	t.Helper()
	m, err := e.c.Metrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

func counterMatch(t *testing.T, e *env, pattern string) bool {
	t.Helper()
	m, err := e.c.Metrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(pattern).MatchString(m)
}

func TestCacheTickets(t *testing.T) {
	c := newCache[int](2)
	_, ok, tk := c.get("a")
	if ok {
		t.Fatal("empty cache hit")
	}
	c.drop("a") // an invalidation while "a" is being computed
	if c.put("a", tk, 1) {
		t.Fatal("put a value computed before an invalidation")
	}
	_, _, tk = c.get("a")
	if !c.put("a", tk, 1) {
		t.Fatal("put refused a fresh ticket")
	}
	if v, ok, _ := c.get("a"); !ok || v != 1 {
		t.Fatalf("get a = %v %v", v, ok)
	}
	_, _, tb := c.get("b")
	c.dropAll()
	_, _, tb2 := c.get("b") // a new entry after dropAll gets a new generation
	if c.put("b", tb, 2) || tb == tb2 {
		t.Fatal("put with a ticket from before dropAll")
	}
	c.put("b", tb2, 2)
	c.get("x")
	c.get("y") // evicts b (least recently used)
	if _, ok := c.peek("b"); ok {
		t.Fatal("LRU kept more than 2 entries")
	}
	if c.put("b", tb2, 3) {
		t.Fatal("put into an evicted entry")
	}
}
