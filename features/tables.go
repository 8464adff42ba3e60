package features

import (
	"math"
	"math/bits"
)

// Read-only tables, filled once at package initialisation.
var (
	// srgbLin maps an 8-bit sRGB value to linear light in [0,1].
	srgbLin [256]float32
	// labF samples CIELAB's f(t) at t = k/labFSteps, k = 0..2·labFSteps
	// (a power of two, so that f can mask its index).
	labF [2 * labFSteps]float32
	// lumR/G/B hold each channel's share of relative luminance Y, in units
	// of 1/65536 (rounded down, so white sums to under 65536), and lTab maps
	// Y's top 12 bits to round(L*·2.55).
	lumR, lumG, lumB [256]uint32
	lTab             [4096]uint8
	// inv[c] = 1/c (inv[0] = 0).
	inv [256]float32
	// riu2 maps an 8-bit local binary pattern to its rotation-invariant
	// uniform class: 0..8 ones for patterns with at most two 0/1
	// transitions around the circle, 9 for all others.
	riu2 [256]uint8
	// hueCos/hueSin hold cos and sin of the centre of each fine hue bin,
	// and of twice that angle.
	hueCos, hueSin, hueCos2, hueSin2 [fineHue]float32
	// cell3 maps a half-resolution coordinate to its third (0, 1, 2).
	cell3 [half]uint8
)

const labFSteps = 4096

func init() {
	for i := range srgbLin {
		c := float64(i) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		srgbLin[i] = float32(c)
	}
	for k := range labF {
		t := float64(k) / labFSteps
		if t > 216.0/24389 {
			labF[k] = float32(math.Cbrt(t))
		} else {
			labF[k] = float32(t*24389/27/116 + 16.0/116)
		}
	}
	for i := range lumR {
		l := float64(srgbLin[i])
		lumR[i] = uint32(0.2126729 * l * 65535)
		lumG[i] = uint32(0.7151522 * l * 65535)
		lumB[i] = uint32(0.0721750 * l * 65535)
	}
	for k := range lTab {
		y := (float64(k) + 0.5) / float64(len(lTab))
		var fy float64
		if y > 216.0/24389 {
			fy = math.Cbrt(y)
		} else {
			fy = y*24389/27/116 + 16.0/116
		}
		lTab[k] = uint8(math.Round(math.Min(255, math.Max(0, (116*fy-16)*2.55))))
	}
	for c := 1; c < 256; c++ {
		inv[c] = 1 / float32(c)
	}
	for code := range riu2 {
		u := bits.OnesCount8(uint8(code) ^ bits.RotateLeft8(uint8(code), 1))
		if u <= 2 {
			riu2[code] = uint8(bits.OnesCount8(uint8(code)))
		} else {
			riu2[code] = 9
		}
	}
	for k := 0; k < fineHue; k++ {
		a := (float64(k) + 0.5) * 2 * math.Pi / fineHue
		hueCos[k], hueSin[k] = float32(math.Cos(a)), float32(math.Sin(a))
		hueCos2[k], hueSin2[k] = float32(math.Cos(2*a)), float32(math.Sin(2*a))
	}
	for x := range cell3 {
		cell3[x] = uint8((2*x + 1) * 3 / (2 * half))
	}
}

// ab returns CIELAB (D65) a* and b* of an 8-bit sRGB colour, divided by 100
// (so roughly in [-1,1]).
func ab(r, g, b uint8) (A, B float32) {
	lr, lg, lb := srgbLin[r], srgbLin[g], srgbLin[b]
	// sRGB → XYZ with each row divided by the D65 white, so white is (1,1,1).
	x := 0.43394994*lr + 0.37620977*lg + 0.18984029*lb
	y := 0.2126729*lr + 0.7151522*lg + 0.0721750*lb
	z := 0.01775658*lr + 0.10946796*lg + 0.87277546*lb
	fx, fy, fz := f(x), f(y), f(z)
	return 5 * (fx - fy), 2 * (fy - fz)
}

// lightness8 returns CIELAB L* of an 8-bit sRGB colour as round(L*·2.55),
// from integer tables: relative luminance Y in 16-bit fixed point, then L*
// looked up at 12 bits of Y (an error under 0.25 L* units).
func lightness8(r, g, b uint8) uint8 {
	y := lumR[r] + lumG[g] + lumB[b]
	return lTab[(y>>4)&uint32(len(lTab)-1)]
}

// f looks up labF at the nearest sample; t must be in [0, 1.0001]. With
// 4096 steps the error in L* is under 0.1 units. The mask only proves the
// index in range to the compiler; it never changes a valid index.
func f(t float32) float32 {
	return labF[int(t*labFSteps+0.5)&(len(labF)-1)]
}

// atan2 is a float32 arctangent accurate to about 1e-5 radians.
func atan2(y, x float32) float32 {
	ax, ay := abs(x), abs(y)
	mx, mn := max(ax, ay), min(ax, ay)
	if mx == 0 {
		return 0
	}
	a := mn / mx
	s := a * a
	r := ((-0.0464964749*s+0.15931422)*s-0.327622764)*s*a + a
	if ay > ax {
		r = math.Pi/2 - r
	}
	if x < 0 {
		r = math.Pi - r
	}
	if y < 0 {
		r = -r
	}
	return r
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func sqrt(x float32) float32 {
	if x <= 0 {
		return 0
	}
	return float32(math.Sqrt(float64(x)))
}
