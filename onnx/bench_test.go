package onnx

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"palate/onnx/onnxtest"
)

// A CLIP-style vision transformer (class token, LayerNormalization,
// multi-head attention, quick-GELU) runs, gives unit vectors, and gives an
// image the same vector alone as in a batch of others.
func TestViTGraph(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vit.onnx")
	cfg := onnxtest.ViTConfig{Image: 32, Patch: 8, Width: 32, Layers: 2, Heads: 4, MLP: 64, Out: 16, Seed: 3}
	if err := onnxtest.ViT(cfg).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	e, err := Open(path, Options{Config: &Config{Preset: "clip", Size: Size{32, 32}}, BatchSizes: []int{1, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Dim() != 16 {
		t.Fatalf("dim %d, want 16", e.Dim())
	}
	r := rand.New(rand.NewPCG(1, 2))
	imgs := make([]image.Image, 4)
	for i := range imgs {
		imgs[i] = randomImage(r, 40+i*8, 32) // crops of different widths
	}
	batch, err := e.EmbedBatch(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range imgs {
		alone, err := e.Embed(context.Background(), imgs[i])
		if err != nil {
			t.Fatal(err)
		}
		near(t, fmt.Sprintf("image %d alone vs in a batch", i), alone, batch[i], 1e-5)
		var ss float64
		for _, x := range batch[i] {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Errorf("image %d: |v|² = %v", i, ss)
		}
	}
	if d := batch[0][0] - batch[1][0]; math.Abs(float64(d)) < 1e-7 {
		t.Errorf("two random images gave the same first value %v", batch[0][0])
	}

	// The patch Conv was rewritten as a matrix product, and the Conv
	// itself gives the same vectors.
	if e.patches != 1 {
		t.Fatalf("%d patch convolutions rewritten, want 1", e.patches)
	}
	conv, err := Open(path, Options{Config: &Config{Preset: "clip", Size: Size{32, 32}}, BatchSizes: []int{4}, noRewrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if conv.patches != 0 {
		t.Fatal("noRewrite rewrote")
	}
	ref, err := conv.EmbedBatch(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range imgs {
		near(t, fmt.Sprintf("image %d: matmul vs conv", i), batch[i], ref[i], 1e-5)
	}
}

// BenchmarkViT reports images/s, preprocessing included, for a small
// CLIP-style encoder ("vit-s32": 224×224, patch 32, width 384, 6 layers)
// and, with PALATE_BENCH_B32=1, for one of CLIP ViT-B/32's shape. Run:
//
//	GOEXPERIMENT=simd go test ./onnx -run '^$' -bench ViT -benchtime 64x
func BenchmarkViT(b *testing.B) {
	configs := []struct {
		name string
		cfg  onnxtest.ViTConfig
	}{{"vit-s32", onnxtest.ViTConfig{Image: 224, Patch: 32, Width: 384, Layers: 6, Heads: 6, MLP: 1536, Out: 512}}}
	if os.Getenv("PALATE_BENCH_B32") != "" {
		configs = append(configs, struct {
			name string
			cfg  onnxtest.ViTConfig
		}{"clip-vit-b32-shape", onnxtest.CLIPViTB32})
	}
	for _, c := range configs {
		path := filepath.Join(b.TempDir(), c.name+".onnx")
		if err := onnxtest.ViT(c.cfg).WriteFile(path); err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 1))
		imgs := make([]image.Image, 32)
		for i := range imgs {
			imgs[i] = randomImage(r, 320, 256)
		}
		for _, sizes := range [][]int{{1, 8}, {1, 16}} {
			b.Run(fmt.Sprintf("%s/batch%d", c.name, sizes[1]), func(b *testing.B) {
				t0 := time.Now()
				e, err := Open(path, Options{Config: &Config{Preset: "clip"}, BatchSizes: sizes})
				if err != nil {
					b.Fatal(err)
				}
				// Compile every size before timing.
				if _, err := e.EmbedBatch(context.Background(), imgs[:2*sizes[1]]); err != nil {
					b.Fatal(err)
				}
				b.Logf("open and compile: %.1f s", time.Since(t0).Seconds())
				b.ResetTimer()
				n := 0
				for n < b.N {
					k := min(len(imgs), b.N-n)
					if _, err := e.EmbedBatch(context.Background(), imgs[:k]); err != nil {
						b.Fatal(err)
					}
					n += k
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
