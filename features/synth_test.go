package features

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// scene is a test picture in the spirit of the taste world's renderer: a
// background, one or more simple subjects in a main hue, accents, grain and
// clutter. It lets tests change one property at a time.
type scene struct {
	hue, sat, bright, contrast float64 // hue in turns; others in [0,1]
	grain                      float64 // 0 smooth .. 1 very grainy
	harmony                    float64 // 0 complementary accents .. 1 analogous
	subject                    int     // 0 orb 1 spiral 2 star 3 flower 4 tree 5 house 6 mountain 7 face
	count                      int     // 1..5
	symmetric                  bool    // centred mirror-symmetric placement
	background                 int     // 0 plain 1 gradient 2 stripes(vertical) 3 dots 4 horizon 5 stripes(horizontal)
	scale                      float64 // 0 small .. 1 large
	clutter                    float64 // 0 clean .. 1 busy
	seed                       uint64
}

func baseScene() scene {
	return scene{hue: 0, sat: 0.8, bright: 0.6, contrast: 0.6, harmony: 1, subject: 0,
		count: 1, symmetric: true, background: 0, scale: 0.6, seed: 1}
}

func randomScene(r *rand.Rand) scene {
	return scene{
		hue: r.Float64(), sat: r.Float64(), bright: r.Float64(), contrast: r.Float64(),
		grain: r.Float64(), harmony: r.Float64(), subject: r.IntN(8), count: 1 + r.IntN(5),
		symmetric: r.IntN(2) == 0, background: r.IntN(6), scale: r.Float64(),
		clutter: r.Float64(), seed: r.Uint64(),
	}
}

func hsv(h, s, v float64) [3]float64 {
	h = (h - math.Floor(h)) * 6
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h, 2)-1))
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g, b = c, x, 0
	case 1:
		r, g, b = x, c, 0
	case 2:
		r, g, b = 0, c, x
	case 3:
		r, g, b = 0, x, c
	case 4:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	m := v - c
	return [3]float64{r + m, g + m, b + m}
}

type placed struct{ x, y, r float64 }

// inside reports whether (u, v), relative to the subject centre in units of
// its radius, is on the subject, and whether it is on an accent part.
func inside(kind int, u, v float64) (on, accent bool) {
	d := math.Hypot(u, v)
	th := math.Atan2(v, u)
	switch kind {
	case 0: // orb with a highlight
		return d < 1, math.Hypot(u+0.35, v+0.35) < 0.3
	case 1: // spiral
		if d > 1 {
			return false, false
		}
		t := th/(2*math.Pi) + 0.5
		k := d*3 - t
		return math.Abs(k-math.Round(k)) < 0.22, false
	case 2: // five-pointed star
		return d < 0.45+0.55*math.Pow(math.Abs(math.Cos(2.5*(th+math.Pi/2))), 3), d < 0.2
	case 3: // flower
		return d < 0.55+0.45*math.Cos(6*th), d < 0.3
	case 4: // tree: triangle crown and trunk
		if v > 0.4 && v < 1 && math.Abs(u) < 0.15 {
			return true, true
		}
		return v < 0.4 && v > -1 && math.Abs(u) < (v+1)/1.4*0.8, false
	case 5: // house: box and roof, with a door
		if v > -0.1 && v < 0.9 && math.Abs(u) < 0.7 {
			return true, v > 0.4 && math.Abs(u) < 0.15
		}
		return v <= -0.1 && v > -0.9 && math.Abs(u) < (v+0.9)*1.0, false
	case 6: // mountain with a snow cap
		on := v > -0.9 && v < 0.9 && math.Abs(u) < (v+0.9)/1.8
		return on, on && v < -0.4
	default: // face: disc with eyes and mouth
		if d >= 1 {
			return false, false
		}
		eye := math.Hypot(math.Abs(u)-0.35, v+0.25) < 0.15
		mouth := math.Abs(v-0.4) < 0.08 && math.Abs(u) < 0.45
		return true, eye || mouth
	}
}

// render draws the scene at size×size.
func (sc scene) render(size int) *image.RGBA {
	r := rand.New(rand.NewPCG(sc.seed, 7))
	main := hsv(sc.hue, sc.sat, 0.35+0.6*sc.bright)
	accentHue := sc.hue + 0.5 - 0.42*sc.harmony
	accent := hsv(accentHue, math.Min(1, sc.sat+0.2), 0.4+0.5*sc.bright)
	bgHue := sc.hue + 0.5*(1-sc.harmony) + 0.05
	bgA := hsv(bgHue, sc.sat*0.5, 0.15+0.8*sc.bright)
	bgB := hsv(bgHue+0.05, sc.sat*0.4, 0.05+0.6*sc.bright)

	var subj []placed
	rad := (0.08 + 0.25*sc.scale) / math.Sqrt(float64(sc.count))
	for k := 0; k < sc.count; k++ {
		var p placed
		if sc.symmetric {
			// evenly on a horizontal line through the centre
			p = placed{x: (float64(k) + 0.5) / float64(sc.count), y: 0.5, r: rad}
		} else {
			p = placed{x: 0.15 + 0.7*r.Float64(), y: 0.15 + 0.7*r.Float64(), r: rad * (0.7 + 0.6*r.Float64())}
		}
		subj = append(subj, p)
	}
	var decor []placed
	for k := 0; k < int(sc.clutter*30); k++ {
		decor = append(decor, placed{x: r.Float64(), y: r.Float64(), r: 0.01 + 0.02*r.Float64()})
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			x, y := (float64(px)+0.5)/float64(size), (float64(py)+0.5)/float64(size)
			var c [3]float64
			switch sc.background {
			case 1:
				c = mix(bgA, bgB, y)
			case 2:
				if int(x*8)%2 == 0 {
					c = bgA
				} else {
					c = bgB
				}
			case 3:
				if math.Hypot(x*8-math.Floor(x*8)-0.5, y*8-math.Floor(y*8)-0.5) < 0.2 {
					c = bgB
				} else {
					c = bgA
				}
			case 4:
				if y < 0.6 {
					c = mix(bgA, bgB, y*0.5)
				} else {
					c = hsv(bgHue+0.3, sc.sat*0.5, 0.1+0.5*sc.bright)
				}
			case 5:
				if int(y*8)%2 == 0 {
					c = bgA
				} else {
					c = bgB
				}
			default:
				c = bgA
			}
			for _, d := range decor {
				if math.Hypot(x-d.x, y-d.y) < d.r {
					c = accent
				}
			}
			for _, s := range subj {
				on, acc := inside(sc.subject, (x-s.x)/s.r, (y-s.y)/s.r)
				if on {
					c = main
					if acc {
						c = accent
					}
				}
			}
			k := 0.4 + 1.2*sc.contrast
			for i := range c {
				c[i] = 0.5 + (c[i]-0.5)*k + sc.grain*0.18*r.NormFloat64()
			}
			img.SetRGBA(px, py, color.RGBA{to8(c[0]), to8(c[1]), to8(c[2]), 255})
		}
	}
	return img
}

func mix(a, b [3]float64, t float64) [3]float64 {
	return [3]float64{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
}

func to8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v*255))))
}
