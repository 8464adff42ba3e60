package features

import "encoding/binary"

// fineHue is the number of bins of the chroma-weighted hue histogram that the
// hue-circle statistics are computed from (5° each).
const fineHue = 72

// colour computes CIELAB lightness at full resolution (in 8 bits, L*·2.55)
// for the texture features and the tone block, then the half-resolution
// planes: L* as the mean of each 2×2 block's four values, a* and b* and HSV
// of the block's mean colour. Every colour statistic is taken at half
// resolution, which colour does not need more of. It writes the colour
// blocks, the tone block, the 4×4 colour grid and the lightness and chroma
// parts of centre-vs-surround.
//
// The work is split into short loops, each over one plane: Go keeps a short
// loop's variables in registers, and a histogram is filled in a pass of its
// own, since incrementing a bin whose index comes out of a long computation
// in the same loop stalls the processor on memory ordering.
func (s *scratch) colour(v []float32) {
	pix := s.pix[:]
	L := s.L[:]
	for i := range L {
		p := pix[i*4 : i*4+3 : i*4+3]
		L[i] = lightness8(p[0], p[1], p[2])
	}
	s.tone(v)

	// Half resolution: the 2×2 means of L* and of the colour.
	const q = 1.0 / (4 * 255)
	for y := 0; y < half; y++ {
		l0 := s.L[2*y*full : 2*y*full+full : 2*y*full+full]
		l1 := s.L[2*y*full+full : 2*y*full+2*full : 2*y*full+2*full]
		top := s.pix[2*y*full*4 : (2*y+1)*full*4 : (2*y+1)*full*4]
		bot := s.pix[(2*y+1)*full*4 : (2*y+2)*full*4 : (2*y+2)*full*4]
		hL := s.hL[y*half : y*half+half : y*half+half]
		hp := s.hpix[y*half : y*half+half : y*half+half]
		for x := range hL {
			hL[x] = q * float32(uint(l0[2*x])+uint(l0[2*x+1])+uint(l1[2*x])+uint(l1[2*x+1]))
			m := avg2x2(binary.LittleEndian.Uint64(top[8*x:8*x+8]), binary.LittleEndian.Uint64(bot[8*x:8*x+8]))
			hp[x] = [3]uint8{uint8(m), uint8(m >> 8), uint8(m >> 16)}
		}
	}
	for i, p := range s.hpix {
		s.hA[i], s.hB[i] = ab(p[0], p[1], p[2])
	}
	const inv255 = 1.0 / 255
	for i, p := range s.hpix {
		r, g, b := p[0], p[1], p[2]
		mx := max(r, g, b)
		c := uint(mx) - uint(min(r, g, b))
		// HSV hue in [0,6), -1 for grey.
		h := float32(-1)
		if c > 0 {
			ic := inv[c&255]
			switch mx {
			case r:
				h = float32(int(g)-int(b)) * ic
				if h < 0 {
					h += 6
				}
			case g:
				h = 2 + float32(int(b)-int(r))*ic
			default:
				h = 4 + float32(int(r)-int(g))*ic
			}
		}
		s.hue[i], s.chroma[i] = h, float32(c)*inv255
		s.sat[i], s.val[i] = float32(c)*inv[mx], float32(mx)*inv255
	}

	s.colourMoments(v)
	s.colourHistograms(v)
}

// tone writes the tone block and the lightness half of the colour grid and
// of centre-vs-surround from the full-resolution L* plane.
func (s *scratch) tone(v []float32) {
	var (
		lum   [4][256]int32
		gridL [16]uint32
		sumL  uint32
		sumL2 uint64
	)
	L := &s.L
	for i := 0; i < len(L); i += 4 {
		lum[0][L[i]]++
		lum[1][L[i+1]]++
		lum[2][L[i+2]]++
		lum[3][L[i+3]]++
	}
	for k := 1; k < 4; k++ {
		for i, c := range lum[k] {
			lum[0][i] += c
		}
	}
	for i, c := range lum[0] {
		sumL += uint32(i) * uint32(c)
		sumL2 += uint64(i*i) * uint64(c)
	}
	for y := 0; y < full; y++ {
		row := s.L[y*full : y*full+full : y*full+full]
		for cx := 0; cx < 4; cx++ {
			var cell uint32
			for _, l := range row[cx*16 : cx*16+16] {
				cell += uint32(l)
			}
			gridL[(y>>4)*4+cx] += cell
		}
	}
	cL := gridL[5] + gridL[6] + gridL[9] + gridL[10]
	const n = full * full
	const invN = 1.0 / n
	mL := float32(sumL) * (invN / 255)
	sL := sqrt(float32(float64(sumL2)*(invN/(255*255))) - mL*mL)
	var pct [5]float32
	levels := [5]int32{n * 5 / 100, n / 4, n / 2, n * 3 / 4, n * 95 / 100}
	var cum int32
	j := 0
	var lumHist [8]float32
	for q, c := range lum[0] {
		cum += c
		for j < 5 && cum > levels[j] {
			pct[j] = float32(q) / 255
			j++
		}
		if c == 0 {
			continue
		}
		pos := clampF(float32(q)*(8.0/255)-0.5, 0, 7)
		b0 := min(int(pos), 6)
		fb := pos - float32(b0)
		lumHist[b0] += float32(c) * (1 - fb)
		lumHist[b0+1] += float32(c) * fb
	}
	t := v[offTone : offTone+16]
	t[0] = 2*mL - 1
	t[1] = 4 * sL
	for i, p := range pct {
		t[2+i] = 2*p - 1
	}
	t[7] = 2 * (pct[4] - pct[0])
	for i, h := range lumHist {
		t[8+i] = sqrt(h * invN)
	}
	for c, g := range gridL {
		v[offGrid+c] = 2*float32(g)*(16.0/n/255) - 1
	}
	// Centre (the middle quarter of the area) minus surround.
	v[offCentre+0] = 4 * (float32(cL)/(n/4*255) - float32(sumL-cL)/((n-n/4)*255))
}

