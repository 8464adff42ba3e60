package world

import (
	"image"
	"math"
)

// The renderer draws a small flat illustration of an image's attributes: a
// backdrop, 1..5 instances of one subject laid out symmetric or scattered,
// optional decorations, and film grain. The attributes set everything a
// person would describe (colours, layout, kinds); the seed sets only what
// they would not (exact positions, jitter, pattern phase, noise), so two
// images with the same attributes and different seeds are variations of one
// picture, and a sweep of one attribute under a fixed seed changes only that
// attribute.
//
// Speed matters: worlds of millions of images are rendered in memory, so
// every pass writes straight into the RGBA Pix slice and shapes are filled
// from signed distance functions over their bounding boxes.

// Subject indices into Subjects.
const (
	subjOrb = iota
	subjSpiral
	subjStar
	subjFlower
	subjTree
	subjHouse
	subjMountain
	subjFace
)

// Background indices into Backgrounds.
const (
	bgPlain = iota
	bgGradient
	bgStripes
	bgDots
	bgHorizon
)

// Random streams, one per stage, so the stages do not shift one another.
const (
	streamPalette = iota + 1
	streamSymLayout
	streamScatter
	streamVariant
	streamBackground
	streamDeco
	streamGrain
	streamInstance // + instance index
)

// Render draws the image a prompt and latent make.
func Render(p Prompt, l Latent, size int) *image.RGBA {
	return Draw(Resolve(p, l), l.Seed, size)
}

// Draw renders a size×size picture of the attributes; it is a pure function
// of (a, seed, size). Sizes below 8 are drawn at 8.
func Draw(a Attrs, seed uint64, size int) *image.RGBA {
	return renderPicture(a, seed, size, false)
}

// render is Draw; brute makes every shape evaluate its distance at every pixel
// of its box, the slow reference that tests hold the fast path to.
func renderPicture(a Attrs, seed uint64, size int, brute bool) *image.RGBA {
	size = max(size, 8)
	a = sanitizeAttrs(a)
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	c := pixCanvas{pix: img.Pix, n: size, stride: img.Stride, brute: brute}
	N := float32(size)

	pr := newSplitmix(seed, streamPalette)
	pal := makePalette(a, float64(pr.sign()))

	br := newSplitmix(seed, streamBackground)
	horizon := drawBackground(&c, a.Background, &pal, &br)

	var insts [MaxCount]instance
	layoutInstances(insts[:a.Count], a, seed, horizon)

	dr := newSplitmix(seed, streamDeco)
	var decoBuf [maxDecos]decoration
	decos := decorations(decoBuf[:0], a.Clutter, &dr, N)
	for i := range decos {
		if !decos[i].front {
			drawDeco(&c, &decos[i], &pal)
		}
	}
	for i := range insts[:a.Count] {
		in := &insts[i]
		in.x, in.y, in.r = in.x*N, in.y*N, in.r*N
		drawSubject(&c, a, in, &pal)
	}
	for i := range decos {
		if decos[i].front {
			drawDeco(&c, &decos[i], &pal)
		}
	}
	gr := newSplitmix(seed, streamGrain)
	addGrain(&c, a.Grain, gr.next())
	return img
}

// sanitize clamps attributes so that any value, even a hand-built one, draws.
func sanitizeAttrs(a Attrs) Attrs {
	fix := func(x float64) float64 {
		if math.IsNaN(x) {
			return 0.5
		}
		return clamp01(x)
	}
	a.Hue -= math.Floor(a.Hue)
	if math.IsNaN(a.Hue) || math.IsInf(a.Hue, 0) {
		a.Hue = 0
	}
	a.Saturation, a.Brightness, a.Contrast = fix(a.Saturation), fix(a.Brightness), fix(a.Contrast)
	a.Grain, a.Harmony, a.Symmetry = fix(a.Grain), fix(a.Harmony), fix(a.Symmetry)
	a.Scale, a.Clutter = fix(a.Scale), fix(a.Clutter)
	a.Subject = min(max(a.Subject, 0), len(Subjects)-1)
	a.Background = min(max(a.Background, 0), len(Backgrounds)-1)
	a.Count = min(max(a.Count, 1), MaxCount)
	return a
}

