package guide

import (
	"context"
	"math"
	"testing"

	"palate"
	"palate/baseline"
	"palate/dataset"
	"palate/features"
	"palate/history"
	"palate/model"
	"palate/scorer"
	"palate/train"
	"palate/world"
	"palate/world/worldtest"
)

// judgeWorld is a tiny built world with pixel embeddings, its history data
// and the world's own images as the generator would remake them.
type judgeWorld struct {
	cfg    world.Config
	d      *history.Data
	shown  map[string]world.Shown
	gen    *World
	pixels palate.Embedder
}

func newJudgeWorld(t *testing.T) *judgeWorld {
	t.Helper()
	cfg := world.DefaultConfig()
	cfg.Users, cfg.Groups, cfg.ImageSize = 16, 2, 32
	cfg.ComparisonsPerUser = world.Range{Min: 6, Max: 10}
	cfg.VotesPerUser = world.Range{Min: 0, Max: 2}
	px := features.NewPixels()
	dir, _ := worldtest.Build(t, cfg, px)
	ds, emb := worldtest.Read(t, dir, px.Name())
	d, err := history.LoadData(ds, emb, features.NewHashBOW(16))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := world.New(cfg)
	jw := &judgeWorld{cfg: cfg, d: d, shown: map[string]world.Shown{}, gen: NewWorld(cfg.ImageSize), pixels: px}
	for i := range cfg.Users {
		for _, s := range w.Simulate(i).Images {
			jw.shown[s.ID] = s
		}
	}
	return jw
}

// remake regenerates dataset images by row.
func (jw *judgeWorld) remake(t *testing.T, rows []int32) []*Generated {
	t.Helper()
	var out []*Generated
	for _, r := range rows {
		s := jw.shown[jw.d.Emb.IDs[r]]
		l := Latent{Codes: s.Latent.U[:], Seed: s.Latent.Seed}
		img, err := jw.gen.Generate(context.Background(), s.Prompt, l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &Generated{Prompt: s.Prompt, Latent: l, Image: img})
	}
	return out
}

// Each judge scores a remade dataset image exactly as its predictor scores
// the dataset's row, and the disliked-similarity of a disliked image is 1.
func TestJudgesMatchPredictors(t *testing.T) {
	jw := newJudgeWorld(t)
	d := jw.d
	ctx := context.Background()
	var u *history.UserData
	for _, x := range d.Parts(dataset.Train) {
		if len(x.Pairs) >= 4 && (u == nil || len(x.Pairs) > len(u.Pairs)) {
			u = x
		}
	}
	hist := ProtocolHistory(d, 3)
	h, err := hist(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := history.PairItems(u.Pairs[len(u.Pairs)-3:])
	if len(h.Items) != 6 || h.Items[0] != want[0] || h.Items[5] != want[5] {
		t.Fatalf("protocol history of a seen person is not their 3 most recent training pairs")
	}
	if _, err := hist("nobody"); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Errorf("unknown person: %v; want ENOTFOUND", err)
	}
	var unseen *history.UserData
	for _, x := range d.Parts(dataset.Unseen) {
		if len(x.Pairs) >= 4 {
			unseen = x
		}
	}
	if unseen != nil {
		hu, _ := hist(unseen.ID)
		if hu.Items[0] != history.PairItems(unseen.Pairs[:1])[0] || len(hu.Items) != 6 {
			t.Errorf("protocol history of an unseen person is not their first 3 pairs")
		}
	}

	// Candidates: one prompt's images (the test person's first pair) and
	// a disliked image of their history.
	p0 := u.Pairs[0]
	var disliked int32 = -1
	for _, it := range h.Items {
		if !it.Label.Positive() {
			disliked = it.Image
		}
	}
	rows := []int32{p0.Win, p0.Lose, disliked}
	imgs := jw.remake(t, rows)

	np := baseline.NewNonPersonal(baseline.NonPersonalOptions{Seed: 1, MaxEpochs: 3})
	ce := baseline.NewCentroid()
	for _, p := range []baseline.Predictor{np, ce} {
		if err := p.Fit(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	cfg := model.DefaultConfig()
	cfg.ImageDim, cfg.TextDim, cfg.DModel, cfg.Heads, cfg.MaxHistory = features.Dim, 16, 16, 2, 8
	tr, err := train.NewTrainer(cfg, train.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	weights, err := tr.Weights()
	if err != nil {
		t.Fatal(err)
	}
	ck := &train.Checkpoint{Config: cfg, Weights: weights,
		Embedder:     train.EmbedderInfo{Name: features.Name, Dim: features.Dim},
		TextEmbedder: train.EmbedderInfo{Name: model.HashBOWName, Dim: 16}}
	sc, err := scorer.New(ck, scorer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pj, err := NewPalate(sc, d, jw.pixels, hist)
	if err != nil {
		t.Fatal(err)
	}
	sctx, err := sc.Context(ctx, scorer.FromHistory(d, h.Items, h.At))
	if err != nil {
		t.Fatal(err)
	}
	// The remade images share the prompt of the pair, except the disliked
	// one: score each with the prompt of its own image.
	for i, r := range rows {
		pr := jw.shown[d.Emb.IDs[r]].Prompt
		one := imgs[i : i+1]
		res, err := sc.Score(ctx, sctx, scorer.Candidates(d, []int32{r}))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			j    Judge
			want float64
		}{
			{pj, float64(res.Scores[0])},
			{NewNonPersonal(np, jw.pixels, features.NewHashBOW(16)), np.Score(nil, []int32{r})[0]},
			{NewCentroid(ce, d, jw.pixels, hist), ce.Score(h.Items, []int32{r})[0]},
		} {
			got, err := c.j.Scores(ctx, u.ID, pr, one)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got[0]-c.want) > 1e-5 || c.want == 0 {
				t.Errorf("%s scores the remade image %d %g; its predictor scores the row %g", c.j.Name(), r, got[0], c.want)
			}
		}
	}
	for _, fb := range []Feedback{pj, NewCentroid(ce, d, jw.pixels, hist)} {
		sims, err := fb.Disliked(ctx, u.ID, imgs)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(sims[2]-1) > 1e-6 || sims[0] >= 1-1e-6 && p0.Win != disliked {
			t.Errorf("disliked similarities %v; want the disliked image itself at 1", sims)
		}
	}
	// A model made for another embedder is refused.
	if _, err := NewPalate(sc, d, worldtest.Blank{}, hist); palate.ErrorCode(err) != palate.EINVALID {
		t.Errorf("palate judge with a 1-float embedder: %v; want EINVALID", err)
	}
}
