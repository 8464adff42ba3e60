package features

import (
	"encoding/binary"
	"image"
	"image/color"
)

// load fills s.pix with img centre-cropped to a square (the side is the
// shorter of width and height; the longer axis loses equal margins on both
// ends) and resized to full×full: a box filter (the mean of the source pixels that
// fall in each output pixel, in sRGB) when the square is larger than full, and
// nearest neighbour when it is smaller. Pixels are alpha-premultiplied, which
// is the picture composited over black; an image.RGBA and the same picture as
// image.NRGBA give the same result.
func (s *scratch) load(img image.Image) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	side := min(w, h)
	x0 := b.Min.X + (w-side)/2
	y0 := b.Min.Y + (h-side)/2

	// Fast path: a full×full RGBA square is copied row by row.
	if m, ok := img.(*image.RGBA); ok && side == full {
		for y := 0; y < full; y++ {
			i := m.PixOffset(x0, y0+y)
			copy(s.pix[y*full*4:(y+1)*full*4], m.Pix[i:i+full*4])
		}
		return
	}

	// Fast path: a 2·full square RGBA (the taste world's usual 128×128)
	// is averaged in 2×2 blocks straight from its pixels.
	if m, ok := img.(*image.RGBA); ok && side == 2*full {
		for oy := 0; oy < full; oy++ {
			i := m.PixOffset(x0, y0+2*oy)
			j := m.PixOffset(x0, y0+2*oy+1)
			r0 := m.Pix[i : i+8*full : i+8*full]
			r1 := m.Pix[j : j+8*full : j+8*full]
			out := s.pix[oy*full*4 : (oy+1)*full*4 : (oy+1)*full*4]
			for ox := 0; ox < full; ox++ {
				binary.LittleEndian.PutUint32(out[4*ox:4*ox+4], avg2x2(
					binary.LittleEndian.Uint64(r0[8*ox:8*ox+8]), binary.LittleEndian.Uint64(r1[8*ox:8*ox+8])))
			}
		}
		return
	}

	src := newSource(img, &s.palette)
	if cap(s.row) < 4*side {
		s.row = make([]uint8, 4*side)
	}
	buf := s.row[:4*side]

	if side <= full {
		prev := -1
		var row []uint8
		for oy := 0; oy < full; oy++ {
			sy := oy * side / full
			if sy != prev {
				row = src.row(x0, y0+sy, side, buf)
				prev = sy
			}
			out := s.pix[oy*full*4 : (oy+1)*full*4]
			for ox := 0; ox < full; ox++ {
				sx := (ox * side / full) * 4
				copy(out[ox*4:ox*4+4], row[sx:sx+4])
			}
		}
		return
	}

	// Box filter: output column ox covers source columns
	// [ceil(ox*side/full), ceil((ox+1)*side/full)), and likewise for rows; each
	// output pixel is the rounded mean of its rectangle. Each row's run of
	// columns is summed in registers and added to the accumulator once.
	var cols [full + 1]int
	for ox := range cols {
		cols[ox] = (ox*side + full - 1) / full
	}
	var acc [full * 4]uint64
	y := 0
	for oy := 0; oy < full; oy++ {
		ye := ((oy+1)*side + full - 1) / full
		rows := uint64(ye - y)
		for ; y < ye; y++ {
			row := src.row(x0, y0+y, side, buf)
			for ox := 0; ox < full; ox++ {
				var r, g, b, a uint32
				seg := row[cols[ox]*4 : cols[ox+1]*4]
				for k := 0; k+3 < len(seg); k += 4 {
					p := seg[k : k+4 : k+4]
					r += uint32(p[0])
					g += uint32(p[1])
					b += uint32(p[2])
					a += uint32(p[3])
				}
				d := acc[ox*4 : ox*4+4 : ox*4+4]
				d[0] += uint64(r)
				d[1] += uint64(g)
				d[2] += uint64(b)
				d[3] += uint64(a)
			}
		}
		// Multiplying by a reciprocal: 64-bit division costs tens of
		// cycles, which for 16384 values was most of the resize.
		out := s.pix[oy*full*4 : (oy+1)*full*4]
		for ox := 0; ox < full; ox++ {
			k := 1 / float32(uint64(cols[ox+1]-cols[ox])*rows)
			for c := 0; c < 4; c++ {
				out[ox*4+c] = uint8(float32(acc[ox*4+c])*k + 0.5)
				acc[ox*4+c] = 0
			}
		}
	}
}

