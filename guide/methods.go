package guide

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"palate"
)

// Method names.
const (
	MethodBestOfN      = "best-of-n"
	MethodLatentSearch = "latent-search"
	MethodPrompt       = "prompt"
	MethodUnguided     = "unguided"
)

// Methods are the guidance methods, in table order.
var Methods = []string{MethodBestOfN, MethodLatentSearch, MethodPrompt}

// DefaultBudget is the default number of generator calls per guided picture.
const DefaultBudget = 32

// Options shape one guided generation. Zero values take the defaults in
// brackets.
type Options struct {
	// Budget is the most generator calls the method may make
	// [DefaultBudget].
	Budget int
	// Seed seeds every random choice. A method given the same seed draws
	// the same first latents whatever the judge, so judges are compared on
	// common ground.
	Seed uint64
	// Avoid is latent search's weight on a picture's similarity to the
	// person's disliked history (negative feedback, for judges that
	// implement Feedback), in units of the spread of the first
	// generation's scores [0.5; negative for none].
	Avoid float64
	// Scale is latent search's first step size, shrinking by a fifth each
	// generation [0.25].
	Scale float64
	// Margin is how far beyond zero, in standard deviations of all the
	// estimated effects, a phrase's effect must be for prompt guidance to
	// name it [0; negative is 0].
	Margin float64
}

func (o *Options) fill() error {
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.Budget < 1 {
		return palate.Errorf(palate.EINVALID, "guide: budget is %d generator calls; want at least 1", o.Budget)
	}
	if o.Avoid == 0 {
		o.Avoid = 0.5
	} else if o.Avoid < 0 {
		o.Avoid = 0
	}
	if o.Scale <= 0 {
		o.Scale = 0.25
	}
	if o.Margin < 0 {
		o.Margin = 0
	}
	return nil
}

func (o *Options) rand() *rand.Rand { return rand.New(rand.NewPCG(o.Seed, 0x6e1de)) }

// Result is a guided picture and what it cost.
type Result struct {
	Method   string `json:"method"`
	GuidedBy string `json:"guided_by"`
	// Best is the picture the method chose.
	Best *Generated `json:"best"`
	// Score is the judge's score of Best for the person's prompt.
	Score float64 `json:"score"`
	// Calls is how many pictures the generator made; Scored how many the
	// judge scored.
	Calls  int `json:"calls"`
	Scored int `json:"scored"`
	// Seconds is the wall time of the whole method.
	Seconds float64 `json:"seconds"`
	// Positive and Negative are prompt guidance's prompts; Effects its
	// estimate of each style phrase's effect on the judge's score.
	Positive string   `json:"positive,omitempty"`
	Negative string   `json:"negative,omitempty"`
	Effects  []Effect `json:"effects,omitempty"`
}

// Unguided is the generator left alone: one picture from a latent drawn as
// the generator draws it. Options.Seed picks the latent.
func Unguided(ctx context.Context, g Generator, prompt string, opt Options) (*Result, error) {
	start := time.Now()
	if err := opt.fill(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x0a9e1de))
	res := &Result{Method: MethodUnguided, Score: math.NaN()}
	var err error
	if res.Best, err = generate(ctx, g, prompt, "", g.Sample(r, prompt), &res.Calls); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// BestOfN makes Budget pictures from independent latents and keeps the one
