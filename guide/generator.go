package guide

import (
	"context"
	"image"
	"math/rand/v2"
	"slices"

	"palate"
)

// Latent is a point of a generator's latent space: what a prompt leaves open,
// as a diffusion model's noise does. Codes are continuous coordinates in
// [0, 1] and Seed a noise seed; what they mean is the generator's business
// (the world renderer: one code per attribute and its detail seed; the
// AUTOMATIC1111 adapter: the sampler seed and a code choosing a style
// suffix). Methods treat a Latent as opaque and move through the space only
// with the generator's Sample and Perturb.
type Latent struct {
	Codes []float64 `json:"codes"`
	Seed  uint64    `json:"seed"`
}

// Clone returns a copy that shares nothing with l.
func (l Latent) Clone() Latent { return Latent{Codes: slices.Clone(l.Codes), Seed: l.Seed} }

// Generator makes a picture for a prompt from a latent. Generate must be a
// pure function of its arguments (the same prompt and latent give the same
// picture), so that a search can return to a point it has seen.
// Implementations are safe for concurrent use.
type Generator interface {
	// Name names the generator in summaries, e.g. "world" or "a1111".
	Name() string
	// Generate makes the picture. Returns EINVALID for a latent that is
	// not of this generator, EUNAVAILABLE when a remote generator fails.
	Generate(ctx context.Context, prompt string, l Latent) (image.Image, error)
	// Sample draws a latent as the unguided generator would for prompt.
	Sample(r *rand.Rand, prompt string) Latent
	// Perturb returns a latent near l; scale in (0, 1] sets how far
	// (about the standard deviation of a code's move). l is not modified.
	Perturb(r *rand.Rand, l Latent, scale float64) Latent
}

// Prompter is a generator that prompt guidance can steer with words: it has
// a vocabulary of style phrases and takes a negative prompt.
type Prompter interface {
	Generator
	// Styles returns the style phrases that may be added to prompt: those
	// of the vocabulary that would not contradict what it already asks.
	Styles(prompt string) []Style
	// GenerateNegative is Generate with a negative prompt: what the
	// picture should not show ("" for none).
	GenerateNegative(ctx context.Context, prompt, negative string, l Latent) (image.Image, error)
}

// Style is a phrase of a generator's style vocabulary. Phrases of one Group
// set the same thing (in the world, one attribute), so a prompt takes at
// most one of them.
type Style struct {
	Words string `json:"words"`
	Group string `json:"group"`
}

// Generated is one picture a method made, with what made it.
type Generated struct {
	// Prompt is what the generator was given: the person's prompt, plus
	// any guidance words.
	Prompt string `json:"prompt"`
	// Negative is the negative prompt given, if any.
	Negative string `json:"negative,omitempty"`
	Latent   Latent `json:"latent"`
	// Image is the picture.
	Image image.Image `json:"-"`

	emb     []float32
	embName string
}

// Embedding returns the picture's embedding by e, computed once and kept
// for later calls with an embedder of the same name. Not safe for
// concurrent use on one Generated.
func (g *Generated) Embedding(ctx context.Context, e palate.Embedder) ([]float32, error) {
	if g.emb != nil && g.embName == e.Name() {
		return g.emb, nil
	}
	if g.Image == nil {
		return nil, palate.Errorf(palate.EINVALID, "guide: generated picture has no image to embed")
	}
	v, err := e.Embed(ctx, g.Image)
	if err != nil {
		return nil, err
	}
	g.emb, g.embName = v, e.Name()
	return v, nil
}

// generate makes one picture and counts the call.
func generate(ctx context.Context, g Generator, prompt, negative string, l Latent, calls *int) (*Generated, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var img image.Image
	var err error
	if negative != "" {
		p, ok := g.(Prompter)
		if !ok {
			return nil, palate.Errorf(palate.EINVALID, "guide: generator %s takes no negative prompt", g.Name())
		}
		img, err = p.GenerateNegative(ctx, prompt, negative, l)
	} else {
		img, err = g.Generate(ctx, prompt, l)
	}
	*calls++
	if err != nil {
		return nil, err
	}
	return &Generated{Prompt: prompt, Negative: negative, Latent: l, Image: img}, nil
}
