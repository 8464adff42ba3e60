package scorer

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"

	"palate"
	"palate/model"
	"palate/onnx"
	"palate/train"
)

// DefaultSizes are the candidate batch sizes: a call with n candidates runs
// as a few batches of these sizes, padded, so each size compiles once (on
// first use). A call is first split into Options.Parallelism equal parts
// that run at once, so 1,024 candidates make two batches of 512 and 64 make
// two of 32, one per core.
var DefaultSizes = []int{1, 16, 32, 64, 128, 256, 512}

// Options configures a Scorer. Zero values mean defaults.
type Options struct {
	// Backend is the GoMLX backend configuration (train.DefaultBackend).
	Backend string
	// Sizes are the candidate batch sizes (DefaultSizes).
	Sizes []int
	// Timeout is the watchdog's limit on one computation
	// (train.DefaultStepTimeout); negative disables it.
	Timeout time.Duration
	// Parallelism is how many candidate batches of one Score call run at
	// once (runtime.GOMAXPROCS). The backend runs each computation's
	// element-wise ops on one core (ops_sequential, see package train), so
	// concurrent batches are what use the other cores.
	Parallelism int
	// TextEmbedder embeds prompts for EmbedPrompt. Nil means the
	// checkpoint's: hashbow-v1 is built in, and an ONNX text encoder is
	// reopened from the path the checkpoint records. One whose name,
	// dimension or version differs from the checkpoint's is refused.
	TextEmbedder palate.TextEmbedder
}

// HistoryItem is one thing a person did, as raw vectors: the image's
// embedding, the embedding of its prompt (from the checkpoint's text
// embedder, see Scorer.EmbedPrompt; nil means no prompt), what they did
// (model.LabelLiked / LabelDisliked for the two images of a comparison,
// LabelSingleLike / LabelSingleDislike for votes) and how long before the
// scoring time it happened. A comparison's two items must be adjacent, liked
// then disliked, with the same age: the model reads which image beat which
// from that (model.Config.PairDiff, TasteHead); otherwise order is free.
type HistoryItem struct {
	Image []float32
	Text  []float32
	Label model.Label
	Age   time.Duration
}

// Candidate is an image to score: its embedding and its prompt's embedding
// (nil means no prompt).
type Candidate struct {
	Image []float32
	Text  []float32
}

// Scorer is a trained model ready to serve: it encodes a person's history
// once (Context) and scores any number of candidates against it (Score). Its
// compiled graphs are built once per shape and reused; the weights are
// compiled in as constants, so calls share no mutable state. It is safe for
// concurrent use.
type Scorer struct {
	ck      *train.Checkpoint
	cfg     model.Config
	backend compute.Backend
	sizes   []int
	par     int
	timeout time.Duration
	text    palate.TextEmbedder
	enc     *mlm.Exec
	score   *mlm.Exec
}

// Load reads a checkpoint directory and prepares a scorer. Errors are those
// of train.Load (ENOTFOUND, EINVALID) and EINVALID for bad options.
func Load(dir string, opts Options) (*Scorer, error) {
	ck, err := train.Load(dir)
	if err != nil {
		return nil, err
	}
	return New(ck, opts)
}