// the judge scores highest (the first on a tie).
func BestOfN(ctx context.Context, g Generator, j Judge, user, prompt string, opt Options) (*Result, error) {
	start := time.Now()
	if err := opt.fill(); err != nil {
		return nil, err
	}
	r := opt.rand()
	res := &Result{Method: MethodBestOfN, GuidedBy: j.Name()}
	imgs := make([]*Generated, 0, opt.Budget)
	for range opt.Budget {
		im, err := generate(ctx, g, prompt, "", g.Sample(r, prompt), &res.Calls)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, im)
	}
	scores, err := scoreAll(ctx, j, user, prompt, imgs)
	if err != nil {
		return nil, err
	}
	res.Scored = len(imgs)
	best := argmax(scores)
	res.Best, res.Score = imgs[best], scores[best]
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// LatentSearch is an evolution strategy over the generator's latent space
// that maximises the judge's score less Avoid times the picture's
// similarity to what the person disliked (when the judge implements
// Feedback): a first generation of max(1, Budget/4) sampled latents, then
// generations of as many children, each a Perturb of one of the
// max(1, generation/4) best pictures so far, with the step size shrinking by a fifth
// each generation, until Budget generator calls are spent. It returns the
// best picture seen by that objective; it never makes more than Budget
// calls.
func LatentSearch(ctx context.Context, g Generator, j Judge, user, prompt string, opt Options) (*Result, error) {
	start := time.Now()
	if err := opt.fill(); err != nil {
		return nil, err
	}
	r := opt.rand()
	res := &Result{Method: MethodLatentSearch, GuidedBy: j.Name()}
	fb, _ := j.(Feedback)
	if opt.Avoid == 0 {
		fb = nil
	}
	type cand struct {
		im         *Generated
		score, obj float64
	}
	var all []cand
	spread := 1.0
	evaluate := func(ls []Latent) error {
		imgs := make([]*Generated, len(ls))
		for i, l := range ls {
			im, err := generate(ctx, g, prompt, "", l, &res.Calls)
			if err != nil {
				return err
			}
			imgs[i] = im
		}
		scores, err := scoreAll(ctx, j, user, prompt, imgs)
		if err != nil {
			return err
		}
		res.Scored += len(imgs)
		var sims []float64
		if fb != nil {
			if sims, err = fb.Disliked(ctx, user, imgs); err != nil {
				return err
			}
		}
		if len(all) == 0 { // the first generation sets the penalty's scale
			if sd := stddev(scores); sd > 0 {
				spread = sd
			}
		}
		for i, im := range imgs {
			c := cand{im: im, score: scores[i], obj: scores[i]}
			if sims != nil {
				c.obj -= opt.Avoid * spread * sims[i]
			}
			all = append(all, c)
		}
		sort.SliceStable(all, func(a, b int) bool { return all[a].obj > all[b].obj })
		return nil
	}
	pop := max(1, opt.Budget/4)
	first := make([]Latent, pop)
	for i := range first {
		first[i] = g.Sample(r, prompt)
	}
	if err := evaluate(first); err != nil {
		return nil, err
	}
	scale := opt.Scale
	for res.Calls < opt.Budget {
		n := min(pop, opt.Budget-res.Calls)
		elite := min(max(1, pop/4), len(all))
		kids := make([]Latent, n)
		for i := range kids {
			kids[i] = g.Perturb(r, all[i%elite].im.Latent, scale)
		}
		if err := evaluate(kids); err != nil {
			return nil, err
		}
		scale *= 0.8
	}
	res.Best, res.Score = all[0].im, all[0].score
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// scoreAll scores pictures and checks the judge's answer.
func scoreAll(ctx context.Context, j Judge, user, prompt string, imgs []*Generated) ([]float64, error) {
	s, err := j.Scores(ctx, user, prompt, imgs)
	if err != nil {
		return nil, err
	}
	if len(s) != len(imgs) {
		return nil, palate.Errorf(palate.EINTERNAL, "guide: judge %s gave %d scores for %d pictures", j.Name(), len(s), len(imgs))
	}
	for i, x := range s {
		if math.IsNaN(x) {
			return nil, palate.Errorf(palate.EINTERNAL, "guide: judge %s scored picture %d NaN", j.Name(), i)
		}
	}
	return s, nil
}

func argmax(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func stddev(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	var s, s2 float64
	for _, v := range x {
		s += v
		s2 += v * v
	}
	n := float64(len(x))
	return math.Sqrt(max(0, s2/n-(s/n)*(s/n)))
}
