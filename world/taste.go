package world

import (
	"math"
	"math/rand/v2"
	"sync"
)

// TasteDim is the length of a taste vector z. A person's utility for an image
// is a fixed non-linear function of z and the image's attributes: hue liked on
// scenes but not on figures, ideal points for saturation, brightness, scale
// and contrast, clutter liked only when muted, and so on. Groups are points in
// this space; people scatter around them.
const TasteDim = 28

// Taste coordinates (indices into a taste vector).
const (
	tzHueScene   = 0  // 2 coords: preferred hue direction on scene subjects
	tzHueFigure  = 2  // 2 coords: preferred hue direction on figure subjects
	tzIdealSat   = 4  // ideal saturation
	tzIdealLight = 5  // ideal brightness
	tzIdealScale = 6  // ideal subject scale
	tzIdealCont  = 7  // ideal contrast
	tzGrain      = 8  // liking of grain
	tzSymmetry   = 9  // liking of symmetry
	tzBusyMuted  = 10 // clutter liked when muted (positive) or when vivid (negative)
	tzClutter    = 11 // liking of clutter
	tzIdealCount = 12 // ideal number of subjects
	tzHarmony    = 13 // liking of harmony (negative: likes clashing accents)
	tzSubject    = 14 // 8 coords: liking of each subject
	tzBackground = 22 // 5 coords: liking of each background
	tzLightCont  = 27 // brightness × contrast interaction
)

// sceneSubject reports whether a subject is a scene (landscape-like) rather
// than a figure; hue taste differs between the two.
var sceneSubject = [...]bool{false, false, false, true, true, true, true, false}

// rawTaste is the un-normalised taste utility.
func rawTaste(z []float64, a *Attrs) float64 {
	ch, sh := math.Cos(2*math.Pi*a.Hue), math.Sin(2*math.Pi*a.Hue)
	var u float64
	// Saturation gates how much hue matters: a grey picture has no hue.
	hueGate := 0.25 + a.Saturation
	if sceneSubject[a.Subject] {
		u += hueGate * (z[tzHueScene]*ch + z[tzHueScene+1]*sh)
	} else {
		u += hueGate * (z[tzHueFigure]*ch + z[tzHueFigure+1]*sh)
	}
	ideal := func(x, zc float64) float64 {
		mu := 0.5 + 0.4*math.Tanh(zc)
		d := x - mu
		return -3 * d * d
	}
	u += ideal(a.Saturation, z[tzIdealSat])
	u += ideal(a.Brightness, z[tzIdealLight])
	u += ideal(a.Scale, z[tzIdealScale])
	u += ideal(a.Contrast, z[tzIdealCont])
	u += 0.6 * z[tzGrain] * (a.Grain - 0.5)
	u += 0.6 * z[tzSymmetry] * (a.Symmetry - 0.5)
	u += 1.5 * z[tzBusyMuted] * a.Clutter * (0.5 - a.Saturation)
	u += 0.4 * z[tzClutter] * (a.Clutter - 0.5)
	muC := 3 + 1.8*math.Tanh(z[tzIdealCount])
	dc := (float64(a.Count) - muC) / MaxCount
	u -= 1.5 * dc * dc
	u += 0.5 * z[tzHarmony] * (a.Harmony - 0.5)
	u += 0.5 * z[tzSubject+a.Subject]
	u += 0.4 * z[tzBackground+a.Background]
	u += 1.5 * z[tzLightCont] * (a.Brightness - 0.5) * (a.Contrast - 0.5)
	return u
}

// rawQuality is the un-normalised shared sense of quality: harmony,
// moderate contrast, little grain, comfortable scale, some order.
func rawQuality(a *Attrs) float64 {
	sq := func(x float64) float64 { return x * x }
	return 1.2*a.Harmony - 3*sq(a.Contrast-0.65) - 0.8*a.Grain - 3*sq(a.Scale-0.55) -
		0.6*a.Clutter + 0.4*a.Symmetry - 2*sq(a.Saturation-0.6)
}

// Scales that make taste and quality each have unit standard deviation over
// open-prompt images and standard-normal tastes; computed once from a fixed
// stream so they never depend on a world's seed.
var norm = sync.OnceValue(func() [2]float64 {
	r := rand.New(rand.NewPCG(0x7a57e, 0x9a11e7))
	open := OpenPrompt("")
	const n = 20000
	var st, st2, sq, sq2 float64
	z := make([]float64, TasteDim)
	for i := 0; i < n; i++ {
		for j := range z {
			z[j] = r.NormFloat64()
		}
		a := Resolve(open, randomLatent(r))
		t, q := rawTaste(z, &a), rawQuality(&a)
		st, st2, sq, sq2 = st+t, st2+t*t, sq+q, sq2+q*q
	}
	sdT := math.Sqrt(st2/n - (st/n)*(st/n))
	sdQ := math.Sqrt(sq2/n - (sq/n)*(sq/n))
	return [2]float64{1 / sdT, 1 / sdQ}
})

// TasteUtility is the taste part of a person's utility, unit scale.
func TasteUtility(z []float64, a *Attrs) float64 { return norm()[0] * rawTaste(z, a) }

// Quality is the shared sense of quality, unit scale.
func Quality(a *Attrs) float64 { return norm()[1] * rawQuality(a) }

func randomLatent(r *rand.Rand) Latent {
	var l Latent
	for i := range l.U {
		l.U[i] = r.Float64()
	}
	l.Seed = r.Uint64()
	return l
}

// AttrVectorDim is the length of AttrVector.
const AttrVectorDim = 2 + 9 + 8 + 5

// AttrVector is the attributes as a flat vector: hue on the circle, the
// continuous attributes centred, subject and background one-hot. It is the
// "truth" embedding, the embedder diagnostic that shows what a perfect
// pixel embedder would give the model.
func AttrVector(a *Attrs) []float32 {
	v := make([]float32, 0, AttrVectorDim)
	v = append(v, float32(math.Cos(2*math.Pi*a.Hue)), float32(math.Sin(2*math.Pi*a.Hue)))
	for _, x := range []float64{a.Saturation, a.Brightness, a.Contrast, a.Grain, a.Harmony,
		a.Symmetry, a.Scale, a.Clutter, float64(a.Count-1) / (MaxCount - 1)} {
		v = append(v, float32(x-0.5))
	}
	for k := range Subjects {
		v = append(v, b2f(a.Subject == k))
	}
	for k := range Backgrounds {
		v = append(v, b2f(a.Background == k))
	}
	return v
}

// AttrVectorNames names AttrVector's dims in order: "hue cos", "hue sin",
// the continuous attributes, "subject NAME" and "background NAME".
func AttrVectorNames() []string {
	names := []string{"hue cos", "hue sin", "saturation", "brightness", "contrast", "grain",
		"harmony", "symmetry", "scale", "clutter", "count"}
	for _, s := range Subjects {
		names = append(names, "subject "+s)
	}
	for _, b := range Backgrounds {
		names = append(names, "background "+b)
	}
	return names
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
