package features

import "math"

const orientBins = 9 // unsigned orientations, 20° each

// gradFloor is the smallest half-resolution gradient (central difference in
// CIELAB/100 units) that counts as an edge: about 4 noise standard
// deviations of ±3-level pixel noise.
const gradFloor = 0.02

// shape computes gradients at half resolution, taking at each pixel the
// CIELAB channel (L*, a* or b*) with the strongest gradient so that an edge
// between two colours of equal lightness still counts, and writes the global
// orientation histogram, the 3×3 HOG grid of the edges on or next to the
// foreground (see foreground), the 4×4 edge-energy grid and the
// mean gradient energy. It leaves the magnitudes in s.mag for layout.
func (s *scratch) shape(v []float32) {
	var (
		glob    [orientBins]float32
		hog     [9 * orientBins]float32
		egrid   [16]float32
		total   float32
		fgTotal float32
	)
	clear(s.mag[:])
	const binsPerRad = orientBins / math.Pi
	for y := 1; y < half-1; y++ {
		cy := int(cell3[y]) * 3
		ey := (y >> 3) * 4
		for x := 1; x < half-1; x++ {
			i := y*half + x
			gx, gy := s.hL[i+1]-s.hL[i-1], s.hL[i+half]-s.hL[i-half]
			m2 := gx*gx + gy*gy
			ax, ay := s.hA[i+1]-s.hA[i-1], s.hA[i+half]-s.hA[i-half]
			if a2 := ax*ax + ay*ay; a2 > m2 {
				gx, gy, m2 = ax, ay, a2
			}
			bx, by := s.hB[i+1]-s.hB[i-1], s.hB[i+half]-s.hB[i-half]
			if b2 := bx*bx + by*by; b2 > m2 {
				gx, gy, m2 = bx, by, b2
			}
			// Magnitudes below gradFloor are dropped and the rest reduced
			// by it, so imperceptible noise adds no orientations while
			// real edges still count continuously.
			if m2 <= gradFloor*gradFloor {
				continue
			}
			m := sqrt(m2) - gradFloor
			s.mag[i] = m
			total += m
			egrid[ey+x>>3] += m

			th := atan2(gy, gx)
			if th < 0 {
				th += math.Pi
			}
			pos := th*binsPerRad - 0.5 // bin k is centred at k
			b0 := int(pos + 1)         // floor(pos) + 1, in 0..9
			f := pos + 1 - float32(b0)
			b1 := b0
			b0--
			if b0 < 0 {
				b0 = orientBins - 1
			}
			if b1 >= orientBins {
				b1 = 0
			}
			m0, m1 := m*(1-f), m*f
			glob[b0] += m0
			glob[b1] += m1
			// The grid only counts edges on or next to the foreground, so
			// that it describes the subjects rather than the backdrop.
			if s.fg[i]|s.fg[i-1]|s.fg[i+1]|s.fg[i-half]|s.fg[i+half] != 0 {
				c := (cy + int(cell3[x])) * orientBins
				hog[c+b0] += m0
				hog[c+b1] += m1
				fgTotal += m
			}
		}
	}
	// Orientation histograms are divided by the total gradient energy, so
	// they describe the shape of the edges, not their strength (which the
	// texture and edge-grid blocks carry), then square-rooted.
	inv := 1 / (total + 1e-3)
	for i, h := range glob {
		v[offOrient+i] = sqrt(h * inv)
	}
	inv = 1 / (fgTotal + 1e-3)
	for i, h := range hog {
		v[offHOG+i] = sqrt(h * inv)
	}
	const perCell = 1.0 / (half * half / 16)
	for i, e := range egrid {
		v[offEdgeGrid+i] = 1.2 * sqrt(e*perCell)
	}
	v[offTexture+4] = energy(total / ((half - 2) * (half - 2)))
}