// instance is one subject instance: centre and radius (unit coordinates during
// layout, pixels when drawn), a tilt, which side of the mirror axis it is on
// (-1, 0, +1; mirrors asymmetric details) and its own variant stream.
type instance struct {
	x, y, r float32
	rot     float32
	side    float32
	v       splitmix
}

func standsOnGround(subject int) bool {
	switch subject {
	case subjFlower, subjTree, subjHouse, subjMountain:
		return true
	}
	return false
}

// layout places the instances. It computes a centred, mirror-symmetric
// arrangement and a scattered one and blends them by the symmetry code, so
// the attribute acts continuously.
func layoutInstances(out []instance, a Attrs, seed uint64, horizon float32) {
	n := len(out)
	shrink := [MaxCount]float32{1, 0.86, 0.76, 0.68, 0.62}
	r0 := lerp32(0.11, 0.31, float32(a.Scale)) * shrink[n-1]
	s := float32(a.Symmetry)
	ground := standsOnGround(a.Subject)

	baseline := float32(0.8)
	if horizon > 0 {
		baseline = horizon + 0.1
	}
	if a.Subject == subjMountain {
		baseline = 0.82
		if horizon > 0 {
			baseline = horizon + 0.03
		}
	}

	// Symmetric arrangement.
	var sx, sy, sm [MaxCount]float32
	lr := newSplitmix(seed, streamSymLayout)
	pattern := lr.intn(3)
	for i := range sm {
		sm[i] = 1
	}
	mid := float32(n-1) / 2
	if ground {
		sp := float32(0)
		if n > 1 {
			sp = min(2.2*r0, (0.96-1.4*r0)/float32(n-1))
		}
		for i := range n {
			off := float32(i) - mid
			switch {
			case pattern == 1 && n%2 == 1:
				if off == 0 {
					sm[i] = 1.2
				} else {
					sm[i] = 0.88
				}
			case pattern == 2 && n > 2:
				sm[i] = 1.15 - 0.1*abs32(off)
			}
			sx[i] = 0.5 + off*sp
			sy[i] = baseline - r0*sm[i]
		}
	} else {
		d := clamp32(2.3*r0, 0.2, 0.36)
		sp := d
		if n > 1 {
			sp = min(d, 0.86/float32(n-1))
		}
		for i := range n {
			sx[i], sy[i] = 0.5+(float32(i)-mid)*sp, 0.5
		}
		switch {
		case n == 2 && pattern == 2:
			sx[0], sy[0], sx[1], sy[1] = 0.5, 0.5-d/2, 0.5, 0.5+d/2
		case n == 3 && pattern > 0:
			up := float32(1)
			if pattern == 2 {
				up = -1
			}
			sx[0], sy[0] = 0.5, 0.5-up*d*0.45
			sx[1], sy[1] = 0.5-d*0.55, 0.5+up*d*0.45
			sx[2], sy[2] = 0.5+d*0.55, 0.5+up*d*0.45
		case n == 4 && pattern == 1:
			for i := range 4 {
				sx[i] = 0.5 + d*0.5*float32(2*(i%2)-1)
				sy[i] = 0.5 + d*0.5*float32(2*(i/2)-1)
			}
		case n == 4 && pattern == 2:
			sx[0], sy[0] = 0.5, 0.5-d*0.62
			sx[1], sy[1] = 0.5-d*0.62, 0.5
			sx[2], sy[2] = 0.5+d*0.62, 0.5
			sx[3], sy[3] = 0.5, 0.5+d*0.62
		case n == 5 && pattern == 1:
			sx[0], sy[0], sm[0] = 0.5, 0.5, 1.1
			for i := range 4 {
				sx[i+1] = 0.5 + d*0.62*float32(2*(i%2)-1)
				sy[i+1] = 0.5 + d*0.62*float32(2*(i/2)-1)
				sm[i+1] = 0.85
			}
		case n == 5 && pattern == 2:
			for i := range 5 {
				off := float32(i) - 2
				sy[i] = 0.42 + 0.09*abs32(off)*d/0.3
			}
		}
	}

	// Scattered arrangement: always the same amount of randomness drawn, so
	// the count does not reshuffle the others.
	var qx, qy, qm, qrot, qside [MaxCount]float32
	sr := newSplitmix(seed, streamScatter)
	for i := range MaxCount {
		qm[i] = sr.in(0.7, 1.3)
		qrot[i] = sr.in(-0.7, 0.7)
		qside[i] = sr.sign()
		if ground {
			qx[i] = sr.in(0.1, 0.9)
			lo := float32(0.5)
			if horizon > 0 {
				lo = horizon + 0.02
			}
			if a.Subject == subjMountain {
				lo -= 0.08
			}
			bottom := sr.in(lo, 0.97)
			qm[i] *= 0.75 + 0.5*(bottom-lo)/(0.97-lo) // nearer is larger
			qy[i] = bottom - r0*qm[i]
			continue
		}
		m := min(0.42, r0*0.6+0.06)
		bestScore := float32(-1)
		for range 8 {
			x, y := sr.in(m, 1-m), sr.in(m, 1-m)
			if i == 0 {
				// Keep the first one well off the vertical axis.
				x = 0.5 + sr.sign()*sr.in(0.14, 0.32)
				y = sr.in(0.25, 0.75)
			}
			score := float32(1)
			for j := range i {
				dx, dy := x-qx[j], y-qy[j]
				score = min(score, dx*dx+dy*dy)
			}
			if score > bestScore {
				bestScore, qx[i], qy[i] = score, x, y
			}
		}
	}

	// Pair symmetric slots with scattered spots left to right, so that in
	// between the two the instances slide apart instead of crossing over.
	var ps, pq [MaxCount]int
	for i := range n {
		ps[i], pq[i] = i, i
	}
	byX := func(p []int, x, y []float32) {
		for i := 1; i < len(p); i++ {
			for j := i; j > 0 && (x[p[j]] < x[p[j-1]]-1e-4 || (abs32(x[p[j]]-x[p[j-1]]) <= 1e-4 && y[p[j]] < y[p[j-1]])); j-- {
				p[j], p[j-1] = p[j-1], p[j]
			}
		}
	}
	byX(ps[:n], sx[:], sy[:])
	byX(pq[:n], qx[:], qy[:])

	vr := newSplitmix(seed, streamVariant)
	for k := range out {
		i, j := ps[k], pq[k] // symmetric slot, scattered spot
		in := &out[k]
		in.x = lerp32(qx[j], sx[i], s)
		in.y = lerp32(qy[j], sy[i], s)
		in.r = r0 * lerp32(qm[j], sm[i], s)
		in.rot = qrot[j] * (1 - s)
		if s >= 0.5 {
			switch {
			case sx[i] < 0.49:
				in.side = -1
			case sx[i] > 0.51:
				in.side = 1
			}
			in.v = vr
		} else {
			in.side = qside[j]
			in.v = newSplitmix(seed, streamInstance+uint64(j))
		}
	}
	// Farther (higher) things first.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && out[j].y+out[j].r < out[j-1].y+out[j-1].r; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
}

