package bench

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// palette is the Okabe–Ito colour-blind-safe palette, in the order plots use
// it (the hard-to-see yellow last).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"}

// markers are the point shapes, cycled beside the colours so that series and
// groups stay apart in grey print and for every kind of colour vision.
var markers = []string{"circle", "square", "triangle", "diamond", "cross"}

// Plot geometry, in SVG user units.
const (
	plotW, plotH           = 760, 460
	padL, padR, padT, padB = 72, 200, 44, 58
)

// svgDoc builds a standalone SVG document.
type svgDoc struct{ b bytes.Buffer }

func newSVG(title string) *svgDoc {
	s := &svgDoc{}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(&s.b, `<title>%s</title>`+"\n", esc(title))
	fmt.Fprintf(&s.b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, plotH)
	s.text(padL+(plotW-padL-padR)/2, 26, "middle", 16, "bold", title)
	return s
}

func (s *svgDoc) printf(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func (s *svgDoc) text(x, y float64, anchor string, size int, weight, t string) {
	s.printf(`<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%d" font-weight="%s">%s</text>`+"\n", x, y, anchor, size, weight, esc(t))
}

func (s *svgDoc) bytes() []byte {
	s.b.WriteString("</svg>\n")
	return s.b.Bytes()
}

// marker draws a point's shape centred at (x, y) with radius r; attrs are
// extra attributes (with a leading space) and a non-empty title becomes the
// shape's tooltip.
func (s *svgDoc) marker(shape string, x, y, r float64, colour, attrs, title string) {
	var el string
	switch shape {
	case "square":
		el = fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"`, x-r*0.85, y-r*0.85, 1.7*r, 1.7*r)
	case "triangle":
		el = fmt.Sprintf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f"`, x, y-r*1.1, x-r, y+r*0.75, x+r, y+r*0.75)
	case "diamond":
		el = fmt.Sprintf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"`, x, y-r*1.2, x+r, y, x, y+r*1.2, x-r, y)
	case "cross":
		w := r * 0.45
		el = fmt.Sprintf(`<path d="M%.1f %.1fh%.1fv%.1fh%.1fv%.1fh%.1fv%.1fh%.1fv%.1fh%.1fv%.1fz"`,
			x-w, y-r, 2*w, r-w, r-w, 2*w, -(r - w), r-w, -2*w, -(r - w), -(r - w), -2*w)
	default:
		el = fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="%.1f"`, x, y, r)
	}
	s.printf(`%s fill="%s"%s`, el, colour, attrs)
	if title == "" {
		s.printf("/>\n")
		return
	}
	s.printf("><title>%s</title></%s>\n", esc(title), svgElement(shape))
}

func esc(t string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(t))
	return b.String()
}

// axis maps data values onto a pixel range, linearly or on a log2(1+x)
// scale, and knows its ticks.
type axis struct {
	lo, hi     float64 // in transformed units
	p0, p1     float64 // pixels for lo and hi
	log        bool
	ticks      []float64 // data values
	tickLabels []string
}

func (a *axis) tf(v float64) float64 {
	if a.log {
		return math.Log2(1 + v)
	}
	return v
}

func (a *axis) px(v float64) float64 {
	return a.p0 + (a.tf(v)-a.lo)/(a.hi-a.lo)*(a.p1-a.p0)
}

// niceTicks returns round tick values covering [lo, hi], about n of them.
func niceTicks(lo, hi float64, n int) []float64 {
	span := hi - lo
	if !(span > 0) {
		return []float64{lo}
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func tickLabel(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Series is one line of a LinePlot. Lo and Hi, when set (same length as Y),
// draw a shaded band, e.g. a bootstrap interval; Dashed draws a reference
// line such as the oracle.
type Series struct {
	Name   string
	X, Y   []float64
	Lo, Hi []float64
	Dashed bool
}

// LinePlot draws series as lines with point markers on shared axes, with a
// legend on the right, as a standalone SVG document. The x axis is on a
// log2(1+x) scale, ticked at the x values present, when every x is a
// non-negative number and the largest is at least 16 times the smallest
// positive one (history lengths 0, 1, 2, 4, ... 32); otherwise it is linear
// with round ticks. Points with a NaN coordinate are skipped.
func LinePlot(title, xLabel, yLabel string, series []Series) []byte {
	s := newSVG(title)
	var xs []float64
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, sr := range series {
		for i := range sr.X {
			if i >= len(sr.Y) || math.IsNaN(sr.X[i]) || math.IsNaN(sr.Y[i]) {
				continue
			}
			xs = append(xs, sr.X[i])
			ylo, yhi = min(ylo, sr.Y[i]), max(yhi, sr.Y[i])
			if len(sr.Lo) == len(sr.Y) && len(sr.Hi) == len(sr.Y) && !math.IsNaN(sr.Lo[i]) && !math.IsNaN(sr.Hi[i]) {
				ylo, yhi = min(ylo, sr.Lo[i]), max(yhi, sr.Hi[i])
			}
		}
	}
	if len(xs) == 0 {
		xs, ylo, yhi = []float64{0, 1}, 0, 1
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	x := &axis{p0: padL, p1: plotW - padR}
	minPos := math.Inf(1)
	for _, v := range xs {
		if v > 0 {
			minPos = min(minPos, v)
		}
	}
	x.log = xs[0] >= 0 && xs[len(xs)-1] >= 16*minPos
	x.lo, x.hi = x.tf(xs[0]), x.tf(xs[len(xs)-1])
	if x.hi == x.lo {
		x.lo, x.hi = x.lo-1, x.hi+1
	}
	if x.log || len(xs) <= 10 {
		x.ticks = xs
		if x.log && len(xs) > 10 { // too many to label: powers of two
			x.ticks = nil
			for v := 0.0; v <= xs[len(xs)-1]; v = max(1, 2*v) {
				if v >= xs[0] {
					x.ticks = append(x.ticks, v)
				}
			}
		}
	} else {
		x.ticks = niceTicks(xs[0], xs[len(xs)-1], 6)
	}
	pad := (yhi - ylo) * 0.06
	if pad == 0 {
		pad = max(math.Abs(yhi)*0.1, 0.5)
	}
	y := &axis{p0: plotH - padB, p1: padT}
	y.ticks = niceTicks(ylo-pad, yhi+pad, 6)
	y.lo, y.hi = min(y.ticks[0], ylo-pad), max(y.ticks[len(y.ticks)-1], yhi+pad)
	for _, v := range y.ticks {
		y.tickLabels = append(y.tickLabels, tickLabel(v))
	}
	for _, v := range x.ticks {
		x.tickLabels = append(x.tickLabels, tickLabel(v))
	}
	s.frame(x, y, xLabel, yLabel)
	for k, sr := range series {
		colour := palette[k%len(palette)]
		shape := markers[k%len(markers)]
		if len(sr.Lo) == len(sr.Y) && len(sr.Hi) == len(sr.Y) && len(sr.Y) > 0 {
			var up, down []string
			for i := range sr.X {
				if i >= len(sr.Y) || math.IsNaN(sr.X[i]) || math.IsNaN(sr.Lo[i]) || math.IsNaN(sr.Hi[i]) {
					continue
				}
				up = append(up, fmt.Sprintf("%.1f,%.1f", x.px(sr.X[i]), y.px(sr.Hi[i])))
				down = append(down, fmt.Sprintf("%.1f,%.1f", x.px(sr.X[i]), y.px(sr.Lo[i])))
			}
			slices.Reverse(down)
			if len(up) > 0 {
				s.printf(`<polygon points="%s" fill="%s" fill-opacity="0.15" stroke="none"/>`+"\n", joinPts(append(up, down...)), colour)
			}
		}
		var pts []string
		for i := range sr.X {
			if i >= len(sr.Y) || math.IsNaN(sr.X[i]) || math.IsNaN(sr.Y[i]) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x.px(sr.X[i]), y.px(sr.Y[i])))
		}
		dash := ""
		if sr.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		s.printf(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", joinPts(pts), colour, dash)
		if !sr.Dashed {
			for i := range sr.X {
				if i >= len(sr.Y) || math.IsNaN(sr.X[i]) || math.IsNaN(sr.Y[i]) {
					continue
				}
				s.marker(shape, x.px(sr.X[i]), y.px(sr.Y[i]), 4, colour, "", fmt.Sprintf("%s: x=%s y=%.4g", sr.Name, tickLabel(sr.X[i]), sr.Y[i]))
			}
		}
		// Legend entry.
		ly := float64(padT + 14 + 22*k)
		lx := float64(plotW - padR + 16)
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, lx, ly, lx+28, ly, colour, dash)
		if !sr.Dashed {
			s.marker(shape, lx+14, ly, 4, colour, "", "")
		}
		s.text(lx+36, ly+4.5, "start", 12, "normal", sr.Name)
	}
	return s.bytes()
}

// svgElement names the SVG element a marker shape is drawn with, so a marker
// can carry a <title> child.
func svgElement(shape string) string {
	switch shape {
	case "square":
		return "rect"
	case "triangle", "diamond":
		return "polygon"
	case "cross":
		return "path"
	}
	return "circle"
}

func joinPts(p []string) string {
	var b bytes.Buffer
	for i, s := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// frame draws the plot box, grid, ticks and axis labels.
func (s *svgDoc) frame(x, y *axis, xLabel, yLabel string) {
	s.printf(`<g stroke="#dddddd" stroke-width="1">`)
	for _, v := range y.ticks {
		p := y.px(v)
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x.p0, p, x.p1, p)
	}
	for _, v := range x.ticks {
		p := x.px(v)
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, p, y.p0, p, y.p1)
	}
	s.printf("</g>\n")
	s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333333"/>`+"\n", x.p0, y.p1, x.p1-x.p0, y.p0-y.p1)
	for i, v := range y.ticks {
		p := y.px(v)
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333333"/>`, x.p0-5, p, x.p0, p)
		s.text(x.p0-8, p+4.5, "end", 12, "normal", y.tickLabels[i])
	}
	for i, v := range x.ticks {
		p := x.px(v)
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333333"/>`, p, y.p0, p, y.p0+5)
		s.text(p, y.p0+20, "middle", 12, "normal", x.tickLabels[i])
	}
	s.text((x.p0+x.p1)/2, plotH-14, "middle", 13, "normal", xLabel)
	cy := (y.p0 + y.p1) / 2
	s.printf(`<text x="18" y="%.1f" text-anchor="middle" font-size="13" transform="rotate(-90 18 %.1f)">%s</text>`+"\n", cy, cy, esc(yLabel))
}

// Point is one dot of a ScatterPlot: its position, its group (colour and
// shape) and a label shown when the pointer rests on it.
type Point struct {
	X, Y  float64
	Group int
	Label string
}

// maxLegend is the most groups a scatter legend names one by one.
const maxLegend = 16

// ScatterPlot draws points coloured and shaped by group, with a legend of the
// groups, as a standalone SVG document: the users' descriptors projected to
// 2-D, coloured by their true taste group. Groups get colours and shapes in
// increasing order of their number; points with a NaN coordinate are skipped.
func ScatterPlot(title string, pts []Point) []byte {
	s := newSVG(title)
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	var groups []int
	for _, p := range pts {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) {
			continue
		}
		xlo, xhi, ylo, yhi = min(xlo, p.X), max(xhi, p.X), min(ylo, p.Y), max(yhi, p.Y)
		groups = append(groups, p.Group)
	}
	if len(groups) == 0 {
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
	}
	slices.Sort(groups)
	groups = slices.Compact(groups)
	padAxis := func(lo, hi float64) (float64, float64) {
		p := (hi - lo) * 0.06
		if p == 0 {
			p = max(math.Abs(hi)*0.1, 0.5)
		}
		return lo - p, hi + p
	}
	xlo, xhi = padAxis(xlo, xhi)
	ylo, yhi = padAxis(ylo, yhi)
	x := &axis{p0: padL, p1: plotW - padR, lo: xlo, hi: xhi, ticks: niceTicks(xlo, xhi, 6)}
	y := &axis{p0: plotH - padB, p1: padT, lo: ylo, hi: yhi, ticks: niceTicks(ylo, yhi, 6)}
	for _, a := range []*axis{x, y} {
		a.ticks = slices.DeleteFunc(a.ticks, func(v float64) bool { return v < a.lo || v > a.hi })
		for _, v := range a.ticks {
			a.tickLabels = append(a.tickLabels, tickLabel(v))
		}
	}
	s.frame(x, y, "component 1", "component 2")
	style := func(g int) (string, string) {
		k, _ := slices.BinarySearch(groups, g)
		return palette[k%len(palette)], markers[k%len(markers)]
	}
	for _, p := range pts {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) {
			continue
		}
		colour, shape := style(p.Group)
		tip := ""
		if p.Label != "" {
			tip = fmt.Sprintf("%s (group %d)", p.Label, p.Group)
		}
		s.marker(shape, x.px(p.X), y.px(p.Y), 4, colour, ` fill-opacity="0.75"`, tip)
	}
	for k, g := range groups {
		ly := float64(padT + 14 + 20*k)
		lx := float64(plotW - padR + 20)
		if k == maxLegend {
			s.text(lx, ly+4.5, "start", 12, "normal", fmt.Sprintf("… %d more groups", len(groups)-maxLegend))
			break
		}
		colour, shape := style(g)
		s.marker(shape, lx, ly, 5, colour, "", "")
		s.text(lx+14, ly+4.5, "start", 12, "normal", fmt.Sprintf("group %d", g))
	}
	return s.bytes()
}
