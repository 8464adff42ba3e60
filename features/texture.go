package features

import "math"

// noiseBin and gradBin map a full-resolution noise-mask response and a
// gradient (in L*·2.55 units, capped at 255) to their histogram bins, which
// grow roughly logarithmically. Pixel noise of ±3 sRGB levels stays in the
// first bins; grain and edges reach the others.
var noiseBin, gradBin [256]uint8

func init() {
	noiseEdges := [8]int{0, 12, 24, 40, 64, 96, 144, 208}
	gradEdges := [8]int{0, 6, 12, 20, 32, 48, 72, 108}
	for v := range 256 {
		for k := range 8 {
			if v >= noiseEdges[k] {
				noiseBin[v] = uint8(k)
			}
			if v >= gradEdges[k] {
				gradBin[v] = uint8(k)
			}
		}
	}
}

// Local ternary patterns (Tan & Triggs 2010) compare each neighbour with the
// centre plus or minus a dead zone, so that flat areas give the empty
// pattern instead of random ones under imperceptible noise.
const ltpHalf = 0.02 // 2 L* units, in L*/100 units

// energy compresses a mean absolute response (in L*/100 units) to a
// comparable scale: linear near zero, so faint noise moves it little, and
// logarithmic above, so strong grain does not swamp the vector.
func energy(x float32) float32 {
	return 0.7 * float32(math.Log1p(float64(x)/0.05))
}

// texture writes the texture blocks. At full resolution, on a checkerboard
// of half the interior pixels (every statistic here is a mean or a histogram,
// and half the pixels estimate it as well at half the cost): the mean
// absolute Laplacian, the median Immerkær noise response, the mean gradient
// and the share of edge pixels, and histograms of the noise response and of
// the gradient (see noiseBin). At half resolution: local ternary patterns and
// the mean absolute Laplacian.
func (s *scratch) texture(v []float32) {
	var (
		sumLap, sumMag uint32
		edges          uint32
	)
	L := &s.L
	for y := 1; y < full-1; y++ {
		up := L[(y-1)*full : y*full : y*full]
		row := L[y*full : (y+1)*full : (y+1)*full]
		dn := L[(y+1)*full : (y+2)*full : (y+2)*full]
		codes := s.codes[y*full : (y+1)*full : (y+1)*full]
		for x := 1 + y&1; x < full-1; x += 2 {
			c := int32(row[x])
			nw, n, ne := int32(up[x-1]), int32(up[x]), int32(up[x+1])
			w, e := int32(row[x-1]), int32(row[x+1])
			sw, so, se := int32(dn[x-1]), int32(dn[x]), int32(dn[x+1])
			cross := n + so + e + w
			sumLap += uint32(iabs(4*c - cross))
			// Immerkær (1996): the mask [1 -2 1; -2 4 -2; 1 -2 1] cancels
			// any local plane and most edges; its median response measures
			// pixel noise (grain) without being fooled by a few strong edges.
			m := iabs(4*c - 2*cross + nw + ne + sw + se)
			// Gradient in the L1 norm; an edge is a step of over 8 L*
			// units across the two neighbours.
			g := iabs(e-w) + iabs(so-n)
			sumMag += uint32(g)
			edges += lt(20, g)
			codes[x] = [2]uint8{uint8(min(m, 255)), uint8(min(g, 255))}
		}
	}
	// Histograms in a pass of their own (see colour), four copies each.
	var noise, grad [4][256]int32
	for y := 1; y < full-1; y++ {
		codes := s.codes[y*full : (y+1)*full : (y+1)*full]
		for x := 1 + y&1; x < full-1; x += 2 {
			c := codes[x]
			k := x >> 1 & 3
			noise[k][c[0]]++
			grad[k][c[1]]++
		}
	}
	for k := 1; k < 4; k++ {
		for i := range noise[0] {
			noise[0][i] += noise[k][i]
			grad[0][i] += grad[k][i]
		}
	}
	const inner = (full - 2) * (full - 2) / 2 // checkerboard pixels
	// Roughly logarithmic bins, as shares rather than square roots: faint
	// noise moves a little mass out of the first bin, which a square root
	// would magnify.
	var resp [16]int32
	for i := range 256 {
		resp[noiseBin[i]&7] += noise[0][i]
		resp[8+gradBin[i]&7] += grad[0][i]
	}
	for i, c := range resp {
		v[offResp+i] = float32(c) / inner
	}
	t := v[offTexture : offTexture+6]
	t[0] = energy(float32(sumLap) / (inner * 255))
	med := median(noise[0][:], inner)
	t[2] = energy(med / 255)
	// For Gaussian noise of deviation σ the mask's response has deviation
	// 6σ, whose absolute value has median 0.674·6σ; half resolution halves σ.
	s.noiseSigma = med / (0.674 * 6) / 255 / 2
	t[3] = energy(float32(sumMag) / (inner * 255))
	t[5] = sqrt(float32(edges) / inner)

	// LTP and Laplacian at half resolution.
	var ltp [4][32]int32
	var sumLapH float32
	hL := &s.hL
	for y := 1; y < half-1; y++ {
		up := hL[(y-1)*half : y*half : y*half]
		row := hL[y*half : (y+1)*half : (y+1)*half]
		dn := hL[(y+1)*half : (y+2)*half : (y+2)*half]
		codes := s.codes[y*half : (y+1)*half : (y+1)*half]
		for x := 1; x < half-1; x++ {
			c := row[x]
			nw, n, ne := up[x-1], up[x], up[x+1]
			w, e := row[x-1], row[x+1]
			sw, so, se := dn[x-1], dn[x], dn[x+1]
			hi, lo := c+ltpHalf, c-ltpHalf
			pu := gt(nw, hi) | gt(n, hi)<<1 | gt(ne, hi)<<2 | gt(e, hi)<<3 |
				gt(se, hi)<<4 | gt(so, hi)<<5 | gt(sw, hi)<<6 | gt(w, hi)<<7
			pd := gt(lo, nw) | gt(lo, n)<<1 | gt(lo, ne)<<2 | gt(lo, e)<<3 |
				gt(lo, se)<<4 | gt(lo, so)<<5 | gt(lo, sw)<<6 | gt(lo, w)<<7
			codes[x] = [2]uint8{pu, pd}
			sumLapH += abs(4*c - n - so - e - w)
		}
	}
	for y := 1; y < half-1; y++ {
		codes := s.codes[y*half : (y+1)*half : (y+1)*half]
		for x := 1; x < half-1; x++ {
			h := &ltp[x&3]
			h[riu2[codes[x][0]]&15]++
			h[16+riu2[codes[x][1]]&15]++
		}
	}
	const innerH = (half - 2) * (half - 2)
	putLTP(v[offLTP:offLTP+20], &ltp, innerH)
	t[1] = energy(sumLapH / innerH)
}

