package world

import "math"

// This file holds the renderer's low-level machinery: a seeded random
// stream, an 8-bit RGB canvas that writes straight into an image's Pix slice,
// and anti-aliased filling of shapes given as signed distance functions.

// splitmix is splitmix64: tiny, fast, allocation-free and fully determined by its
// seed, so every picture is a pure function of (attributes, seed, size).
type splitmix struct{ s uint64 }

func newSplitmix(seed, stream uint64) splitmix {
	r := splitmix{s: seed ^ (stream * 0xd1b54a32d192ed03)}
	r.next()
	return r
}

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// f returns a uniform float32 in [0,1).
func (r *splitmix) f() float32 { return float32(r.next()>>40) / (1 << 24) }

// in returns a uniform float32 in [a,b).
func (r *splitmix) in(a, b float32) float32 { return a + (b-a)*r.f() }

// intn returns a uniform int in [0,n).
func (r *splitmix) intn(n int) int { return int((r.next() >> 33) % uint64(n)) }

// sign returns -1 or +1.
func (r *splitmix) sign() float32 {
	if r.next()&1 == 0 {
		return -1
	}
	return 1
}

// rgb is a colour with 0..255 float channels (sRGB-encoded).
type rgb struct{ r, g, b float32 }

func mixRGB(a, b rgb, t float32) rgb {
	return rgb{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t}
}

// pixCanvas paints into an RGBA Pix slice; alpha is always opaque.
type pixCanvas struct {
	pix    []uint8
	n      int // width = height in pixels
	stride int
	brute  bool // fill evaluates every pixel: the reference for tests
}

func (c *pixCanvas) blend(i int, col rgb, a float32) {
	p := c.pix[i : i+3 : i+3]
	p[0] = uint8(float32(p[0]) + (col.r-float32(p[0]))*a + 0.5)
	p[1] = uint8(float32(p[1]) + (col.g-float32(p[1]))*a + 0.5)
	p[2] = uint8(float32(p[2]) + (col.b-float32(p[2]))*a + 0.5)
}

// sdf is a signed distance in pixels from a pixel centre to a shape's edge:
// negative inside.
type sdf func(x, y float32) float32

// paint says how a shape's inside is coloured: a linear gradient c0→c1
// along t = gx*x + gy*y + g0 (clamped to [0,1]), an optional outline of width
// lw pixels in colour line, and an overall opacity.
type paint struct {
	c0, c1     rgb
	gx, gy, g0 float32
	line       rgb
	lw         float32
	alpha      float32
	slack      float32 // bound on |∇f|; 0 means 1
	// single says every row meets the shape in one run, so a row is done
	// once it has entered and left the shape (convex shapes, crosses).
	single bool
}

// flat returns a paint of one colour.
func flatPaint(col rgb) paint { return paint{c0: col, c1: col, alpha: 1} }

// lit returns a paint shaded from dark (lower right) to light (upper left)
// across a shape of radius r centred at (cx, cy).
func litPaint(dark, light rgb, cx, cy, r float32) paint {
	// t = 0.5 - ((x-cx)*0.55 + (y-cy)*0.83) / (2r)
	k := -1 / (2 * r)
	gx, gy := 0.55*k, 0.83*k
	return paint{c0: dark, c1: light, gx: gx, gy: gy, g0: 0.5 - gx*cx - gy*cy, alpha: 1}
}

// fill paints the shape f over the pixel box [x0,x1)×[y0,y1) with
// anti-aliased edges (coverage from the distance to the edge). Along each
// row it marches like a sphere tracer: a distance d far outside skips the
// pixels that d proves are outside too, and one deep inside paints the
// pixels it proves are inside without evaluating f again, so f runs mostly
// near edges. p.slack (default 1, for exact distances) bounds how much f
// may change per pixel; approximate distance functions set it higher.
func (c *pixCanvas) fill(x0, y0, x1, y1 float32, f sdf, p *paint) {
	ix0, iy0, ix1, iy1 := c.clip(x0, y0, x1, y1)
	if c.brute {
		ix0, iy0, ix1, iy1 = 0, 0, c.n, c.n // the box is under test too
	}
	if ix0 >= ix1 || iy0 >= iy1 || p.alpha <= 0 {
		return
	}
	slack := p.slack
	if slack == 0 {
		slack = 1
	}
	if c.brute {
		slack = 1e9 // evaluate every pixel (tests compare against this)
	}
	is := 1 / slack
	lw, alpha := p.lw, p.alpha
	inner := -(0.5 + lw)
	for y := iy0; y < iy1; y++ {
		fy := float32(y) + 0.5
		tRow := p.gy*fy + p.g0
		row := y * c.stride
		hit := false
		for x := ix0; x < ix1; {
			fx := float32(x) + 0.5
			d := f(fx, fy)
			if d >= 0.5 {
				if hit && p.single && !c.brute {
					break
				}
				x += 1 + int((d-0.5)*is)
				continue
			}
			hit = true
			if d <= inner {
				end := min(ix1, x+1+int((inner-d)*is))
				if alpha < 1 {
					for ; x < end; x++ {
						t := clamp32(p.gx*(float32(x)+0.5)+tRow, 0, 1)
						c.blend(row+4*x, mixRGB(p.c0, p.c1, t), alpha)
					}
					continue
				}
				// opaque run: write without reading
				for ; x < end; x++ {
					t := clamp32(p.gx*(float32(x)+0.5)+tRow, 0, 1)
					col := mixRGB(p.c0, p.c1, t)
					q := c.pix[row+4*x : row+4*x+3 : row+4*x+3]
					q[0], q[1], q[2] = uint8(col.r+0.5), uint8(col.g+0.5), uint8(col.b+0.5)
				}
				continue
			}
			a := float32(1)
			if d > -0.5 {
				a = 0.5 - d
			}
			col := mixRGB(p.c0, p.c1, clamp32(p.gx*fx+tRow, 0, 1))
			if lw > 0 {
				if m := d + lw + 0.5; m > 0 {
					col = mixRGB(col, p.line, min(m, 1))
				}
			}
			c.blend(row+4*x, col, a*alpha)
			x++
		}
	}
}

