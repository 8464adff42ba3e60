package world

import "math"

// Subject drawers. Each draws one instance centred at (in.x, in.y) that
// fills roughly the square of half side in.r (pixels).

var colBlack = rgb{0, 0, 0}

func drawSubject(c *pixCanvas, a Attrs, in *instance, pal *scenePalette) {
	if in.r < 1 {
		in.r = 1
	}
	switch a.Subject {
	case subjOrb:
		drawOrb(c, a, in, pal)
	case subjSpiral:
		drawSpiral(c, in, pal)
	case subjStar:
		drawStar(c, in, pal)
	case subjFlower:
		drawFlower(c, in, pal)
	case subjTree:
		drawTree(c, in, pal)
	case subjHouse:
		drawHouse(c, in, pal)
	case subjMountain:
		drawMountain(c, in, pal)
	default:
		drawFace(c, in, pal)
	}
}

// outlineWidth is the outline width in pixels for an instance of radius r.
func outlineWidth(r float32) float32 { return max(0.6, 0.07*r) }

// shadow draws a soft contact shadow under a standing or floating thing: two
// nested ellipses at half strength each.
func drawShadow(c *pixCanvas, x, y, rx, ry, alpha float32) {
	p := flatPaint(colBlack)
	p.alpha = alpha / 2
	p.slack = 1.5 // approximate ellipse
	p.single = true
	g := max(0.8, 0.4*ry)
	c.fill(x-rx-g, y-ry-g, x+rx+g, y+ry+g, sdEllipse(x, y, rx+g, ry+g, 0), &p)
	c.fill(x-rx, y-ry, x+rx, y+ry, sdEllipse(x, y, rx, ry, 0), &p)
}

func drawOrb(c *pixCanvas, a Attrs, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	drawShadow(c, x+0.1*r, y+1.08*r, 0.75*r, 0.16*r, 0.28)
	lw := outlineWidth(r)
	spec := float32(0.45 + 0.5*a.Contrast)
	ir := 1 / r
	inner := max(0, 1-(lw+0.6)*ir) // inside this radius: no edge, no outline
	inner2 := inner * inner
	ix0, iy0, ix1, iy1 := c.clip(x-r, y-r, x+r, y+r)
	for py := iy0; py < iy1; py++ {
		fy := float32(py) + 0.5
		dy := (fy - y) * ir
		// only the chord of the disc on this row (plus a pixel for AA)
		hc := r*sqrt32(max(0, 1-dy*dy)) + 1.5
		jx0, jx1 := max(ix0, int(x-hc)), min(ix1, int(x+hc)+1)
		i := py*c.stride + 4*jx0
		for px := jx0; px < jx1; px, i = px+1, i+4 {
			dx := (float32(px) + 0.5 - x) * ir
			d2 := dx*dx + dy*dy
			cov, dist := float32(1), -r
			if d2 > inner2 { // near the rim: coverage and outline
				dist = (sqrt32(d2) - 1) * r
				if dist >= 0.5 {
					continue
				}
				cov = min(0.5-dist, 1)
			}
			nz := sqrt32(max(0, 1-d2))
			diff := max(0, -0.45*dx-0.55*dy+0.70*nz)
			var col rgb
			if diff < 0.6 {
				col = mixRGB(pal.mainDark, pal.main, diff/0.6)
			} else {
				col = mixRGB(pal.main, pal.mainLight, min(1, (diff-0.6)/0.4))
			}
			h := max(0, -0.244*dx-0.298*dy+0.922*nz)
			h *= h
			h *= h
			h *= h
			h *= h // ^16
			col = mixRGB(col, pal.snow, h*spec)
			if m := dist + lw + 0.5; m > 0 {
				col = mixRGB(col, pal.line, min(m, 1))
			}
			c.blend(i, col, cov)
		}
	}
}

func drawSpiral(c *pixCanvas, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	turns := 2
	if r >= 14 {
		turns = 3
	}
	w := 0.5 * r / (float32(turns) + 0.5)
	dir := in.side
	if dir == 0 {
		dir = 1
	}
	p := litPaint(pal.mainDark, pal.mainLight, x, y, r)
	p.line, p.lw = pal.line, min(outlineWidth(r), 0.22*w)
	if w < 2.5 {
		p.lw = 0
	}
	m := r + w
	c.fill(x-m, y-m, x+m, y+m, sdSpiral(x, y, r, turns, w, in.rot+in.v.f()*6.28, dir), &p)
}

