package guide

import (
	"context"
	"math"
	"sort"
	"time"

	"palate"
)

// Effect is prompt guidance's estimate of what adding a style phrase to
// the prompt does to the judge's score: the mean, over common latents, of
// the score with the phrase less the score without it.
type Effect struct {
	Style
	Effect float64 `json:"effect"`
	// Named is "positive" or "negative" when the phrase went into that
	// prompt.
	Named string `json:"named,omitempty"`
}

// PromptGuidance steers with words, as ViPer does: it estimates each style
// phrase's effect on the judge's score by rendering the prompt with and
// without the phrase from the same latents (so only what the phrase sets
// changes), then names the liked phrases (the best of each group, if its
// effect is above the margin) in a positive prompt and the disliked ones
// (below minus the margin, in groups with no liked phrase) in a negative
// prompt, and makes one picture from them with a fresh latent.
//
// With B = Budget and V phrases, every phrase is tried on
// M = max(1, (B−1)/(V+1)) latents; when B is too small for all of them, a
// random subset of (B−1)/M − 1 phrases is. It needs a budget of at least 3
// (one plain picture, one variant, the final picture); EINVALID below.
func PromptGuidance(ctx context.Context, g Prompter, j Judge, user, prompt string, opt Options) (*Result, error) {
	start := time.Now()
	if err := opt.fill(); err != nil {
		return nil, err
	}
	if opt.Budget < 3 {
		return nil, palate.Errorf(palate.EINVALID, "guide: prompt guidance needs a budget of at least 3 generator calls, got %d", opt.Budget)
	}
	r := opt.rand()
	res := &Result{Method: MethodPrompt, GuidedBy: j.Name(), Positive: prompt}
	styles := g.Styles(prompt)
	r.Shuffle(len(styles), func(a, b int) { styles[a], styles[b] = styles[b], styles[a] })
	if len(styles) > 0 {
		m := max(1, (opt.Budget-1)/(len(styles)+1))
		styles = styles[:min(len(styles), (opt.Budget-1)/m-1)]
		var imgs []*Generated
		for range m {
			l := g.Sample(r, prompt)
			im, err := generate(ctx, g, prompt, "", l, &res.Calls)
			if err != nil {
				return nil, err
			}
			imgs = append(imgs, im)
			for _, s := range styles {
				im, err := generate(ctx, g, joinPrompt(prompt, s.Words), "", l, &res.Calls)
				if err != nil {
					return nil, err
				}
				imgs = append(imgs, im)
			}
		}
		scores, err := scoreAll(ctx, j, user, prompt, imgs)
		if err != nil {
			return nil, err
		}
		res.Scored = len(imgs)
		row := len(styles) + 1
		effects := make([]float64, len(styles))
		for k := range styles {
			for i := range m {
				effects[k] += (scores[i*row+1+k] - scores[i*row]) / float64(m)
			}
		}
		res.Effects, res.Positive, res.Negative = name(prompt, styles, effects, opt.Margin)
	}
	l := g.Sample(r, prompt)
	final, err := generate(ctx, g, res.Positive, res.Negative, l, &res.Calls)
	if err != nil {
		return nil, err
	}
	s, err := scoreAll(ctx, j, user, prompt, []*Generated{final})
	if err != nil {
		return nil, err
	}
	res.Scored++
	res.Best, res.Score = final, s[0]
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// name picks the phrases for the positive and negative prompts from their
// effects and returns the effects, sorted from most liked to most
// disliked, with the prompts.
func name(prompt string, styles []Style, effects []float64, margin float64) ([]Effect, string, string) {
	// A floor far below any real effect keeps rounding noise (an exact
	// zero computed as 1e-17) from being named.
	var big float64
	for _, e := range effects {
		big = max(big, math.Abs(e))
	}
	thr := max(margin*stddev(effects), 1e-9*big)
	out := make([]Effect, len(styles))
	for k, s := range styles {
		out[k] = Effect{Style: s, Effect: effects[k]}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Effect > out[b].Effect })
	liked := map[string]bool{}
	positive, negative := prompt, ""
	for k := range out {
		e := &out[k]
		if e.Effect > thr && !liked[e.Group] {
			liked[e.Group] = true
			e.Named = "positive"
			positive = joinPrompt(positive, e.Words)
		}
	}
	for k := len(out) - 1; k >= 0; k-- {
		e := &out[k]
		if e.Effect < -thr && !liked[e.Group] {
			e.Named = "negative"
			negative = joinPrompt(negative, e.Words)
		}
	}
	return out, positive, negative
}

// Spearman is the rank correlation of two equally long series (ties get
// their mean rank); NaN when either is constant or they are shorter than 2.
func Spearman(a, b []float64) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return math.NaN()
	}
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	n := float64(len(ra))
	ma, mb = ma/n, mb/n
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-ma, rb[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks returns 1-based ranks with ties given their mean rank.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}
