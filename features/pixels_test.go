package features

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"palate"
)

func embed(t testing.TB, img image.Image) []float32 {
	t.Helper()
	v, err := NewPixels().Embed(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

func uniform(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// roundTrip encodes img with enc and decodes it again through Decode.
func roundTrip(t *testing.T, img image.Image, enc func(*bytes.Buffer, image.Image) error) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf, img); err != nil {
		t.Fatal(err)
	}
	m, _, err := Decode(&buf, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEmbedShapes(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 80, 60))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 70, 70))
	for i := 0; i < len(nrgba.Pix); i += 4 {
		nrgba.Pix[i], nrgba.Pix[i+1], nrgba.Pix[i+2], nrgba.Pix[i+3] = 250, 40, 90, uint8(i/4)
	}
	offset := image.NewRGBA(image.Rect(-30, 17, 90, 200))
	for i := range offset.Pix {
		offset.Pix[i] = uint8(i * 13)
	}
	tests := map[string]image.Image{
		"black":        uniform(64, 64, color.RGBA{0, 0, 0, 255}),
		"white":        uniform(64, 64, color.RGBA{255, 255, 255, 255}),
		"transparent":  image.NewRGBA(image.Rect(0, 0, 32, 32)),
		"1x1":          uniform(1, 1, color.RGBA{200, 10, 10, 255}),
		"2000x1":       uniform(2000, 1, color.RGBA{10, 200, 10, 255}),
		"3x900":        baseScene().render(900).SubImage(image.Rect(450, 0, 453, 900)),
		"odd 97x131":   baseScene().render(131).SubImage(image.Rect(10, 0, 107, 131)),
		"offset rect":  offset,
		"512":          baseScene().render(512),
		"nrgba alpha":  nrgba,
		"gray":         gray,
		"rgba64":       image.NewRGBA64(image.Rect(0, 0, 20, 20)),
		"cmyk":         image.NewCMYK(image.Rect(0, 0, 100, 50)),
		"paletted gif": roundTrip(t, baseScene().render(64), func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) }),
		"gray jpeg":    roundTrip(t, gray, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }),
		"colour jpeg":  roundTrip(t, baseScene().render(100), func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }),
		"empty palette": &image.Paletted{Pix: make([]uint8, 16), Stride: 4,
			Rect: image.Rect(0, 0, 4, 4)},
		"short palette": &image.Paletted{Pix: bytes.Repeat([]byte{0, 1, 200}, 12), Stride: 6,
			Rect: image.Rect(0, 0, 6, 6), Palette: palette.Plan9[:2]},
	}
	for name, img := range tests {
		t.Run(name, func(t *testing.T) {
			v := embed(t, img)
			if len(v) != Dim || NewPixels().Dim() != Dim {
				t.Fatalf("len %d, want %d", len(v), Dim)
			}
			var ss float64
			for i, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("v[%d] = %v", i, x)
				}
				ss += float64(x) * float64(x)
			}
			if math.Abs(ss-1) > 1e-4 {
				t.Errorf("squared norm %v, want 1", ss)
			}
		})
	}
}

