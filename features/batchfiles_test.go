package features

import (
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// batcher is Pixels as a BatchEmbedder that records its batch sizes and
// fails any batch holding an image wider than 64 pixels.
type batcher struct {
	*Pixels
	mu    sync.Mutex
	sizes []int
}

func (b *batcher) BatchHint() int { return 4 }

func (b *batcher) EmbedBatch(ctx context.Context, imgs []image.Image) ([][]float32, error) {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(imgs))
	b.mu.Unlock()
	out := make([][]float32, len(imgs))
	for i, img := range imgs {
		if img.Bounds().Dx() > 64 {
			return nil, errors.New("batch failed")
		}
		v, err := b.Embed(ctx, img)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func TestEmbedFilesBatched(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	var paths []string
	for i := range 10 {
		p := filepath.Join(dir, string(rune('a'+i))+".png")
		size := 64
		if i == 9 {
			size = 80 // fails its batch: embedded alone instead
		}
		data := pngBytes(t, randomScene(r).render(size))
		if i == 2 {
			data = []byte("broken")
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	b := &batcher{Pixels: NewPixels()}
	got := make([][]float32, len(paths))
	var bad []int
	err := EmbedFiles(context.Background(), b, paths, 2, DefaultLimits, func(i int, vec []float32, err error) error {
		if err != nil {
			bad = append(bad, i)
			return nil
		}
		got[i] = vec
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bad, []int{2}) {
		t.Fatalf("bad files %v, want [2]", bad)
	}
	// Chunks of 4 paths: 3 good images, 4, then 2 (one too wide).
	if !slices.Equal(b.sizes, []int{3, 4, 2}) {
		t.Errorf("batch sizes %v, want [3 4 2]", b.sizes)
	}
	for i, v := range got {
		if i == 2 {
			continue
		}
		img, _, _ := DecodeFile(paths[i], DefaultLimits)
		if v == nil || dist(v, embed(t, img)) != 0 {
			t.Fatalf("file %d: batched vector differs from Embed", i)
		}
	}
	// fn's error stops the run and is returned.
	stop := errors.New("stop")
	err = EmbedFiles(context.Background(), b, paths, 2, DefaultLimits, func(i int, vec []float32, err error) error {
		if err != nil {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("err %v, want stop", err)
	}
}
