package features

import (
	"math"
	"math/bits"
)

// The structure block (pixels-v3) describes what the earlier blocks read
// only indirectly: how many similar regions there are and how big, how
// mirror-symmetric the foreground is about its own axis and the frame's,
// how busy the picture is with small things, how the backdrop varies
// (periodic, ramped, stepped, flat), the colour and lightness of the main
// regions against the backdrop, and the outline of the largest region.
// Counts and sizes are linear in what they measure (a linear probe reads
// them directly), not saturating, and the ones that matter most come again
// as soft codes (fixed triangular bins), so that a linear reader can also
// respond to them non-monotonically. See the package doc for the layout.
const (
	stRegions  = 0               // 16: region counts and sizes
	stPeaks    = stRegions + 16  // 8: distance-transform peaks of the major regions
	stCores    = stPeaks + 8     // 16: cores of the major regions
	stSym      = stCores + 16    // 14: symmetry about the foreground's own axis and the frame's
	stTilt     = stSym + 14      // 8: tilt of the major regions' mirror axes
	stSpots    = stTilt + 8      // 9: small spots
	stBackdrop = stSpots + 9     // 28: backdrop periodicity and profiles
	stMain     = stBackdrop + 28 // 34: the largest region's colour and lightness
	stOutline  = stMain + 34     // 22: the largest region's outline
	stSolid    = stOutline + 22  // 10: convexity, holes, inner details and contrast of the largest region
	stBumps    = stSolid + 10    // 14: bumps along the largest region's top edge and across its columns
	stCodes    = stBumps + 14    // 59: soft codes of lightness step, size, counts, symmetry, small things, chroma
	structDim  = stCodes + 59
)

// structure writes the structure block; see the package doc for the layout.
func (s *scratch) structure(out []float32) {
	s.refineForeground()
	best := s.largest()
	s.regions(out[stRegions:stPeaks], best)
	s.peaks(out[stPeaks:stCores], best)
	s.cores(out[stCores:stSym], best)
	s.mirror(out[stSym:stTilt], best)
	s.tilt(out[stTilt:stSpots], best)
	s.spots(out[stSpots:stBackdrop], best)
	s.backdrop(out[stBackdrop:stMain])
	s.mainColour(out[stMain:stOutline], best)
	s.outline(out[stOutline:stSolid], best)
	s.solidity(out[stSolid:stBumps], best)
	s.bumps(out[stBumps:stCodes], best)
	s.softCodes(out[stCodes:structDim], out, best)
}

// softCode writes x as triangular memberships of len(out) bins centred at
// lo, lo+step, ...: a fixed piecewise-linear code, so that a linear reader
// can respond to x non-monotonically (an ideal value).
func softCode(out []float32, x, lo, step float32) {
	pos := clampF((x-lo)/step, 0, float32(len(out)-1))
	k := min(int(pos), len(out)-2)
	f := pos - float32(k)
	out[k] = 1 - f
	out[k+1] = f
}

// softCodes writes soft codes (see softCode) of entries the block holds
// already: the largest region's lightness step from the backdrop (5 bins)
// and the distance-transform radius (4); the number of regions of at least
// a quarter of the largest, and of distance-transform peaks (5 each, 1 to
// 5); the largest region's radius split by that first count (5); the
// participation ratio (5); the major regions' mirror overlap about the
// frame's centre line (5), the foreground axis's offset (4) and the major
// centroid's offset (4); the number of regions of 1-3 pixels (5), and it and
// the number of 4-15 pixels per backdrop area (linear); the largest
// region's chroma (5) and radius (5). best is the largest region (from
// largest); with none (-1) the codes stay zero.
func (s *scratch) softCodes(out, st []float32, best int) {
	if best < 0 {
		return
	}
	softCode(out[0:5], st[stMain+15], 0, 0.25)
	softCode(out[5:9], st[stPeaks], 0, 0.5)
	// Counts: regions of at least a quarter of the largest, and
	// distance-transform peaks, each 1..5; the radius of the largest
	// region split by the first count, so that size reads per count.
	softCode(out[9:14], 4*st[stRegions+1], 1, 1)
	softCode(out[14:19], 4*st[stPeaks+1], 1, 1)
	for k := range 5 {
		out[19+k] = out[9+k] * st[stRegions+4] * 2
	}
	softCode(out[24:29], 4*st[stRegions+3], 1, 1)
	// Symmetry: overlap of the major regions with their mirror image, and
	// the foreground axis's offset.
	softCode(out[29:34], st[stSym+8], -1, 0.5)
	softCode(out[34:38], st[stSym+4], 0, 0.5)
	softCode(out[38:42], st[stSym+9], 0, 0.5)
	// Small things: regions of 1-3 pixels, and their density on the
	// backdrop.
	softCode(out[42:47], st[stRegions+8], 0, 0.5)
	bg := float32(half*half-s.nfg) / (half * half)
	out[47] = min(st[stRegions+8]/max(bg, 0.1), 4) / 2
	out[48] = min(st[stRegions+9]/max(bg, 0.1), 4) / 2
	// The largest region's chroma and the radius of its area.
	softCode(out[49:54], st[stMain+18], 0, 0.25)
	softCode(out[54:59], st[stRegions+4], 0, 0.2)
}

