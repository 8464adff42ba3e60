package features

import "math"

const (
	blobDim      = 10
	blobShapeDim = 10
)

// foreground marks, at half resolution, the pixels that differ from the
// picture's frame and splits them into 4-connected regions. A pixel is
// background when its CIELAB colour is within a threshold of any of the four
// frame pixels on its row and column (left and right ends of its row, top
// and bottom of its column); this follows plain backdrops, gradients,
// horizons and stripes in either direction, which a single background colour
// does not. The threshold is ΔE*ab 12, raised on grainy pictures to five
// times the half-resolution noise level so that grain does not read as
// objects. It fills s.fg, s.label and s.comps.
func (s *scratch) foreground() {
	thresh := max(0.12, 5*s.noiseSigma)
	t2 := thresh * thresh
	L, A, B := &s.hL, &s.hA, &s.hB
	s.nfg = 0
	for y := 0; y < half; y++ {
		l, r := y*half, y*half+half-1
		for x := 0; x < half; x++ {
			i := y*half + x
			t, b := x, (half-1)*half+x
			pl, pa, pb := L[i], A[i], B[i]
			near := false
			for _, j := range [4]int{l, r, t, b} {
				dl, da, db := pl-L[j], pa-A[j], pb-B[j]
				if dl*dl+da*da+db*db <= t2 {
					near = true
					break
				}
			}
			if near {
				s.fg[i] = 0
			} else {
				s.fg[i] = 1
				s.nfg++
			}
		}
	}

	s.label4()
}

// label4 splits s.fg into 4-connected regions: labels 1, 2, ... in
// s.label, and s.comps[k-1] describes label k.
func (s *scratch) label4() {
	clear(s.label[:])
	s.comps = s.comps[:0]
	for start, f := range s.fg {
		if f == 0 || s.label[start] != 0 {
			continue
		}
		id := int16(len(s.comps) + 1)
		c := component{x0: half, y0: half}
		s.label[start] = id
		s.stack[0] = int16(start)
		top := 1
		for top > 0 {
			top--
			i := int(s.stack[top])
			x, y := i%half, i/half
			c.size++
			c.sx += x
			c.sy += y
			c.x0, c.x1 = min(c.x0, x), max(c.x1, x)
			c.y0, c.y1 = min(c.y0, y), max(c.y1, y)
			for _, j := range [4]int{i - 1, i + 1, i - half, i + half} {
				switch {
				case j == i-1 && x == 0, j == i+1 && x == half-1, j < 0, j >= half*half:
					c.perim++
				case s.fg[j] == 0:
					c.perim++
				case s.label[j] == 0:
					s.label[j] = id
					s.stack[top] = int16(j)
					top++
				}
			}
		}
		s.comps = append(s.comps, c)
	}
}

// component is one 4-connected foreground region at half resolution.
type component struct {
	size, perim    int
	sx, sy         int // sums of coordinates
	x0, x1, y0, y1 int // bounding box, inclusive
}

// blobs writes the foreground statistics: the number of regions of 1-3,
// 4-15, 16-63 and 64+ half-resolution pixels (each as n/(n+2)), the square
// root of the foreground's share of the picture, the largest region's share
// of the foreground, and the foreground's centroid and spread (coordinates
// from -1 to 1).
func (s *scratch) blobs(out []float32) {
	if s.nfg == 0 {
		return
	}
	var counts [4]int
	largest := 0
	var su, sw, suu, sww float32
	for y := 0; y < half; y++ {
		w := (float32(y)+0.5)/(half/2) - 1
		for x, f := range s.fg[y*half : y*half+half] {
			if f == 0 {
				continue
			}
			u := (float32(x)+0.5)/(half/2) - 1
			su += u
			sw += w
			suu += u * u
			sww += w * w
		}
	}
	for _, c := range s.comps {
		switch {
		case c.size < 4:
			counts[0]++
		case c.size < 16:
			counts[1]++
		case c.size < 64:
			counts[2]++
		default:
			counts[3]++
		}
		largest = max(largest, c.size)
	}
	for i, c := range counts {
		out[i] = float32(c) / float32(c+2)
	}
	n := float32(s.nfg)
	out[4] = sqrt(n / (half * half))
	out[5] = float32(largest) / n
	mu, mw := su/n, sw/n
	out[6] = 2 * mu
	out[7] = 2 * mw
	out[8] = 2 * sqrt(suu/n-mu*mu)
	out[9] = 2 * sqrt(sww/n-mw*mw)
}

// radialBins is the number of directions the largest region's outline is
// sampled in.
const radialBins = 16

// blobShape describes the largest foreground region, which is usually the
// subject: the magnitudes of harmonics 1-6 of its radius as a function of
// direction relative to the mean radius (a disc has none, a five-pointed
// star a strong fifth, a six-petalled flower a sixth, a triangle a third),
// its compactness 4π·area/perimeter², the share of its bounding box it
// fills, the log aspect ratio of that box, and the number of regions at
// least a quarter of its size (as n/(n+2); similar objects side by side).
func (s *scratch) blobShape(out []float32) {
	best := -1
	for k, c := range s.comps {
		if c.size >= 4 && (best < 0 || c.size > s.comps[best].size) {
			best = k
		}
	}
	if best < 0 {
		return
	}
	c := s.comps[best]
	id := int16(best + 1)
	cx := float32(c.sx)/float32(c.size) + 0.5
	cy := float32(c.sy)/float32(c.size) + 0.5
	var radius [radialBins]float32
	for y := c.y0; y <= c.y1; y++ {
		for x := c.x0; x <= c.x1; x++ {
			if s.label[y*half+x] != id {
				continue
			}
			dx, dy := float32(x)+0.5-cx, float32(y)+0.5-cy
			a := atan2(dy, dx) // -π..π
			k := int((a+math.Pi)*(radialBins/(2*math.Pi))) & (radialBins - 1)
			radius[k] = max(radius[k], sqrt(dx*dx+dy*dy)+0.5)
		}
	}
	var sum float32
	for _, r := range radius {
		sum += r
	}
	for h := 1; h <= 6; h++ {
		var re, im float32
		for k, r := range radius {
			a := 2 * math.Pi * float64(h) * (float64(k) + 0.5) / radialBins
			re += r * float32(math.Cos(a))
			im += r * float32(math.Sin(a))
		}
		out[h-1] = 4 * sqrt(re*re+im*im) / sum
	}
	out[6] = min(1, 4*math.Pi*float32(c.size)/float32(c.perim*c.perim))
	bw, bh := c.x1-c.x0+1, c.y1-c.y0+1
	out[7] = float32(c.size) / float32(bw*bh)
	out[8] = clampF(float32(math.Log(float64(bw)/float64(bh)))/1.4, -1, 1)
	similar := 0
	for _, o := range s.comps {
		if 4*o.size >= c.size && o.size >= 4 {
			similar++
		}
	}
	out[9] = float32(similar) / float32(similar+2)
}