// drawBackground fills every pixel and returns the horizon height in unit
// coordinates (0 when the backdrop has none). Rows that repeat are copied.
func drawBackground(c *pixCanvas, kind int, pal *scenePalette, r *splitmix) float32 {
	n, N := c.n, float32(c.n)
	w := 4 * n
	put := func(b []uint8, col rgb) {
		b[0], b[1], b[2], b[3] = uint8(col.r+0.5), uint8(col.g+0.5), uint8(col.b+0.5), 255
	}
	line := func(y int) []uint8 { return c.pix[y*c.stride : y*c.stride+w] }
	row := func(y int, col rgb) {
		b := line(y)
		put(b, col)
		for k := 4; k < w; k *= 2 {
			copy(b[k:], b[:k])
		}
	}
	switch kind {
	case bgGradient:
		for y := range n {
			row(y, mixRGB(pal.bgTop, pal.bgBot, (float32(y)+0.5)/N))
		}
	case bgStripes:
		orient := r.intn(3)
		period := N * r.in(0.09, 0.18)
		phase := r.f() * period
		duty := r.in(0.3, 0.5) * period / 2
		ip := 1 / period
		step := float32(1)
		if orient == 2 {
			step = 0.7071
		}
		// One strip of colours along u = x (vertical), y (horizontal) or
		// x+y (diagonal); every row is a piece of it.
		var buf [4 * 2 * 512]uint8
		strip := buf[:]
		if 2*w > len(buf) {
			strip = make([]uint8, 2*w)
		}
		for k := range 2 * n {
			u := (float32(k)*step+phase)*ip + 0.5
			f := abs32(u-floor32(u)-0.5) * period
			put(strip[4*k:], mixRGB(pal.bg, pal.bgAlt, clamp32(duty-f+0.5, 0, 1)))
		}
		for y := range n {
			b := line(y)
			switch orient {
			case 0:
				copy(b, strip[:w])
			case 1:
				copy(b, strip[4*y:4*y+4])
				for k := 4; k < w; k *= 2 {
					copy(b[k:], b[:k])
				}
			default:
				copy(b, strip[4*y:4*y+w])
			}
		}
	case bgDots:
		period := N * r.in(0.1, 0.17)
		rad := period * r.in(0.14, 0.26)
		ox, oy := r.f()*period, r.f()*period
		ip := 1 / period
		var buf [4 * 512]uint8
		plain := buf[:]
		if w > len(buf) {
			plain = make([]uint8, w)
		}
		plain = plain[:w]
		put(plain, pal.bg)
		for k := 4; k < w; k *= 2 {
			copy(plain[k:], plain[:k])
		}
		for y := range n {
			b := line(y)
			fy := (float32(y)+0.5+oy)*ip + 0.5
			j := floor32(fy)
			ly := (fy - j - 0.5) * period
			copy(b, plain)
			if abs32(ly) >= rad+0.5 {
				continue
			}
			shift := float32(0)
			if int(j)%2 != 0 {
				shift = 0.5
			}
			for x := range n {
				fx := (float32(x)+0.5+ox)*ip + shift
				lx := (fx - floor32(fx) - 0.5) * period
				if d := sqrt32(lx*lx+ly*ly) - rad; d < 0.5 {
					put(b[4*x:], mixRGB(pal.bg, pal.bgAlt, min(0.5-d, 1)))
				}
			}
		}
	case bgHorizon:
		h := r.in(0.56, 0.7)
		amp := N * r.in(0.0, 0.035)
		freq := r.in(0.5, 1.6) * 2 * math.Pi / N
		ph := r.f() * 2 * math.Pi
		H := h * N
		for y := range n {
			fy := float32(y) + 0.5
			sky := mixRGB(pal.bgTop, pal.bg, clamp32(fy/H, 0, 1))
			gnd := mixRGB(pal.ground, pal.groundLo, clamp32((fy-H)/(N-H), 0, 1))
			if fy < H-amp-1 {
				row(y, sky)
				continue
			}
			if fy > H+amp+1 {
				row(y, gnd)
				continue
			}
			b := line(y)
			for x := range n {
				yh := H + amp*float32(math.Sin(float64(float32(x)*freq+ph)))
				put(b[4*x:], mixRGB(sky, gnd, clamp32(fy-yh+0.5, 0, 1)))
			}
		}
		return h
	default:
		row(0, pal.bg)
		for y := 1; y < n; y++ {
			copy(line(y), line(0))
		}
	}
	return 0
}

