package onnx

import (
	"fmt"
	"image"
	"math"
	"sync"

	"golang.org/x/image/draw"

	"palate"
)

// prep turns pictures into model input: resize (or crop and resize) to
// height×width, then per-channel normalisation into planar (NCHW) or
// interleaved (NHWC) float32s. It is safe for concurrent use.
type prep struct {
	h, w    int
	crop    bool
	interp  draw.Interpolator
	bgr     bool
	nhwc    bool
	scale   [3]float32 // 1 / (255 std)
	offset  [3]float32 // -mean / std
	scratch sync.Pool  // *image.RGBA of h×w
}

func newPrep(c Config) *prep {
	p := &prep{h: c.Size[0], w: c.Size[1], crop: c.Resize == ResizeCrop,
		interp: draw.CatmullRom, bgr: c.Channels == "bgr", nhwc: c.Layout == "nhwc"}
	if c.Interpolation == "bilinear" {
		p.interp = draw.BiLinear
	}
	for i := range 3 {
		p.scale[i] = 1 / (255 * c.Std[i])
		p.offset[i] = -c.Mean[i] / c.Std[i]
	}
	p.scratch.New = func() any { return image.NewRGBA(image.Rect(0, 0, p.w, p.h)) }
	return p
}

// size is the number of floats one picture becomes.
func (p *prep) size() int { return 3 * p.h * p.w }

// maxPixels bounds the pictures fill reads (an image.Uniform claims 4·10¹⁸).
const maxPixels = 1 << 28

// source returns the rectangle of img that is scaled onto the input: all of
// it to squash, else the centred part with the input's aspect ratio.
func (p *prep) source(b image.Rectangle) image.Rectangle {
	if !p.crop {
		return b
	}
	w, h := float64(b.Dx()), float64(b.Dy())
	s := math.Max(float64(p.w)/w, float64(p.h)/h) // shorter side to the input size
	cw, ch := math.Min(w, float64(p.w)/s), math.Min(h, float64(p.h)/s)
	x0 := float64(b.Min.X) + (w-cw)/2
	y0 := float64(b.Min.Y) + (h-ch)/2
	r := image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x0+cw)), int(math.Round(y0+ch)))
	if r.Empty() { // a sliver of an image: take at least one pixel
		r = image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Min.Y+1)
	}
	return r.Intersect(b)
}

// fill writes img's model input into dst (len p.size()). Returns EINVALID
// for an empty or absurdly large picture.
func (p *prep) fill(dst []float32, img image.Image) error {
	b := img.Bounds()
	if b.Empty() {
		return palate.Errorf(palate.EINVALID, "image is empty (%dx%d)", b.Dx(), b.Dy())
	}
	if b.Dx() > maxPixels/b.Dy() {
		return palate.Errorf(palate.ETOOLARGE, "image is %dx%d; at most %d pixels are read", b.Dx(), b.Dy(), maxPixels)
	}
	if len(dst) != p.size() {
		return palate.Errorf(palate.EINTERNAL, "preprocess: %d floats for a %dx%d input", len(dst), p.h, p.w)
	}
	rgba := p.scratch.Get().(*image.RGBA)
	defer p.scratch.Put(rgba)
	src := p.source(b)
	if src.Dx() == p.w && src.Dy() == p.h {
		draw.Copy(rgba, image.Point{}, img, src, draw.Src, nil)
	} else {
		p.interp.Scale(rgba, rgba.Rect, img, src, draw.Src, nil)
	}
	plane := p.h * p.w
	for y := range p.h {
		row := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*p.w]
		for x := range p.w {
			px := row[4*x : 4*x+3]
			for c := range 3 {
				sc := c
				if p.bgr {
					sc = 2 - c
				}
				v := float32(px[sc])*p.scale[c] + p.offset[c]
				if p.nhwc {
					dst[(y*p.w+x)*3+c] = v
				} else {
					dst[c*plane+y*p.w+x] = v
				}
			}
		}
	}
	return nil
}

// String describes the preprocessing for version strings.
func (p *prep) String() string {
	mode := "squash"
	if p.crop {
		mode = "crop"
	}
	ch, lay := "rgb", "nchw"
	if p.bgr {
		ch = "bgr"
	}
	if p.nhwc {
		lay = "nhwc"
	}
	interp := "bicubic"
	if p.interp == draw.BiLinear {
		interp = "bilinear"
	}
	return fmt.Sprintf("%s %dx%d %s %s %s", mode, p.h, p.w, interp, ch, lay)
}
