package guide

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"palate"
	"palate/world"
)

// counting wraps a generator and records every latent it is asked for.
type counting struct {
	*World
	mu      sync.Mutex
	latents []Latent
}

func (c *counting) Generate(ctx context.Context, prompt string, l Latent) (image.Image, error) {
	return c.GenerateNegative(ctx, prompt, "", l)
}

func (c *counting) GenerateNegative(ctx context.Context, prompt, negative string, l Latent) (image.Image, error) {
	c.mu.Lock()
	c.latents = append(c.latents, l.Clone())
	c.mu.Unlock()
	return c.World.GenerateNegative(ctx, prompt, negative, l)
}

// linear is a judge linear in the world's attributes (continuous ones only).
type linear struct {
	g *World
	w map[int]float64
}

func (*linear) Name() string { return "linear" }

func (j *linear) score(prompt, negative string, l Latent) float64 {
	a, _ := j.g.Attrs(prompt, negative, l)
	v := map[int]float64{world.AttrSaturation: a.Saturation, world.AttrBrightness: a.Brightness,
		world.AttrContrast: a.Contrast, world.AttrGrain: a.Grain, world.AttrClutter: a.Clutter,
		world.AttrScale: a.Scale, world.AttrSymmetry: a.Symmetry}
	var s float64
	for k := range world.NumAttrs { // in a fixed order, so equal pictures score equal
		s += j.w[k] * v[k]
	}
	return s
}

func (j *linear) Scores(_ context.Context, _, _ string, imgs []*Generated) ([]float64, error) {
	out := make([]float64, len(imgs))
	for i, g := range imgs {
		out[i] = j.score(g.Prompt, g.Negative, g.Latent)
	}
	return out, nil
}

// disliker is a linear judge that also reports, as its "dislike
// similarity", how bright a picture is.
type disliker struct{ *linear }

func (d disliker) Disliked(_ context.Context, _ string, imgs []*Generated) ([]float64, error) {
	out := make([]float64, len(imgs))
	for i, g := range imgs {
		a, _ := d.g.Attrs(g.Prompt, g.Negative, g.Latent)
		out[i] = a.Brightness
	}
	return out, nil
}

func TestBudgetsAndArgmax(t *testing.T) {
	ctx := context.Background()
	for _, budget := range []int{1, 2, 3, 5, 8, 13, 32, 40} {
		for _, method := range Methods {
			g := &counting{World: NewWorld(16)}
			j := &linear{g: g.World, w: map[int]float64{world.AttrSaturation: 1}}
			opt := Options{Budget: budget, Seed: uint64(budget)}
			var res *Result
			var err error
			switch method {
			case MethodBestOfN:
				res, err = BestOfN(ctx, g, j, "u", "a star", opt)
			case MethodLatentSearch:
				res, err = LatentSearch(ctx, g, disliker{j}, "u", "a star", opt)
			case MethodPrompt:
				res, err = PromptGuidance(ctx, g, j, "u", "a star", opt)
				if budget < 3 {
					if palate.ErrorCode(err) != palate.EINVALID {
						t.Errorf("prompt guidance with budget %d: %v; want EINVALID", budget, err)
					}
					continue
				}
			}
			if err != nil {
				t.Fatalf("%s, budget %d: %v", method, budget, err)
			}
			if len(g.latents) > budget || res.Calls != len(g.latents) {
				t.Errorf("%s, budget %d: %d generator calls, %d reported", method, budget, len(g.latents), res.Calls)
			}
			if method != MethodPrompt && res.Calls != budget {
				t.Errorf("%s, budget %d: used %d calls; want all", method, budget, res.Calls)
			}
			if method == MethodBestOfN {
				best := math.Inf(-1)
				for _, l := range g.latents {
					best = math.Max(best, j.score("a star", "", l))
				}
				if res.Score != best || j.score("a star", "", res.Best.Latent) != best {
					t.Errorf("best-of-n, budget %d: kept a picture scoring %g; the best scored %g", budget, res.Score, best)
				}
			}
		}
	}
	if _, err := BestOfN(ctx, NewWorld(16), &linear{g: NewWorld(16)}, "u", "a star", Options{Budget: -1}); palate.ErrorCode(err) != palate.EINVALID {
		t.Errorf("negative budget: %v; want EINVALID", err)
	}
}

