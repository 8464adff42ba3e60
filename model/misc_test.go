package model

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"palate"
)

func TestHashBOW(t *testing.T) {
	e := NewHashBOW(64)
	if e.Name() != "hashbow-v1" || e.Dim() != 64 {
		t.Fatalf("name %q dim %d", e.Name(), e.Dim())
	}
	a := e.EmbedText("A red Fox, in the snow!")
	b := e.EmbedText("a red fox in the snow")
	c := e.EmbedText("a red fox on a beach")
	d := e.EmbedText("portrait of an old sailor")
	dot := func(x, y []float32) float64 {
		var s float64
		for i := range x {
			s += float64(x[i]) * float64(y[i])
		}
		return s
	}
	if math.Abs(dot(a, a)-1) > 1e-5 {
		t.Fatalf("not L2-normalised: |a|^2 = %v", dot(a, a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("case and punctuation changed the embedding")
		}
	}
	if !(dot(a, c) > dot(a, d)) {
		t.Fatalf("shared words should be closer: sim(fox,fox beach)=%v sim(fox,sailor)=%v", dot(a, c), dot(a, d))
	}
	if z := e.EmbedText("  ,, "); dot(z, z) != 0 {
		t.Fatal("empty prompt should embed to zeros")
	}
	// Golden value: the embedding must never change across versions, or old
	// checkpoints would read prompts differently.
	g := e.EmbedText("sunset")
	nz := 0
	for _, x := range g {
		if x != 0 {
			nz++
			if math.Abs(math.Abs(float64(x))-1) > 1e-6 {
				t.Fatalf("one-word prompt should be a signed unit vector, got %v", g)
			}
		}
	}
	if nz != 1 {
		t.Fatalf("one-word prompt has %d non-zeros", nz)
	}
}

func TestAgeBucket(t *testing.T) {
	for _, c := range []struct {
		age     time.Duration
		buckets int
		want    int32
	}{
		{-time.Hour, 8, 0},
		{0, 8, 0},
		{30 * time.Minute, 8, 0},
		{2 * time.Hour, 8, 1},
		{12 * time.Hour, 8, 2},
		{2 * 24 * time.Hour, 8, 3},
		{5 * 24 * time.Hour, 8, 4},
		{20 * 24 * time.Hour, 8, 5},
		{60 * 24 * time.Hour, 8, 6},
		{400 * 24 * time.Hour, 8, 7},
		{400 * 24 * time.Hour, 3, 2},
		{2 * time.Hour, 3, 1},
		{2 * time.Hour, 1, 0},
	} {
		if got := AgeBucket(c.age, c.buckets); got != c.want {
			t.Errorf("AgeBucket(%v, %d) = %d, want %d", c.age, c.buckets, got, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("default config without image_dim: got %v, want EINVALID", err)
	}
	cfg.ImageDim = 32
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"heads":     func(c *Config) { c.Heads = 3 },
		"mode":      func(c *Config) { c.TokenMode = "both" },
		"pool size": func(c *Config) { c.TokenMode = TokenModePool; c.PoolSize = 2 },
		"lambda":    func(c *Config) { c.Lambda = -1 },
		"dropout":   func(c *Config) { c.Dropout = 1 },
	} {
		c := cfg
		mutate(&c)
		if err := c.Validate(); palate.ErrorCode(err) != palate.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}

	want := DefaultConfig()
	want.ImageDim, want.Layers, want.TokenMode = 48, 3, TokenModePool
	// JSON round trip.
	raw, _ := json.Marshal(want)
	var back Config
	if err := json.Unmarshal(raw, &back); err != nil || back != want {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

// The Go backend's transpose is palate's own (third_party/gomlx-compute,
// "palate:"): it must move every element where a plain index computation
// says, for every permutation of tensors of rank 1 to 4 (sizes of 1
// included) and some of rank 5.
func TestTransposeMatchesReference(t *testing.T) {
	shapes := [][]int{{5}, {3, 4}, {4, 1, 3}, {2, 3, 4, 5}, {1, 3, 1, 2}, {2, 1, 3, 2, 3}}
	var perms func(n int) [][]int
	perms = func(n int) [][]int {
		if n == 1 {
			return [][]int{{0}}
		}
		var out [][]int
		for _, p := range perms(n - 1) {
			for i := 0; i <= len(p); i++ {
				q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
				out = append(out, q)
			}
		}
		return out
	}
	for _, dims := range shapes {
		size := 1
		for _, d := range dims {
			size *= d
		}
		data := make([]float32, size)
		for i := range data {
			data[i] = float32(i) + 0.5
		}
		x := tensors.FromFlatDataAndDimensions(data, dims...)
		ps := perms(len(dims))
		if len(dims) == 5 {
			ps = [][]int{{4, 3, 2, 1, 0}, {0, 2, 1, 4, 3}, {1, 2, 3, 4, 0}}
		}
		for _, perm := range ps {
			got := tensors.MustCopyFlatData[float32](MustExecOnce(testBackend(), func(x *Node) *Node {
				return TransposeAllAxes(x, perm...)
			}, x))
			// Reference: the output's element at multi-index o is the
			// operand's at the index whose axis perm[i] is o[i].
			outDims := make([]int, len(dims))
			for i, p := range perm {
				outDims[i] = dims[p]
			}
			idx := make([]int, len(dims))
			for flat := range size {
				r := flat
				for i := len(outDims) - 1; i >= 0; i-- {
					idx[i] = r % outDims[i]
					r /= outDims[i]
				}
				src := 0
				for ax := range dims {
					for i, p := range perm {
						if p == ax {
							src = src*dims[ax] + idx[i]
						}
					}
				}
				if got[flat] != data[src] {
					t.Fatalf("transpose %v by %v: output %d is %g, want %g", dims, perm, flat, got[flat], data[src])
				}
			}
		}
	}
}