// colourMoments writes the a*, b* moments, colourfulness, the a*, b* half of
// the colour grid and the chroma part of centre-vs-surround.
func (s *scratch) colourMoments(v []float32) {
	var sumA, sumA2, sumB, sumB2 float32
	var gridAB [16 * 2]float32
	for y := 0; y < half; y++ {
		ra := s.hA[y*half : y*half+half : y*half+half]
		rb := s.hB[y*half : y*half+half : y*half+half]
		for cx := 0; cx < 4; cx++ {
			var ca, cb float32
			for x := cx * 8; x < cx*8+8; x++ {
				a, b := ra[x], rb[x]
				ca += a
				cb += b
				sumA2 += a * a
				sumB2 += b * b
			}
			k := ((y>>3)*4 + cx) * 2
			gridAB[k] += ca
			gridAB[k+1] += cb
			sumA += ca
			sumB += cb
		}
	}
	const m = half * half
	const invM = 1.0 / m
	mA, mB := sumA*invM, sumB*invM
	v[offABMoments+0] = 2 * mA
	v[offABMoments+1] = 3 * sqrt(sumA2*invM-mA*mA)
	v[offABMoments+2] = 2 * mB
	v[offABMoments+3] = 3 * sqrt(sumB2*invM-mB*mB)
	for c := 0; c < 16; c++ {
		v[offGrid+16+c] = 2 * gridAB[c*2] * (16.0 / m)
		v[offGrid+32+c] = 2 * gridAB[c*2+1] * (16.0 / m)
	}

	// Hasler & Süsstrunk (2003) colourfulness, on 0..255 sRGB; about 0 for
	// grey, 60 for an ordinary photo, over 110 for neon.
	var sumRG, sumRG2, sumYB, sumYB2 float32
	for _, p := range s.hpix {
		r, g, b := float32(p[0]), float32(p[1]), float32(p[2])
		rg := r - g
		yb := 0.5*(r+g) - b
		sumRG += rg
		sumRG2 += rg * rg
		sumYB += yb
		sumYB2 += yb * yb
	}
	mRG, mYB := sumRG*invM, sumYB*invM
	sdRG := sqrt(sumRG2*invM - mRG*mRG)
	sdYB := sqrt(sumYB2*invM - mYB*mYB)
	sd := sqrt(sdRG*sdRG + sdYB*sdYB)
	mu := sqrt(mRG*mRG + mYB*mYB)
	v[offColourful+0] = (sd + 0.3*mu) / 100
	v[offColourful+1] = sd / 80
	v[offColourful+2] = mu / 120

	// Chroma: centre (the middle quarter of the area) minus surround.
	var all, centre float32
	for _, c := range s.chroma {
		all += c
	}
	for y := half / 4; y < 3*half/4; y++ {
		for _, c := range s.chroma[y*half+half/4 : y*half+3*half/4] {
			centre += c
		}
	}
	v[offCentre+1] = 4 * (centre/(m/4) - (all-centre)/(m-m/4))
}