func TestLatentSearchClimbsAndAvoids(t *testing.T) {
	ctx := context.Background()
	g := NewWorld(16)
	j := &linear{g: g, w: map[int]float64{world.AttrSaturation: 1, world.AttrBrightness: 1, world.AttrClutter: -1}}
	var search, best, avoidB, plainB float64
	const n = 20
	for s := range uint64(n) {
		opt := Options{Budget: 32, Seed: s}
		ls, err := LatentSearch(ctx, g, j, "u", "a star", opt)
		if err != nil {
			t.Fatal(err)
		}
		bn, _ := BestOfN(ctx, g, j, "u", "a star", opt)
		search += ls.Score / n
		best += bn.Score / n
		// With a judge that reports brightness as closeness to what the
		// person disliked, the penalty pulls brightness down.
		av, _ := LatentSearch(ctx, g, disliker{j}, "u", "a star", Options{Budget: 32, Seed: s, Avoid: 3})
		a1, _ := g.Attrs(av.Best.Prompt, "", av.Best.Latent)
		a2, _ := g.Attrs(ls.Best.Prompt, "", ls.Best.Latent)
		avoidB += a1.Brightness / n
		plainB += a2.Brightness / n
	}
	if search <= best {
		t.Errorf("latent search scored %.3f on average, best-of-32 %.3f: the search does not climb", search, best)
	}
	if avoidB >= plainB-0.1 {
		t.Errorf("with negative feedback the mean brightness is %.2f, without %.2f; want clearly lower", avoidB, plainB)
	}
}

