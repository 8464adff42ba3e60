//go:build !goexperiment.simd

package train

const simdBuild = false