// New prepares a scorer for a checkpoint already in memory.
func New(ck *train.Checkpoint, opts Options) (*Scorer, error) {
	if err := ck.Validate(); err != nil {
		return nil, err
	}
	sizes := slices.Clone(opts.Sizes)
	if len(sizes) == 0 {
		sizes = slices.Clone(DefaultSizes)
	}
	sort.Ints(sizes)
	if sizes[0] <= 0 {
		return nil, palate.Errorf(palate.EINVALID, "scorer: candidate batch sizes must be > 0, got %v", sizes)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = train.DefaultStepTimeout
	}
	backend, err := train.NewBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	cfg := ck.Config
	store := mlm.NewStore().WithVariableAsConst(true)
	for _, p := range model.Params(cfg) {
		if _, err := store.CreateVariable(p.Path, tensors.FromFlatDataAndDimensions(ck.Weights[p.Path], p.Dims...)); err != nil {
			return nil, palate.Errorf(palate.EINTERNAL, "scorer: %w", err)
		}
	}
	par := opts.Parallelism
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	s := &Scorer{ck: ck, cfg: cfg, backend: backend, sizes: sizes, par: par, timeout: timeout}
	if s.text, err = textEmbedder(ck, opts); err != nil {
		return nil, err
	}
	s.enc, err = mlm.NewExec(backend, store, func(scope *mlm.Scope, in []*Node) []*Node {
		e := model.EncodeContext(scope, cfg, in[0], in[1], in[2], in[3], false)
		// Every encoder output is returned, so the graph uses every
		// variable it reads (see the package doc on dead parameters).
		out := append(e.ContextNodes(), e.HistoryMean)
		if e.PrefAttention != nil {
			out = append(out, e.PrefAttention, e.PrefStates)
		}
		if e.GroupPosterior != nil {
			out = append(out, e.GroupPosterior)
		}
		return out
	})
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "scorer: %w", err)
	}
	s.enc.WithName("palate_encode")
	nc := model.NumContextNodes(cfg)
	s.score, err = mlm.NewExec(backend, store, func(scope *mlm.Scope, in []*Node) *Node {
		return model.Score(model.ScoreTargets(scope, cfg, model.ContextFromNodes(cfg, in[:nc]), in[nc], in[nc+1], false))
	})
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "scorer: %w", err)
	}
	s.score.WithName("palate_score").SetMaxCache(2 * len(sizes))
	return s, nil
}

// Config returns the model's hyperparameters.
func (s *Scorer) Config() model.Config { return s.cfg }

// Checkpoint returns the loaded checkpoint (shared: do not modify).
func (s *Scorer) Checkpoint() *train.Checkpoint { return s.ck }

// CheckEmbedder refuses data made by another embedder than the model's, with
// an EINVALID error naming both.
func (s *Scorer) CheckEmbedder(name string, dim int) error { return s.ck.CheckEmbedder(name, dim) }

// textEmbedder returns opts.TextEmbedder, else the checkpoint's text
// embedder (nil when it is neither built in nor reopenable), refusing one
// that does not match the checkpoint.
func textEmbedder(ck *train.Checkpoint, opts Options) (palate.TextEmbedder, error) {
	info, te := ck.TextEmbedder, opts.TextEmbedder
	if te == nil {
		switch {
		case info.Name == model.HashBOWName:
			te = model.NewHashBOW(info.Dim)
		case info.Path != "":
			e, err := onnx.OpenText(info.Path, onnx.Options{Backend: opts.Backend})
			if err != nil {
				return nil, palate.Errorf(palate.ErrorCode(err),
					"scorer: cannot reopen the model's text embedder %q from %s (%v): give the same text encoder (palate: --text-embedder onnx:MODEL.onnx)",
					info.Name, info.Path, err)
			}
			te = e
		default:
			return nil, nil
		}
	}
	version := ""
	if v, ok := te.(interface{ Version() string }); ok {
		version = v.Version()
	}
	if err := ck.CheckTextEmbedder(te.Name(), te.Dim(), version); err != nil {
		return nil, err
	}
	return te, nil
}

// TextEmbedder returns the text embedder of EmbedPrompt: the model's, or
// nil when it is neither built in nor given nor reopenable.
func (s *Scorer) TextEmbedder() palate.TextEmbedder { return s.text }

// EmbedPrompt embeds a prompt with the text embedder the model was trained
// with. It returns ENOTIMPLEMENTED when there is none (see
// Options.TextEmbedder), and the embedder's error when it fails.
func (s *Scorer) EmbedPrompt(prompt string) ([]float32, error) {
	if s.text == nil {
		return nil, palate.Errorf(palate.ENOTIMPLEMENTED, "scorer: text embedder %q is not built in and was not given (Options.TextEmbedder)", s.ck.TextEmbedder.Name)
	}
	if b, ok := s.text.(interface {
		EmbedTexts(context.Context, []string) ([][]float32, error)
	}); ok {
		v, err := b.EmbedTexts(context.Background(), []string{prompt})
		if err != nil {
			return nil, err
		}
		return v[0], nil
	}
	return s.text.EmbedText(prompt), nil
}

