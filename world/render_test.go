package world

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

func midAttrs() Attrs {
	return Attrs{
		Hue: 0.6, Saturation: 0.6, Brightness: 0.6, Contrast: 0.6, Grain: 0.1,
		Harmony: 0.7, Subject: subjStar, Count: 3, Symmetry: 0.8,
		Background: bgGradient, Scale: 0.5, Clutter: 0.3,
	}
}

func TestDrawDeterministic(t *testing.T) {
	for subj := range Subjects {
		a := midAttrs()
		a.Subject = subj
		a.Grain = 0.5
		x := Draw(a, 42, 64)
		y := Draw(a, 42, 64)
		if !bytes.Equal(x.Pix, y.Pix) {
			t.Fatalf("%s: same attrs and seed gave different images", Subjects[subj])
		}
		z := Draw(a, 43, 64)
		if bytes.Equal(x.Pix, z.Pix) {
			t.Fatalf("%s: different seeds gave identical images", Subjects[subj])
		}
	}
}

func TestRenderMatchesDraw(t *testing.T) {
	p := OpenPrompt("anything")
	l := Latent{Seed: 7}
	for i := range l.U {
		l.U[i] = 0.37 + 0.05*float64(i)
	}
	if !bytes.Equal(Render(p, l, 48).Pix, Draw(Resolve(p, l), 7, 48).Pix) {
		t.Fatal("Render differs from Draw(Resolve)")
	}
}

func TestDrawAllKindsAndExtremes(t *testing.T) {
	for _, size := range []int{32, 64, 128} {
		for subj := range Subjects {
			for bg := range Backgrounds {
				for count := 1; count <= MaxCount; count++ {
					for _, v := range []float64{0, 1} {
						a := Attrs{
							Hue: v, Saturation: v, Brightness: v, Contrast: v, Grain: v,
							Harmony: v, Subject: subj, Count: count, Symmetry: v,
							Background: bg, Scale: v, Clutter: v,
						}
						img := Draw(a, uint64(count*31+bg), size)
						if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
							t.Fatalf("size %d gave %v", size, b)
						}
						for i := 3; i < len(img.Pix); i += 4 {
							if img.Pix[i] != 255 {
								t.Fatalf("%s on %s: pixel %d not opaque", Subjects[subj], Backgrounds[bg], i/4)
							}
						}
					}
				}
			}
		}
	}
	// Out-of-range attributes are clamped, not a panic.
	Draw(Attrs{Hue: -3.2, Saturation: 7, Brightness: math.NaN(), Subject: 99, Count: 0, Background: -1}, 1, 40)
}

// stats returns mean luminance, mean chroma (max-min channel), mean absolute
// horizontal neighbour difference, and mean R, G, B.
func pixelStats(img *image.RGBA) (lum, chroma, hf float64, mean [3]float64) {
	n := img.Bounds().Dx()
	var cnt float64
	for y := range n {
		for x := range n {
			i := y*img.Stride + 4*x
			r, g, b := float64(img.Pix[i]), float64(img.Pix[i+1]), float64(img.Pix[i+2])
			lum += 0.2126*r + 0.7152*g + 0.0722*b
			chroma += math.Max(r, math.Max(g, b)) - math.Min(r, math.Min(g, b))
			mean[0] += r
			mean[1] += g
			mean[2] += b
			if x > 0 {
				hf += math.Abs(r - float64(img.Pix[i-4]))
			}
			cnt++
		}
	}
	for k := range mean {
		mean[k] /= cnt
	}
	return lum / cnt, chroma / cnt, hf / cnt, mean
}

// TestAttributeProperties checks, over many seeds and subjects, that the
// continuous attributes move the pixel statistics they claim to.
func TestAttributeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 40 {
		a := Attrs{
			Hue: r.Float64(), Saturation: 0.3 + 0.5*r.Float64(), Brightness: r.Float64(),
			Contrast: r.Float64(), Grain: 0.2 * r.Float64(), Harmony: r.Float64(),
			Subject: r.IntN(len(Subjects)), Count: 1 + r.IntN(MaxCount), Symmetry: r.Float64(),
			Background: r.IntN(len(Backgrounds)), Scale: r.Float64(), Clutter: r.Float64(),
		}
		seed := r.Uint64()
		name := fmt.Sprintf("trial %d (%+v)", trial, a)

		lo, hi := a, a
		lo.Brightness, hi.Brightness = 0.1, 0.9
		l0, _, _, _ := pixelStats(Draw(lo, seed, 64))
		l1, _, _, _ := pixelStats(Draw(hi, seed, 64))
		if l0 >= l1 {
			t.Errorf("%s: brightness 0.1 luminance %.1f >= brightness 0.9 luminance %.1f", name, l0, l1)
		}

		lo, hi = a, a
		lo.Saturation, hi.Saturation = 0, 1
		_, c0, _, _ := pixelStats(Draw(lo, seed, 64))
		_, c1, _, _ := pixelStats(Draw(hi, seed, 64))
		if c0 >= c1 {
			t.Errorf("%s: saturation 0 chroma %.1f >= saturation 1 chroma %.1f", name, c0, c1)
		}

		lo, hi = a, a
		lo.Grain, hi.Grain = 0, 1
		_, _, h0, _ := pixelStats(Draw(lo, seed, 64))
		_, _, h1, _ := pixelStats(Draw(hi, seed, 64))
		if h0 >= h1 {
			t.Errorf("%s: grain 0 high-frequency energy %.1f >= grain 1 energy %.1f", name, h0, h1)
		}

		red, blue := a, a
		red.Hue, blue.Hue = 0, 5.0/8
		// Low harmony tints the scene toward the complement, so hold it
		// analogous here: then hue sets the colour of everything.
		red.Saturation, blue.Saturation = 0.8, 0.8
		red.Harmony, blue.Harmony = 0.9, 0.9
		_, _, _, mr := pixelStats(Draw(red, seed, 64))
		_, _, _, mb := pixelStats(Draw(blue, seed, 64))
		if !(mr[0] > mr[2]) || !(mb[2] > mb[0]) {
			t.Errorf("%s: red picture mean %v, blue picture mean %v", name, mr, mb)
		}
	}
}

