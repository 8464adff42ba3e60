package world

import "math"

// Colours are chosen in OKLCh (perceptual lightness, chroma, hue), so that
// brightness and contrast mean the same thing for every hue, then gamut
// mapped to sRGB by lowering chroma.

// hueAnchors are the OKLCh hue angles (degrees) of the HueNames families,
// placed at codes k/8 as the prompt vocabulary uses them (red at 0).
var hueAnchors = [8]float64{27, 58, 102, 142, 188, 258, 302, 345}

// hueDeg maps a hue code (any real; wraps at 1) to an OKLCh angle.
func hueDeg(code float64) float64 {
	code -= math.Floor(code)
	f := code * 8
	k := int(f)
	if k > 7 {
		k = 7
	}
	t := f - float64(k)
	a, b := hueAnchors[k], hueAnchors[(k+1)%8]
	if b < a {
		b += 360
	}
	return a + (b-a)*t
}

// oklch returns the sRGB colour of lightness L (0..1), chroma C and hue code
// h, lowering chroma until the colour fits the sRGB gamut.
func oklch(L, C, h float64) rgb {
	L = math.Max(0, math.Min(1, L))
	C = math.Max(0, C)
	rad := hueDeg(h) * math.Pi / 180
	ca, sa := math.Cos(rad), math.Sin(rad)
	r, g, b, ok := oklabToLinear(L, C*ca, C*sa)
	if !ok {
		lo, hi := 0.0, C
		for range 8 {
			mid := (lo + hi) / 2
			if _, _, _, ok := oklabToLinear(L, mid*ca, mid*sa); ok {
				lo = mid
			} else {
				hi = mid
			}
		}
		r, g, b, _ = oklabToLinear(L, lo*ca, lo*sa)
	}
	return rgb{encodeSRGB(r), encodeSRGB(g), encodeSRGB(b)}
}

func oklabToLinear(L, a, b float64) (float64, float64, float64, bool) {
	l := L + 0.3963377774*a + 0.2158037573*b
	m := L - 0.1055613458*a - 0.0638541728*b
	s := L - 0.0894841775*a - 1.2914855480*b
	l, m, s = l*l*l, m*m*m, s*s*s
	r := 4.0767416621*l - 3.3077115913*m + 0.2309699292*s
	g := -1.2684380046*l + 2.6097574011*m - 0.3413193965*s
	bb := -0.0041960863*l - 0.7034186147*m + 1.7076147010*s
	const eps = 1e-4
	ok := r >= -eps && r <= 1+eps && g >= -eps && g <= 1+eps && bb >= -eps && bb <= 1+eps
	return r, g, bb, ok
}

// encodeSRGB maps linear light in [0,1] to an sRGB channel in [0,255], by
// interpolating a table (exact to well under one step of 8-bit output).
func encodeSRGB(x float64) float32 {
	f := math.Max(0, math.Min(1, x)) * (srgbSteps - 1)
	i := min(int(f), srgbSteps-2)
	t := float32(f - float64(i))
	return srgbTab[i] + (srgbTab[i+1]-srgbTab[i])*t
}

const srgbSteps = 4096

var srgbTab = func() (t [srgbSteps]float32) {
	for i := range t {
		x := float64(i) / (srgbSteps - 1)
		if x <= 0.0031308 {
			x *= 12.92
		} else {
			x = 1.055*math.Pow(x, 1/2.4) - 0.055
		}
		t[i] = float32(x * 255)
	}
	return t
}()

// scenePalette is every colour one picture uses, derived from its attributes.
type scenePalette struct {
	bg, bgAlt        rgb // backdrop and its pattern (stripes, dots, ground)
	bgTop, bgBot     rgb // gradient / sky ends
	ground, groundLo rgb // horizon ground band, top and bottom
	mainDark, main   rgb // subject colour, shaded and mid
	mainLight        rgb
	accDark, acc     rgb // accent (complementary when harmony is low)
	accLight         rgb
	line             rgb // outlines
	ink              rgb // small details on a subject (eyes, mouth)
	dark             rgb // openings: doors, pupils
	glow             rgb // lit windows, highlights
	trunk            rgb
	snow             rgb
	deco             [4]rgb
}

// makePalette derives the colours. accSign (±1) picks which side of the
// wheel the accent turns to when harmony is high.
func makePalette(a Attrs, accSign float64) scenePalette {
	h, s, b, c, hm := a.Hue, a.Saturation, a.Brightness, a.Contrast, a.Harmony
	Lbg := 0.17 + 0.77*b
	sep := 0.15 + 0.27*c
	lighter := b < 0.5
	Lsub := Lbg - sep
	if lighter {
		Lsub = Lbg + 1.15*sep // dark scenes need a wider step to read
	}
	Lsub = math.Max(0.22, math.Min(0.92, Lsub))
	Cs := 0.015 + 0.25*s
	Cbg := 0.008 + 0.085*s
	sh := 0.035 + 0.15*c
	off := (0.5 - 0.42*hm) * accSign // accent hue offset: 180° .. 30°
	ha := h + off

	// The scene's tint follows the main hue when harmony is high and turns
	// to the accent (complementary) side when it is low.
	hb := h + off*(1-hm)

	var p scenePalette
	p.bg = oklch(Lbg, Cbg, hb)
	altDL := 0.05 + 0.14*c
	if Lbg > 0.55 {
		altDL = -altDL
	}
	p.bgAlt = oklch(Lbg+altDL, 1.5*Cbg+0.01, ha)
	g := 0.04 + 0.12*c
	p.bgTop = oklch(Lbg+g, Cbg, h+off*0.6)
	p.bgBot = oklch(Lbg-g, Cbg*1.2, hb)
	p.ground = oklch(Lbg-0.05-0.12*c, 1.6*Cbg+0.01, ha)
	p.groundLo = oklch(Lbg-0.10-0.22*c, 1.6*Cbg+0.01, ha)

	p.main = oklch(Lsub, Cs, h)
	p.mainDark = oklch(Lsub-sh, Cs, h)
	p.mainLight = oklch(Lsub+sh*0.9, Cs*0.85, h)
	La := Lsub - 0.05
	p.acc = oklch(La, Cs, ha)
	p.accDark = oklch(La-sh, Cs, ha)
	p.accLight = oklch(La+sh*0.9, Cs*0.85, ha)
	// Outlines are dark on light scenes and a light rim on dark ones, so
	// they always set the subject off its backdrop.
	if lighter {
		p.line = oklch(math.Min(0.96, Lsub+0.14+0.14*c), Cs*0.9+0.02, ha)
	} else {
		p.line = oklch(math.Max(0.1, Lsub-0.2-0.2*c), Cs*0.8+0.02, ha)
	}
	p.dark = oklch(math.Max(0.1, Lsub-0.3), Cs*0.6, ha)
	if Lsub > 0.5 {
		p.ink = oklch(0.2, 0.03, h)
	} else {
		p.ink = oklch(0.96, 0.02, h)
	}
	p.glow = oklch(math.Min(0.97, math.Max(Lsub, Lbg)+0.12), Cs*0.7+0.03, ha)
	p.trunk = oklch(math.Max(0.18, Lsub-0.15), 0.04+0.05*s, 0.09)
	p.snow = oklch(math.Min(0.98, Lsub+0.25+0.1*c), 0.01, h)
	light := oklch(math.Min(0.98, Lbg+0.3), Cs*0.5, ha)
	if Lbg > 0.6 {
		light = oklch(Lbg-0.35, Cs, ha)
	}
	p.deco = [4]rgb{p.acc, p.mainLight, light, oklch(La+0.1, Cs, h+off*0.5)}
	return p
}