// source reads rows of an image as 8-bit premultiplied RGBA, with direct
// loops for the types the decoders return and image.At for the rest.
type source struct {
	img     image.Image
	palette *[256][4]uint8 // converted palette of an *image.Paletted
}

func newSource(img image.Image, pal *[256][4]uint8) source {
	s := source{img: img}
	if m, ok := img.(*image.Paletted); ok {
		*pal = [256][4]uint8{}
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			r, g, b, a := c.RGBA()
			pal[i] = [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
		}
		s.palette = pal
	}
	return s
}

// row returns the n pixels starting at (x0, y): the image's own memory for
// an *image.RGBA, which it must not be written through, and otherwise dst
// (4n bytes) filled in.
func (s source) row(x0, y, n int, dst []uint8) []uint8 {
	dst = dst[:4*n]
	switch m := s.img.(type) {
	case *image.RGBA:
		i := m.PixOffset(x0, y)
		return m.Pix[i : i+4*n : i+4*n]
	case *image.NRGBA:
		i := m.PixOffset(x0, y)
		src := m.Pix[i : i+4*n]
		for k := 0; k+3 < len(src); k += 4 {
			p := src[k : k+4 : k+4]
			d := dst[k : k+4 : k+4]
			a := uint32(p[3])
			if a == 255 {
				d[0], d[1], d[2], d[3] = p[0], p[1], p[2], 255
				continue
			}
			d[0] = uint8((uint32(p[0])*a + 127) / 255)
			d[1] = uint8((uint32(p[1])*a + 127) / 255)
			d[2] = uint8((uint32(p[2])*a + 127) / 255)
			d[3] = p[3]
		}
	case *image.YCbCr:
		for k := 0; k < n; k++ {
			yi := m.YOffset(x0+k, y)
			ci := m.COffset(x0+k, y)
			r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			d := dst[k*4 : k*4+4 : k*4+4]
			d[0], d[1], d[2], d[3] = r, g, b, 255
		}
	case *image.Gray:
		i := m.PixOffset(x0, y)
		for k, v := range m.Pix[i : i+n] {
			d := dst[k*4 : k*4+4 : k*4+4]
			d[0], d[1], d[2], d[3] = v, v, v, 255
		}
	case *image.Paletted:
		i := m.PixOffset(x0, y)
		for k, v := range m.Pix[i : i+n] {
			// Indices past the palette read as transparent black.
			copy(dst[k*4:k*4+4], s.palette[v][:])
		}
	default:
		for k := 0; k < n; k++ {
			r, g, b, a := m.At(x0+k, y).RGBA()
			d := dst[k*4 : k*4+4 : k*4+4]
			d[0], d[1], d[2], d[3] = uint8(r>>8), uint8(g>>8), uint8(b>>8), uint8(a>>8)
		}
	}
	return dst
}

// avg2x2 returns the rounded mean, channel by channel, of a 2×2 block of
// RGBA pixels given as two little-endian words of two pixels each (top row,
// bottom row). Red and blue, then green and alpha, travel in 16-bit lanes,
// so the block is summed with a few 64-bit operations.
func avg2x2(top, bot uint64) uint32 {
	const m = 0x00ff00ff00ff00ff
	rb := top&m + bot&m // lanes: r0 b0 r1 b1
	ga := top>>8&m + bot>>8&m
	rb += rb >> 32 // low lanes: r, b sums of four
	ga += ga >> 32
	rb = (rb + 0x00020002) >> 2 & 0x00ff00ff
	ga = (ga + 0x00020002) >> 2 & 0x00ff00ff
	return uint32(rb | ga<<8)
}