// peaks finds the centres of the major regions (those of at least an eighth
// of the largest's area) as peaks of their chamfer distance transform,
// which separates touching or overlapping round things that the region
// labels merge: the largest distance (the radius of the thickest part), the
// numbers of peaks of at least half and at least a third of it, each kept
// only if it lies outside the radius of every higher peak, the mean radius
// of the first count's peaks, the major regions' total area over the square
// of the largest distance, the share of foreground outside the major
// regions (small things), and the major regions' mean bounding-box width
// over height.
func (s *scratch) peaks(out []float32, best int) {
	if best < 0 {
		return
	}
	lg := s.comps[best].size
	dt := &s.dt
	majorArea := 0
	var wsum, hsum float32
	for k, c := range s.comps {
		if 8*c.size >= lg {
			majorArea += c.size
			wsum += float32(c.x1 - c.x0 + 1)
			hsum += float32(c.y1 - c.y0 + 1)
		} else {
			_ = k
		}
	}
	for i, l := range s.label {
		if l > 0 && 8*s.comps[l-1].size >= lg {
			dt[i] = 1 << 12
		} else {
			dt[i] = 0
		}
	}
	// Two chamfer passes, 2 across and 3 diagonally; outside the frame
	// counts as background.
	at := func(x, y int) int16 {
		if x < 0 || y < 0 || x >= half || y >= half {
			return 0
		}
		return dt[y*half+x]
	}
	for y := 0; y < half; y++ {
		for x := 0; x < half; x++ {
			i := y*half + x
			if dt[i] == 0 {
				continue
			}
			d := min(dt[i], at(x-1, y)+2, at(x, y-1)+2, at(x-1, y-1)+3, at(x+1, y-1)+3)
			dt[i] = d
		}
	}
	var top int16
	for y := half - 1; y >= 0; y-- {
		for x := half - 1; x >= 0; x-- {
			i := y*half + x
			if dt[i] == 0 {
				continue
			}
			d := min(dt[i], at(x+1, y)+2, at(x, y+1)+2, at(x+1, y+1)+3, at(x-1, y+1)+3)
			dt[i] = d
			top = max(top, d)
		}
	}
	if top == 0 {
		return
	}
	// Local maxima of at least a third of the top, by value, highest first.
	var cand [64]int16
	nc := 0
	third := (top + 2) / 3
	for y := 0; y < half; y++ {
		for x := 0; x < half; x++ {
			d := dt[y*half+x]
			if d < third || nc == len(cand) {
				continue
			}
			if d < at(x-1, y) || d < at(x+1, y) || d < at(x, y-1) || d < at(x, y+1) ||
				d < at(x-1, y-1) || d < at(x+1, y-1) || d < at(x-1, y+1) || d < at(x+1, y+1) {
				continue
			}
			j := nc
			for j > 0 && dt[cand[j-1]] < d {
				cand[j] = cand[j-1]
				j--
			}
			cand[j] = int16(y*half + x)
			nc++
		}
	}
	var kept [64]int16
	nk, nHalf := 0, 0
	var rHalf float32
	for _, c := range cand[:nc] {
		x, y := int(c)%half, int(c)/half
		ok := true
		for _, q := range kept[:nk] {
			qx, qy := int(q)%half, int(q)/half
			r := max(1.5, 0.9*float32(dt[q])/2)
			dx, dy := float32(x-qx), float32(y-qy)
			if dx*dx+dy*dy <= r*r {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		kept[nk] = c
		nk++
		if 2*dt[c] >= top {
			nHalf++
			rHalf += float32(dt[c]) / 2
		}
	}
	rt := float32(top) / 2 // in pixels
	out[0] = rt / 4
	out[1] = float32(min(nHalf, 8)) / 4
	out[2] = float32(min(nk, 12)) / 4
	if nHalf > 0 {
		out[3] = rHalf / float32(nHalf) / 4
	}
	out[4] = min(float32(majorArea)/(rt*rt), 64) / 16
	out[5] = 2 * float32(s.nfg-majorArea) / float32(s.nfg)
	out[6] = min(wsum/hsum, 6) / 2
	out[7] = sqrt(float32(s.nfg-majorArea)) / 8
}

// refineForeground removes from the foreground the pixels whose colour is
// near one of the backdrop's main colours: the colours that at least a
// tenth of the frame's pixels share (clustered greedily within the
// foreground threshold). Patterned backdrops (stripes across the diagonal,
// dots) that the row-and-column test keeps as foreground drop out, so the
// regions are the subjects and the small things in front of the backdrop.
// It runs after every earlier block has read the first mask, and relabels.
func (s *scratch) refineForeground() {
	s.bgRange = 0
	thresh := max(0.12, 5*s.noiseSigma)
	t2 := thresh * thresh
	var cl, ca, cb, cn [12]float32
	nc := 0
	add := func(i int) {
		l, a, b := s.hL[i], s.hA[i], s.hB[i]
		for k := range nc {
			m := 1 / cn[k]
			dl, da, db := l-cl[k]*m, a-ca[k]*m, b-cb[k]*m
			if dl*dl+da*da+db*db <= t2 {
				cl[k] += l
				ca[k] += a
				cb[k] += b
				cn[k]++
				return
			}
		}
		if nc < len(cl) {
			cl[nc], ca[nc], cb[nc], cn[nc] = l, a, b, 1
			nc++
		}
	}
	for x := range half {
		add(x)
		add((half-1)*half + x)
	}
	for y := 1; y < half-1; y++ {
		add(y * half)
		add(y*half + half - 1)
	}
	kept := 0
	for k := range nc {
		if cn[k] >= (4*half-4)/10 {
			m := 1 / cn[k]
			cl[kept], ca[kept], cb[kept] = cl[k]*m, ca[k]*m, cb[k]*m
			kept++
		}
	}
	// The backdrop palette's lightness range (stripes, dots, sky and
	// ground: how far apart the backdrop's own colours are).
	s.bgRange = 0
	for k := range kept {
		for j := range k {
			s.bgRange = max(s.bgRange, abs(cl[k]-cl[j]))
		}
	}
	if kept == 0 {
		return
	}
	s.nfg = 0
	for i, f := range s.fg {
		if f == 0 {
			continue
		}
		l, a, b := s.hL[i], s.hA[i], s.hB[i]
		for k := range kept {
			dl, da, db := l-cl[k], a-ca[k], b-cb[k]
			if dl*dl+da*da+db*db <= t2 {
				f = 0
				break
			}
		}
		s.fg[i] = f
		s.nfg += int(f)
	}
	s.label4()
}

// largest returns the index in s.comps of the largest region of at least 4
// pixels, or -1.
func (s *scratch) largest() int {
	best := -1
	for k, c := range s.comps {
		if c.size >= 4 && (best < 0 || c.size > s.comps[best].size) {
			best = k
		}
	}
	return best
}

// regions writes counts and sizes of the foreground regions, linear in the
// counts: the number of regions at least 1/2, 1/4 and 1/8 the size of the
// largest (of 4 pixels or more), the participation ratio (Σs)²/Σs² of the
// regions of 4 or more pixels (an effective count that tiny regions barely
// move), the square roots (a radius) of the largest region's area, of the
// mean and the total area of the regions at least a quarter of it, the
// largest region's longer bounding-box side, the numbers of regions of 1-3
// and 4-15 pixels, the largest region's centroid offsets from the frame's
// centre, and small things: the number of regions under 16 pixels and under
// an eighth of the largest, that number per free area (backdrop plus small
// things), the square root of their area, and the number of regions under
// 16 pixels.
func (s *scratch) regions(out []float32, best int) {
	if best < 0 {
		return
	}
	lg := s.comps[best].size
	var n2, n4, n8, tiny, small int
	var sum, sum2, sumQ float32
	for _, c := range s.comps {
		switch {
		case c.size < 4:
			tiny++
			continue
		case c.size < 16:
			small++
		}
		z := float32(c.size)
		sum += z
		sum2 += z * z
		if 2*c.size >= lg {
			n2++
		}
		if 4*c.size >= lg {
			n4++
			sumQ += z
		}
		if 8*c.size >= lg {
			n8++
		}
	}
	out[0] = float32(min(n2, 8)) / 4
	out[1] = float32(min(n4, 8)) / 4
	out[2] = float32(min(n8, 8)) / 4
	out[3] = min(sum*sum/sum2, 8) / 4
	out[4] = sqrt(float32(lg)) / 16
	out[5] = sqrt(sumQ/float32(n4)) / 16
	out[6] = sqrt(sumQ) / 16
	c := s.comps[best]
	out[7] = float32(max(c.x1-c.x0, c.y1-c.y0)+1) / half
	out[8] = float32(min(tiny, 32)) / 16
	out[9] = float32(min(small, 16)) / 8
	// Where the largest region is, and how far it sits from the centre.
	cx := float32(c.sx)/float32(c.size) + 0.5 - half/2
	cy := float32(c.sy)/float32(c.size) + 0.5 - half/2
	out[10] = abs(cx) / (half / 4)
	out[11] = abs(cy) / (half / 4)
	// Small things: regions under 16 pixels and under an eighth of the
	// largest, linear, per backdrop area, and as a soft code.
	minor, minorArea := 0, 0
	for _, o := range s.comps {
		if o.size < 16 && 8*o.size < lg {
			minor++
			minorArea += o.size
		}
	}
	out[12] = float32(min(minor, 48)) / 16
	free := float32(half*half-s.nfg+minorArea) / (half * half)
	out[13] = min(float32(minor)/max(free, 0.1), 96) / 32
	out[14] = sqrt(float32(minorArea)) / 8
	out[15] = float32(min(tiny+small, 48)) / 16
}

// mirror writes symmetry measures, most of which do not assume the frame's
// axis: the overlap of the foreground mask with its left-right mirror image
// about the frame's vertical centre line and about the foreground's own
// centroid line, the same for the largest region about its own centroid
// line, the correlation of L* with its mirror image about the foreground's
// axis, the foreground axis's distance from the frame's centre line, how
// well the regions of at least a quarter of the largest pair up with
// mirrored partners about the foreground's axis, the spread of their
// heights and of their sizes; then for the major regions (at least an
// eighth of the largest) the overlap with their mirror image about the
// frame's centre line, their centroid's offsets across and down from the
// frame's centre, the mean and the area-weighted mean distance from each
// one's mirrored centroid to the nearest major centroid, and the mean
// offset of their heights from the middle (these last linear in how far
// things are displaced).
func (s *scratch) mirror(out []float32, best int) {
	if best < 0 || s.nfg == 0 {
		return
	}
	var sx int
	for y := 0; y < half; y++ {
		for x, f := range s.fg[y*half : y*half+half] {
			if f != 0 {
				sx += x
			}
		}
	}
	// Mirror index k: x pairs with k-x. The centroid (sx/n) gives k = 2·mean.
	kOwn := int(2*float32(sx)/float32(s.nfg) + 0.5)
	var ovFrame, ovOwn int
	var lab, l2 float32
	var mean float32
	for _, l := range s.hL {
		mean += l
	}
	mean /= half * half
	for y := 0; y < half; y++ {
		row := s.fg[y*half : y*half+half]
		lrow := s.hL[y*half : y*half+half]
		for x, f := range row {
			if f != 0 {
				ovFrame += int(row[half-1-x])
			}
			xm := kOwn - x
			if xm < 0 || xm >= half {
				continue
			}
			if f != 0 {
				ovOwn += int(row[xm])
			}
			if f|row[xm] != 0 {
				a, b := lrow[x]-mean, lrow[xm]-mean
				lab += a * b
				l2 += a * a
			}
		}
	}
	n := float32(s.nfg)
	out[0] = 2*float32(ovFrame)/n - 1
	out[1] = 2*float32(ovOwn)/n - 1
	if l2 > 1e-4 {
		out[3] = lab / l2
	}
	out[4] = abs(float32(kOwn)-(half-1)) / (half / 4)

	// The largest region about its own axis.
	c := s.comps[best]
	id := int16(best + 1)
	k := int(2*float32(c.sx)/float32(c.size) + 0.5)
	ov := 0
	for y := c.y0; y <= c.y1; y++ {
		lbl := s.label[y*half : y*half+half]
		for x := c.x0; x <= c.x1; x++ {
			if lbl[x] != id {
				continue
			}
			if xm := k - x; xm >= 0 && xm < half && lbl[xm] == id {
				ov++
			}
		}
	}
	out[2] = 2*float32(ov)/float32(c.size) - 1

	// Mirrored partners among the major regions: for each, the distance from
	// its centroid's mirror image (about the foreground axis) to the nearest
	// major centroid, relative to its radius.
	lg := c.size
	axis := float32(kOwn) / 2
	var match, ys, yss, zs, zss, nm float32
	for _, a := range s.comps {
		if 4*a.size < lg {
			continue
		}
		ax := float32(a.sx) / float32(a.size)
		ay := float32(a.sy) / float32(a.size)
		mx := 2*axis - ax
		bestD := float32(1e9)
		for _, b := range s.comps {
			if 4*b.size < lg {
				continue
			}
			dx := float32(b.sx)/float32(b.size) - mx
			dy := float32(b.sy)/float32(b.size) - ay
			dz := sqrt(float32(b.size)) - sqrt(float32(a.size))
			bestD = min(bestD, dx*dx+dy*dy+dz*dz)
		}
		r := sqrt(float32(a.size))
		match += r * r / (r*r + bestD)
		ys += ay
		yss += ay * ay
		z := sqrt(float32(a.size))
		zs += z
		zss += z * z
		nm++
	}
	out[5] = 2*match/nm - 1
	my, mz := ys/nm, zs/nm
	out[6] = sqrt(yss/nm-my*my) / (half / 4)
	out[7] = sqrt(zss/nm-mz*mz) / max(mz, 1)

	// The major regions alone (at least an eighth of the largest), about
	// the frame's centre line: overlap with the mirror image, and the
	// centroid's offsets from the frame's centre.
	var ovM, nM, mx, my2 int
	for y := 0; y < half; y++ {
		row := s.label[y*half : y*half+half]
		for x, l := range row {
			if l == 0 || 8*s.comps[l-1].size < lg {
				continue
			}
			nM++
			mx += x
			my2 += y
			if m := row[half-1-x]; m > 0 && 8*s.comps[m-1].size >= lg {
				ovM++
			}
		}
	}
	out[8] = 2*float32(ovM)/float32(nM) - 1
	out[9] = abs(float32(mx)/float32(nM)-(half-1)/2) / (half / 4)
	out[10] = abs(float32(my2)/float32(nM)-(half-1)/2) / (half / 4)

	// Linear in displacement: the mean distance from each major region's
	// centroid, mirrored about the frame's centre line, to the nearest
	// major centroid, the same weighted by area, and the mean offset of
	// the major centroids' heights from the frame's middle.
	var dsum, dw, wsum2, ysum float32
	cnt := 0
	for _, a := range s.comps {
		if 8*a.size < lg {
			continue
		}
		mx := (half - 1) - float32(a.sx)/float32(a.size)
		ay := float32(a.sy) / float32(a.size)
		bestD := float32(1e9)
		for _, b := range s.comps {
			if 8*b.size < lg {
				continue
			}
			dx := float32(b.sx)/float32(b.size) - mx
			dy := float32(b.sy)/float32(b.size) - ay
			bestD = min(bestD, dx*dx+dy*dy)
		}
		d := sqrt(bestD)
		dsum += d
		dw += d * float32(a.size)
		wsum2 += float32(a.size)
		ysum += abs(ay - (half-1)/2)
		cnt++
	}
	out[11] = dsum / float32(cnt) / (half / 4)
	out[12] = dw / wsum2 / (half / 4)
	out[13] = ysum / float32(cnt) / (half / 4)
}

// cores counts the cores of the major regions: the connected parts of
// the pixels at least 1.5 and at least 2.5 pixels inside them (by the
// distance transform), which separate things that touch or overlap a
// little, or are joined by a thin outline or shadow. For each depth: the
// number of cores of at least a quarter of the largest core's area
// (linear, and as a soft code of 1 to 5), their participation ratio, and
// the square root of the largest core's area.
func (s *scratch) cores(out []float32, best int) {
	if best < 0 {
		return
	}
	for d, depth := range [2]int16{3, 5} {
		o := out[d*8 : d*8+8]
		var sizes [64]int
		n := 0
		lab := &s.lab2
		clear(lab[:])
		for start, v := range s.dt {
			if v < depth || lab[start] != 0 || n == len(sizes) {
				continue
			}
			n++
			lab[start] = int16(n)
			s.stack[0] = int16(start)
			top, size := 1, 0
			for top > 0 {
				top--
				i := int(s.stack[top])
				size++
				x := i % half
				for _, j := range [4]int{i - 1, i + 1, i - half, i + half} {
					if (j == i-1 && x == 0) || (j == i+1 && x == half-1) || j < 0 || j >= half*half {
						continue
					}
					if s.dt[j] >= depth && lab[j] == 0 {
						lab[j] = int16(n)
						s.stack[top] = int16(j)
						top++
					}
				}
			}
			sizes[n-1] = size
		}
		if n == 0 {
			continue
		}
		lg := 0
		for _, z := range sizes[:n] {
			lg = max(lg, z)
		}
		var q int
		var sum, sum2 float32
		for _, z := range sizes[:n] {
			if 4*z >= lg {
				q++
			}
			sum += float32(z)
			sum2 += float32(z * z)
		}
		o[0] = float32(min(q, 8)) / 4
		softCode(o[1:6], float32(q), 1, 1)
		o[6] = min(sum*sum/sum2, 8) / 4
		o[7] = sqrt(float32(lg)) / 8
	}
}

// tiltCos and tiltSin are the directions the mirror axis is tried in:
// -40° to 40° from the vertical, in steps of 10°.
var tiltCos, tiltSin [9]float32

func init() {
	for k := range tiltCos {
		a := float64(k-4) * 10 * math.Pi / 180
		tiltCos[k], tiltSin[k] = float32(math.Cos(a)), float32(math.Sin(a))
	}
}

// tilt finds, for each major region (at least a quarter of the largest, up
// to 6 of them), the axis through its centroid about which it is most
// mirror-symmetric among directions -40° to 40° from the vertical. Upright
// things are symmetric about the vertical; tilted ones about a tilted
// axis. It writes the area-weighted mean of the best axis's angle from the
// vertical (over 40°), of the overlap with the mirror image at the best
// axis and at the vertical, and of the gain between them; the same four for
// the largest region alone.
func (s *scratch) tilt(out []float32, best int) {
	if best < 0 {
		return
	}
	lg := s.comps[best].size
	var wsum float32
	var acc [4]float32
	done := 0
	for k, c := range s.comps {
		if 4*c.size < lg || done == 6 {
			continue
		}
		done++
		id := int16(k + 1)
		cx := float32(c.sx) / float32(c.size)
		cy := float32(c.sy) / float32(c.size)
		var ov [9]int
		for y := c.y0; y <= c.y1; y++ {
			for x := c.x0; x <= c.x1; x++ {
				if s.label[y*half+x] != id {
					continue
				}
				vx, vy := float32(x)-cx, float32(y)-cy
				for a := range ov {
					// Reflect v across the axis d = (sin, cos).
					dx, dy := tiltSin[a], tiltCos[a]
					p := vx*dx + vy*dy
					rx := int(cx + 2*p*dx - vx + 0.5 + half)
					ry := int(cy + 2*p*dy - vy + 0.5 + half)
					rx, ry = rx-half, ry-half
					if rx >= 0 && rx < half && ry >= 0 && ry < half && s.label[ry*half+rx] == id {
						ov[a]++
					}
				}
			}
		}
		ba := 4
		for a := range ov {
			if ov[a] > ov[ba] {
				ba = a
			}
		}
		n := float32(c.size)
		f := [4]float32{abs(float32(ba-4)) / 4, float32(ov[ba]) / n, float32(ov[4]) / n, float32(ov[ba]-ov[4]) / n}
		if k == best {
			for i := range f {
				out[4+i] = f[i]
			}
		}
		for i := range f {
			acc[i] += n * f[i]
		}
		wsum += n
	}
	for i := range acc {
		out[i] = acc[i] / wsum
	}
	for _, i := range [4]int{1, 2, 5, 6} {
		out[i] = 2*out[i] - 1
	}
	out[3] *= 4
	out[7] *= 4
}

// spots counts small isolated blobs at full resolution (dots, confetti,
// sparkles): pixels where the mean L* of the 3×3 box around them differs
// from the mean of the ring between the 5×5 and 7×7 boxes by more than 8
// units and 5 noise deviations of that difference, more than at any of
// their 8 neighbours, and more than twice the same-signed response 3
// pixels away in each of 8 directions (a line or an edge responds as much
// along itself, a blob does not). It writes the counts of such spots off
// the major regions (on the backdrop and on small things), on the refined
// backdrop alone, and on the major regions (each /16, up to 64), the first
// count per backdrop area, and the first as a soft code (0, 8, ... 32).
func (s *scratch) spots(out []float32, best int) {
	// Integral image of L* (×2.55) at full resolution.
	ii := &s.integral
	for y := range full {
		var row int32
		for x := range full {
			row += int32(s.L[y*full+x])
			ii[(y+1)*(full+1)+x+1] = ii[y*(full+1)+x+1] + row
		}
	}
	box := func(x0, y0, x1, y1 int) int32 { // sum over [x0,x1)×[y0,y1)
		return ii[y1*(full+1)+x1] - ii[y0*(full+1)+x1] - ii[y1*(full+1)+x0] + ii[y0*(full+1)+x0]
	}
	resp := &s.resp
	clear(resp[:])
	for y := 3; y < full-3; y++ {
		for x := 3; x < full-3; x++ {
			c := box(x-1, y-1, x+2, y+2)
			r := box(x-3, y-3, x+4, y+4) - box(x-2, y-2, x+3, y+3)
			resp[y*full+x] = float32(c)/9 - float32(r)/24
		}
	}
	sigma := s.noiseSigma * 255 * 2 * 0.39
	thresh := max(8*2.55, 5*sigma)
	lg := 0
	if best >= 0 {
		lg = s.comps[best].size
	}
	var off, bg, on int
	for y := 6; y < full-6; y++ {
		for x := 6; x < full-6; x++ {
			i := y*full + x
			r := resp[i]
			ar := abs(r)
			if ar <= thresh {
				continue
			}
			if ar < abs(resp[i-1]) || ar < abs(resp[i+1]) || ar < abs(resp[i-full]) || ar < abs(resp[i+full]) ||
				ar < abs(resp[i-full-1]) || ar < abs(resp[i-full+1]) || ar < abs(resp[i+full-1]) || ar < abs(resp[i+full+1]) {
				continue
			}
			// Strictly above the earlier neighbours, so that a plateau
			// counts once.
			if ar == abs(resp[i-1]) || ar == abs(resp[i-full]) || ar == abs(resp[i-full-1]) || ar == abs(resp[i-full+1]) {
				continue
			}
			blob := true
			for _, d := range [8]int{3, -3, 3 * full, -3 * full, 3*full + 3, 3*full - 3, -3*full + 3, -3*full - 3} {
				if q := resp[i+d]; (q > 0) == (r > 0) && 2*abs(q) > ar {
					blob = false
					break
				}
			}
			if !blob {
				continue
			}
			h := (y/2)*half + x/2
			l := s.label[h]
			switch {
			case l > 0 && 8*s.comps[l-1].size >= lg:
				on++
			case s.fg[h] == 0:
				bg++
				off++
			default:
				off++
			}
		}
	}
	out[0] = float32(min(off, 64)) / 16
	out[1] = float32(min(bg, 64)) / 16
	out[2] = float32(min(on, 64)) / 16
	major := 0
	for _, c := range s.comps {
		if 8*c.size >= lg {
			major += c.size
		}
	}
	share := float32(half*half-major) / (half * half)
	out[3] = min(float32(off)/max(share, 0.1), 96) / 32
	softCode(out[4:9], float32(off), 0, 8)
}

// backdrop describes how the backdrop (the pixels not in the foreground)
// varies: the autocorrelation of its L* at lag 1 across and down, the
// strength of periodicity across, down and along the diagonal (the highest
// autocorrelation at lags 2-8 above the lowest at a shorter lag), the total
// variation and the net change of its row means top to bottom and of its
// column means left to right, the largest step between neighbouring row
// means, the mean spread of L* within rows and within columns.
func (s *scratch) backdrop(out []float32) {
	L := &s.hL
	var mean float32
	nbg := 0
	for i, f := range s.fg {
		if f == 0 {
			mean += L[i]
			nbg++
		}
	}
	if nbg < 16 {
		return
	}
	mean /= float32(nbg)
	var v2 float32
	for i, f := range s.fg {
		if f == 0 {
			d := L[i] - mean
			v2 += d * d
		}
	}
	v2 /= float32(nbg)
	const maxLag = 8
	var ac [3][maxLag + 1]float32
	if v2 > 1e-5 {
		// Deviations on the backdrop and 0 on the foreground, so that a
		// product counts only pairs of backdrop pixels, and their mask.
		var d [half * half]float32
		var rows [half]uint32 // bit x of rows[y]: (x, y) is backdrop
		for i, f := range s.fg {
			if f == 0 {
				d[i] = L[i] - mean
				rows[i/half] |= 1 << (i % half)
			}
		}
		for dir, step := range [3][2]int{{1, 0}, {0, 1}, {1, 1}} {
			for lag := 1; lag <= maxLag; lag++ {
				dx, dy := step[0]*lag, step[1]*lag
				var s0, s1, s2, s3 float32
				cnt := 0
				for y := 0; y+dy < half; y++ {
					a := d[y*half : y*half+half-dx]
					b := d[(y+dy)*half+dx : (y+dy)*half+half]
					b = b[:len(a)]
					x := 0
					for ; x+4 <= len(a); x += 4 {
						s0 += a[x] * b[x]
						s1 += a[x+1] * b[x+1]
						s2 += a[x+2] * b[x+2]
						s3 += a[x+3] * b[x+3]
					}
					for ; x < len(a); x++ {
						s0 += a[x] * b[x]
					}
					cnt += bits.OnesCount32(rows[y] & (rows[y+dy] >> dx))
				}
				if cnt > 0 {
					ac[dir][lag] = (s0 + s1 + s2 + s3) / float32(cnt) / v2
				}
			}
		}
	}
	out[0] = ac[0][1]
	out[1] = ac[1][1]
	for dir := range 3 {
		lo, peak := ac[dir][1], float32(0)
		for lag := 2; lag <= maxLag; lag++ {
			peak = max(peak, ac[dir][lag]-lo)
			lo = min(lo, ac[dir][lag])
		}
		out[2+dir] = peak
	}

	// Row and column means of the backdrop.
	var rowM, colM [half]float32
	var rowN, colN [half]int
	var rowS, colS [half]float32
	for y := 0; y < half; y++ {
		for x := 0; x < half; x++ {
			i := y*half + x
			if s.fg[i] != 0 {
				continue
			}
			l := L[i]
			rowM[y] += l
			rowN[y]++
			rowS[y] += l * l
			colM[x] += l
			colN[x]++
			colS[x] += l * l
		}
	}
	profile := func(m, sq *[half]float32, n *[half]int) (tv, net, step, within float32) {
		first, last := float32(0), float32(0)
		prev := float32(math.NaN())
		seen, nw := false, 0
		for k := range half {
			if n[k] < 3 {
				continue
			}
			mu := m[k] / float32(n[k])
			within += sqrt(max(0, sq[k]/float32(n[k])-mu*mu))
			nw++
			if !seen {
				first, seen = mu, true
			} else {
				d := abs(mu - prev)
				tv += d
				step = max(step, d)
			}
			prev, last = mu, mu
		}
		if nw > 0 {
			within /= float32(nw)
		}
		return tv, last - first, step, within
	}
	tv, net, step, within := profile(&rowM, &rowS, &rowN)
	out[5] = energy(tv)
	out[6] = 3 * net
	out[7] = 4 * step
	out[8] = 4 * within
	tv, net, _, within = profile(&colM, &colS, &colN)
	out[9] = energy(tv)
	out[10] = 3 * net
	out[11] = 4 * within

	// The backdrop's vertical profile: mean L* in 8 bands top to bottom
	// relative to its overall mean, and the distance in a*b* of each
	// band's mean colour from the top band's.
	var bl, ba, bb, bn [8]float32
	for y := 0; y < half; y++ {
		k := y * 8 / half
		for x := 0; x < half; x++ {
			i := y*half + x
			if s.fg[i] != 0 {
				continue
			}
			bl[k] += L[i]
			ba[k] += s.hA[i]
			bb[k] += s.hB[i]
			bn[k]++
		}
	}
	top := -1
	for k := range 8 {
		if bn[k] == 0 {
			continue
		}
		m := 1 / bn[k]
		bl[k], ba[k], bb[k] = bl[k]*m, ba[k]*m, bb[k]*m
		out[12+k] = 4 * (bl[k] - mean)
		if top < 0 {
			top = k
		}
		da, db := ba[k]-ba[top], bb[k]-bb[top]
		out[20+k] = 4 * sqrt(da*da+db*db)
	}
}

// mainColour describes the largest region's colour against the backdrop:
// its dominant hue (the peak of the chroma-weighted fine hue histogram of
// its deep inside, 2 pixels or more from its edge, where outlines and
// edge blends do not reach) as a cosine and sine and as 12 soft circular
// bins, whatever its chroma (the region's mean chroma comes separately);
// its mean L* minus the backdrop's, and the absolute difference; the spread
// of L* within it; the backdrop's and the region's mean HSV chroma; its
// mean L*; and the direction of the mean a*, b* of the deep inside of all
// the major regions as a cosine and sine and 12 soft circular bins.
func (s *scratch) mainColour(out []float32, best int) {
	if best < 0 {
		return
	}
	c := s.comps[best]
	id := int16(best + 1)
	var fine, deep [fineHue]float32
	nDeep := 0
	var sl, sll, sc float32
	for y := c.y0; y <= c.y1; y++ {
		for x := c.x0; x <= c.x1; x++ {
			i := y*half + x
			if s.label[i] != id {
				continue
			}
			l := s.hL[i]
			sl += l
			sll += l * l
			sc += s.chroma[i]
			// The hue counts the region's inside only: its outline (and the
			// half-resolution pixels it blends with the backdrop) is often
			// another colour.
			if h := s.hue[i]; h >= 0 && x > 0 && x < half-1 && y > 0 && y < half-1 &&
				s.label[i-1] == id && s.label[i+1] == id && s.label[i-half] == id && s.label[i+half] == id {
				bin := min(uint(h*(fineHue/6)), fineHue-1)
				fine[bin] += s.chroma[i]
				if s.dt[i] >= 4 {
					deep[bin] += s.chroma[i]
					nDeep++
				}
			}
		}
	}
	if nDeep >= 4 {
		fine = deep
	}
	n := float32(c.size)
	best5, mode := float32(0), -1
	for k := range fine {
		m := 2*fine[k] + fine[(k+fineHue-1)%fineHue] + fine[(k+1)%fineHue]
		if m > best5 {
			best5, mode = m, k
		}
	}
	if mode >= 0 {
		// Refine the peak with its neighbours' mean direction.
		var cx, cy float32
		for d := -2; d <= 2; d++ {
			k := (mode + d + fineHue) % fineHue
			cx += fine[k] * hueCos[k]
			cy += fine[k] * hueSin[k]
		}
		r := sqrt(cx*cx + cy*cy)
		if r > 0 {
			cx, cy = cx/r, cy/r
			out[0], out[1] = cx, cy
			a := atan2(cy, cx) // -π..π
			pos := (a + math.Pi) * (12 / (2 * math.Pi))
			k0 := int(pos)
			f := pos - float32(k0)
			out[2+k0%12] = 1 - f
			out[2+(k0+1)%12] = f
		}
	}
	ml := sl / n
	var bl float32
	nbg := 0
	var bc float32
	for i, f := range s.fg {
		if f == 0 {
			bl += s.hL[i]
			bc += s.chroma[i]
			nbg++
		}
	}
	if nbg > 0 {
		bl /= float32(nbg)
		bc /= float32(nbg)
		out[14] = 2 * (ml - bl)
		out[15] = 2 * abs(ml-bl)
	}
	out[16] = 4 * sqrt(max(0, sll/n-ml*ml))
	out[17] = 2 * bc
	out[18] = 2 * sc / n
	out[19] = 2*ml - 1

	// The direction of the region's mean a*, b* (grain's colour noise
	// averages out of a mean, not out of a histogram's peak), as a cosine
	// and sine and 12 soft circular bins.
	var sa, sb float32
	for i, d := range s.dt {
		if d >= 4 {
			sa += s.hA[i]
			sb += s.hB[i]
		}
	}
	if sa == 0 && sb == 0 {
		for y := c.y0; y <= c.y1; y++ {
			for x := c.x0; x <= c.x1; x++ {
				if i := y*half + x; s.label[i] == id {
					sa += s.hA[i]
					sb += s.hB[i]
				}
			}
		}
	}
	if r := sqrt(sa*sa + sb*sb); r > 0 {
		ca, cb := sa/r, sb/r
		out[20], out[21] = ca, cb
		a := atan2(cb, ca)
		pos := (a + math.Pi) * (12 / (2 * math.Pi))
		k0 := int(pos)
		f := pos - float32(k0)
		out[22+k0%12] = 1 - f
		out[22+(k0+1)%12] = f
	}
}

// outline describes the largest region's outline: the share of its bounding
// box it fills in 6 bands top to bottom and in 6 bands left to right, the
// mean number of runs per row and per column, the Hu moment invariants 1-4
// (scaled roots), the region's vertical and horizontal third moments
// (top- or bottom-heavy, leaning), and the mean gradient inside it (inner
// detail).
func (s *scratch) outline(out []float32, best int) {
	if best < 0 {
		return
	}
	c := s.comps[best]
	id := int16(best + 1)
	bw, bh := c.x1-c.x0+1, c.y1-c.y0+1
	var rowFill, colFill [6]float32
	var rowW, colW [6]float32
	runsR, runsC := 0, 0
	cx := float32(c.sx) / float32(c.size)
	cy := float32(c.sy) / float32(c.size)
	var m20, m02, m11, m30, m03, m21, m12 float32
	var inner float32
	nInner := 0
	for y := c.y0; y <= c.y1; y++ {
		by := (y - c.y0) * 6 / bh
		prev := false
		for x := c.x0; x <= c.x1; x++ {
			i := y*half + x
			in := s.label[i] == id
			bx := (x - c.x0) * 6 / bw
			rowW[by]++
			colW[bx]++
			if in != prev && in {
				runsR++
			}
			prev = in
			if !in {
				continue
			}
			rowFill[by]++
			colFill[bx]++
			dx, dy := float32(x)-cx, float32(y)-cy
			m20 += dx * dx
			m02 += dy * dy
			m11 += dx * dy
			m30 += dx * dx * dx
			m03 += dy * dy * dy
			m21 += dx * dx * dy
			m12 += dx * dy * dy
			if x > 0 && x < half-1 && y > 0 && y < half-1 &&
				s.label[i-1] == id && s.label[i+1] == id && s.label[i-half] == id && s.label[i+half] == id {
				inner += s.mag[i]
				nInner++
			}
		}
	}
	for x := c.x0; x <= c.x1; x++ {
		prev := false
		for y := c.y0; y <= c.y1; y++ {
			in := s.label[y*half+x] == id
			if in != prev && in {
				runsC++
			}
			prev = in
		}
	}
	for k := range 6 {
		if rowW[k] > 0 {
			out[k] = rowFill[k] / rowW[k]
		}
		if colW[k] > 0 {
			out[6+k] = colFill[k] / colW[k]
		}
	}
	out[12] = float32(runsR)/float32(bh) - 1
	out[13] = float32(runsC)/float32(bw) - 1
	// Normalised central moments η_pq = μ_pq / μ00^(1+(p+q)/2).
	n := float32(c.size)
	n2, n25 := n*n, n*n*sqrt(n)
	e20, e02, e11 := m20/n2, m02/n2, m11/n2
	e30, e03, e21, e12 := m30/n25, m03/n25, m21/n25, m12/n25
	h1 := e20 + e02
	h2 := (e20-e02)*(e20-e02) + 4*e11*e11
	h3 := (e30-3*e12)*(e30-3*e12) + (3*e21-e03)*(3*e21-e03)
	h4 := (e30+e12)*(e30+e12) + (e21+e03)*(e21+e03)
	out[14] = 4*h1 - 0.64 // a disc is 1/(2π)
	out[15] = 4 * sqrt(h2)
	out[16] = 8 * sqrt(sqrt(h3))
	out[17] = 8 * sqrt(sqrt(h4))
	out[18] = 10 * e03
	out[19] = 10 * e21
	out[20] = 10 * e11
	if nInner > 0 {
		out[21] = energy(inner / float32(nInner))
	}
}

// prominentPeaks counts the local maxima of p that rise at least prom
// above the lowest point between them and the next higher value (or the
// ends) on both sides.
func prominentPeaks(p []float32, prom float32) int {
	n := 0
	for i, v := range p {
		if (i > 0 && p[i-1] >= v) || (i+1 < len(p) && p[i+1] > v) {
			continue
		}
		lo := v
		okL := true
		for j := i - 1; j >= 0; j-- {
			if p[j] > v {
				break
			}
			lo = min(lo, p[j])
		}
		okL = v-lo >= prom
		lo = v
		for j := i + 1; j < len(p); j++ {
			if p[j] > v {
				break
			}
			lo = min(lo, p[j])
		}
		if okL && v-lo >= prom {
			n++
		}
	}
	return n
}

// bumps reads how many things stand side by side (things in a row touch or
// overlap at half resolution and merge into one region): the largest
// region's width over its height, linear and as a soft code of 1 to 5; the
// number of prominent peaks along the top edges (the height of the topmost
// pixel in each column, lightly smoothed) of the regions of at least a
// quarter of the largest, summed, linear and as a soft code of 1 to 5; the
// same for their column sums, linear; and the smaller of the two.
func (s *scratch) bumps(out []float32, best int) {
	if best < 0 {
		return
	}
	c := s.comps[best]
	id := int16(best + 1)
	bw, bh := c.x1-c.x0+1, c.y1-c.y0+1
	asp := float32(bw) / float32(bh)
	out[0] = min(asp, 6) / 2
	softCode(out[1:6], asp, 1, 1)
	// Peaks summed over the regions of at least a quarter of the largest.
	pt, pc := 0, 0
	for k, o := range s.comps {
		if 4*o.size < c.size {
			continue
		}
		oid := int16(k + 1)
		var topH, cols, sm, sc [half + 2]float32
		ow := o.x1 - o.x0 + 1
		for x := o.x0; x <= o.x1; x++ {
			for y := o.y0; y <= o.y1; y++ {
				if s.label[y*half+x] == oid {
					if topH[x-o.x0+1] == 0 {
						topH[x-o.x0+1] = float32(o.y1 + 1 - y)
					}
					cols[x-o.x0+1]++
				}
			}
		}
		n := ow + 2
		for i := 1; i < n-1; i++ {
			sm[i] = (topH[i-1] + 2*topH[i] + topH[i+1]) / 4
			sc[i] = (cols[i-1] + 2*cols[i] + cols[i+1]) / 4
		}
		pt += prominentPeaks(sm[:n], 1)
		pc += prominentPeaks(sc[:n], 1.5)
	}
	_ = id
	out[6] = float32(min(pt, 8)) / 4
	softCode(out[7:12], float32(pt), 1, 1)
	out[12] = float32(min(pc, 8)) / 4
	out[13] = float32(min(pt, pc, 8)) / 4
}

// solidity describes the largest region's convexity and inner parts: its
// area over the area of its convex hull (low for stars, flowers, spirals),
// the share of its bounding box that is enclosed holes (background that
// cannot reach the box's edge), and its inner details: the share of its
// inside (pixels whose 4 neighbours are in it) that differs by more than
// ΔE*ab 15 from the mean colour of its deep inside (2 pixels in), with the
// height and the horizontal spread of those details in its box, the root
// of their count, and the share that differs by 15 L* units; then contrast:
// the deep inside's L* step from the backdrop, the spread of L* in the deep
// inside (shading), and the lightness range of the backdrop's main colours
// (see refineForeground).
func (s *scratch) solidity(out []float32, best int) {
	if best < 0 {
		return
	}
	c := s.comps[best]
	id := int16(best + 1)
	// Convex hull of the row extents, as a left and a right chain of pixel
	// corners, top to bottom.
	type pt struct{ x, y float32 }
	var left, right [2 * half]pt
	nl, nr := 0, 0
	cross := func(o, a, b pt) float32 { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }
	for y := c.y0; y <= c.y1; y++ {
		x0, x1 := -1, -1
		for x := c.x0; x <= c.x1; x++ {
			if s.label[y*half+x] == id {
				if x0 < 0 {
					x0 = x
				}
				x1 = x
			}
		}
		if x0 < 0 {
			continue
		}
		for _, yy := range [2]float32{float32(y), float32(y + 1)} {
			p := pt{float32(x0), yy}
			for nl >= 2 && cross(left[nl-2], left[nl-1], p) >= 0 {
				nl--
			}
			left[nl] = p
			nl++
			q := pt{float32(x1 + 1), yy}
			for nr >= 2 && cross(right[nr-2], right[nr-1], q) <= 0 {
				nr--
			}
			right[nr] = q
			nr++
		}
	}
	// Shoelace over left (down) then right (up).
	var area float32
	prev := left[0]
	step := func(p pt) {
		area += prev.x*p.y - p.x*prev.y
		prev = p
	}
	for _, p := range left[1:nl] {
		step(p)
	}
	for k := nr - 1; k >= 0; k-- {
		step(right[k])
	}
	step(left[0])
	area = abs(area) / 2
	if area > 0 {
		out[0] = 2*min(1, float32(c.size)/area) - 1
	}

	// Holes: flood the box's background from its edge.
	vis := &s.lab2
	clear(vis[:])
	top := 0
	push := func(i int) {
		if s.label[i] != id && vis[i] == 0 {
			vis[i] = 1
			s.stack[top] = int16(i)
			top++
		}
	}
	for x := c.x0; x <= c.x1; x++ {
		push(c.y0*half + x)
		push(c.y1*half + x)
	}
	for y := c.y0; y <= c.y1; y++ {
		push(y*half + c.x0)
		push(y*half + c.x1)
	}
	reached := 0
	for top > 0 {
		top--
		i := int(s.stack[top])
		reached++
		x, y := i%half, i/half
		if x > c.x0 {
			push(i - 1)
		}
		if x < c.x1 {
			push(i + 1)
		}
		if y > c.y0 {
			push(i - half)
		}
		if y < c.y1 {
			push(i + half)
		}
	}
	bw, bh := c.x1-c.x0+1, c.y1-c.y0+1
	holes := bw*bh - c.size - reached
	out[1] = 4 * float32(holes) / float32(bw*bh)

	// Inner details against the deep inside's mean colour.
	var dl, da, db float32
	nd := 0
	for y := c.y0; y <= c.y1; y++ {
		for x := c.x0; x <= c.x1; x++ {
			if i := y*half + x; s.label[i] == id && s.dt[i] >= 4 {
				dl += s.hL[i]
				da += s.hA[i]
				db += s.hB[i]
				nd++
			}
		}
	}
	if nd < 4 {
		return
	}
	dl, da, db = dl/float32(nd), da/float32(nd), db/float32(nd)
	// Contrast: the deep inside's L* against the backdrop's, the spread of
	// L* in the deep inside (shading), and the backdrop palette's range.
	var bl, dss float32
	nb := 0
	for i, f := range s.fg {
		if f == 0 {
			bl += s.hL[i]
			nb++
		}
	}
	for y := c.y0; y <= c.y1; y++ {
		for x := c.x0; x <= c.x1; x++ {
			if i := y*half + x; s.label[i] == id && s.dt[i] >= 4 {
				e := s.hL[i] - dl
				dss += e * e
			}
		}
	}
	if nb > 0 {
		out[7] = 2 * abs(dl-bl/float32(nb))
	}
	out[8] = 4 * sqrt(dss/float32(nd))
	out[9] = 2 * s.bgRange
	var nIn, nOdd, nDark int
	var oy, ox, oxx float32
	for y := max(c.y0, 1); y <= min(c.y1, half-2); y++ {
		for x := max(c.x0, 1); x <= min(c.x1, half-2); x++ {
			i := y*half + x
			if s.label[i] != id || s.label[i-1] != id || s.label[i+1] != id || s.label[i-half] != id || s.label[i+half] != id {
				continue
			}
			nIn++
			el, ea, eb := s.hL[i]-dl, s.hA[i]-da, s.hB[i]-db
			if el*el+ea*ea+eb*eb > 0.15*0.15 {
				nOdd++
				u := 2*(float32(x-c.x0)+0.5)/float32(bw) - 1
				oy += 2*(float32(y-c.y0)+0.5)/float32(bh) - 1
				ox += u
				oxx += u * u
			}
			if abs(el) > 0.15 {
				nDark++
			}
		}
	}
	if nIn == 0 {
		return
	}
	out[2] = 2 * float32(nOdd) / float32(nIn)
	out[6] = 2 * float32(nDark) / float32(nIn)
	if nOdd > 0 {
		n := float32(nOdd)
		out[3] = oy / n
		mx := ox / n
		out[4] = 2 * sqrt(max(0, oxx/n-mx*mx))
		out[5] = sqrt(n) / 8
	}
}
