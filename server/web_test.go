package server

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"palate"
	"palate/api"
	"palate/features"
	"palate/world"
	"palate/world/worldtest"
)

// tinyWorldDir holds the tiny world; TestMain removes it.
var tinyWorldDir string

// tinyWorld is a taste world of 16 people built once for the tests of the
// web routes.
var tinyWorld = sync.OnceValues(func() (string, error) {
	cfg := world.DefaultConfig()
	cfg.Users = 16
	cfg.Groups = 3
	cfg.ComparisonsPerUser = world.Range{Min: 4, Max: 8}
	cfg.VotesPerUser = world.Range{Min: 1, Max: 3}
	cfg.ImageSize = 32
	w, err := world.New(cfg)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "palate-web-world-")
	if err != nil {
		return "", err
	}
	tinyWorldDir = dir
	dir = filepath.Join(dir, "world")
	_, err = w.Build(context.Background(), dir, features.NewPixels(), nil)
	return dir, err
})

// worldEnv serves the tiny world: its records imported into a memstore,
// the images directory set, and generated pictures kept in a temporary
// directory.
func worldEnv(t *testing.T) (*env, string) {
	t.Helper()
	dir, err := tinyWorld()
	if err != nil {
		t.Fatal(err)
	}
	ds, emb := worldtest.Read(t, dir, features.Name)
	e := newEnv(t, Config{ModelDir: modelDirs[0], Images: dir, Generated: filepath.Join(t.TempDir(), "generated")})
	ctx := context.Background()
	if _, err := e.store.PutImages(ctx, ds.Images); err != nil {
		t.Fatal(err)
	}
	vecs := make([][]float32, len(emb.IDs))
	for i := range vecs {
		vecs[i] = emb.Row(i)
	}
	if _, err := e.store.PutEmbeddings(ctx, emb.Embedder, emb.IDs, vecs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddComparisons(ctx, ds.Comparisons); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddVotes(ctx, ds.Votes); err != nil {
		t.Fatal(err)
	}
	return e, dir
}

func TestImageFileServesDatasetAndGenerated(t *testing.T) {
	e, dir := worldEnv(t)
	ctx := context.Background()
	imgs, err := e.store.ListImages(ctx, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.c.ImageFile(ctx, imgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, imgs[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("dataset picture: got %d bytes, the file has %d", len(got), len(want))
	}

	gen, err := e.c.Generate(ctx, api.GenerateRequest{N: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if gen.Prompt == "" || len(gen.Images) != 2 || gen.Generator != "world" {
		t.Fatalf("generate: %+v", gen)
	}
	for _, im := range gen.Images {
		if !strings.HasPrefix(im.ID, generatedPrefix) || im.URL != "/v1/images/"+im.ID+"/file" {
			t.Fatalf("generated image %+v", im)
		}
		data, err := e.c.ImageFile(ctx, im.ID)
		if err != nil {
			t.Fatal(err)
		}
		pic, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("generated picture is not a PNG: %v", err)
		}
		if pic.Bounds().Dx() != 32 {
			t.Fatalf("generated picture is %d wide, the world draws 32", pic.Bounds().Dx())
		}
	}
	// The pictures are stored with vectors: they rank at once.
	rk, err := e.c.Rank(ctx, "u00", api.RankRequest{Candidates: []api.Candidate{{ID: gen.Images[0].ID}, {ID: gen.Images[1].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rk.Results) != 2 {
		t.Fatalf("rank of generated: %+v", rk)
	}
	// A second server over the same store and directory (a restart) still
	// serves the generated picture.
	e2 := newEnv(t, Config{Store: e.store, ModelDir: modelDirs[0], Images: dir, Generated: e.srv.generatedDir})
	if _, err := e2.c.ImageFile(ctx, gen.Images[0].ID); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	// Errors name what is wrong.
	if _, err := e.c.ImageFile(ctx, "nope"); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("unknown image: %v", err)
	}
	e.seedImages(1) // a vector-only image
	if _, err := e.c.ImageFile(ctx, "img0"); palate.ErrorCode(err) != palate.ENOTFOUND || !strings.Contains(err.Error(), "no picture file") {
		t.Fatalf("vector-only image: %v", err)
	}
}

func TestGenerateErrors(t *testing.T) {
	e, _ := worldEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		req  api.GenerateRequest
		code string
		msg  string
	}{
		{api.GenerateRequest{N: 0}, palate.EINVALID, "n: 0"},
		{api.GenerateRequest{N: 65}, palate.ETOOLARGE, "n: 65"},
	} {
		if _, err := e.c.Generate(ctx, c.req); palate.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v", c.req, err)
		}
	}
	status, body := e.do("POST", "/v1/generate", "", `{"n": 2, "size": 3}`)
	if status != http.StatusBadRequest || !strings.Contains(body, "size: unknown field") {
		t.Errorf("unknown field: %d %s", status, body)
	}
	// A prompt is kept as given.
	g, err := e.c.Generate(ctx, api.GenerateRequest{N: 1, Prompt: "three red stars"})
	if err != nil || g.Prompt != "three red stars" {
		t.Fatalf("%+v %v", g, err)
	}
	// Without a world there is no generator.
	plain := newEnv(t, Config{ModelDir: modelDirs[0]})
	if _, err := plain.c.Generate(ctx, api.GenerateRequest{N: 2}); palate.ErrorCode(err) != palate.ENOTIMPLEMENTED {
		t.Fatalf("no generator: %v", err)
	}
}

func TestRankNonPersonal(t *testing.T) {
	e, _ := worldEnv(t)
	ctx := context.Background()
	gen, err := e.c.Generate(ctx, api.GenerateRequest{N: 6, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var cands []api.Candidate
	for _, im := range gen.Images {
		cands = append(cands, api.Candidate{ID: im.ID})
	}
	no := false
	personal, err := e.c.Rank(ctx, "u00", api.RankRequest{Candidates: cands})
	if err != nil {
		t.Fatal(err)
	}
	general, err := e.c.Rank(ctx, "u00", api.RankRequest{Candidates: cands, Personal: &no})
	if err != nil {
		t.Fatal(err)
	}
	if personal.ColdStart || !general.ColdStart || general.HistoryItems != 0 {
		t.Fatalf("personal cold=%v, non-personal cold=%v items=%d", personal.ColdStart, general.ColdStart, general.HistoryItems)
	}
	same := true
	for i := range personal.Results {
		same = same && personal.Results[i].Score == general.Results[i].Score
	}
	if same {
		t.Fatal("personal and non-personal scores are identical")
	}
	// The non-personal score is the same for everyone.
	other, err := e.c.Rank(ctx, "u01", api.RankRequest{Candidates: cands, Personal: &no})
	if err != nil {
		t.Fatal(err)
	}
	for i := range other.Results {
		if other.Results[i].Score != general.Results[i].Score {
			t.Fatalf("non-personal score differs between people at %d", i)
		}
	}
}

func TestTasteMap(t *testing.T) {
	e, _ := worldEnv(t)
	m, err := e.c.Map(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Groups != 3 || m.Clusters != 3 {
		t.Fatalf("groups %d clusters %d, want 3 and 3", m.Groups, m.Clusters)
	}
	users, _ := e.c.Users(context.Background())
	if len(m.Points)+m.ColdStart != len(users.Users) || len(m.Points) < 10 {
		t.Fatalf("%d points + %d cold for %d users", len(m.Points), m.ColdStart, len(users.Users))
	}
	truth, err := world.ReadTruth(e.srv.imagesDir)
	if err != nil {
		t.Fatal(err)
	}
	group := map[string]int{}
	for _, p := range truth {
		group[p.ID] = p.Group
	}
	clusters := map[int]bool{}
	spread := false
	for _, p := range m.Points {
		if p.Group != group[p.User] {
			t.Fatalf("%s: group %d, truth says %d", p.User, p.Group, group[p.User])
		}
		if p.Cluster < 0 || p.Cluster >= 3 {
			t.Fatalf("%s: cluster %d", p.User, p.Cluster)
		}
		clusters[p.Cluster] = true
		spread = spread || p.X != 0 || p.Y != 0
		if p.Comparisons+p.Votes == 0 {
			t.Fatalf("%s has no records", p.User)
		}
	}
	if len(clusters) < 2 || !spread {
		t.Fatalf("degenerate map: clusters %v, spread %v", clusters, spread)
	}
}

func TestProfileTruth(t *testing.T) {
	e, _ := worldEnv(t)
	p, err := e.c.Profile(context.Background(), "u00", 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Truth == nil || len(p.Truth.Likes) == 0 || len(p.Truth.Dislikes) == 0 {
		t.Fatalf("no true taste: %+v", p.Truth)
	}
	for i, l := range p.Truth.Likes {
		if l.Effect <= 0 || (i > 0 && l.Effect > p.Truth.Likes[i-1].Effect) {
			t.Fatalf("likes not positive and strongest first: %+v", p.Truth.Likes)
		}
	}
	for _, d := range p.Truth.Dislikes {
		if d.Effect >= 0 {
			t.Fatalf("dislikes: %+v", p.Truth.Dislikes)
		}
	}
	// A person the world does not know has none.
	e.seedImages(2)
	e.c.AddVotes(context.Background(), []api.Vote{{ID: "v", User: "stranger", Image: "img0", Vote: "like"}})
	p, err = e.c.Profile(context.Background(), "stranger", 3)
	if err != nil || p.Truth != nil {
		t.Fatalf("stranger: %+v %v", p, err)
	}
}

func TestGuideRoute(t *testing.T) {
	e, _ := worldEnv(t)
	ctx := context.Background()
	for _, method := range []string{"best-of-n", "latent-search", "prompt"} {
		g, err := e.c.Guide(ctx, "u00", api.GuideRequest{Prompt: "a flower", Method: method, N: 8, Seed: 3})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if g.Method != method || g.Calls < 1 || g.Calls > 8 || g.ColdStart {
			t.Fatalf("%s: %+v", method, g)
		}
		if g.Guided.ID == g.Unguided.ID || g.Guided.PLike <= 0 {
			t.Fatalf("%s: pictures %+v %+v", method, g.Guided, g.Unguided)
		}
		for _, id := range []string{g.Guided.ID, g.Unguided.ID} {
			if _, err := e.c.ImageFile(ctx, id); err != nil {
				t.Fatalf("%s: %v", method, err)
			}
		}
		if method == "best-of-n" && g.Guided.Score < g.Unguided.Score {
			// best-of-8 keeps the best of its own 8; the unguided picture
			// is another draw, so this can fail only rarely; the seed
			// fixes it.
			t.Fatalf("best-of-n picked %.3f below the unguided %.3f", g.Guided.Score, g.Unguided.Score)
		}
	}
	for _, c := range []struct {
		req api.GuideRequest
		msg string
	}{
		{api.GuideRequest{Method: "best-of-n"}, "prompt: required"},
		{api.GuideRequest{Prompt: "x", Method: "magic"}, `method: "magic"`},
		{api.GuideRequest{Prompt: "x", Method: "prompt", N: 2}, "at least 3"},
		{api.GuideRequest{Prompt: "x", N: 100}, "n: 100"},
	} {
		if _, err := e.c.Guide(ctx, "u00", c.req); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want %q", c.req, err, c.msg)
		}
	}
}

func TestModelBench(t *testing.T) {
	bench := filepath.Join("..", "docs", "bench-quick-default.json")
	e := newEnv(t, Config{ModelDir: modelDirs[0], Bench: bench})
	m, err := e.c.Model(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range m.Bench {
		if r.Name == "palate" && r.Seen.Acc != nil && *r.Seen.Acc > 0.5 && r.Seen.N > 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no palate row in the bench table: %+v", m.Bench)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"format": "other"}`), 0o644)
	if _, err := New(context.Background(), Config{Store: e.store, ModelDir: modelDirs[0], Bench: bad}); err == nil || !strings.Contains(err.Error(), "format") {
		t.Fatalf("bad bench report: %v", err)
	}
}

func TestWebPage(t *testing.T) {
	e := newEnv(t, Config{ModelDir: modelDirs[0]})
	for path, want := range map[string]string{"/": "text/html", "/ui/app.js": "javascript", "/ui/style.css": "text/css"} {
		resp, err := http.Get(e.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	resp, err := http.Get(e.http.URL + "/ui/nothing.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("missing asset: %d", resp.StatusCode)
	}
}
