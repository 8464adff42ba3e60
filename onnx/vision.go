package onnx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"palate"
)

// DefaultBatchSizes are the batch sizes a model with a dynamic batch axis is
// run at: a call is cut into batches of these sizes (the last one padded),
// so each size compiles once, on first use.
var DefaultBatchSizes = []int{1, 4, 16}

// Options configures Open and OpenText. Zero values mean defaults.
type Options struct {
	// Sidecar is the config file (PATH.json when empty). Config or
	// TextConfig, when set, is used instead of any file.
	Sidecar    string
	Config     *Config
	TextConfig *TextConfig
	// Backend is the GoMLX backend configuration (train.DefaultBackend).
	Backend string
	// BatchSizes are the sizes batches are padded to (DefaultBatchSizes);
	// a model whose graph fixes the batch size runs at that size only.
	BatchSizes []int
	// Parallelism is how many batches run at once (runtime.GOMAXPROCS).
	Parallelism int
	// Timeout is the watchdog's limit on one batch
	// (train.DefaultStepTimeout); negative disables it.
	Timeout time.Duration

	noRewrite bool // tests: run patch Convs as Convs
}

// Embedder runs an ONNX image encoder (CLIP's or SigLIP's vision tower, a
// ResNet, ...) as a palate.Embedder. It is safe for concurrent use: calls
// share one compiled graph per batch size and no mutable state.
type Embedder struct {
	s         *session
	cfg       Config
	prep      *prep
	name      string
	version   string
	dim       int
	sizes     []int
	par       int
	normalize bool
	pool      string // "", "first", "mean"
	outDims   []int  // output shape without the batch axis
	patches   int    // patch Convs rewritten as matrix products
}

// Open loads the image encoder at path with its preprocessing from
// opts.Config, opts.Sidecar or PATH.json, checks that the graph takes
// images of that size and compiles it once (batch size 1) to learn its
// output dimension. Returns ENOTFOUND for a missing model file, EINVALID
// naming what is wrong for a missing or bad config, a graph input that is
// not [batch, 3, H, W] (or NHWC), an output that is not one vector per
// image, or an operator the runtime does not support (named).
func Open(path string, opts Options) (*Embedder, error) {
	cfg, err := visionConfig(path, opts)
	if err != nil {
		return nil, err
	}
	s, err := openSession(path, opts.Backend, opts.Timeout)
	if err != nil {
		return nil, err
	}
	e := &Embedder{s: s, normalize: cfg.Normalize == nil || *cfg.Normalize, pool: cfg.Pool}
	e.name = cfg.Name
	if e.name == "" {
		e.name = defaultName(path)
	}
	if err := checkName(e.name); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s: embedder %v", path, err)
	}
	input := cfg.Input
	if input == "" {
		names, _ := s.model.Inputs()
		if len(names) != 1 {
			return nil, palate.Errorf(palate.EINVALID, "onnx model %s has %d inputs %q; name the image input with \"input\" in the config", path, len(names), names)
		}
		input = names[0]
	}
	sh, err := s.inputShape(input)
	if err != nil {
		return nil, err
	}
	if cfg, err = fitInput(path, input, sh, cfg); err != nil {
		return nil, err
	}
	e.cfg, e.prep = cfg, newPrep(cfg)
	if cfg.Layout == "nchw" && !opts.noRewrite {
		if e.patches, err = s.rewrite(func(b []byte) ([]byte, int, error) {
			return patchify(b, input, cfg.Size[0], cfg.Size[1])
		}); err != nil {
			return nil, err
		}
	}
	if e.sizes, err = batchSizes(sh.Dimensions[0], opts.BatchSizes); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s: %v", path, err)
	}
	e.par = opts.Parallelism
	if e.par <= 0 {
		e.par = runtime.GOMAXPROCS(0)
	}
	out, err := s.pickOutput(cfg.Output)
	if err != nil {
		return nil, err
	}
	if err := s.build([]string{input}, out); err != nil {
		return nil, err
	}
	n := e.sizes[0]
	_, dims, err := s.run(tensors.FromFlatDataAndDimensions(make([]float32, n*e.prep.size()), e.inputDims(n)...))
	if err != nil {
		return nil, err
	}
	if e.dim, err = vectorDim(path, out, dims, n, e.pool); err != nil {
		return nil, err
	}
	e.outDims = dims[1:]
	cj, _ := json.Marshal(struct {
		Mean, Std [3]float32
		Pool      string
		Norm      bool
	}{*cfg.Mean, *cfg.Std, e.pool, e.normalize})
	e.version = fmt.Sprintf("onnx sha256:%s %s %s output %s %s", s.sha[:16], input, e.prep, out, cj)
	return e, nil
}