// TestClutterAndScale checks two layout attributes through the pixels: more
// clutter changes more of a plain backdrop, larger scale covers more of it.
func TestClutterAndScale(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		a := midAttrs()
		a.Background, a.Grain, a.Clutter = bgPlain, 0, 0
		a.Subject = int(seed) % len(Subjects)
		bgOnly := func(img *image.RGBA) float64 {
			// fraction of pixels equal to the top-left backdrop colour
			var same float64
			p := img.Pix
			for i := 0; i < len(p); i += 4 {
				if p[i] == p[0] && p[i+1] == p[1] && p[i+2] == p[2] {
					same++
				}
			}
			return same / float64(len(p)/4)
		}
		small, large := a, a
		small.Scale, large.Scale = 0, 1
		if fs, fl := bgOnly(Draw(small, seed, 64)), bgOnly(Draw(large, seed, 64)); fs <= fl {
			t.Errorf("seed %d: small scale leaves %.2f backdrop, large leaves %.2f", seed, fs, fl)
		}
		clean, busy := a, a
		clean.Clutter, busy.Clutter = 0, 1
		if fc, fb := bgOnly(Draw(clean, seed, 64)), bgOnly(Draw(busy, seed, 64)); fc <= fb {
			t.Errorf("seed %d: clean leaves %.2f backdrop, busy leaves %.2f", seed, fc, fb)
		}
	}
}

// TestSymmetryMirror checks that a fully symmetric, grain-free picture on a
// symmetric backdrop is nearly mirror-symmetric, and a scattered one is not.
func TestSymmetryMirror(t *testing.T) {
	asym := func(img *image.RGBA) float64 {
		n := img.Bounds().Dx()
		var s float64
		for y := range n {
			for x := range n / 2 {
				i, j := y*img.Stride+4*x, y*img.Stride+4*(n-1-x)
				for k := range 3 {
					s += math.Abs(float64(img.Pix[i+k]) - float64(img.Pix[j+k]))
				}
			}
		}
		return s / float64(n*n/2*3)
	}
	for _, subj := range []int{subjOrb, subjStar, subjFace, subjTree} {
		a := midAttrs()
		a.Subject, a.Background, a.Grain, a.Clutter, a.Count = subj, bgGradient, 0, 0, 3
		sym, scat := a, a
		sym.Symmetry, scat.Symmetry = 1, 0
		var ds, dc float64
		for seed := uint64(1); seed <= 5; seed++ {
			ds += asym(Draw(sym, seed, 64))
			dc += asym(Draw(scat, seed, 64))
		}
		if ds >= dc/2 {
			t.Errorf("%s: symmetric asymmetry %.2f not well below scattered %.2f", Subjects[subj], ds, dc)
		}
	}
}

func benchDraw(b *testing.B, size int) {
	r := rand.New(rand.NewPCG(3, 4))
	var as [64]Attrs
	p := OpenPrompt("")
	for i := range as {
		var l Latent
		for k := range l.U {
			l.U[k] = r.Float64()
		}
		as[i] = Resolve(p, l)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Draw(as[i%len(as)], uint64(i), size)
		i++
	}
}

func BenchmarkDraw64(b *testing.B)  { benchDraw(b, 64) }
func BenchmarkDraw128(b *testing.B) { benchDraw(b, 128) }

func renderCaption(a Attrs) string {
	hue := HueNames[int(math.Floor(a.Hue*8+0.5))%8]
	return fmt.Sprintf("%s x%d %s\n%s s%.1f b%.1f c%.1f\ng%.1f h%.1f y%.1f z%.1f k%.1f",
		Subjects[a.Subject], a.Count, hue, Backgrounds[a.Background],
		a.Saturation, a.Brightness, a.Contrast, a.Grain, a.Harmony, a.Symmetry, a.Scale, a.Clutter)
}

func writeTestPNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// TestContactSheet writes 48 random renders to $PALATE_SHEET (skipped when
// unset), for a person to look at.
func TestContactSheet(t *testing.T) {
	path := os.Getenv("PALATE_SHEET")
	if path == "" {
		t.Skip("set PALATE_SHEET=out.png to write a contact sheet")
	}
	r := rand.New(rand.NewPCG(11, 12))
	if s := os.Getenv("PALATE_SHEET_SEED"); s != "" {
		var v uint64
		fmt.Sscan(s, &v)
		r = rand.New(rand.NewPCG(v, 12))
	}
	p := OpenPrompt("")
	var imgs []image.Image
	var caps []string
	for range 48 {
		l := Latent{Seed: r.Uint64()}
		for k := range l.U {
			l.U[k] = r.Float64()
		}
		imgs = append(imgs, Render(p, l, 128))
		caps = append(caps, renderCaption(Resolve(p, l)))
	}
	writeTestPNG(t, path, ContactSheet(imgs, caps, 8, 128))
}

// TestSweepSheet writes sheets to $PALATE_SWEEP and $PALATE_SWEEP2 (skipped
// when unset): one row per attribute, eight steps across, everything else
// held fixed; the first around a day scene of flowers, the second around a
// night scene of orbs.
func TestSweepSheet(t *testing.T) {
	path, path2 := os.Getenv("PALATE_SWEEP"), os.Getenv("PALATE_SWEEP2")
	if path == "" && path2 == "" {
		t.Skip("set PALATE_SWEEP=out.png to write a sweep sheet")
	}
	if path != "" {
		writeTestPNG(t, path, sweepSheet(Attrs{
			Hue: 0.62, Saturation: 0.6, Brightness: 0.65, Contrast: 0.55, Grain: 0.1,
			Harmony: 0.8, Subject: subjFlower, Count: 3, Symmetry: 0.9,
			Background: bgHorizon, Scale: 0.5, Clutter: 0.15,
		}, 5))
	}
	if path2 != "" {
		writeTestPNG(t, path2, sweepSheet(Attrs{
			Hue: 0.1, Saturation: 0.7, Brightness: 0.25, Contrast: 0.5, Grain: 0.1,
			Harmony: 0.5, Subject: subjOrb, Count: 4, Symmetry: 0.6,
			Background: bgPlain, Scale: 0.6, Clutter: 0.2,
		}, 9))
	}
}

func sweepSheet(base Attrs, seed uint64) *image.RGBA {
	var imgs []image.Image
	var caps []string
	add := func(a Attrs, c string) {
		imgs = append(imgs, Draw(a, seed, 96))
		caps = append(caps, c)
	}
	for attr := range NumAttrs {
		for step := range 8 {
			a := base
			v := float64(step) / 7
			switch attr {
			case AttrHue:
				a.Hue = float64(step) / 8
			case AttrSaturation:
				a.Saturation = v
			case AttrBrightness:
				a.Brightness = v
			case AttrContrast:
				a.Contrast = v
			case AttrGrain:
				a.Grain = v
			case AttrHarmony:
				a.Harmony = v
			case AttrSubject:
				a.Subject = step
			case AttrCount:
				a.Count = 1 + step%MaxCount
			case AttrSymmetry:
				a.Symmetry = v
			case AttrBackground:
				a.Background = step % len(Backgrounds)
			case AttrScale:
				a.Scale = v
			case AttrClutter:
				a.Clutter = v
			}
			c := fmt.Sprintf("%s %.2f", AttrNames[attr], v)
			switch attr {
			case AttrHue:
				c = "hue " + HueNames[step]
			case AttrSubject:
				c = Subjects[step]
			case AttrCount:
				c = fmt.Sprintf("count %d", a.Count)
			case AttrBackground:
				c = Backgrounds[a.Background]
			}
			add(a, c)
		}
	}
	return ContactSheet(imgs, caps, 8, 96)
}

// TestFillMatchesBruteForce holds the fast shape filling (which skips pixels
// that a distance proves outside or inside) to the reference that evaluates
// every pixel: the two may differ only in a few faint anti-aliasing pixels.
func TestFillMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	p := OpenPrompt("")
	bad := 0
	for i := range 300 {
		var l Latent
		l.Seed = r.Uint64()
		for k := range l.U {
			l.U[k] = r.Float64()
		}
		a := Resolve(p, l)
		size := []int{32, 64, 100}[i%3]
		fast, ref := renderPicture(a, l.Seed, size, false), renderPicture(a, l.Seed, size, true)
		for j := range fast.Pix {
			d := int(fast.Pix[j]) - int(ref.Pix[j])
			if d > 8 || d < -8 {
				bad++
				if bad <= 5 {
					t.Errorf("image %d (%s, size %d): byte %d (pixel %d,%d) is %d, reference %d",
						i, Subjects[a.Subject], size, j, j/4%size, j/4/size, fast.Pix[j], ref.Pix[j])
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d bytes differ from the brute-force reference by more than 8", bad)
	}
}