func drawStar(c *pixCanvas, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	p := litPaint(pal.mainDark, pal.mainLight, x, y, r)
	p.line, p.lw = pal.line, outlineWidth(r)
	c.fill(x-r, y-0.9*r, x+r, y+1.1*r, sdStar5(x, y+0.1*r, r, 0.45, in.rot), &p)
	if r > 7 {
		// a small shine
		q := flatPaint(pal.snow)
		q.alpha = 0.7
		q.slack = 1.5
		q.single = true
		c.fill(x-r, y-r, x+r, y+r, sdEllipse(x-0.18*r, y-0.25*r, 0.09*r, 0.16*r, 0.6), &q)
	}
}

func drawFlower(c *pixCanvas, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	hx, hy := x+0.5*in.rot*r*0.3, y-0.32*r
	R := 0.66 * r
	lw := outlineWidth(r)
	// stem and leaf
	stemW := max(0.7, 0.07*r)
	sp := flatPaint(pal.accDark)
	bx := x + 0.06*r*in.side
	sp.single = true
	c.fill(min(hx, bx)-stemW, hy, max(hx, bx)+stemW, y+r+stemW, sdCapsule(hx, hy, bx, y+r, stemW), &sp)
	side := in.side
	if side == 0 {
		side = 1
	}
	lx, ly := x+side*0.2*r, y+0.55*r
	sp.slack = 1.5
	sp.single = true
	c.fill(lx-0.3*r, ly-0.3*r, lx+0.3*r, ly+0.3*r, sdEllipse(lx, ly, 0.24*r, 0.09*r, -side*0.5), &sp)
	// petals: a polar fold of one ellipse
	np := [3]int{5, 6, 8}[in.v.intn(3)]
	sector := float32(2 * math.Pi / float64(np))
	isector := 1 / sector
	rot := in.rot + math.Pi/2
	pr := (0.46 - 0.03*float32(np-5)) * R
	pw := (0.30 - 0.025*float32(np-5)) * R
	pc := 0.55 * R
	ipr2, ipw2 := 1/(pr*pr), 1/(pw*pw)
	petals := func(px, py float32) float32 {
		dx, dy := px-hx, py-hy
		rho := sqrt32(dx*dx + dy*dy)
		ang := atan2f(dy, dx) + rot
		ang -= sector * floor32(ang*isector+0.5)
		a2 := ang * ang
		cs := 1 - a2*(0.5-a2/24)
		sn := ang * (1 - a2*(1.0/6-a2/120))
		u, v := rho*cs-pc, rho*sn
		k0 := sqrt32(u*u*ipr2 + v*v*ipw2)
		k1 := sqrt32(u*u*ipr2*ipr2 + v*v*ipw2*ipw2)
		if k1 == 0 {
			return -pw
		}
		return k0 * (k0 - 1) / k1
	}
	p := litPaint(pal.mainDark, pal.mainLight, hx, hy, R)
	p.line, p.lw = pal.line, lw
	p.slack = 2.5 // folded approximate ellipses
	e := pc + pr  // petal reach
	c.fill(hx-e, hy-e, hx+e, hy+e, petals, &p)
	q := litPaint(pal.accDark, pal.accLight, hx, hy, 0.25*R)
	q.line, q.lw = pal.line, lw*0.8
	q.single = true
	c.fill(hx-R, hy-R, hx+R, hy+R, sdCircle(hx, hy, 0.24*R), &q)
}

func drawTree(c *pixCanvas, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	lw := outlineWidth(r)
	drawShadow(c, x, y+r, 0.55*r, 0.1*r, 0.22)
	tp := litPaint(pal.trunk, mixRGB(pal.trunk, pal.snow, 0.25), x, y, 0.3*r)
	tp.line, tp.lw = pal.line, lw*0.8
	p := litPaint(pal.mainDark, pal.mainLight, x, y-0.3*r, 0.8*r)
	p.line, p.lw = pal.line, lw
	if in.v.intn(2) == 0 {
		// pine: two stacked triangles
		tp.single = true
		c.fill(x-0.2*r, y+0.2*r, x+0.2*r, y+r, sdBox(x, y+0.62*r, 0.11*r, 0.4*r, 0), &tp)
		t1 := sdTriangle(x, y-r, x-0.52*r, y-0.1*r, x+0.52*r, y-0.1*r)
		t2 := sdTriangle(x, y-0.62*r, x-0.72*r, y+0.42*r, x+0.72*r, y+0.42*r)
		p.single = true
		c.fill(x-0.8*r, y-r, x+0.8*r, y+0.5*r, sdUnion(t1, t2), &p)
		return
	}
	// broadleaf: a cloud of circles
	tp.single = true
	c.fill(x-0.2*r, y, x+0.2*r, y+r, sdBox(x, y+0.5*r, 0.12*r, 0.5*r, 0), &tp)
	c1 := sdCircle(x, y-0.42*r, 0.5*r)
	c2 := sdCircle(x-0.38*r, y-0.05*r, 0.4*r)
	c3 := sdCircle(x+0.38*r, y-0.05*r, 0.4*r)
	c4 := sdCircle(x, y-0.02*r, 0.42*r)
	crown := func(px, py float32) float32 { return min(c1(px, py), c2(px, py), c3(px, py), c4(px, py)) }
	c.fill(x-0.8*r, y-r, x+0.8*r, y+0.4*r, crown, &p)
}

