package features

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"sync"
	"sync/atomic"

	"palate"
)

// EmbedFiles decodes and embeds the image files at paths on workers
// goroutines (runtime.NumCPU() when workers <= 0) and calls fn once per path
// with its index and either its vector or the error that file gave (vec is
// nil then; decode errors carry the codes DecodeFile documents). fn is
// called from one goroutine at a time, in no particular order, and may keep
// vec. If fn returns an error, no further calls are made and EmbedFiles
// returns that error; so fn decides whether a bad file stops the batch or is
// skipped. Returns ctx's error if ctx is done first. A BatchEmbedder gets
// its images in batches.
func EmbedFiles(ctx context.Context, e palate.Embedder, paths []string, workers int, lim Limits,
	fn func(i int, vec []float32, err error) error) error {
	if be, ok := e.(BatchEmbedder); ok {
		return embedFilesBatched(ctx, be, paths, workers, lim, fn)
	}
	return run(ctx, len(paths), workers, func(ctx context.Context, i int) ([]float32, error) {
		img, _, err := DecodeFile(paths[i], lim)
		if err != nil {
			return nil, err
		}
		vec, err := e.Embed(ctx, img)
		if err != nil {
			return nil, prefix(paths[i], err)
		}
		return vec, nil
	}, fn)
}

// EmbedAll embeds n images made on demand by img (called concurrently, once
// per index) on workers goroutines (runtime.NumCPU() when workers <= 0) and
// writes image i's vector to dst[i*e.Dim():(i+1)*e.Dim()]. It is how a
// rendered world of millions of images is embedded without holding the
// images: with a *Pixels it allocates nothing per image. Returns the first
// error from img or Embed, EINVALID if dst is shorter than n*e.Dim(), and
// ctx's error if ctx is done first.
func EmbedAll(ctx context.Context, e palate.Embedder, n, workers int, dst []float32,
	img func(i int) (image.Image, error)) error {
	d := e.Dim()
	if len(dst) < n*d {
		return palate.Errorf(palate.EINVALID, "embedding table holds %d floats, need %d×%d", len(dst), n, d)
	}
	into, direct := e.(interface {
		EmbedTo(dst []float32, img image.Image) error
	})
	return run(ctx, n, workers, func(ctx context.Context, i int) ([]float32, error) {
		m, err := img(i)
		if err != nil {
			return nil, err
		}
		row := dst[i*d : (i+1)*d : (i+1)*d]
		if direct {
			return nil, into.EmbedTo(row, m)
		}
		vec, err := e.Embed(ctx, m)
		if err != nil {
			return nil, err
		}
		if len(vec) != d {
			return nil, palate.Errorf(palate.EINTERNAL, "embedder %s returned %d floats, want %d", e.Name(), len(vec), d)
		}
		copy(row, vec)
		return nil, nil
	}, func(i int, _ []float32, err error) error {
		if err != nil {
			return prefix(fmt.Sprintf("image %d", i), err)
		}
		return nil
	})
}

// run calls work for indices 0..n-1 on workers goroutines and hands each
// result to fn under a lock, stopping at fn's first error.
func run(ctx context.Context, n, workers int,
	work func(ctx context.Context, i int) ([]float32, error),
	fn func(i int, vec []float32, err error) error) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = max(1, min(workers, n))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				vec, err := work(ctx, i)
				mu.Lock()
				if firstErr == nil && ctx.Err() == nil {
					if ferr := fn(i, vec, err); ferr != nil {
						firstErr = ferr
						cancel()
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return context.Cause(ctx)
}

// BatchEmbedder is an Embedder that embeds many images in one call much
// faster than one at a time, as a neural network does (package onnx).
// EmbedFiles hands it batches of about BatchHint images.
type BatchEmbedder interface {
	palate.Embedder
	EmbedBatch(ctx context.Context, imgs []image.Image) ([][]float32, error)
	BatchHint() int
}

// embedFilesBatched is EmbedFiles for a BatchEmbedder: files are decoded
// on workers goroutines a chunk ahead of the chunk being embedded. When a
// batch fails, its images are embedded one by one so that fn learns which
// file failed.
func embedFilesBatched(ctx context.Context, e BatchEmbedder, paths []string, workers int, lim Limits,
	fn func(i int, vec []float32, err error) error) error {
	size := max(1, e.BatchHint())
	type chunk struct {
		idx  []int
		imgs []image.Image
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, 1)
	var mu sync.Mutex // fn is called from one goroutine at a time
	call := func(i int, v []float32, err error) error {
		mu.Lock()
		defer mu.Unlock()
		return fn(i, v, err)
	}
	go func() {
		defer close(chunks)
		for start := 0; start < len(paths); start += size {
			end := min(start+size, len(paths))
			imgs := make([]image.Image, end-start)
			err := run(ctx, end-start, workers, func(ctx context.Context, k int) ([]float32, error) {
				img, _, err := DecodeFile(paths[start+k], lim)
				imgs[k] = img
				return nil, err
			}, func(k int, _ []float32, err error) error {
				if err != nil {
					return call(start+k, nil, err)
				}
				return nil
			})
			c := chunk{err: err}
			for k, img := range imgs {
				if img != nil {
					c.idx, c.imgs = append(c.idx, start+k), append(c.imgs, img)
				}
			}
			select {
			case chunks <- c:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	err := func() error {
		for c := range chunks {
			if c.err != nil {
				return c.err
			}
			vecs, err := e.EmbedBatch(ctx, c.imgs)
			for k, i := range c.idx {
				var v []float32
				var verr error
				if err == nil {
					v = vecs[k]
				} else if v, verr = e.Embed(ctx, c.imgs[k]); verr != nil {
					verr = prefix(paths[i], verr)
				}
				if ferr := call(i, v, verr); ferr != nil {
					return ferr
				}
			}
		}
		return context.Cause(ctx)
	}()
	cancel()
	for range chunks { // wait for the decoder: fn is never called after return
	}
	return err
}