// putLTP merges the four copies of an upper (bins 0-9) and lower (16-25)
// pattern histogram and writes the square roots of their shares.
func putLTP(out []float32, h *[4][32]int32, n float32) {
	for i := 0; i < 10; i++ {
		up := h[0][i] + h[1][i] + h[2][i] + h[3][i]
		dn := h[0][16+i] + h[1][16+i] + h[2][16+i] + h[3][16+i]
		out[i] = sqrt(float32(up) / n)
		out[10+i] = sqrt(float32(dn) / n)
	}
}

// lt is 1 if a < b, else 0, without a branch (for values far from overflow).
func lt(a, b int32) uint32 { return uint32(a-b) >> 31 }

func iabs(x int32) int32 {
	m := x >> 31
	return (x ^ m) - m
}

// gt is 1 if a > b, else 0, without a branch: the sign bit of b-a, which is
// set exactly when a > b (b-a is +0, not -0, when they are equal).
func gt(a, b float32) uint8 {
	return uint8(math.Float32bits(b-a) >> 31)
}

// median returns the median of a histogram of total count n, in bins,
// interpolated within the bin.
func median(h []int32, n int32) float32 {
	mid := float32(n) / 2
	var cum float32
	for k, c := range h {
		fc := float32(c)
		if cum+fc >= mid && c > 0 {
			return float32(k) + (mid-cum)/fc
		}
		cum += fc
	}
	return float32(len(h))
}
