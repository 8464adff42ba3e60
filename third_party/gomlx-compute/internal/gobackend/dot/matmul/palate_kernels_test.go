// palate: not upstream. Times the float32 kernels on the shapes of palate's
// scoring graph that the VZEROUPPER change (see third_party/README.md) was
// measured on: go test -run XXX -bench Palate ./internal/gobackend/dot/matmul/
// with GOEXPERIMENT=simd, from third_party/gomlx-compute.

//go:build amd64 && goexperiment.simd

package matmul

import (
	"simd/archsimd"
	"testing"
)

func BenchmarkPalateKernels(b *testing.B) {
	if !archsimd.X86.AVX512() {
		b.Skip("AVX512 is not supported on this CPU")
	}
	for _, k := range []struct {
		name                      string
		transposed                bool
		batch, lhs, rhs, contract int
	}{
		{"attention-scores-4x32x42x16-transposed", true, 4, 32, 42, 16},
		{"attention-values-4x32x16x42", false, 4, 32, 16, 42},
		{"attention-values-4x32x42x16-tail", false, 4, 32, 42, 16},
		{"input-projection-32x64x646-transposed", true, 1, 32, 64, 646},
	} {
		lhs := make([]float32, k.batch*k.lhs*k.contract)
		rhs := make([]float32, k.batch*k.rhs*k.contract)
		out := make([]float32, k.batch*k.lhs*k.rhs)
		for i := range lhs {
			lhs[i] = float32(i%7) / 7
		}
		for i := range rhs {
			rhs[i] = float32(i%5) / 5
		}
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				if k.transposed {
					avx512SmallFloat32Transposed(lhs, rhs, 0, k.batch, k.lhs, k.rhs, k.contract, out)
				} else {
					avx512SmallFloat32(lhs, rhs, 0, k.batch, k.lhs, k.rhs, k.contract, out)
				}
			}
		})
	}
}
