package guide

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"strings"

	"palate"
	"palate/world"
)

// World is the taste world's renderer as a generator. A latent holds one
// code per attribute (world.NumAttrs codes) and the detail seed: the prompt
// narrows each attribute to the interval its phrases name and the code picks
// a point inside it, so what the prompt fixes stays fixed, as with a
// diffusion model's noise. A negative prompt removes the intervals of the
// style phrases it names from what the prompt allows (ignored for an
// attribute where nothing would remain). Commas and semicolons in prompts
// read as spaces.
type World struct {
	size    int
	phrases []world.Phrase
}

// NewWorld returns the renderer drawing size×size pictures (the world's
// image_size, so that embeddings match the dataset's).
func NewWorld(size int) *World {
	return &World{size: size, phrases: world.StylePhrases()}
}

// Name implements Generator.
func (*World) Name() string { return "world" }

// Size is the side of the pictures it draws.
func (g *World) Size() int { return g.size }

// Sample implements Generator: every code uniform, a random seed.
func (g *World) Sample(r *rand.Rand, _ string) Latent {
	l := Latent{Codes: make([]float64, world.NumAttrs), Seed: r.Uint64()}
	for i := range l.Codes {
		l.Codes[i] = r.Float64()
	}
	return l
}

// Perturb implements Generator: each code moves by a normal step of
// standard deviation scale (reflected back into [0, 1]) and the detail seed
// is redrawn with probability min(scale, 1).
func (g *World) Perturb(r *rand.Rand, l Latent, scale float64) Latent {
	out := l.Clone()
	for i := range out.Codes {
		out.Codes[i] = reflect01(out.Codes[i] + scale*r.NormFloat64())
	}
	if r.Float64() < scale {
		out.Seed = r.Uint64()
	}
	return out
}

// reflect01 folds x into [0, 1] by reflection at both ends.
func reflect01(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0.5
	}
	x = math.Mod(math.Abs(x), 2)
	if x > 1 {
		x = 2 - x
	}
	return x
}

// Generate implements Generator.
func (g *World) Generate(ctx context.Context, prompt string, l Latent) (image.Image, error) {
	return g.GenerateNegative(ctx, prompt, "", l)
}

// GenerateNegative implements Prompter.
func (g *World) GenerateNegative(ctx context.Context, prompt, negative string, l Latent) (image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, err := g.Attrs(prompt, negative, l)
	if err != nil {
		return nil, err
	}
	return world.Draw(a, l.Seed, g.size), nil
}

// Attrs returns the true attributes of the picture Generate draws: what
// measurement judges with the simulated people's utilities. Returns
// EINVALID for a latent that is not the world's.
func (g *World) Attrs(prompt, negative string, l Latent) (world.Attrs, error) {
	if len(l.Codes) != world.NumAttrs {
		return world.Attrs{}, palate.Errorf(palate.EINVALID, "guide: a world latent has %d codes, got %d", world.NumAttrs, len(l.Codes))
	}
	for i, c := range l.Codes {
		if !(c >= 0 && c <= 1) {
			return world.Attrs{}, palate.Errorf(palate.EINVALID, "guide: latent code %d (%s) is %g; want 0..1", i, world.AttrNames[i], c)
		}
	}
	p := world.ParsePrompt(cleanPrompt(prompt))
	excl := map[int][][2]float64{}
	if negative != "" {
		neg := " " + strings.ToLower(strings.Join(strings.Fields(cleanPrompt(negative)), " ")) + " "
		for _, ph := range g.phrases {
			if !strings.Contains(neg, " "+ph.Words+" ") {
				continue
			}
			excl[ph.Attr] = append(excl[ph.Attr], [2]float64{ph.Lo, ph.Hi})
			if ph.Attr == world.AttrHue { // hue is a circle
				excl[ph.Attr] = append(excl[ph.Attr], [2]float64{ph.Lo - 1, ph.Hi - 1}, [2]float64{ph.Lo + 1, ph.Hi + 1})
			}
		}
	}
	var codes [world.NumAttrs]float64
	for i := range codes {
		u := min(l.Codes[i], 1-1e-12)
		pieces := subtract(p.Lo[i], p.Hi[i], excl[i])
		if len(pieces) == 0 {
			pieces = [][2]float64{{p.Lo[i], p.Hi[i]}}
		}
		codes[i] = mapInto(pieces, u)
	}
	return world.FromCodes(codes), nil
}

// Styles implements Prompter: the style phrases of attributes the prompt
// leaves open, grouped by attribute.
func (g *World) Styles(prompt string) []Style {
	p := world.ParsePrompt(cleanPrompt(prompt))
	var out []Style
	for _, ph := range g.phrases {
		if p.Lo[ph.Attr] == 0 && p.Hi[ph.Attr] == 1 {
			out = append(out, Style{Words: ph.Words, Group: world.AttrNames[ph.Attr]})
		}
	}
	return out
}

// Phrase returns the vocabulary entry of a style phrase, and false for
// words that are not one.
func (g *World) Phrase(words string) (world.Phrase, bool) {
	for _, ph := range g.phrases {
		if ph.Words == words {
			return ph, true
		}
	}
	return world.Phrase{}, false
}

func cleanPrompt(s string) string { return strings.NewReplacer(",", " ", ";", " ").Replace(s) }

// subtract returns [lo, hi] less the union of cuts, as sorted disjoint
// pieces of positive length.
func subtract(lo, hi float64, cuts [][2]float64) [][2]float64 {
	pieces := [][2]float64{{lo, hi}}
	for _, c := range cuts {
		var next [][2]float64
		for _, p := range pieces {
			if c[1] <= p[0] || c[0] >= p[1] {
				next = append(next, p)
				continue
			}
			if c[0] > p[0] {
				next = append(next, [2]float64{p[0], c[0]})
			}
			if c[1] < p[1] {
				next = append(next, [2]float64{c[1], p[1]})
			}
		}
		pieces = next
	}
	return pieces
}

// mapInto maps u in [0, 1) onto the pieces by length, in order.
func mapInto(pieces [][2]float64, u float64) float64 {
	var total float64
	for _, p := range pieces {
		total += p[1] - p[0]
	}
	t := u * total
	for _, p := range pieces {
		if l := p[1] - p[0]; t < l {
			return p[0] + t
		} else {
			t -= l
		}
	}
	last := pieces[len(pieces)-1]
	return last[1]
}