func TestEmbedErrors(t *testing.T) {
	p := NewPixels()
	tests := map[string]image.Image{
		"nil":   nil,
		"empty": image.NewRGBA(image.Rect(5, 5, 5, 9)),
	}
	for name, img := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := p.Embed(context.Background(), img)
			if palate.ErrorCode(err) != palate.EINVALID {
				t.Fatalf("err %v, want EINVALID", err)
			}
		})
	}
	t.Run("unbounded", func(t *testing.T) {
		_, err := p.Embed(context.Background(), image.NewUniform(color.White))
		if palate.ErrorCode(err) != palate.ETOOLARGE {
			t.Fatalf("err %v, want ETOOLARGE", err)
		}
	})
	t.Run("short buffer", func(t *testing.T) {
		err := p.EmbedTo(make([]float32, Dim-1), uniform(8, 8, color.RGBA{1, 2, 3, 255}))
		if palate.ErrorCode(err) != palate.EINVALID {
			t.Fatalf("err %v, want EINVALID", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.Embed(ctx, uniform(8, 8, color.RGBA{})); err != context.Canceled {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	})
}

func TestName(t *testing.T) {
	for name, want := range map[string]struct {
		dim     int
		version string
	}{"pixels-v3": {Dim, "3.0.0"}, "pixels-v2": {344, "2.0.0"}, "pixels-v1": {314, "1.0.0"}} {
		p, ok := ByName(name)
		if !ok || p.Name() != name || p.Dim() != want.dim || p.Version() != want.version {
			t.Errorf("ByName(%q) = %v: name %q, dim %d, version %q", name, ok, p.Name(), p.Dim(), p.Version())
		}
	}
	if got := NewPixels().Name(); got != "pixels-v3" || Name != "pixels-v3" {
		t.Errorf("NewPixels().Name() = %q", got)
	}
	if got := (&Pixels{}).Name(); got != "pixels-v3" {
		t.Errorf("the zero Pixels is %q", got)
	}
	if _, ok := ByName("pixels-v4"); ok {
		t.Error("ByName accepted pixels-v4")
	}
}

// pixels-v1 is pixels-v2 without its last block (the figure/ground
// colour), renormalised: the first 314 floats, weighted alike.
func TestV1IsV2WithoutFigure(t *testing.T) {
	prefixRecipe(t, NewPixelsV2(), NewPixelsV1(), func(img image.Image, sat float64) bool {
		return sat > 0 && img.Bounds().Dx() > 8
	})
}

// pixels-v2 is pixels-v3 without its last block (the structure block),
// renormalised: the first 344 floats, weighted alike.
func TestV2IsV3WithoutStructure(t *testing.T) {
	prefixRecipe(t, NewPixels(), NewPixelsV2(), func(img image.Image, _ float64) bool {
		return img.Bounds().Dx() > 8
	})
}

// prefixRecipe checks that short's vector is long's first short.Dim()
// floats renormalised, and that the floats long adds are not all zero on
// a picture where needsTail (given the scene's saturation) says they
// cannot be.
func prefixRecipe(t *testing.T, long, short *Pixels, needsTail func(image.Image, float64) bool) {
	t.Helper()
	sc := baseScene()
	for _, img := range []image.Image{sc.render(64), sc.render(128), uniform(8, 8, color.RGBA{40, 90, 200, 255})} {
		vl, err := long.Embed(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := short.Embed(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != short.Dim() || len(vl) != long.Dim() {
			t.Fatalf("lengths %d and %d, want %d and %d", len(vs), len(vl), short.Dim(), long.Dim())
		}
		var n2 float64
		for _, x := range vl[:len(vs)] {
			n2 += float64(x) * float64(x)
		}
		k := 1 / math.Sqrt(n2)
		for i := range vs {
			if d := math.Abs(float64(vs[i]) - k*float64(vl[i])); d > 1e-6 {
				t.Fatalf("float %d: %s %v, %s renormalised %v", i, short.Name(), vs[i], long.Name(), k*float64(vl[i]))
			}
		}
		var tail float64
		for _, x := range vl[len(vs):] {
			tail += math.Abs(float64(x))
		}
		if needsTail(img, sc.sat) && tail == 0 {
			t.Errorf("%s's added floats are all zero on a scene", long.Name())
		}
	}
}

// TestEquivalentInputs checks that the same picture in different image types
// or positions gives the same vector.
func TestEquivalentInputs(t *testing.T) {
	src := baseScene().render(64)
	nrgba := image.NewNRGBA(src.Rect)
	copy(nrgba.Pix, src.Pix)
	shifted := image.NewRGBA(image.Rect(100, -40, 164, 24))
	copy(shifted.Pix, src.Pix)
	padded := image.NewRGBA(image.Rect(0, 0, 64, 80)) // centre crop removes 8 rows each side
	copy(padded.Pix[8*64*4:], src.Pix)
	want := embed(t, src)
	tests := map[string]image.Image{
		"nrgba":   nrgba,
		"shifted": shifted,
		"padded":  padded,
		"generic": struct{ image.Image }{src}, // forces the image.At path
	}
	for name, img := range tests {
		t.Run(name, func(t *testing.T) {
			if d := dist(embed(t, img), want); d > 1e-6 {
				t.Fatalf("distance %v from the RGBA original", d)
			}
		})
	}
}

func TestDeterministicAndConcurrent(t *testing.T) {
	p := NewPixels()
	r := rand.New(rand.NewPCG(3, 4))
	imgs := make([]image.Image, 16)
	want := make([][]float32, len(imgs))
	for i := range imgs {
		imgs[i] = randomScene(r).render(64 + 32*(i%3))
		want[i] = embed(t, imgs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(imgs))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range imgs {
				i := (k + g) % len(imgs)
				v, err := p.Embed(context.Background(), imgs[i])
				if err != nil {
					errs <- err.Error()
					return
				}
				for j := range v {
					if v[j] != want[i][j] {
						errs <- "vector differs between calls"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// noisy returns a copy of img with each channel moved by at most ±amp.
func noisy(img *image.RGBA, amp int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 99))
	out := image.NewRGBA(img.Rect)
	copy(out.Pix, img.Pix)
	for i := range out.Pix {
		if i%4 == 3 {
			continue
		}
		v := int(out.Pix[i]) + r.IntN(2*amp+1) - amp
		out.Pix[i] = uint8(max(0, min(255, v)))
	}
	return out
}

// TestSensitivity checks that changing one visual property moves the vector
// further than imperceptible pixel noise does.
func TestSensitivity(t *testing.T) {
	base := baseScene()
	with := func(f func(*scene)) scene { s := base; f(&s); return s }
	tests := map[string]struct{ a, b scene }{
		"hue red vs blue":        {with(func(s *scene) { s.hue = 0 }), with(func(s *scene) { s.hue = 0.62 })},
		"hue red vs orange":      {with(func(s *scene) { s.hue = 0 }), with(func(s *scene) { s.hue = 0.1 })},
		"bright vs dark":         {with(func(s *scene) { s.bright = 0.9 }), with(func(s *scene) { s.bright = 0.15 })},
		"saturated vs grey":      {with(func(s *scene) { s.sat = 0.9 }), with(func(s *scene) { s.sat = 0.1 })},
		"contrast":               {with(func(s *scene) { s.contrast = 0.9 }), with(func(s *scene) { s.contrast = 0.2 })},
		"smooth vs noisy":        {with(func(s *scene) { s.grain = 0 }), with(func(s *scene) { s.grain = 0.5 })},
		"harmony":                {with(func(s *scene) { s.harmony = 1 }), with(func(s *scene) { s.harmony = 0 })},
		"vertical vs horizontal": {with(func(s *scene) { s.background = 2 }), with(func(s *scene) { s.background = 5 })},
		"symmetric vs scattered": {with(func(s *scene) { s.count = 3 }), with(func(s *scene) { s.count = 3; s.symmetric = false })},
		"orb vs star":            {with(func(s *scene) { s.subject = 0 }), with(func(s *scene) { s.subject = 2 })},
		"house vs tree":          {with(func(s *scene) { s.subject = 5 }), with(func(s *scene) { s.subject = 4 })},
		"one vs four":            {with(func(s *scene) { s.count = 1 }), with(func(s *scene) { s.count = 4 })},
		"small vs large":         {with(func(s *scene) { s.scale = 0.1 }), with(func(s *scene) { s.scale = 1 })},
		"clean vs cluttered":     {with(func(s *scene) { s.clutter = 0 }), with(func(s *scene) { s.clutter = 1 })},
		"plain vs gradient":      {with(func(s *scene) { s.background = 0 }), with(func(s *scene) { s.background = 1 })},
		"plain vs horizon":       {with(func(s *scene) { s.background = 0 }), with(func(s *scene) { s.background = 4 })},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, size := range []int{64, 128} {
				a, b := tc.a.render(size), tc.b.render(size)
				va := embed(t, a)
				noise := math.Max(dist(va, embed(t, noisy(a, 3, 1))), dist(embed(t, b), embed(t, noisy(b, 3, 2))))
				d := dist(va, embed(t, b))
				t.Logf("size %d: distance %.4f, noise %.4f, ratio %.1f", size, d, noise, d/noise)
				if d < 2*noise {
					t.Errorf("size %d: distance %.4f is under twice the noise distance %.4f", size, d, noise)
				}
			}
		})
	}
}

func TestDecodeFormats(t *testing.T) {
	src := baseScene().render(48)
	tests := map[string]struct {
		data   func(t *testing.T) []byte
		format string
		px     color.RGBA // expected colour at (0, 0), compared loosely
	}{
		"png": {func(t *testing.T) []byte { return encode(t, func(b *bytes.Buffer) error { return png.Encode(b, src) }) },
			"png", src.RGBAAt(0, 0)},
		"jpeg": {func(t *testing.T) []byte {
			return encode(t, func(b *bytes.Buffer) error { return jpeg.Encode(b, src, &jpeg.Options{Quality: 95}) })
		}, "jpeg", src.RGBAAt(0, 0)},
		"gif": {func(t *testing.T) []byte {
			return encode(t, func(b *bytes.Buffer) error { return gif.Encode(b, src, nil) })
		},
			"gif", src.RGBAAt(0, 0)},
		"webp lossless": {func(t *testing.T) []byte { return solidWebP(5, 3, color.NRGBA{200, 30, 60, 255}) },
			"webp", color.RGBA{200, 30, 60, 255}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			img, format, err := Decode(bytes.NewReader(tc.data(t)), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if format != tc.format {
				t.Errorf("format %q, want %q", format, tc.format)
			}
			r, g, b, _ := img.At(img.Bounds().Min.X, img.Bounds().Min.Y).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
			want := [3]int{int(tc.px.R), int(tc.px.G), int(tc.px.B)}
			for i := range got {
				if d := got[i] - want[i]; d > 40 || d < -40 {
					t.Errorf("pixel (0,0) %v, want about %v", got, want)
					break
				}
			}
			if _, err := NewPixels().Embed(context.Background(), img); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func encode(t *testing.T, f func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// solidWebP builds a lossless WebP (VP8L) of one colour by hand, following
// the WebP lossless bitstream specification: no transforms, no colour cache,
// no meta prefix codes, and five "simple" prefix codes of one symbol each
// (green, red, blue, alpha, distance), so every pixel costs zero bits.
func solidWebP(w, h int, c color.NRGBA) []byte {
	var bw bitWriter
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(0, 1) // alpha is used: no
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A} {
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // 8-bit symbol
		bw.write(uint32(sym), 8)
	}
	bw.write(1, 1) // distance code: simple,
	bw.write(0, 1) // one symbol,
	bw.write(0, 1) // 1-bit symbol,
	bw.write(0, 1) // symbol 0
	data := bw.bytes()
	n := len(data)
	if n%2 == 1 {
		data = append(data, 0) // chunks are padded to an even length
	}
	var out []byte
	le32 := func(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	out = append(out, "RIFF"...)
	out = append(out, le32(4+8+len(data))...)
	out = append(out, "WEBPVP8L"...)
	out = append(out, le32(n)...)
	return append(out, data...)
}

type bitWriter struct {
	buf  []byte
	nbit uint
}

// write appends the n low bits of v, least significant first.
func (b *bitWriter) write(v uint32, n uint) {
	for i := uint(0); i < n; i++ {
		if b.nbit%8 == 0 {
			b.buf = append(b.buf, 0)
		}
		b.buf[len(b.buf)-1] |= byte((v>>i)&1) << (b.nbit % 8)
		b.nbit++
	}
}

func (b *bitWriter) bytes() []byte { return b.buf }

func TestBlocksCoverVector(t *testing.T) {
	next := 0
	names := map[string]bool{}
	for _, b := range Blocks() {
		if b.Offset != next || b.Len <= 0 || names[b.Name] {
			t.Fatalf("block %q at %d+%d; want offset %d, positive length, unique name", b.Name, b.Offset, b.Len, next)
		}
		names[b.Name] = true
		next += b.Len
	}
	if next != Dim {
		t.Fatalf("blocks cover %d floats, Dim is %d", next, Dim)
	}
	for _, r := range recipes {
		last := Blocks()[r.blocks-1]
		if last.Offset+last.Len != r.dim {
			t.Errorf("%s: its %d blocks cover %d floats, its Dim is %d", r.name, r.blocks, last.Offset+last.Len, r.dim)
		}
	}
	Blocks()[0].Offset = 99
	if Blocks()[0].Offset != 0 {
		t.Fatal("Blocks lets callers change the layout")
	}
}