// Context is one person's history, encoded once: score any number of
// candidates against it. It is immutable and safe to share.
type Context struct {
	// ColdStart is true when the history was empty: scores are then the
	// model's population-wide (non-personal) preference.
	ColdStart bool
	// Items is the number of history items encoded (at most MaxHistory:
	// older items beyond it are dropped).
	Items int

	tensors  []*tensors.Tensor // model.ContextNodes: bias, K0, V0, ...
	attn     []float32         // [H, DescriptorTokens]
	states   []float32         // [DescriptorTokens, DModel]
	histMean []float32         // [DModel]
	groups   []float32         // [DescriptorTokens], group head's posterior
	labels   []int32           // [H]
}

// Context encodes a person's history. Items beyond Config.MaxHistory keep
// the most recent ones. An empty history is a cold start. Vectors of the
// wrong length are EINVALID.
func (s *Scorer) Context(ctx context.Context, history []HistoryItem) (*Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := s.cfg
	items := history
	if len(items) > cfg.MaxHistory {
		items = slices.Clone(history)
		sort.SliceStable(items, func(i, j int) bool { return items[i].Age < items[j].Age })
		items = items[:cfg.MaxHistory]
	}
	bt := model.NewBatch(1, cfg.MaxHistory, 1, cfg.ImageDim, cfg.TextDim)
	for h, it := range items {
		if len(it.Image) != cfg.ImageDim {
			return nil, palate.Errorf(palate.EINVALID, "history item %d: image vector has %d values, model wants %d", h, len(it.Image), cfg.ImageDim)
		}
		if it.Text != nil && len(it.Text) != cfg.TextDim {
			return nil, palate.Errorf(palate.EINVALID, "history item %d: prompt vector has %d values, model wants %d", h, len(it.Text), cfg.TextDim)
		}
		if it.Label <= model.LabelPad || it.Label >= model.LabelQuery {
			return nil, palate.Errorf(palate.EINVALID, "history item %d: label %v is not a history label", h, it.Label)
		}
		bt.SetHistory(0, h, it.Image, it.Text, it.Label, model.AgeBucket(it.Age, cfg.RecencyBuckets))
	}
	args := make([]any, 0, 4)
	for _, t := range bt.HistoryTensors() {
		args = append(args, t)
	}
	out, err := train.Guard(s.timeout, "scorer: encode history", func() ([]*tensors.Tensor, error) {
		return s.enc.Call(args...)
	})
	if err != nil {
		return nil, err
	}
	nc := model.NumContextNodes(cfg)
	c := &Context{ColdStart: len(items) == 0, Items: len(items), tensors: out[:nc], labels: bt.HistLabel}
	c.histMean = tensors.MustCopyFlatData[float32](out[nc])
	if len(out) > nc+1 {
		c.attn = tensors.MustCopyFlatData[float32](out[nc+1])
		c.states = tensors.MustCopyFlatData[float32](out[nc+2])
	}
	if len(out) > nc+3 {
		c.groups = tensors.MustCopyFlatData[float32](out[nc+3])
	}
	for _, t := range out[nc:] {
		t.FinalizeAll()
	}
	return c, nil
}

// Result holds the scores of one Score call, in candidate order.
type Result struct {
	// Scores are s+ - s-: higher means more likely liked. The model's
	// probability of a like is σ(score) (see Prob).
	Scores []float32
	// ColdStart repeats Context.ColdStart: true means the scores are not
	// personal.
	ColdStart bool
}

// Prob returns the model's probability that candidate i is liked.
func (r Result) Prob(i int) float64 { return 1 / (1 + math.Exp(-float64(r.Scores[i]))) }

