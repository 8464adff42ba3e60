package world

import "math"

// Attribute indices. Every attribute has a code in [0,1]: continuous ones are
// the code itself, categorical ones take index floor(code*n) (clamped). A
// prompt narrows some codes to an interval; the latent picks the rest, as a
// diffusion model's seed fills in what the prompt left open.
const (
	AttrHue        = iota // main colour's position on the colour wheel
	AttrSaturation        // 0 greyish .. 1 neon
	AttrBrightness        // 0 dark .. 1 light
	AttrContrast          // 0 flat .. 1 punchy
	AttrGrain             // 0 smooth .. 1 grainy texture
	AttrHarmony           // 0 clashing complementary accents .. 1 analogous palette
	AttrSubject           // categorical: Subjects
	AttrCount             // categorical: 1..MaxCount subjects
	AttrSymmetry          // 0 scattered, off-centre .. 1 centred, mirror-symmetric
	AttrBackground        // categorical: Backgrounds
	AttrScale             // 0 small subjects .. 1 large subjects
	AttrClutter           // 0 clean .. 1 busy with small decorations
	NumAttrs
)

// AttrNames names the attributes in index order.
var AttrNames = [NumAttrs]string{
	"hue", "saturation", "brightness", "contrast", "grain", "harmony",
	"subject", "count", "symmetry", "background", "scale", "clutter",
}

// Subjects are the kinds of thing a picture shows.
var Subjects = []string{"orb", "spiral", "star", "flower", "tree", "house", "mountain", "face"}

// Backgrounds are the kinds of backdrop.
var Backgrounds = []string{"plain", "gradient", "stripes", "dots", "horizon"}

// HueNames name eight equal hue families starting at red (hue 0).
var HueNames = []string{"red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"}

// MaxCount is the largest number of subjects in one picture.
const MaxCount = 5

// Attrs is an image's true visual attributes, resolved from prompt and latent.
// The model never sees them; only the renderer and the simulated people do.
type Attrs struct {
	Hue        float64 `json:"hue"`
	Saturation float64 `json:"saturation"`
	Brightness float64 `json:"brightness"`
	Contrast   float64 `json:"contrast"`
	Grain      float64 `json:"grain"`
	Harmony    float64 `json:"harmony"`
	Subject    int     `json:"subject"`
	Count      int     `json:"count"` // 1..MaxCount
	Symmetry   float64 `json:"symmetry"`
	Background int     `json:"background"`
	Scale      float64 `json:"scale"`
	Clutter    float64 `json:"clutter"`
}

// Latent is what a prompt leaves open: one uniform code per attribute and a
// seed for fine detail (positions, texture). Two images for the same prompt
// differ only in their latents.
type Latent struct {
	U    [NumAttrs]float64 `json:"u"`
	Seed uint64            `json:"seed"`
}

// Prompt is a text and the interval of codes it allows for each attribute;
// an attribute the prompt does not mention spans [0,1].
type Prompt struct {
	Text string
	Lo   [NumAttrs]float64
	Hi   [NumAttrs]float64
}

// OpenPrompt returns a prompt that fixes nothing.
func OpenPrompt(text string) Prompt {
	p := Prompt{Text: text}
	for i := range p.Hi {
		p.Hi[i] = 1
	}
	return p
}

// Codes returns the attribute codes a prompt and latent resolve to.
func Codes(p Prompt, l Latent) [NumAttrs]float64 {
	var c [NumAttrs]float64
	for i := range c {
		c[i] = p.Lo[i] + l.U[i]*(p.Hi[i]-p.Lo[i])
	}
	return c
}

// Resolve returns the attributes of the image a prompt and latent make.
func Resolve(p Prompt, l Latent) Attrs {
	return FromCodes(Codes(p, l))
}

// FromCodes turns attribute codes into attributes.
func FromCodes(c [NumAttrs]float64) Attrs {
	return Attrs{
		Hue:        c[AttrHue] - math.Floor(c[AttrHue]),
		Saturation: clamp01(c[AttrSaturation]),
		Brightness: clamp01(c[AttrBrightness]),
		Contrast:   clamp01(c[AttrContrast]),
		Grain:      clamp01(c[AttrGrain]),
		Harmony:    clamp01(c[AttrHarmony]),
		Subject:    category(c[AttrSubject], len(Subjects)),
		Count:      1 + category(c[AttrCount], MaxCount),
		Symmetry:   clamp01(c[AttrSymmetry]),
		Background: category(c[AttrBackground], len(Backgrounds)),
		Scale:      clamp01(c[AttrScale]),
		Clutter:    clamp01(c[AttrClutter]),
	}
}

// CategoryRange returns the code interval that selects category k of n.
func CategoryRange(k, n int) (lo, hi float64) {
	return float64(k) / float64(n), float64(k+1) / float64(n)
}

func category(code float64, n int) int {
	k := int(code * float64(n))
	if k < 0 {
		return 0
	}
	if k >= n {
		return n - 1
	}
	return k
}

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}
