package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"palate"
	"palate/api"
	"palate/dataset"
	"palate/features"
	"palate/postgres/pgtest"
)

// e2eWorld builds a tiny world with PNGs and its pixels-v3 table through
// `palate world`, and returns its directory and dataset.
func e2eWorld(t *testing.T) (string, *dataset.Dataset) {
	t.Helper()
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "world.json")
	os.WriteFile(cfg, []byte(`{"users": 12, "groups": 2, "comparisons_per_user": {"min": 4, "max": 6},
		"votes_per_user": {"min": 1, "max": 2}, "image_size": 16}`), 0o644)
	dir := filepath.Join(tmp, "world")
	if code, _, errOut := run(t, "world", "--config", cfg, "--out", dir); code != 0 {
		t.Fatalf("world exited %d: %s", code, errOut)
	}
	ds, err := dataset.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, ds
}

// e2eTrain trains a tiny model on dir with `palate train` and returns its
// checkpoint directory.
func e2eTrain(t *testing.T, dir string, steps int) string {
	t.Helper()
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "train.json")
	os.WriteFile(cfg, []byte(`{"model": {"d_model": 16, "layers": 1, "heads": 2, "max_history": 8, "pref_tokens": 2, "text_dim": 16},
		"train": {"eval_every": 5}}`), 0o644)
	ck := filepath.Join(tmp, "model")
	code, out, errOut := run(t, "train", "--data", dir, "--out", ck, "--config", cfg, "--steps", strconv.Itoa(steps))
	if code != 0 || !strings.Contains(out, "checkpoint:") {
		t.Fatalf("train exited %d: %s %s", code, out, errOut)
	}
	return ck
}

// rawCall sends body (when not nil) to path with key and returns the status
// and, for an error, its decoded body.
func rawCall(t *testing.T, base, key, method, path string, body []byte) (int, api.ErrorBody) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var er api.ErrorResponse
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(data, &er); err != nil || er.Error.Code == "" {
			t.Fatalf("%s %s: status %d with a body that is not an error: %q", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, er.Error
}

// wantErr checks that err is a palate error with code whose message
// contains each of want.
func wantErr(t *testing.T, what string, err error, code string, want ...string) {
	t.Helper()
	if palate.ErrorCode(err) != code || err == nil {
		t.Fatalf("%s: %v; want code %s", what, err, code)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("%s: %q does not name %q", what, err.Error(), w)
		}
	}
}

// interactionCounts returns the comparisons and votes the server's
// /v1/users lists, in all.
func interactionCounts(t *testing.T, c *api.Client) (comparisons, votes int) {
	t.Helper()
	us, err := c.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us.Users {
		comparisons += u.Comparisons
		votes += u.Votes
	}
	return comparisons, votes
}

func scoresOf(r *api.RankResponse) []float32 {
	out := make([]float32, len(r.Results))
	for i, x := range r.Results {
		out[i] = x.Score
	}
	return out
}

