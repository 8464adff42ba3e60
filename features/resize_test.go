package features

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// refResize is the obvious, slow definition of load: centre crop to a
// square, then the mean of the source pixels whose column and row map to
// each output pixel (floor(x·full/side)), or the nearest pixel when upsampling.
func refResize(img image.Image) [full * full * 4]uint8 {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	var out [full * full * 4]uint8
	if side <= full {
		for oy := 0; oy < full; oy++ {
			for ox := 0; ox < full; ox++ {
				r, g, bl, a := img.At(x0+ox*side/full, y0+oy*side/full).RGBA()
				copy(out[(oy*full+ox)*4:], []uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)})
			}
		}
		return out
	}
	var sum [full * full * 4]float64
	var cnt [full * full]float64
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			r, g, bl, a := img.At(x0+x, y0+y).RGBA()
			k := (y*full/side)*full + x*full/side
			sum[k*4] += float64(r >> 8)
			sum[k*4+1] += float64(g >> 8)
			sum[k*4+2] += float64(bl >> 8)
			sum[k*4+3] += float64(a >> 8)
			cnt[k]++
		}
	}
	for i := range out {
		out[i] = uint8(sum[i]/cnt[i/4] + 0.5)
	}
	return out
}

func TestResize(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	random := func(rect image.Rectangle) *image.RGBA {
		img := image.NewRGBA(rect)
		for i := range img.Pix {
			img.Pix[i] = uint8(r.Uint32())
		}
		return img
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 90, 90))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(r.Uint32())
	}
	pal := image.NewPaletted(image.Rect(0, 0, 70, 100), color.Palette{
		color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}, color.NRGBA{0, 255, 0, 128}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(r.IntN(3))
	}
	tests := map[string]image.Image{
		"64 exact":     random(image.Rect(0, 0, 64, 64)),
		"128 halves":   random(image.Rect(0, 0, 128, 128)),
		"100 uneven":   random(image.Rect(0, 0, 100, 100)),
		"wide 300x77":  random(image.Rect(0, 0, 300, 77)),
		"tall offset":  random(image.Rect(-5, 3, 60, 203)),
		"small 20":     random(image.Rect(0, 0, 20, 20)),
		"nrgba 90":     nrgba,
		"paletted 70":  pal,
		"gray 65":      image.NewGray(image.Rect(0, 0, 65, 65)),
		"generic 129":  struct{ image.Image }{random(image.Rect(0, 0, 129, 129))},
		"ycbcr 4:2:0":  image.NewYCbCr(image.Rect(0, 0, 96, 96), image.YCbCrSubsampleRatio420),
		"single pixel": random(image.Rect(0, 0, 1, 1)),
		"sub-image 70": random(image.Rect(0, 0, 200, 200)).SubImage(image.Rect(33, 40, 103, 110)),
	}
	for name, img := range tests {
		t.Run(name, func(t *testing.T) {
			s := new(scratch)
			s.load(img)
			want := refResize(img)
			for i := range want {
				if d := int(s.pix[i]) - int(want[i]); d > 1 || d < -1 {
					t.Fatalf("byte %d (pixel %d,%d channel %d): got %d, want %d",
						i, i/4%full, i/4/full, i%4, s.pix[i], want[i])
				}
			}
		})
	}
}
