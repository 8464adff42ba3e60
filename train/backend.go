package train

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers the pure-Go backend "go"

	"palate"
)

// DefaultBackend is the GoMLX backend configuration palate trains and scores
// with unless told otherwise; see the package documentation for the
// measurements behind it.
const DefaultBackend = "go:ops_sequential"

// NewBackend starts a GoMLX backend from a configuration string such as
// "go", "go:ops_sequential" or "go:parallelism=8" ("" means DefaultBackend).
// Only the pure-Go backend is compiled in; another name, or an option the Go
// backend does not know, is an EINVALID error.
func NewBackend(spec string) (b compute.Backend, err error) {
	if spec == "" {
		spec = DefaultBackend
	}
	name, _, _ := strings.Cut(spec, ":")
	if name != "go" {
		return nil, palate.Errorf(palate.EINVALID, "backend %q: only the pure-Go backend (\"go\", \"go:OPTIONS\") is built in", spec)
	}
	defer func() {
		if r := recover(); r != nil {
			err = palate.Errorf(palate.EINVALID, "backend %q: %v", spec, r)
		}
	}()
	b, err = compute.NewWithConfig(spec)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "backend %q: %w", spec, err)
	}
	return b, nil
}

// SIMDBuild reports whether this binary was built with GOEXPERIMENT=simd,
// which gives the Go backend its AVX2/AVX-512 matrix products (about 3× the
// training speed here).
func SIMDBuild() bool { return simdBuild }

// BuildNote is a one-line description of the compute setup for logs and
// summaries, e.g. "go:ops_sequential, simd".
func BuildNote(spec string) string {
	if spec == "" {
		spec = DefaultBackend
	}
	if simdBuild {
		return fmt.Sprintf("%s, simd", spec)
	}
	return fmt.Sprintf("%s, no simd (build with GOEXPERIMENT=simd for ~3x speed)", spec)
}