// decoration is one small decoration: confetti, sparkle, dot or ring.
type decoration struct {
	kind    int
	x, y, s float32
	angle   float32
	col     int
	front   bool
}

// maxDecos is the number of decorations at clutter 1.
const maxDecos = 32

// decorations appends the clutter decorations to out: round(maxDecos·clutter)
// of them, the first k always the same for a seed, so more clutter only adds.
func decorations(out []decoration, clutter float64, r *splitmix, N float32) []decoration {
	n := int(math.Round(clutter * maxDecos))
	out = out[:n]
	for i := range out {
		d := &out[i]
		d.kind = r.intn(4)
		d.x, d.y = r.f()*N, r.f()*N
		d.s = N * r.in(0.02, 0.038)
		d.angle = r.f() * math.Pi
		d.col = r.intn(4)
		d.front = i%3 == 0
	}
	return out
}

func drawDeco(c *pixCanvas, d *decoration, pal *scenePalette) {
	p := flatPaint(pal.deco[d.col])
	s := d.s
	e := [4]float32{0.6, 1.2, 1.25, 0.95}[d.kind] * s // half extent
	x0, y0, x1, y1 := d.x-e, d.y-e, d.x+e, d.y+e
	switch d.kind {
	case 0: // dot
		p.single = true
		c.fill(x0, y0, x1, y1, sdCircle(d.x, d.y, max(0.6, 0.6*s)), &p)
	case 1: // confetti
		cs, sn := float32(math.Cos(float64(d.angle))), float32(math.Sin(float64(d.angle)))
		l := 0.9 * s
		p.single = true
		c.fill(x0, y0, x1, y1, sdCapsule(d.x-cs*l, d.y-sn*l, d.x+cs*l, d.y+sn*l, max(0.45, 0.28*s)), &p)
	case 2: // sparkle
		w, l := max(0.4, 0.16*s), 1.1*s
		f := sdUnion(sdCapsule(d.x-l, d.y, d.x+l, d.y, w), sdCapsule(d.x, d.y-l, d.x, d.y+l, w))
		p.single = true
		c.fill(x0, y0, x1, y1, f, &p)
	default: // ring
		cr := sdCircle(d.x, d.y, 0.75*s)
		w := max(0.4, 0.18*s)
		c.fill(x0, y0, x1, y1, func(x, y float32) float32 { return abs32(cr(x, y)) - w }, &p)
	}
}