func drawHouse(c *pixCanvas, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	lw := outlineWidth(r)
	drawShadow(c, x, y+r, 0.75*r, 0.1*r, 0.22)
	side := in.side
	// chimney
	ch := flatPaint(pal.accDark)
	ch.line, ch.lw = pal.line, lw*0.8
	cxm := x + 0.4*r
	if side < 0 {
		cxm = x - 0.4*r
	}
	ch.single = true
	c.fill(cxm-0.12*r, y-0.85*r, cxm+0.12*r, y-0.3*r, sdBox(cxm, y-0.58*r, 0.09*r, 0.25*r, 0), &ch)
	// body
	p := litPaint(pal.mainDark, pal.mainLight, x, y+0.4*r, 0.7*r)
	p.line, p.lw = pal.line, lw
	p.single = true
	c.fill(x-0.62*r, y-0.2*r, x+0.62*r, y+r, sdBox(x, y+0.42*r, 0.6*r, 0.58*r, 0), &p)
	// roof
	rp := litPaint(pal.accDark, pal.accLight, x, y-0.5*r, 0.5*r)
	rp.line, rp.lw = pal.line, lw
	rp.single = true
	c.fill(x-0.8*r, y-r, x+0.8*r, y-0.05*r, sdTriangle(x, y-r, x-0.8*r, y-0.1*r, x+0.8*r, y-0.1*r), &rp)
	// door and windows
	dp := flatPaint(pal.dark)
	wp := flatPaint(pal.glow)
	wp.line, wp.lw = pal.line, max(0.6, lw*0.7)
	win := func(wx float32) {
		wp.single = true
		c.fill(wx-0.16*r, y+0.1*r, wx+0.16*r, y+0.42*r, sdBox(wx, y+0.26*r, 0.14*r, 0.14*r, 0.02*r), &wp)
	}
	if side == 0 {
		dp.single = true
		c.fill(x-0.16*r, y+0.35*r, x+0.16*r, y+r, sdBox(x, y+0.7*r, 0.14*r, 0.3*r, 0.03*r), &dp)
		win(x - 0.36*r)
		win(x + 0.36*r)
		return
	}
	dx := x + side*0.25*r
	dp.single = true
	c.fill(dx-0.16*r, y+0.35*r, dx+0.16*r, y+r, sdBox(dx, y+0.7*r, 0.14*r, 0.3*r, 0.03*r), &dp)
	win(x - side*0.27*r)
}

func drawMountain(c *pixCanvas, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	lw := outlineWidth(r)
	w := 1.2 * r
	ax, ay := x+0.1*in.rot*r, y-r
	body := sdTriangle(ax, ay, x-w, y+r, x+w, y+r)
	// Lit left face, shaded right face, split by a line from the apex.
	lx, ly := 0.25*r+(x-ax), 2*r
	l := sqrt32(lx*lx + ly*ly)
	nx, ny := ly/l, -lx/l
	p := paint{c0: pal.mainDark, c1: pal.mainLight, gx: -nx, gy: -ny, g0: 0.5 + nx*ax + ny*ay, alpha: 1}
	p.line, p.lw = pal.line, lw
	p.single = true
	c.fill(x-w, ay, x+w, y+r, body, &p)
	if in.v.f() < 0.8 {
		capY := ay + 0.55*r
		zig := 0.28 * r
		amp := 0.1 * r
		snowCap := func(px, py float32) float32 {
			t := (px - ax) / zig
			t = abs32(t - 2*floor32(t/2) - 1) // triangle wave 0..1
			return max(body(px, py)+lw, py-(capY+amp*t))
		}
		sp := p
		sp.c0, sp.c1 = mixRGB(pal.snow, pal.mainDark, 0.35), pal.snow
		sp.lw = 0
		sp.slack = 1.2
		sp.single = false // the zigzag cuts rows into pieces
		c.fill(ax-0.6*r, ay, ax+0.6*r, capY+amp+1, snowCap, &sp)
	}
}

