package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"palate"
	"palate/api"
	"palate/features"
	"palate/model"
	"palate/scorer"
)

// Records go in through every form of the write routes, and rank answers
// what the scorer answers for the same history read directly.
func TestRecordAndRank(t *testing.T) {
	e := publishedEnv(t)
	ctx := context.Background()
	e.seedImages(8)
	// Pictures are embedded by the server; a single object works as a batch
	// of one.
	pic := pngOf(t, 40, 30, 1)
	body := fmt.Sprintf(`{"id":"pic1","prompt":"two red orbs","image":%q}`, base64.StdEncoding.EncodeToString(pic))
	if code, out := e.do("POST", "/v1/images", "", body); code != 200 || !strings.Contains(out, `"inserted":1`) {
		t.Fatalf("single image: %d %s", code, out)
	}
	w, err := e.c.AddImages(ctx, []api.Image{{ID: "pic1", Prompt: "two red orbs", Image: pic}, {ID: "pic2", Image: pngOf(t, 16, 16, 2)}})
	if err != nil || w.Inserted != 1 || w.Duplicate != 1 {
		t.Fatalf("image batch: %+v %v", w, err)
	}
	stored, err := e.store.Embeddings(ctx, features.Name, []string{"pic1"})
	if err != nil {
		t.Fatal(err)
	}
	img, _, _ := features.Decode(strings.NewReader(string(pic)), features.Limits{})
	want, _ := features.NewPixels().Embed(ctx, img)
	if !slices.Equal(stored[0], want) {
		t.Fatal("the stored vector of an uploaded picture is not its pixels-v3 embedding")
	}

	if code, out := e.do("POST", "/v1/comparisons", "", `{"id":"c1","user":"ann","image_0":"img0","image_1":"img1","label_0":1,"time":"2026-11-01T12:00:00Z"}`); code != 200 {
		t.Fatalf("single comparison: %d %s", code, out)
	}
	if _, err := e.c.AddComparisons(ctx, []api.Comparison{
		{ID: "c2", User: "ann", Image0: "img2", Image1: "pic1", Label0: api.Float(0), Time: t0.Add(time.Minute)},
		{ID: "c3", User: "ann", Image0: "img3", Image1: "img4", Label0: api.Float(0.5), Time: t0.Add(2 * time.Minute)}, // a tie: no history
	}); err != nil {
		t.Fatal(err)
	}
	if code, out := e.do("POST", "/v1/votes", "", `{"id":"v1","user":"ann","image":"img5","vote":"dislike","time":"2026-11-01T12:05:00Z"}`); code != 200 {
		t.Fatalf("single vote: %d %s", code, out)
	}
	if _, err := e.c.AddVotes(ctx, []api.Vote{{ID: "v2", User: "ann", Image: "pic2", Vote: "like", Time: t0.Add(3 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}

	cands := []api.Candidate{
		{ID: "img6"},
		{ID: "img7", Prompt: "a different prompt"},
		{Image: pngOf(t, 20, 20, 9), Prompt: "three stars"},
		{Embedding: vec(99), Embedder: features.Name},
	}
	res, err := e.c.Rank(ctx, "ann", api.RankRequest{Candidates: cands})
	if err != nil {
		t.Fatal(err)
	}
	if res.ColdStart || res.HistoryItems != 6 || res.Model != records[0].Version || len(res.Results) != 4 {
		t.Fatalf("rank: %+v", res)
	}

	// The same history and candidates through the scorer directly.
	sc, err := scorer.Load(modelDirs[0], scorer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vecOf := func(id string) []float32 {
		v, err := e.store.Embeddings(ctx, features.Name, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		return v[0]
	}
	text := func(p string) []float32 { v, _ := sc.EmbedPrompt(p); return v }
	at := t0.Add(5*time.Minute + time.Second)
	hist := []scorer.HistoryItem{
		{Image: vecOf("img0"), Text: text("prompt 0"), Label: model.LabelLiked, Age: at.Sub(t0)},
		{Image: vecOf("img1"), Text: text("prompt 1"), Label: model.LabelDisliked, Age: at.Sub(t0)},
		{Image: vecOf("pic1"), Text: text("two red orbs"), Label: model.LabelLiked, Age: at.Sub(t0.Add(time.Minute))},
		{Image: vecOf("img2"), Text: text("prompt 2"), Label: model.LabelDisliked, Age: at.Sub(t0.Add(time.Minute))},
		{Image: vecOf("pic2"), Text: text(""), Label: model.LabelSingleLike, Age: at.Sub(t0.Add(3 * time.Minute))},
		{Image: vecOf("img5"), Text: text("prompt 2"), Label: model.LabelSingleDislike, Age: at.Sub(t0.Add(5 * time.Minute))},
	}
	c, err := sc.Context(ctx, hist)
	if err != nil {
		t.Fatal(err)
	}
	upload, _, _ := features.Decode(strings.NewReader(string(cands[2].Image)), features.Limits{})
	upVec, _ := features.NewPixels().Embed(ctx, upload)
	direct, err := sc.Score(ctx, c, []scorer.Candidate{
		{Image: vecOf("img6"), Text: text("prompt 0")},
		{Image: vecOf("img7"), Text: text("a different prompt")},
		{Image: upVec, Text: text("three stars")},
		{Image: vec(99), Text: text("")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Results {
		if r.Index != i || math.Abs(float64(r.Score-direct.Scores[i])) > 1e-5 {
			t.Errorf("candidate %d: server %+v, scorer %v", i, r, direct.Scores[i])
		}
		if math.Abs(r.PLike-1/(1+math.Exp(-float64(r.Score)))) > 1e-9 {
			t.Errorf("candidate %d: p_like %v is not σ(score %v)", i, r.PLike, r.Score)
		}
	}
	for k, i := range res.Order {
		if res.Results[i].Rank != k+1 || (k > 0 && res.Results[res.Order[k-1]].Score < res.Results[i].Score) {
			t.Fatalf("order %v does not sort the scores: %+v", res.Order, res.Results)
		}
	}
	if res.Results[0].ID != "img6" || res.Results[2].ID != "" {
		t.Errorf("ids not echoed: %+v", res.Results)
	}

	// Someone with no history is a cold start with the model's population scores.
	cold, err := e.c.Rank(ctx, "nobody", api.RankRequest{Candidates: cands[:1]})
	if err != nil || !cold.ColdStart || cold.HistoryItems != 0 {
		t.Fatalf("cold start: %+v %v", cold, err)
	}
	// A new vote reaches the next rank at once (the writing server drops its cache).
	if _, err := e.c.AddVotes(ctx, []api.Vote{{ID: "v3", User: "ann", Image: "img7", Vote: "like", Time: t0.Add(6 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	res2, err := e.c.Rank(ctx, "ann", api.RankRequest{Candidates: cands[:1]})
	if err != nil || res2.HistoryItems != 7 {
		t.Fatalf("after a vote: %+v %v", res2, err)
	}
}

func TestProfileSimilarUsersModel(t *testing.T) {
	e := publishedEnv(t)
	ctx := context.Background()
	e.seedImages(12)
	for i, u := range []string{"a1", "a2", "a3", "b1", "b2", "b3"} {
		e.seedUser(u, 6, 12, u[0] == 'a', uint64(i))
	}
	if _, err := e.c.AddVotes(ctx, []api.Vote{{ID: "v", User: "a1", Image: "img11", Vote: "like", Time: t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}

	us, err := e.c.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(us.Users) != 6 || us.Users[0].User != "a1" || us.Users[0].Comparisons != 6 || us.Users[0].Votes != 1 || !us.Users[0].Last.Equal(t0.Add(time.Hour)) {
		t.Fatalf("users: %+v", us.Users)
	}

	p, err := e.c.Profile(ctx, "a1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Comparisons != 6 || p.Votes != 1 || p.ColdStart || p.HistoryItems != 12 || len(p.Descriptor) != 5 {
		t.Fatalf("profile: %+v", p)
	}
	if len(p.TopLiked) != 3 || len(p.TopDisliked) != 3 {
		t.Fatalf("top lists: %+v %+v", p.TopLiked, p.TopDisliked)
	}
	for i := 1; i < 3; i++ {
		if p.TopLiked[i].Score > p.TopLiked[i-1].Score || p.TopDisliked[i].Score < p.TopDisliked[i-1].Score {
			t.Fatalf("top lists not sorted: %+v %+v", p.TopLiked, p.TopDisliked)
		}
	}
	// Liked images really were liked by a1.
	h, _ := e.store.History(ctx, "a1")
	liked := map[string]bool{"img11": true}
	for _, c := range h.Comparisons {
		w, _, _ := c.Winner()
		liked[w] = true
	}
	for _, s := range p.TopLiked {
		if !liked[s.ID] {
			t.Errorf("top liked %s was never liked", s.ID)
		}
	}
	cold, err := e.c.Profile(ctx, "stranger", 0)
	if err != nil || !cold.ColdStart || len(cold.Descriptor) != 0 || cold.Comparisons != 0 {
		t.Fatalf("cold profile: %+v %v", cold, err)
	}

	sim, err := e.c.Similar(ctx, "a1", 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(sim.Users) != 4 {
		t.Fatalf("similar: %+v", sim)
	}
	for i, u := range sim.Users {
		if u.User == "a1" || u.Similarity < -1-1e-9 || u.Similarity > 1+1e-9 || (i > 0 && u.Similarity > sim.Users[i-1].Similarity) {
			t.Fatalf("similar: %+v", sim.Users)
		}
	}
	// The same answer from the descriptor cache, and the same after a
	// user's history changes and their descriptor is recomputed. Without
	// GOEXPERIMENT=simd a second call gave one of two answers 5-15% of the
	// time, 1e-6 apart (not traced: a descriptor computed again sums in
	// another order), so the similarities agree to 1e-5, float32's reach,
	// not to the last bit.
	again, err := e.c.Similar(ctx, "a1", 4)
	same := err == nil && len(again.Users) == len(sim.Users)
	for i := 0; same && i < len(sim.Users); i++ {
		same = again.Users[i].User == sim.Users[i].User && math.Abs(again.Users[i].Similarity-sim.Users[i].Similarity) < 1e-5
	}
	if !same {
		t.Fatalf("cached similar differs: %+v, want %+v (%v)", again.Users, sim.Users, err)
	}
	_, err = e.c.Similar(ctx, "stranger", 3)
	wantErr(t, err, palate.ENOTFOUND, `"stranger"`)

	mi, err := e.c.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Version != records[0].Version || mi.Source != "store" || mi.Embedder != features.Name || mi.EmbedderDim != features.Dim ||
		mi.TextEmbedder != model.HashBOWName || !strings.Contains(string(mi.Config), `"d_model":32`) || len(mi.Summary) == 0 {
		t.Fatalf("model: %+v", mi)
	}
	h2, err := e.c.Health(ctx)
	if err != nil || h2.Status != "ok" {
		t.Fatalf("healthz: %+v %v", h2, err)
	}
	r, err := e.c.Ready(ctx)
	if err != nil || r.Status != "ready" || r.Model != records[0].Version {
		t.Fatalf("readyz: %+v %v", r, err)
	}
}

// A model directory is served as given, with a version from its manifest.
func TestModelDir(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[1]})
	mi, err := e.c.Model(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mi.Version, "dir-") || mi.Source != modelDirs[1] {
		t.Fatalf("model: %+v", mi)
	}
	// Published models do not replace it.
	if err := e.mem.PublishModel(context.Background(), records[0]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if mi2, _ := e.c.Model(context.Background()); mi2.Version != mi.Version {
		t.Fatalf("a published model replaced --model: %s", mi2.Version)
	}
	if _, err := New(context.Background(), Config{Store: e.mem, ModelDir: t.TempDir()}); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("New with an empty model dir: %v", err)
	}
}

// Without a model the server records but does not rank; a publication
// makes it ready without a restart.
func TestNotReadyUntilPublished(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	_, err := e.c.Ready(ctx)
	wantErr(t, err, palate.EUNAVAILABLE, "no model loaded")
	e.seedImages(3)
	_, err = e.c.Rank(ctx, "u", api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}}})
	wantErr(t, err, palate.EUNAVAILABLE, "palate model publish")
	code, _ := e.do("GET", "/v1/model", "", "")
	if code != 503 {
		t.Fatalf("model without one: %d", code)
	}
	if err := e.mem.PublishModel(ctx, records[1]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ready after publishing", func() error { _, err := e.c.Ready(ctx); return err })
	res, err := e.c.Rank(ctx, "u", api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}}})
	if err != nil || res.Model != records[1].Version {
		t.Fatalf("rank after publishing: %+v %v", res, err)
	}
	// A store that stops answering makes the server not ready.
	e.mem.Close()
	_, err = e.c.Ready(ctx)
	wantErr(t, err, palate.EUNAVAILABLE, "store")
}

// A published archive that is not a checkpoint is refused; the server
// keeps serving the model it had.
func TestBadPublishedModelKeepsOld(t *testing.T) {
	e := publishedEnv(t)
	ctx := context.Background()
	bad := &palate.ModelRecord{Version: "broken", Embedder: records[0].Embedder, Created: t0, Archive: []byte("not a tar archive, just some words of text of sufficient length to fill a block...")}
	if err := e.mem.PublishModel(ctx, bad); err != nil {
		t.Fatal(err)
	}
	eventually(t, "load failure counted", func() error {
		m, err := e.c.Metrics(ctx)
		if err != nil {
			return err
		}
		if !strings.Contains(m, `palate_model_loads_total{result="error"} 1`) {
			return fmt.Errorf("no failed load in metrics:\n%s", grep(m, "palate_model"))
		}
		return nil
	})
	mi, err := e.c.Model(ctx)
	if err != nil || mi.Version != records[0].Version {
		t.Fatalf("model after a bad publication: %+v %v", mi, err)
	}
}

func TestLimitsResolve(t *testing.T) {
	l := Limits{MaxBatch: 7}.resolve()
	if l.MaxBatch != 7 || l.MaxCandidates != DefaultLimits.MaxCandidates || l.RequestTimeout != DefaultLimits.RequestTimeout {
		t.Fatalf("%+v", l)
	}
}

// Scores from a checkpoint's own files equal what the server serves from
// the same checkpoint published: packing loses nothing.
func TestPublishedEqualsDir(t *testing.T) {
	ctx := context.Background()
	a := publishedEnv(t)
	b := newEnv(t, Config{ModelDir: modelDirs[0]})
	for _, e := range []*env{a, b} {
		e.seedImages(4)
		e.seedUser("u", 3, 4, true, 1)
	}
	cands := api.RankRequest{Candidates: []api.Candidate{{ID: "img0"}, {ID: "img3"}}}
	ra, err := a.c.Rank(ctx, "u", cands)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.c.Rank(ctx, "u", cands)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ra.Results {
		if ra.Results[i].Score != rb.Results[i].Score {
			t.Fatalf("published %v, dir %v", ra.Results, rb.Results)
		}
	}
}