func TestPromptGuidanceRecoversLinearJudge(t *testing.T) {
	ctx := context.Background()
	g := NewWorld(16)
	j := &linear{g: g, w: map[int]float64{world.AttrSaturation: 1, world.AttrBrightness: -1, world.AttrClutter: 0.5, world.AttrScale: -0.3}}
	res, err := PromptGuidance(ctx, g, j, "u", "a star", Options{Budget: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The true effect of each phrase: its interval's mean against the
	// open mean (0.5), times the attribute's weight.
	var est, truth []float64
	for _, e := range res.Effects {
		ph, ok := g.Phrase(e.Words)
		if !ok {
			t.Fatalf("effect of unknown phrase %q", e.Words)
		}
		est = append(est, e.Effect)
		truth = append(truth, j.w[ph.Attr]*((ph.Lo+ph.Hi)/2-0.5))
	}
	if len(est) != len(g.Styles("a star")) {
		t.Errorf("estimated %d phrases; a budget of 1000 covers all %d", len(est), len(g.Styles("a star")))
	}
	if rho := Spearman(est, truth); rho < 0.9 {
		t.Errorf("Spearman between estimated and true effects is %.2f; want >= 0.9\n%+v", rho, res.Effects)
	}
	for _, w := range []string{"neon", "dark", "busy", "tiny"} {
		if !strings.Contains(res.Positive, w) {
			t.Errorf("positive prompt %q lacks %q", res.Positive, w)
		}
	}
	if !strings.HasPrefix(res.Positive, "a star") {
		t.Errorf("positive prompt %q does not start with the person's prompt", res.Positive)
	}
	for _, w := range []string{"neon", "dark", "muted", "airy"} {
		if strings.Contains(res.Negative, w) {
			t.Errorf("negative prompt %q names %q, of a group with a liked phrase", res.Negative, w)
		}
	}
	for _, e := range res.Effects {
		if j.w[mustPhrase(t, g, e.Words).Attr] == 0 && e.Named != "" {
			t.Errorf("%q, of an attribute the judge ignores, was named %s", e.Words, e.Named)
		}
	}
	a, _ := g.Attrs(res.Best.Prompt, res.Best.Negative, res.Best.Latent)
	if a.Saturation < 0.85 || a.Brightness > 0.3 || a.Clutter < 0.7 {
		t.Errorf("the final picture %+v is not neon, dark and busy", a)
	}
	if res.Calls > 1000 {
		t.Errorf("%d calls over a budget of 1000", res.Calls)
	}
}

// The paper's claim in miniature: guided by a person's true utility, each
// method's picture wins clearly over the unguided generator's, judged by
// that person with their Bradley–Terry noise.
func TestOracleGuidanceWins(t *testing.T) {
	cfg := world.DefaultConfig()
	cfg.Users, cfg.Images = 12, "none"
	cfg.ComparisonsPerUser = world.Range{Min: 4, Max: 6}
	w, err := world.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := NewWorld(16)
	o := &Oracle{W: w, Gen: g, People: map[string]*world.Person{}}
	var people []*world.Person
	for i := range cfg.Users {
		p := w.Simulate(i).Person
		o.People[p.ID] = p
		people = append(people, p)
	}
	ctx := context.Background()
	wins := map[string]float64{}
	n := 0
	for k, p := range people {
		r := rand.New(rand.NewPCG(uint64(k), 9))
		for q := range 3 {
			prompt := p.Style.MakePrompt(r).Text
			seed := uint64(100*k + q)
			un, err := Unguided(ctx, g, prompt, Options{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			u0, _ := o.Scores(ctx, p.ID, prompt, []*Generated{un.Best})
			n++
			for _, m := range Methods {
				opt := Options{Budget: 32, Seed: seed}
				var res *Result
				switch m {
				case MethodBestOfN:
					res, err = BestOfN(ctx, g, o, p.ID, prompt, opt)
				case MethodLatentSearch:
					res, err = LatentSearch(ctx, g, o, p.ID, prompt, opt)
				case MethodPrompt:
					res, err = PromptGuidance(ctx, g, o, p.ID, prompt, opt)
				}
				if err != nil {
					t.Fatal(err)
				}
				u, _ := o.Scores(ctx, p.ID, prompt, []*Generated{res.Best})
				wins[m] += 1 / (1 + math.Exp(-(u[0]-u0[0])/cfg.Noise))
			}
		}
	}
	for _, m := range Methods {
		rate := wins[m] / float64(n)
		t.Logf("%s guided by the oracle wins %.1f%% against unguided", m, 100*rate)
		if rate < 0.7 {
			t.Errorf("%s guided by the oracle wins %.1f%% against unguided; want > 70%%", m, 100*rate)
		}
	}
}

func mustPhrase(t *testing.T, g *World, words string) world.Phrase {
	t.Helper()
	ph, ok := g.Phrase(words)
	if !ok {
		t.Fatalf("%q is not a style phrase", words)
	}
	return ph
}

func TestSpearman(t *testing.T) {
	tests := map[string]struct {
		a, b []float64
		want float64
	}{
		"same order":  {[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		"reversed":    {[]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		"monotone":    {[]float64{1, 2, 3}, []float64{1, 8, 27}, 1},
		"ties":        {[]float64{1, 1, 2}, []float64{1, 2, 3}, math.Sqrt(3) / 2},
		"constant":    {[]float64{1, 1, 1}, []float64{1, 2, 3}, math.NaN()},
		"too short":   {[]float64{1}, []float64{1}, math.NaN()},
		"wrong sizes": {[]float64{1, 2}, []float64{1, 2, 3}, math.NaN()},
	}
	for name, tc := range tests {
		got := Spearman(tc.a, tc.b)
		if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-12) {
			t.Errorf("%s: Spearman = %g; want %g", name, got, tc.want)
		}
	}
}
