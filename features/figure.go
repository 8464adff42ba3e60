package features

// figureDim is the length of the figure/ground colour block.
const figureDim = 12 + 9 + 3 + 4 + 2

// figureColour describes the colour of the foreground (the pixels the
// foreground pass marked, usually the subjects) apart from the backdrop's.
// The whole-picture hue histograms mix a subject's colour with its
// backdrop's tint and its accents; what a picture "is coloured" is mostly
// its subject's colour, so this block repeats the hue statistics on the
// foreground alone (pixels-v1 read the main hue family of taste-world
// pictures with 51% accuracy from the whole-picture histograms):
//
//	 0  12  foreground hue (12 circular bins, soft), chroma-weighted, as
//	        shares of the foreground, square-rooted
//	12   9  the hue-circle statistics (see hueCircle) of the foreground
//	21   3  backdrop: chroma-weighted mean hue direction (2) and its
//	        concentration R1
//	24   4  foreground mean a*, b*, L*, and HSV chroma
//	30   2  cos and |sin| of the angle between the foreground's and the
//	        backdrop's mean hue directions (0, 0 when either is grey):
//	        near and far hues, harmonious or clashing
//
// A picture with no foreground leaves the foreground parts zero.
func (s *scratch) figureColour(out []float32) {
	var fgFine, bgFine [fineHue]float32
	var hist [12]float32
	var sa, sb, sl, sc float32
	nbg := 0
	for i, f := range s.fg {
		h := s.hue[i]
		if f == 0 {
			nbg++
			if h >= 0 {
				bgFine[min(uint(h*(fineHue/6)), fineHue-1)] += s.chroma[i]
			}
			continue
		}
		sa += s.hA[i]
		sb += s.hB[i]
		sl += s.hL[i]
		c := s.chroma[i]
		sc += c
		if h < 0 {
			continue
		}
		fgFine[min(uint(h*(fineHue/6)), fineHue-1)] += c
		hp := h*2 + 0.5 // bin centres at 0.5, 1.5, ... shifted by one
		h1 := uint(hp)
		fh := hp - float32(h1)
		h0 := (h1 + 11) % 12
		h1 %= 12
		hist[h0] += c * (1 - fh)
		hist[h1] += c * fh
	}
	var fgDir, bgDir [9]float32
	if s.nfg > 0 {
		n := float32(s.nfg)
		for k, m := range hist {
			out[k] = sqrt(m / n)
		}
		hueCircle(fgDir[:], &fgFine, n)
		copy(out[12:21], fgDir[:])
		out[24] = 2 * sa / n
		out[25] = 2 * sb / n
		out[26] = 2*sl/n - 1
		out[27] = 2*sc/n - 0.5
	}
	if nbg > 0 {
		hueCircle(bgDir[:], &bgFine, float32(nbg))
		out[21], out[22], out[23] = bgDir[0], bgDir[1], bgDir[2]
	}
	// Mean directions; compare them when both have a hue.
	fx, fy := fgDir[0], fgDir[1]
	bx, by := bgDir[0], bgDir[1]
	fn, bn := sqrt(fx*fx+fy*fy), sqrt(bx*bx+by*by)
	if fn > 1e-3 && bn > 1e-3 {
		out[28] = (fx*bx + fy*by) / (fn * bn)
		cr := (fx*by - fy*bx) / (fn * bn)
		if cr < 0 {
			cr = -cr
		}
		out[29] = cr
	}
}