func drawFace(c *pixCanvas, in *instance, pal *scenePalette) {
	x, y, r := in.x, in.y, in.r
	lw := outlineWidth(r)
	rot := in.rot * 0.5
	cs, sn := float32(math.Cos(float64(rot))), float32(math.Sin(float64(rot)))
	at := func(u, v float32) (float32, float32) { // face-local offset to pixels
		return x + (cs*u-sn*v)*r, y + (sn*u+cs*v)*r
	}
	p := litPaint(pal.mainDark, pal.mainLight, x, y, r)
	p.line, p.lw = pal.line, lw
	p.slack = 1.5
	head := sdEllipse(x, y, 0.8*r, 0.95*r, rot)
	p.single = true
	c.fill(x-r, y-r, x+r, y+r, head, &p)
	hair := in.v.intn(3)
	if hair > 0 {
		// a fringe of hair: the head's top, cut by a wavy line
		hp := litPaint(pal.accDark, pal.accLight, x, y-0.6*r, 0.5*r)
		hp.line, hp.lw = pal.line, lw
		hp.slack = 1.5
		hx, hy := at(0, -0.5)
		big := sdEllipse(x, y, 0.84*r, 0.99*r, rot)
		ir := 1 / r
		k := float32(0.1)
		if hair == 2 {
			k = 0.25
		}
		hf := func(px, py float32) float32 {
			dx, dy := px-hx, py-hy
			v := -sn*dx + cs*dy // along the face's vertical
			u := cs*dx + sn*dy
			t := u * ir * (9 / math.Pi) // scallops: |sin| as arches of parabolas
			t -= floor32(t)
			return max(big(px, py), (v-k*r*4*t*(1-t))/(1+9*k))
		}
		c.fill(x-r, y-r, x+r, y, hf, &hp)
	}
	// cheeks
	if r > 8 {
		cp := flatPaint(pal.acc)
		cp.alpha = 0.55
		for _, s := range [2]float32{-1, 1} {
			ex, ey := at(s*0.47, 0.25)
			cp.single = true
			c.fill(ex-0.15*r, ey-0.15*r, ex+0.15*r, ey+0.15*r, sdCircle(ex, ey, 0.12*r), &cp)
		}
	}
	// eyes
	ip := flatPaint(pal.ink)
	for _, s := range [2]float32{-1, 1} {
		ex, ey := at(s*0.3, -0.1)
		if r > 12 {
			wp := flatPaint(pal.snow)
			dp := flatPaint(pal.dark)
			wp.line, wp.lw = pal.line, max(0.6, lw*0.6)
			wp.single = true
			c.fill(ex-0.2*r, ey-0.2*r, ex+0.2*r, ey+0.2*r, sdCircle(ex, ey, 0.15*r), &wp)
			dp.single = true
			c.fill(ex-0.2*r, ey-0.2*r, ex+0.2*r, ey+0.2*r, sdCircle(ex+0.03*r, ey+0.02*r, 0.075*r), &dp)
			continue
		}
		ip.single = true
		c.fill(ex-0.2*r, ey-0.2*r, ex+0.2*r, ey+0.2*r, sdCircle(ex, ey, max(0.75, 0.1*r)), &ip)
	}
	// mouth
	mx, my := at(0, 0.12)
	mw := max(0.5, 0.05*r)
	mp := flatPaint(pal.ink)
	if r > 12 {
		mp = flatPaint(pal.dark)
	}
	switch in.v.intn(4) {
	case 0: // open "o"
		cr := sdCircle(mx, my+0.28*r, 0.11*r)
		c.fill(mx-0.2*r, my, mx+0.2*r, my+0.5*r, func(px, py float32) float32 { return abs32(cr(px, py)) - mw }, &mp)
	default: // smile
		c.fill(mx-0.5*r, my, mx+0.5*r, my+0.5*r, sdArc(mx, my, 0.34*r, mw, 0.95), &mp)
	}
}