// visionConfig returns the config Open uses, resolved.
func visionConfig(path string, opts Options) (Config, error) {
	var cfg Config
	switch {
	case opts.Config != nil:
		cfg = *opts.Config
	default:
		side := opts.Sidecar
		if side == "" {
			side = SidecarPath(path)
		}
		c, err := ReadConfig(side)
		if palate.ErrorCode(err) == palate.ENOTFOUND {
			if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
				return cfg, palate.Errorf(palate.ENOTFOUND, "onnx model %s does not exist", path)
			}
			return cfg, palate.Errorf(palate.EINVALID,
				"onnx model %s has no preprocessing config: write %s, for a CLIP export {\"preset\": \"clip\"} (see package onnx)", path, side)
		}
		if err != nil {
			return cfg, err
		}
		cfg = *c
	}
	r, err := cfg.resolve()
	if err != nil {
		return cfg, palate.Errorf(palate.EINVALID, "onnx model %s config: %v", path, err)
	}
	return r, nil
}

// fitInput checks the graph input against the config and fills a size the
// config left open from the graph.
func fitInput(path, input string, sh shapes.Shape, cfg Config) (Config, error) {
	bad := func(why string) error {
		return palate.Errorf(palate.EINVALID, "onnx model %s: input %q has shape %s; %s", path, input, shapeString(sh), why)
	}
	if sh.DType != dtypes.Float32 {
		return cfg, bad("palate feeds float32 images")
	}
	if sh.Rank() != 4 {
		return cfg, bad("want an image batch [batch, 3, height, width] (or [batch, height, width, 3] with \"layout\": \"nhwc\")")
	}
	d := sh.Dimensions
	ch, hAx, wAx := 1, 2, 3
	if cfg.Layout == "nhwc" {
		ch, hAx, wAx = 3, 1, 2
	}
	if d[ch] != 3 && d[ch] >= 0 {
		return cfg, bad(fmt.Sprintf("axis %d has %d channels; want 3 (%s layout)", ch, d[ch], cfg.Layout))
	}
	for i, ax := range []int{hAx, wAx} {
		switch {
		case cfg.Size[i] == 0 && d[ax] < 0:
			return cfg, bad("the graph leaves the image size open; give \"size\" in the config")
		case cfg.Size[i] == 0:
			cfg.Size[i] = d[ax]
		case d[ax] >= 0 && d[ax] != cfg.Size[i]:
			return cfg, bad(fmt.Sprintf("the config's size is %dx%d", cfg.Size[0], cfg.Size[1]))
		}
	}
	return cfg, nil
}

// batchSizes returns the sizes to run at: the graph's own when it fixes
// the batch axis, else want (DefaultBatchSizes), sorted.
func batchSizes(graphBatch int, want []int) ([]int, error) {
	if graphBatch > 0 {
		return []int{graphBatch}, nil
	}
	sizes := slices.Clone(want)
	if len(sizes) == 0 {
		sizes = slices.Clone(DefaultBatchSizes)
	}
	sort.Ints(sizes)
	if sizes[0] <= 0 {
		return nil, fmt.Errorf("batch sizes must be positive, got %v", sizes)
	}
	return slices.Compact(sizes), nil
}

// vectorDim checks that an output of shape dims (for a batch of n) gives
// one vector per item and returns its length.
func vectorDim(path, out string, dims []int, n int, pool string) (int, error) {
	bad := func(why string) error {
		return palate.Errorf(palate.EINVALID, "onnx model %s: output %q has shape %v for a batch of %d; %s", path, out, dims, n, why)
	}
	if len(dims) == 0 || dims[0] != n {
		return 0, bad("want the batch first")
	}
	switch {
	case len(dims) == 2 && pool == "":
		return dims[1], nil
	case len(dims) == 4 && dims[2] == 1 && dims[3] == 1 && pool == "":
		return dims[1], nil
	case len(dims) == 3 && pool != "":
		return dims[2], nil
	case len(dims) == 3:
		return 0, bad("set \"pool\" (\"first\" or \"mean\") in the config to make one vector per image, or pick another \"output\"")
	case pool != "":
		return 0, bad(fmt.Sprintf("\"pool\": %q needs [batch, tokens, dim]", pool))
	}
	return 0, bad("want [batch, dim]")
}

func (e *Embedder) inputDims(n int) []int {
	if e.cfg.Layout == "nhwc" {
		return []int{n, e.prep.h, e.prep.w, 3}
	}
	return []int{n, 3, e.prep.h, e.prep.w}
}

// Name implements palate.Embedder: the config's name, else "onnx-" and
// the model file's base name.
func (e *Embedder) Name() string { return e.name }

// Dim implements palate.Embedder: the length of the graph's output vector.
func (e *Embedder) Dim() int { return e.dim }

// Version identifies the model file (a prefix of its SHA-256) and the
// preprocessing; it is stored in embeddings headers so that vectors from
// another model under the same name are caught (see Check).
func (e *Embedder) Version() string { return e.version }