// colourHistograms writes the saturation × value and hue × value histograms
// and the hue-circle statistics.
func (s *scratch) colourHistograms(v []float32) {
	var (
		hueVal [64]float32 // 12 × 3 used; 64 lets a mask prove indices in range
		satVal [32]float32 // 4 × 4 used
		fine   [fineHue]float32
	)
	// A checkerboard of half the pixels estimates the histograms well at
	// half the cost.
	for y := 0; y < half; y++ {
		sats := s.sat[y*half : y*half+half : y*half+half]
		vals := s.val[y*half : y*half+half : y*half+half]
		hues := s.hue[y*half : y*half+half : y*half+half]
		chromas := s.chroma[y*half : y*half+half : y*half+half]
		for x := y & 1; x < half; x += 2 {
			// saturation × value, soft 4×4
			cp := clampF(sats[x]*4-0.5, 0, 3)
			val := vals[x]
			vp := clampF(val*4-0.5, 0, 3)
			c0, v0 := min(uint(cp), 2), min(uint(vp), 2)
			fc, fv := cp-float32(c0), vp-float32(v0)
			k := c0*4 + v0
			satVal[k&31] += (1 - fc) * (1 - fv)
			satVal[(k+1)&31] += (1 - fc) * fv
			satVal[(k+4)&31] += fc * (1 - fv)
			satVal[(k+5)&31] += fc * fv

			h := hues[x]
			if h < 0 {
				continue
			}
			chroma := chromas[x]
			fine[min(uint(h*(fineHue/6)), fineHue-1)] += chroma

			// hue (12, circular) × value (3), soft, weighted by chroma
			hp := h*2 + 0.5 // bin centres at 0.5, 1.5, ... shifted by one
			h1 := uint(hp)  // 0..12; bins h1-1 and h1
			fh := hp - float32(h1)
			h0 := (h1 + 11) % 12
			h1 %= 12
			vp3 := clampF(val*3-0.5, 0, 2)
			w0 := min(uint(vp3), 1)
			fw := vp3 - float32(w0)
			a0, a1 := chroma*(1-fh), chroma*fh
			k0, k1 := h0*3+w0, h1*3+w0
			hueVal[k0&63] += a0 * (1 - fw)
			hueVal[(k0+1)&63] += a0 * fw
			hueVal[k1&63] += a1 * (1 - fw)
			hueVal[(k1+1)&63] += a1 * fw
		}
	}
	// Histograms: mass per pixel, then square-rooted (Hellinger), so a
	// histogram of total mass 1 has unit L2 norm.
	const invM = 2.0 / (half * half) // the checkerboard's pixel count
	for i, h := range hueVal[:36] {
		v[offHueVal+i] = sqrt(h * invM)
	}
	for i, h := range satVal[:16] {
		v[offSatVal+i] = sqrt(h * invM)
	}
	hueCircle(v[offHueCirc:offHueCirc+9], &fine, half*half/2)
}

// hueCircle writes the hue-circle statistics from the chroma-weighted fine
// hue histogram: the chroma-weighted mean direction (2), the concentration
// of hues around one direction (R1) and around one axis (R2, high for
// complementary pairs too), the share of chroma at 0-30°, 30-90°, 90-150° and
// 150-180° from the dominant hue, and the circular variance around it.
func hueCircle(out []float32, fine *[fineHue]float32, n float32) {
	var w, c1, s1, c2, s2 float32
	for k, m := range fine {
		w += m
		c1 += m * hueCos[k]
		s1 += m * hueSin[k]
		c2 += m * hueCos2[k]
		s2 += m * hueSin2[k]
	}
	// Dividing by w plus a small mass keeps near-grey pictures, whose hues
	// are noise, near zero rather than at an arbitrary full concentration.
	den := w + 0.02*n
	out[0] = 2 * c1 / n
	out[1] = 2 * s1 / n
	out[2] = sqrt(c1*c1+s1*s1) / den
	out[3] = sqrt(c2*c2+s2*s2) / den

	// Dominant hue: the peak of the histogram smoothed with [1 2 1].
	best, mode := float32(-1), 0
	for k := range fine {
		m := 2*fine[k] + fine[(k+fineHue-1)%fineHue] + fine[(k+1)%fineHue]
		if m > best {
			best, mode = m, k
		}
	}
	var near, mid, far, opp, cv float32
	for k, m := range fine {
		if m == 0 {
			continue
		}
		d := k - mode
		if d < 0 {
			d = -d
		}
		if d > fineHue/2 {
			d = fineHue - d
		}
		// d is the distance in 5° bins, 0..36.
		switch {
		case d <= 6:
			near += m
		case d <= 18:
			mid += m
		case d <= 30:
			far += m
		default:
			opp += m
		}
		cv += m * (1 - hueCos[d]*hueCos[0] - hueSin[d]*hueSin[0])
	}
	out[4] = near / den
	out[5] = mid / den
	out[6] = far / den
	out[7] = opp / den
	out[8] = cv / den
}

func clampF(x, lo, hi float32) float32 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}