// Score scores candidates against an encoded history. Candidates are sent
// in batches of the configured sizes (padded), so scoring never compiles a
// new graph after the first call of each size; a candidate's score does not
// depend on the others in the call.
func (s *Scorer) Score(ctx context.Context, c *Context, cands []Candidate) (Result, error) {
	res := Result{Scores: make([]float32, 0, len(cands)), ColdStart: c.ColdStart}
	cfg := s.cfg
	for i, cd := range cands {
		if len(cd.Image) != cfg.ImageDim {
			return Result{}, palate.Errorf(palate.EINVALID, "candidate %d: image vector has %d values, model wants %d", i, len(cd.Image), cfg.ImageDim)
		}
		if cd.Text != nil && len(cd.Text) != cfg.TextDim {
			return Result{}, palate.Errorf(palate.EINVALID, "candidate %d: prompt vector has %d values, model wants %d", i, len(cd.Text), cfg.TextDim)
		}
	}
	type job struct{ start, n, size int }
	var jobs []job
	per := (len(cands) + s.par - 1) / s.par
	for part := 0; part < len(cands); part += per {
		end := min(part+per, len(cands))
		for start := part; start < end; {
			n, size := chunk(end-start, s.sizes)
			jobs = append(jobs, job{start, n, size})
			start += n
		}
	}
	res.Scores = res.Scores[:len(cands)]
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, s.par)
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
			scores, err := s.scoreChunk(c, cands[j.start:j.start+j.n], j.size)
			if err != nil {
				errs[i] = err
				return
			}
			copy(res.Scores[j.start:], scores)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// chunk picks how many of the remaining r candidates the next call takes and
// its padded size: the smallest size that holds them all when that wastes at
// most a quarter, else the largest size that they fill.
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
	return r, sizes[0] // r < smallest size
}

func (s *Scorer) scoreChunk(c *Context, cands []Candidate, size int) ([]float32, error) {
	cfg := s.cfg
	img := make([]float32, size*cfg.ImageDim)
	txt := make([]float32, size*cfg.TextDim)
	for i, cd := range cands {
		copy(img[i*cfg.ImageDim:], cd.Image)
		copy(txt[i*cfg.TextDim:], cd.Text)
	}
	args := make([]any, 0, len(c.tensors)+2)
	for _, t := range c.tensors {
		args = append(args, t)
	}
	args = append(args,
		tensors.FromFlatDataAndDimensions(img, 1, size, cfg.ImageDim),
		tensors.FromFlatDataAndDimensions(txt, 1, size, cfg.TextDim))
	out, err := train.Guard(s.timeout, fmt.Sprintf("scorer: score %d candidates", size), func() ([]*tensors.Tensor, error) {
		return s.score.Call(args...)
	})
	if err != nil {
		return nil, err
	}
	defer out[0].FinalizeAll()
	return tensors.MustCopyFlatData[float32](out[0])[:len(cands)], nil
}

// FLOPsPerCandidate is the floating-point work of scoring one candidate with
// model cfg (a multiply-add counts 2), from the matrix products: the input
// projections, then per layer the q/k/v and output projections (8·d²), the
// feed-forward block (4·d·FFMult·d) and attention over the K+H context
// tokens and itself (4·d·(K+H+1)), the readout, and the base head over the
// image and prompt (2·Hb·(ImageDim+TextDim) + 2·Hb, plus 2·TasteDim for the
// personal heads' dot product). Element-wise work (layer norms, softmax,
// activations) is left out; it is a few percent.
func FLOPsPerCandidate(cfg model.Config) int64 {
	d := int64(cfg.DModel)
	lc := int64(cfg.ContextLen()) + 1
	perLayer := 8*d*d + 4*d*int64(cfg.FFMult)*d + 4*d*lc
	flops := 2*d*int64(cfg.ImageDim+cfg.TextDim) + int64(cfg.Layers)*perLayer + 2*d*2
	if hb := int64(cfg.BaseHidden); hb > 0 {
		flops += 2*hb*int64(cfg.ImageDim+cfg.TextDim) + 2*hb
		if cfg.Personal() {
			flops += 2 * int64(cfg.TasteDim())
		}
	}
	return flops
}