// clip turns a shape's box into the pixels that can touch it: a pixel is
// painted when its centre lies within half a pixel of the shape.
func (c *pixCanvas) clip(x0, y0, x1, y1 float32) (int, int, int, int) {
	ix0 := int(floor32(x0 - 0.5))
	iy0 := int(floor32(y0 - 0.5))
	ix1 := int(floor32(x1+0.5)) + 1
	iy1 := int(floor32(y1+0.5)) + 1
	return max(ix0, 0), max(iy0, 0), min(ix1, c.n), min(iy1, c.n)
}

// floor32 is floor for |x| < 2^31, without math.Floor's call (it is only
// an instruction from GOAMD64=v2 up).
func floor32(x float32) float32 {
	f := float32(int32(x))
	if f > x {
		f--
	}
	return f
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func clamp32(x, lo, hi float32) float32 { return min(max(x, lo), hi) }

func lerp32(a, b, t float32) float32 { return a + (b-a)*t }

// atan2f is a fast float32 arctangent (error below 0.004 rad, a twentieth
// of a pixel at the radii drawn), good enough for polar folds in shapes.
func atan2f(y, x float32) float32 {
	ax, ay := abs32(x), abs32(y)
	mx, mn := ax, ay
	if ay > ax {
		mx, mn = ay, ax
	}
	if mx == 0 {
		return 0
	}
	a := mn / mx
	r := a * (0.7853982 + 0.273*(1-a)) // error below 0.004 rad
	if ay > ax {
		r = math.Pi/2 - r
	}
	if x < 0 {
		r = math.Pi - r
	}
	if y < 0 {
		r = -r
	}
	return r
}

// Shape functions. Each returns a signed distance in pixels.

func sdCircle(cx, cy, r float32) sdf {
	return func(x, y float32) float32 {
		dx, dy := x-cx, y-cy
		return sqrt32(dx*dx+dy*dy) - r
	}
}

// ellipse is an approximate distance to an ellipse with radii rx, ry rotated
// by rot radians.
func sdEllipse(cx, cy, rx, ry, rot float32) sdf {
	cs, sn := float32(math.Cos(float64(rot))), float32(math.Sin(float64(rot)))
	irx, iry := 1/rx, 1/ry
	irx2, iry2 := irx*irx, iry*iry
	return func(x, y float32) float32 {
		dx, dy := x-cx, y-cy
		px := cs*dx + sn*dy
		py := -sn*dx + cs*dy
		k0 := sqrt32(px*px*irx2 + py*py*iry2)
		k1 := sqrt32(px*px*irx2*irx2 + py*py*iry2*iry2)
		if k1 == 0 {
			return -min(rx, ry)
		}
		return k0 * (k0 - 1) / k1
	}
}

// box is a rectangle centred at (cx, cy) with half sizes hw, hh and corner
// radius rr.
func sdBox(cx, cy, hw, hh, rr float32) sdf {
	return func(x, y float32) float32 {
		dx := abs32(x-cx) - hw + rr
		dy := abs32(y-cy) - hh + rr
		ox, oy := max(dx, 0), max(dy, 0)
		return sqrt32(ox*ox+oy*oy) + min(max(dx, dy), 0) - rr
	}
}

// capsule is a segment from a to b thickened to radius r.
func sdCapsule(ax, ay, bx, by, r float32) sdf {
	ex, ey := bx-ax, by-ay
	ie := 1 / max(ex*ex+ey*ey, 1e-6)
	return func(x, y float32) float32 {
		px, py := x-ax, y-ay
		h := clamp32((px*ex+py*ey)*ie, 0, 1)
		dx, dy := px-ex*h, py-ey*h
		return sqrt32(dx*dx+dy*dy) - r
	}
}

// triangle is the exact distance to a triangle.
func sdTriangle(x0, y0, x1, y1, x2, y2 float32) sdf {
	e0x, e0y := x1-x0, y1-y0
	e1x, e1y := x2-x1, y2-y1
	e2x, e2y := x0-x2, y0-y2
	i0 := 1 / max(e0x*e0x+e0y*e0y, 1e-6)
	i1 := 1 / max(e1x*e1x+e1y*e1y, 1e-6)
	i2 := 1 / max(e2x*e2x+e2y*e2y, 1e-6)
	s := float32(1)
	if e0x*e2y-e0y*e2x < 0 {
		s = -1
	}
	return func(x, y float32) float32 {
		v0x, v0y := x-x0, y-y0
		v1x, v1y := x-x1, y-y1
		v2x, v2y := x-x2, y-y2
		h0 := clamp32((v0x*e0x+v0y*e0y)*i0, 0, 1)
		h1 := clamp32((v1x*e1x+v1y*e1y)*i1, 0, 1)
		h2 := clamp32((v2x*e2x+v2y*e2y)*i2, 0, 1)
		q0x, q0y := v0x-e0x*h0, v0y-e0y*h0
		q1x, q1y := v1x-e1x*h1, v1y-e1y*h1
		q2x, q2y := v2x-e2x*h2, v2y-e2y*h2
		d := min(q0x*q0x+q0y*q0y, q1x*q1x+q1y*q1y, q2x*q2x+q2y*q2y)
		sg := min(s*(v0x*e0y-v0y*e0x), s*(v1x*e1y-v1y*e1x), s*(v2x*e2y-v2y*e2x))
		if sg < 0 {
			return sqrt32(d)
		}
		return -sqrt32(d)
	}
}

// star5 is a five-pointed star of outer radius r and inner ratio rf, with a
// point upward when rot = 0.
func sdStar5(cx, cy, r, rf, rot float32) sdf {
	const k1x, k1y = 0.809016994375, -0.587785252292
	const k2x, k2y = -k1x, k1y
	cs, sn := float32(math.Cos(float64(rot))), float32(math.Sin(float64(rot)))
	bax, bay := rf*(-k1y), rf*k1x-1
	ib := 1 / (bax*bax + bay*bay)
	return func(x, y float32) float32 {
		dx, dy := x-cx, y-cy
		px := cs*dx + sn*dy
		py := -(-sn*dx + cs*dy) // y up
		px = abs32(px)
		d := max(k1x*px+k1y*py, 0)
		px -= 2 * d * k1x
		py -= 2 * d * k1y
		d = max(k2x*px+k2y*py, 0)
		px -= 2 * d * k2x
		py -= 2 * d * k2y
		px = abs32(px)
		py -= r
		h := clamp32((px*bax+py*bay)*ib, 0, r)
		qx, qy := px-bax*h, py-bay*h
		l := sqrt32(qx*qx + qy*qy)
		if py*bax-px*bay < 0 {
			return -l
		}
		return l
	}
}

// spiral is a spiral of outer radius R built from semicircles (turns+½
// turns), stroked with width w; dir = ±1 picks its handedness. Above its
// axis the arcs share one centre and below it another, half a spacing
// away, so that each half is a set of concentric rings: the distance needs
// one square root and no angle.
func sdSpiral(cx, cy, R float32, turns int, w, rot, dir float32) sdf {
	s := R / (float32(turns) + 0.5) // spacing between turns
	is := 1 / s
	ax, bx := -s/4, s/4 // the two centres, so the whole is centred
	ex := ax - R        // the free outer end, on the axis
	kmax := float32(turns)
	cs, sn := float32(math.Cos(float64(rot))), float32(math.Sin(float64(rot)))
	hw := w / 2
	return func(x, y float32) float32 {
		dx, dy := x-cx, y-cy
		px := (cs*dx + sn*dy) * dir
		py := -sn*dx + cs*dy
		if py <= 0 {
			// upper arcs: centre A, radii s/2 + k·s
			qx := px - ax
			rho := sqrt32(qx*qx + py*py)
			k := min(float32(int32((rho-0.5*s)*is+0.5)), kmax) // ≥ 0: truncation floors
			return abs32(rho-(0.5+k)*s) - hw
		}
		// lower arcs: centre B, radii (1+k)·s; k = -1 is the inner end
		qx := px - bx
		rho := sqrt32(qx*qx + py*py)
		k := min(float32(int32((rho-s)*is+1.5)), kmax) - 1
		d := abs32(rho - (1+k)*s)
		qx = px - ex
		return min(d, sqrt32(qx*qx+py*py)) - hw
	}
}

// arc is a ring segment of radius ra and half thickness rb, centred on the
// downward (+y) axis with half aperture ap radians: a smile.
func sdArc(cx, cy, ra, rb, ap float32) sdf {
	sx, sy := float32(math.Sin(float64(ap))), float32(math.Cos(float64(ap)))
	return func(x, y float32) float32 {
		px, py := abs32(x-cx), y-cy
		if sy*px > sx*py {
			qx, qy := px-sx*ra, py-sy*ra
			return sqrt32(qx*qx+qy*qy) - rb
		}
		return abs32(sqrt32(px*px+py*py)-ra) - rb
	}
}

func sdUnion(a, b sdf) sdf {
	return func(x, y float32) float32 { return min(a(x, y), b(x, y)) }
}