// addGrain adds film grain: mostly luminance noise with a little colour.
// One xorshift step feeds two pixels.
func addGrain(c *pixCanvas, grain float64, seed uint64) {
	if grain <= 0.005 {
		return
	}
	amp := int32(math.Pow(grain, 1.3) * 40) // peak deviation in 0..255 units
	st := seed | 1
	pix := c.pix[:4*c.n*c.n] // Draw's images are contiguous
	for i := 0; i+8 <= len(pix); i += 8 {
		st ^= st << 13
		st ^= st >> 7
		st ^= st << 17
		w := st
		p := pix[i : i+8 : i+8]
		for k := 0; k < 8; k += 4 {
			v := (int32(w&0xff) + int32(w>>8&0xff) - 255) * amp >> 8
			ch := (int32(w>>16&0xff) - 128) * amp >> 10
			p[k] = clampTab[int32(p[k])+v+ch+256]
			p[k+1] = clampTab[int32(p[k+1])+v+256]
			p[k+2] = clampTab[int32(p[k+2])+v-ch+256]
			w >>= 32
		}
	}
}

// clampTab[v+256] is v clamped to 0..255, for v in -256..511: a branch-free
// saturating add for the grain, whose noise is at most ±60.
var clampTab = func() (t [768]uint8) {
	for i := range t {
		t[i] = uint8(min(max(i-256, 0), 255))
	}
	return t
}()