func closeScores(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(float64(a[i])) || math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

// TestServiceEndToEnd runs the whole program: `palate world` makes a tiny
// world, `palate import --db` loads it into a SQLite file, `palate train`
// trains briefly, and `palate serve` serves it on port 0 with keys; every
// route is then driven through the Go client, bad inputs included. It runs
// on PostgreSQL too when PALATE_TEST_POSTGRES is set.
func TestServiceEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	t.Run("sqlite", func(t *testing.T) { testServiceEndToEnd(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db")) })
	t.Run("postgres", func(t *testing.T) { testServiceEndToEnd(t, pgtest.URL(t)) })
}

func testServiceEndToEnd(t *testing.T, db string) {
	ctx := context.Background()
	dir, ds := e2eWorld(t)
	if code, out, errOut := run(t, "import", "--db", db, "--data", dir); code != 0 || !strings.Contains(out, fmt.Sprintf("images %d new", len(ds.Images))) {
		t.Fatalf("import exited %d: %s %s", code, out, errOut)
	}
	ck := e2eTrain(t, dir, 10)

	t.Setenv("PALATE_WRITE_KEY", "wkey")
	t.Setenv("PALATE_READ_KEY", "rkey")
	const maxBody, maxBatch, maxCands = 200_000, 20, 16
	url := startServe(t, "--db", db, "--model", ck, "--max-body", fmt.Sprint(maxBody),
		"--max-batch", fmt.Sprint(maxBatch), "--max-candidates", fmt.Sprint(maxCands))
	w := &api.Client{BaseURL: url, Key: "wkey"}
	r := &api.Client{BaseURL: url, Key: "rkey"}

	// Probes and the model.
	if h, err := r.Health(ctx); err != nil || h.Status != "ok" {
		t.Fatalf("healthz: %+v %v", h, err)
	}
	ready, err := (&api.Client{BaseURL: url}).Ready(ctx) // open route
	if err != nil || ready.Status != "ready" || !strings.HasPrefix(ready.Model, "dir-") {
		t.Fatalf("readyz: %+v %v", ready, err)
	}
	mi, err := r.Model(ctx)
	if err != nil || mi.Version != ready.Model || mi.Source != ck || mi.Embedder != features.Name || mi.EmbedderDim != features.Dim || len(mi.Config) == 0 {
		t.Fatalf("model: %+v %v", mi, err)
	}

	// The imported records are there.
	nc, nv := interactionCounts(t, r)
	if nc != len(ds.Comparisons) || nv != len(ds.Votes) {
		t.Fatalf("users lists %d comparisons and %d votes; the world has %d and %d", nc, nv, len(ds.Comparisons), len(ds.Votes))
	}

	// Images: an uploaded PNG and a vector.
	table, err := dataset.ReadEmbeddings(dir, features.Name)
	if err != nil {
		t.Fatal(err)
	}
	rows := table.Index()
	src := ds.Images[0]
	png, err := os.ReadFile(filepath.Join(dir, src.Path))
	if err != nil {
		t.Fatal(err)
	}
	vec := table.Row(rows[src.ID])
	wr, err := w.AddImages(ctx, []api.Image{
		{ID: "up-png", Prompt: src.Prompt, Image: png},
		{ID: "up-vec", Prompt: src.Prompt, Embedding: vec, Embedder: features.Name},
	})
	if err != nil || wr.Inserted != 2 || wr.Duplicate != 0 {
		t.Fatalf("add images: %+v %v", wr, err)
	}
	if wr, err := w.AddImages(ctx, []api.Image{{ID: "up-vec", Prompt: src.Prompt, Embedding: vec, Embedder: features.Name}}); err != nil || wr.Duplicate != 1 {
		t.Fatalf("resending an image: %+v %v", wr, err)
	}

	// Rank one image four ways: by its id, by the uploaded PNG's and the
	// vector's ids, as an upload and as an embedding. All score alike.
	user := ds.Comparisons[0].User
	four := api.RankRequest{Candidates: []api.Candidate{
		{ID: src.ID}, {ID: "up-png"}, {ID: "up-vec"},
		{Image: png, Prompt: src.Prompt},
		{Embedding: vec, Embedder: features.Name, Prompt: src.Prompt},
	}}
	rk, err := r.Rank(ctx, user, four)
	if err != nil {
		t.Fatal(err)
	}
	if rk.User != user || rk.Model != ready.Model || rk.ColdStart || rk.HistoryItems == 0 || len(rk.Results) != 5 || len(rk.Order) != 5 {
		t.Fatalf("rank: %+v", rk)
	}
	for i, res := range rk.Results {
		if res.Index != i || math.Abs(float64(res.Score-rk.Results[0].Score)) > 1e-5 || res.PLike <= 0 || res.PLike >= 1 {
			t.Fatalf("rank of one image given five ways: %+v", rk.Results)
		}
	}

	// A person's picks change their scores: the cached context is dropped.
	var cands []api.Candidate
	for _, im := range ds.Images[1:9] {
		cands = append(cands, api.Candidate{ID: im.ID})
	}
	fresh := "newcomer"
	cold, err := r.Rank(ctx, fresh, api.RankRequest{Candidates: cands})
	if err != nil || !cold.ColdStart || cold.HistoryItems != 0 {
		t.Fatalf("rank for a person without records: %+v %v", cold, err)
	}
	again, err := r.Rank(ctx, fresh, api.RankRequest{Candidates: cands})
	if err != nil || !closeScores(scoresOf(cold), scoresOf(again), 0) {
		t.Fatalf("ranking twice: %v then %v (%v)", scoresOf(cold), scoresOf(again), err)
	}
	if wr, err := w.AddComparisons(ctx, []api.Comparison{{ID: "new-c1", User: fresh, Prompt: src.Prompt, Image0: ds.Images[1].ID, Image1: ds.Images[2].ID, Label0: api.Float(1)}}); err != nil || wr.Inserted != 1 {
		t.Fatalf("comparison: %+v %v", wr, err)
	}
	// Sent again without a time (the server stamped the first), it is the
	// same record.
	if wr, err := w.AddComparisons(ctx, []api.Comparison{{ID: "new-c1", User: fresh, Prompt: src.Prompt, Image0: ds.Images[1].ID, Image1: ds.Images[2].ID, Label0: api.Float(1)}}); err != nil || wr.Duplicate != 1 {
		t.Fatalf("resending a comparison: %+v %v", wr, err)
	}
	picked, err := r.Rank(ctx, fresh, api.RankRequest{Candidates: cands})
	if err != nil || picked.ColdStart || picked.HistoryItems != 2 || closeScores(scoresOf(cold), scoresOf(picked), 0) {
		t.Fatalf("rank after a comparison: %+v %v; before %v", picked, err, scoresOf(cold))
	}
	before, err := r.Rank(ctx, user, api.RankRequest{Candidates: cands})
	if err != nil {
		t.Fatal(err)
	}
	if wr, err := w.AddVotes(ctx, []api.Vote{{ID: "new-v1", User: user, Image: ds.Images[3].ID, Vote: palate.Dislike}}); err != nil || wr.Inserted != 1 {
		t.Fatalf("vote: %+v %v", wr, err)
	}
	after, err := r.Rank(ctx, user, api.RankRequest{Candidates: cands})
	if err != nil || closeScores(scoresOf(before), scoresOf(after), 0) {
		t.Fatalf("a vote left %s's scores as they were: %v then %v (%v)", user, scoresOf(before), scoresOf(after), err)
	}
	// A server that never cached this person scores alike.
	other := &api.Client{BaseURL: startServe(t, "--db", db, "--model", ck), Key: "rkey"}
	cold2, err := other.Rank(ctx, user, api.RankRequest{Candidates: cands})
	if err != nil || !closeScores(scoresOf(after), scoresOf(cold2), 1e-5) {
		t.Fatalf("after the vote the first server scores %v, a fresh server %v (%v)", scoresOf(after), scoresOf(cold2), err)
	}

	// Votes in a batch, similar people, the profile.
	if wr, err := w.AddVotes(ctx, []api.Vote{
		{ID: "new-v2", User: fresh, Image: ds.Images[4].ID, Vote: palate.Like},
		{ID: "new-v3", User: fresh, Image: ds.Images[5].ID, Vote: palate.Dislike},
	}); err != nil || wr.Inserted != 2 {
		t.Fatalf("vote batch: %+v %v", wr, err)
	}
	sim, err := r.Similar(ctx, user, 3)
	if err != nil || sim.User != user || sim.Model != ready.Model || len(sim.Users) != 3 {
		t.Fatalf("similar: %+v %v", sim, err)
	}
	for _, su := range sim.Users {
		if su.User == user || su.Similarity < -1-1e-9 || su.Similarity > 1+1e-9 {
			t.Fatalf("similar lists %+v", su)
		}
	}
	prof, err := r.Profile(ctx, fresh, 2)
	if err != nil || prof.Comparisons != 1 || prof.Votes != 2 || prof.ColdStart || len(prof.Descriptor) == 0 ||
		len(prof.TopLiked) != 2 || len(prof.TopDisliked) != 2 {
		t.Fatalf("profile: %+v %v", prof, err)
	}
	if prof.TopLiked[0].Score < prof.TopLiked[1].Score || prof.TopDisliked[0].Score > prof.TopDisliked[1].Score {
		t.Fatalf("profile lists out of order: %+v %+v", prof.TopLiked, prof.TopDisliked)
	}
	us, err := r.Users(ctx)
	if err != nil || !slices.ContainsFunc(us.Users, func(u api.UserSummary) bool { return u.User == fresh && u.Comparisons == 1 && u.Votes == 2 }) {
		t.Fatalf("users lacks %s with 1 comparison and 2 votes: %+v %v", fresh, us, err)
	}

	// Bad inputs, each with its status and code; none writes anything.
	nc, nv = interactionCounts(t, r)
	badVotes := []api.Vote{
		{ID: "b1", User: fresh, Image: ds.Images[6].ID, Vote: palate.Like},
		{ID: "b2", User: fresh, Image: ds.Images[7].ID, Vote: palate.Like},
		{ID: "b3", User: fresh, Image: "no-such-image", Vote: palate.Like},
	}
	_, err = w.AddVotes(ctx, badVotes)
	if err == nil || !strings.Contains(err.Error(), "items[2]") || !strings.Contains(err.Error(), "no-such-image") {
		t.Fatalf("a batch with an unknown image: %v; want an error naming items[2]", err)
	}
	if c := palate.ErrorCode(err); c != palate.ENOTFOUND && c != palate.EINVALID {
		t.Fatalf("a vote on an unknown image: code %s", c)
	}
	_, err = w.AddComparisons(ctx, []api.Comparison{
		{ID: "b4", User: fresh, Image0: ds.Images[6].ID, Image1: ds.Images[7].ID, Label0: api.Float(1)},
		{ID: "b5", User: fresh, Image0: ds.Images[6].ID, Image1: ds.Images[7].ID, Label0: api.Float(0.3)},
	})
	wantErr(t, "a batch with a bad label", err, palate.EINVALID, "items[1].label_0")
	_, err = w.AddImages(ctx, []api.Image{{ID: "up-png", Prompt: "another prompt", Image: png}})
	wantErr(t, "an image id reused with other content", err, palate.ECONFLICT, "up-png")
	_, err = w.AddVotes(ctx, []api.Vote{{ID: "new-v1", User: user, Image: ds.Images[3].ID, Vote: palate.Like}})
	wantErr(t, "a vote id reused with other content", err, palate.ECONFLICT, "new-v1")
	if c, v := interactionCounts(t, r); c != nc || v != nv {
		t.Fatalf("rejected writes changed the counts: %d comparisons and %d votes, were %d and %d", c, v, nc, nv)
	}
	if p, err := r.Profile(ctx, fresh, 0); err != nil || p.Comparisons != 1 || p.Votes != 2 {
		t.Fatalf("profile after rejected batches: %+v %v", p, err)
	}

	_, err = r.Rank(ctx, user, api.RankRequest{Candidates: []api.Candidate{{ID: src.ID}, {ID: "nope"}}})
	wantErr(t, "rank of an unknown image", err, palate.ENOTFOUND, `candidates[1].id`, `"nope"`)
	_, err = r.Rank(ctx, user, api.RankRequest{Candidates: []api.Candidate{{Embedding: vec[:10]}}})
	wantErr(t, "rank of a short vector", err, palate.EINVALID, "candidates[0].embedding")
	_, err = r.Rank(ctx, user, api.RankRequest{Candidates: []api.Candidate{{ID: src.ID, Embedding: vec}}})
	wantErr(t, "rank of a candidate given twice", err, palate.EINVALID, "candidates[0]")
	_, err = r.Rank(ctx, user, api.RankRequest{Candidates: make([]api.Candidate, maxCands+1)})
	wantErr(t, "too many candidates", err, palate.ETOOLARGE, "candidates", fmt.Sprint(maxCands))
	many := make([]api.Vote, maxBatch+1)
	for i := range many {
		many[i] = api.Vote{ID: fmt.Sprint("m", i), User: fresh, Image: ds.Images[6].ID, Vote: palate.Like}
	}
	_, err = w.AddVotes(ctx, many)
	wantErr(t, "a batch over the limit", err, palate.ETOOLARGE, "items", fmt.Sprint(maxBatch))
	_, err = w.AddImages(ctx, []api.Image{{ID: "huge", Image: make([]byte, maxBody)}})
	wantErr(t, "a body over the limit", err, palate.ETOOLARGE, "body", fmt.Sprint(maxBody))
	_, err = w.AddImages(ctx, []api.Image{{ID: "junk", Image: []byte("not a picture")}})
	wantErr(t, "an upload that is no picture", err, palate.EINVALID, "image")
	_, err = r.Similar(ctx, user, 1_000_000)
	wantErr(t, "similar with n over the limit", err, palate.ETOOLARGE, "n")

	raw := map[string]struct {
		method, path, key, body string
		status                  int
		code, want              string
	}{
		"unknown field":          {"POST", "/v1/votes", "wkey", `{"id": "x", "user": "u", "image": "i", "vote": "like", "colour": 1}`, 400, palate.EINVALID, "colour: unknown field"},
		"unknown field in batch": {"POST", "/v1/comparisons", "wkey", `{"items": [{"id": "x", "user": "u", "image_0": "a", "image_1": "b", "label_0": 1}, {"id": "y", "extra": 2}]}`, 400, palate.EINVALID, "items[1].extra: unknown field"},
		"unknown rank field":     {"POST", "/v1/users/u/rank", "rkey", `{"candidates": [{"id": "a", "weight": 2}]}`, 400, palate.EINVALID, "candidates[0].weight: unknown field"},
		"wrong type":             {"POST", "/v1/votes", "wkey", `{"id": 7, "user": "u", "image": "i", "vote": "like"}`, 400, palate.EINVALID, "id: got a JSON number"},
		"bad json":               {"POST", "/v1/votes", "wkey", `{"id": `, 400, palate.EINVALID, "truncated"},
		"bad vote":               {"POST", "/v1/votes", "wkey", `{"id": "x", "user": "u", "image": "i", "vote": "love"}`, 400, palate.EINVALID, `vote: "love"`},
		"no key":                 {"GET", "/v1/users", "", "", 401, palate.EUNAUTHORIZED, "missing key"},
		"wrong key":              {"POST", "/v1/users/u/rank", "guess", `{"candidates": [{"id": "a"}]}`, 401, palate.EUNAUTHORIZED, "unknown key"},
		"read key writes":        {"POST", "/v1/votes", "rkey", `{"id": "x", "user": "u", "image": "i", "vote": "like"}`, 403, palate.EFORBIDDEN, "write key"},
		"no route":               {"GET", "/v1/nothing", "rkey", "", 404, palate.ENOTFOUND, "no route"},
		"wrong method":           {"GET", "/v1/votes", "rkey", "", 405, palate.EMETHOD, "POST"},
	}
	for name, tc := range raw {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		status, eb := rawCall(t, url, tc.key, tc.method, tc.path, body)
		if status != tc.status || eb.Code != tc.code || !strings.Contains(eb.Message, tc.want) {
			t.Errorf("%s: %d %+v; want %d %s naming %q", name, status, eb, tc.status, tc.code, tc.want)
		}
	}
	if _, err := (&api.Client{BaseURL: url}).Users(ctx); palate.ErrorCode(err) != palate.EUNAUTHORIZED {
		t.Errorf("users without a key: %v", err)
	}
	if _, err := r.AddVotes(ctx, []api.Vote{{ID: "x", User: "u", Image: src.ID, Vote: palate.Like}}); palate.ErrorCode(err) != palate.EFORBIDDEN {
		t.Errorf("a vote with the read key: %v", err)
	}
	if c, v := interactionCounts(t, w); c != nc || v != nv {
		t.Fatalf("rejected requests changed the counts: %d comparisons and %d votes, were %d and %d", c, v, nc, nv)
	}

	// The OpenAPI document lists every route; metrics count requests by route.
	doc, err := (&api.Client{BaseURL: url}).OpenAPI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil || !strings.HasPrefix(spec.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %v (version %q)", err, spec.OpenAPI)
	}
	routes := []string{"POST /v1/comparisons", "POST /v1/votes", "POST /v1/images", "POST /v1/users/{user}/rank",
		"GET /v1/users/{user}/similar", "GET /v1/users/{user}/profile", "GET /v1/users", "GET /v1/model",
		"GET /v1/openapi.json", "GET /healthz", "GET /readyz", "GET /metrics"}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		if _, ok := spec.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("openapi.json lacks %s", rt)
		}
	}
	text, err := (&api.Client{BaseURL: url}).Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := func(route, code string) int {
		re := regexp.MustCompile(`(?m)^palate_http_requests_total\{code="` + code + `",route="` + regexp.QuoteMeta(route) + `"\} (\d+)$`)
		m := re.FindStringSubmatch(text)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	wantCounts := []struct {
		route, code string
		min         int
	}{
		{"POST /v1/users/{user}/rank", "200", 6},
		{"POST /v1/users/{user}/rank", "404", 1},
		{"POST /v1/users/{user}/rank", "413", 1},
		{"POST /v1/votes", "200", 2},
		{"POST /v1/votes", "403", 2},
		{"POST /v1/votes", "409", 1},
		{"POST /v1/images", "200", 2},
		{"POST /v1/images", "413", 1},
		{"POST /v1/comparisons", "400", 2},
		{"GET /v1/users", "401", 2},
		{"GET /v1/users/{user}/similar", "200", 1},
		{"GET /v1/users/{user}/profile", "200", 2},
		{"GET /v1/model", "200", 1},
		{"GET /readyz", "200", 1},
		{"GET /healthz", "200", 1},
		{"GET /v1/openapi.json", "200", 1},
	}
	for _, wc := range wantCounts {
		if n := count(wc.route, wc.code); n < wc.min {
			t.Errorf("metrics count %d requests %s with %s; want at least %d", n, wc.route, wc.code, wc.min)
		}
	}
	for _, want := range []string{"palate_scores_total", `palate_model_info{embedder="` + features.Name + `",version="` + ready.Model + `"} 1`,
		`palate_records_inserted_total{kind="vote"}`, `palate_context_cache_total{result="hit"}`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
