package features

// layout writes symmetry, the edge half of centre-vs-surround, the spatial
// moments of edge energy and the foreground-region statistics, all at half
// resolution.
func (s *scratch) layout(v []float32) {
	sym := v[offSymmetry : offSymmetry+6]
	sym[0], sym[3], sym[5] = symmetry(&s.hL).corr()
	sym[1], _, _ = symmetry(&s.hA).add(symmetry(&s.hB)).corr()
	sym[2], sym[4], _ = symmetry(&s.mag).corr()

	// Edge energy: centre vs surround, centroid, spread, mean radius. The
	// coordinates u, w run from -1 to 1 across the picture.
	var tot, cen, su, sw, suu, sww, sr float32
	for y := 0; y < half; y++ {
		w := (float32(y)+0.5)/(half/2) - 1
		for x := 0; x < half; x++ {
			m := s.mag[y*half+x]
			if m == 0 {
				continue
			}
			u := (float32(x)+0.5)/(half/2) - 1
			tot += m
			if x >= half/4 && x < 3*half/4 && y >= half/4 && y < 3*half/4 {
				cen += m
			}
			su += m * u
			sw += m * w
			suu += m * u * u
			sww += m * w * w
			sr += m * sqrt(u*u+w*w)
		}
	}
	if tot > 1e-3 {
		// Per-pixel means of centre (a quarter of the area) and surround.
		ec, es := cen*4, (tot-cen)*4/3
		v[offCentre+2] = 2 * (ec - es) / (ec + es)
		mu, mw := su/tot, sw/tot
		mom := v[offEdgeMom : offEdgeMom+5]
		mom[0] = 2 * mu
		mom[1] = 2 * mw
		mom[2] = 2 * sqrt(suu/tot-mu*mu)
		mom[3] = 2 * sqrt(sww/tot-mw*mw)
		mom[4] = sr / tot
	}

	s.blobs(v[offBlobs : offBlobs+blobDim])
	s.blobShape(v[offBlobShape : offBlobShape+blobShapeDim])
}

// symSums are the sums behind the correlations of a plane with its mirror
// images: products of mirrored deviations from the mean about the vertical
// axis, about the horizontal axis and turned half way round, and the sum of
// squared deviations.
type symSums struct{ lr, tb, rot, den float32 }

// symmetry computes the sums in one pass over a quadrant, reading the four
// pixels that the three symmetries pair up.
func symmetry(p *[half * half]float32) symSums {
	var mean float32
	for _, x := range p {
		mean += x
	}
	mean /= half * half
	var s symSums
	for y := 0; y < half/2; y++ {
		top := p[y*half : y*half+half : y*half+half]
		bot := p[(half-1-y)*half : (half-y)*half : (half-y)*half]
		for x := 0; x < half/2; x++ {
			a, b := top[x]-mean, top[half-1-x]-mean // a b
			c, d := bot[x]-mean, bot[half-1-x]-mean // c d
			s.lr += a*b + c*d
			s.tb += a*c + b*d
			s.rot += a*d + b*c
			s.den += a*a + b*b + c*c + d*d
		}
	}
	return s
}

// add combines two channels into one.
func (s symSums) add(t symSums) symSums {
	return symSums{s.lr + t.lr, s.tb + t.tb, s.rot + t.rot, s.den + t.den}
}

// corr returns the three correlations: 1 for a perfectly symmetric picture,
// about 0 for unrelated halves, and 0 for a flat one. Each pair was summed
// once; the full correlation counts it twice.
func (s symSums) corr() (lr, tb, rot float32) {
	k := 2 / (s.den + 1e-4)
	return s.lr * k, s.tb * k, s.rot * k
}