// BatchHint is how many images one EmbedBatch call should carry to keep
// every core busy.
func (e *Embedder) BatchHint() int { return e.sizes[len(e.sizes)-1] * e.par }

// Check returns an EINVALID error naming both sides when the table was not
// made by this embedder: another name, dimension or model file.
func (e *Embedder) Check(t *palate.Embeddings) error {
	if t.Embedder != e.name || t.Dim != e.dim || t.Version != e.version {
		return palate.Errorf(palate.EINVALID,
			"embeddings %q (dimension %d, version %q) were not made by onnx model %s (embedder %q, dimension %d, version %q); re-embed the dataset",
			t.Embedder, t.Dim, t.Version, e.s.path, e.name, e.dim, e.version)
	}
	return nil
}

// Embed implements palate.Embedder. Many goroutines may call it at once;
// EmbedBatch is faster for many images.
func (e *Embedder) Embed(ctx context.Context, img image.Image) ([]float32, error) {
	v, err := e.EmbedBatch(ctx, []image.Image{img})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// EmbedBatch embeds imgs in batches of the configured sizes, Parallelism
// batches at once. Returns EINVALID naming the index of a picture that
// cannot be read or gives a non-finite vector, and ctx's error if ctx is
// done first.
func (e *Embedder) EmbedBatch(ctx context.Context, imgs []image.Image) ([][]float32, error) {
	out := make([][]float32, len(imgs))
	err := runJobs(ctx, len(imgs), e.sizes, e.par, func(start, n, size int) error {
		per := e.prep.size()
		buf := make([]float32, size*per)
		for i := range n {
			if err := e.prep.fill(buf[i*per:(i+1)*per], imgs[start+i]); err != nil {
				return palate.Errorf(palate.ErrorCode(err), "image %d: %v", start+i, err)
			}
		}
		v, _, err := e.s.run(tensors.FromFlatDataAndDimensions(buf, e.inputDims(size)...))
		if err != nil {
			return err
		}
		for i := range n {
			vec, err := e.row(v, i)
			if err != nil {
				return palate.Errorf(palate.EINVALID, "onnx model %s, image %d: %v", e.s.path, start+i, err)
			}
			out[start+i] = vec
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// row extracts, pools and normalises item i's vector from a batch output.
func (e *Embedder) row(v []float32, i int) ([]float32, error) {
	per := 1
	for _, d := range e.outDims {
		per *= d
	}
	return poolRow(v[i*per:(i+1)*per], e.dim, e.pool, 0, e.normalize)
}

// poolRow reduces one item's output x (tokens×dim, or dim) to a vector:
// "first" takes token 0, "eos" token last, "mean" the mean of the first
// n tokens (all when n is 0); then it checks the values are finite and
// normalises to unit length when norm is set.
func poolRow(x []float32, dim int, pool string, last int, norm bool) ([]float32, error) {
	vec := make([]float32, dim)
	switch pool {
	case "", "first":
		copy(vec, x[:dim])
	case "eos":
		copy(vec, x[last*dim:(last+1)*dim])
	case "mean":
		n := len(x) / dim
		if last > 0 {
			n = last
		}
		for t := range n {
			for j, xv := range x[t*dim : (t+1)*dim] {
				vec[j] += xv
			}
		}
		for j := range vec {
			vec[j] /= float32(n)
		}
	}
	var ss float64
	for j, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("output value %d is %v", j, x)
		}
		ss += float64(x) * float64(x)
	}
	if norm && ss > 0 {
		inv := float32(1 / math.Sqrt(ss))
		for j := range vec {
			vec[j] *= inv
		}
	}
	return vec, nil
}

// runJobs cuts n items into batches of the given sizes (split first into
// par equal parts, so every core gets work) and runs do on each, par at a
// time; do gets the first item, the item count and the padded size.
func runJobs(ctx context.Context, n int, sizes []int, par int, do func(start, n, size int) error) error {
	type job struct{ start, n, size int }
	var jobs []job
	if n == 0 {
		return nil
	}
	per := (n + par - 1) / par
	for part := 0; part < n; part += per {
		end := min(part+per, n)
		for start := part; start < end; {
			k, size := chunk(end-start, sizes)
			jobs = append(jobs, job{start, k, size})
			start += k
		}
	}
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, j := range jobs {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = do(j.start, j.n, j.size)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// chunk picks how many of the remaining r items the next batch takes and
// its padded size: the smallest size that holds them all when that wastes
// at most a quarter, else the largest size they fill.
func chunk(r int, sizes []int) (n, size int) {
	for _, s := range sizes {
		if s >= r && (s-r)*4 <= r {
			return r, s
		}
	}
	for i := len(sizes) - 1; i >= 0; i-- {
		if sizes[i] <= r {
			return sizes[i], sizes[i]
		}
	}
	return r, sizes[0] // r < smallest size: pad
}
