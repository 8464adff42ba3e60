package onnx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"
	"github.com/gomlx/gomlx/core/tensors"

	"palate"
)

// TextEncoder runs an ONNX text encoder (CLIP's text tower, a sentence
// encoder) with its HuggingFace tokenizer.json as a palate.TextEmbedder.
// It is safe for concurrent use.
type TextEncoder struct {
	s         *session
	tok       *hftokenizer.Tokenizer
	tokMu     sync.Mutex // the tokenizer is not documented as safe for concurrent use
	name      string
	version   string
	dim       int
	maxLen    int
	padID     int
	mask      bool // the graph takes an attention mask
	idsType   dtypes.DType
	sizes     []int
	par       int
	pool      string
	normalize bool
	perItem   int // output floats per prompt

	errMu sync.Mutex
	err   error // first failure of EmbedText
}

// OpenText loads the text encoder at path, its config (opts.TextConfig,
// opts.Sidecar or PATH.json; all defaults when there is none) and its
// tokenizer, and compiles it once. Returns ENOTFOUND for a missing model or
// tokenizer file, and EINVALID naming what is wrong for a bad config or
// tokenizer, graph inputs other than token ids and an attention mask, an
// output that is not one vector (or one per token) per prompt, or an
// unsupported operator.
func OpenText(path string, opts Options) (*TextEncoder, error) {
	cfg, err := textConfig(path, opts)
	if err != nil {
		return nil, err
	}
	s, err := openSession(path, opts.Backend, opts.Timeout)
	if err != nil {
		return nil, err
	}
	tpath := cfg.Tokenizer
	if !filepath.IsAbs(tpath) {
		tpath = filepath.Join(filepath.Dir(path), tpath)
	}
	tb, err := os.ReadFile(tpath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, palate.Errorf(palate.ENOTFOUND, "tokenizer %s of onnx model %s does not exist", tpath, path)
	}
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	tok, err := hftokenizer.NewFromContent(nil, tb)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "tokenizer %s: %v", tpath, err)
	}
	e := &TextEncoder{s: s, tok: tok, normalize: cfg.Normalize == nil || *cfg.Normalize, pool: cfg.Pool}
	if e.name = cfg.Name; e.name == "" {
		e.name = defaultName(path)
	}
	if err := checkName(e.name); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s: embedder %v", path, err)
	}
	if e.padID, err = padID(tok, cfg.PadToken); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "tokenizer %s: %v", tpath, err)
	}

	names, _ := s.model.Inputs()
	idsShape, err := s.inputShape(cfg.InputIDs)
	if err != nil {
		return nil, err
	}
	feeds := []string{cfg.InputIDs}
	maskName := cfg.AttentionMask
	if maskName == "" {
		for _, n := range names {
			if n == "attention_mask" {
				maskName = n
			}
		}
	}
	var maskShape shapes.Shape
	if maskName != "" {
		if maskShape, err = s.inputShape(maskName); err != nil {
			return nil, err
		}
		feeds, e.mask = append(feeds, maskName), true
	}
	if len(names) != len(feeds) {
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s has inputs %q; palate feeds only token ids (%q) and an attention mask (%q)", path, names, cfg.InputIDs, maskName)
	}
	for i, sh := range []shapes.Shape{idsShape, maskShape}[:len(feeds)] {
		if sh.Rank() != 2 || (sh.DType != dtypes.Int64 && sh.DType != dtypes.Int32) {
			return nil, palate.Errorf(palate.EINVALID, "onnx model %s: input %q has shape %s; want int64 or int32 [batch, tokens]", path, feeds[i], shapeString(sh))
		}
		if i == 1 && sh.DType != idsShape.DType {
			return nil, palate.Errorf(palate.EINVALID, "onnx model %s: input %q is %s but %q is %s; want one type", path, feeds[1], sh.DType, feeds[0], idsShape.DType)
		}
	}
	e.idsType = idsShape.DType
	switch l := idsShape.Dimensions[1]; {
	case cfg.MaxLength == 0 && l > 0:
		e.maxLen = l
	case cfg.MaxLength == 0:
		e.maxLen = 77
	case l > 0 && l != cfg.MaxLength:
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s: input %q has shape %s but max_length is %d", path, cfg.InputIDs, shapeString(idsShape), cfg.MaxLength)
	default:
		e.maxLen = cfg.MaxLength
	}
	if e.sizes, err = batchSizes(idsShape.Dimensions[0], opts.BatchSizes); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s: %v", path, err)
	}
	if e.par = opts.Parallelism; e.par <= 0 {
		e.par = runtime.GOMAXPROCS(0)
	}
	out, err := s.pickOutput(cfg.Output)
	if err != nil {
		return nil, err
	}
	if err := s.build(feeds, out); err != nil {
		return nil, err
	}
	n := e.sizes[0]
	_, dims, err := s.run(e.tensors(make([][]int, n), n)...)
	if err != nil {
		return nil, err
	}
	if len(dims) == 3 && e.pool == "" {
		e.pool = "eos"
	}
	if e.dim, err = vectorDim(path, out, dims, n, e.pool); err != nil {
		return nil, err
	}
	e.perItem = 1
	for _, d := range dims[1:] {
		e.perItem *= d
	}
	tsum := sha256.Sum256(tb)
	e.version = fmt.Sprintf("onnx sha256:%s tokenizer sha256:%s max_length %d pad %d output %s pool %q normalize %v",
		s.sha[:16], hex.EncodeToString(tsum[:8]), e.maxLen, e.padID, out, e.pool, e.normalize)
	return e, nil
}

func textConfig(path string, opts Options) (TextConfig, error) {
	var cfg TextConfig
	switch {
	case opts.TextConfig != nil:
		cfg = *opts.TextConfig
	default:
		side := opts.Sidecar
		if side == "" {
			side = SidecarPath(path)
		}
		c, err := ReadTextConfig(side)
		switch {
		case palate.ErrorCode(err) == palate.ENOTFOUND && opts.Sidecar == "":
			// no sidecar: every default
		case err != nil:
			return cfg, err
		default:
			cfg = *c
		}
	}
	r, err := cfg.resolve()
	if err != nil {
		return cfg, palate.Errorf(palate.EINVALID, "onnx model %s config: %v", path, err)
	}
	return r, nil
}

// padID is the id of tok (the config's pad token), else of "<|endoftext|>"
// (CLIP pads with it), else 0.
func padID(tok *hftokenizer.Tokenizer, name string) (int, error) {
	if name != "" {
		id, ok := tok.TokenToID(name)
		if !ok {
			return 0, fmt.Errorf("pad_token %q is not in the vocabulary", name)
		}
		return id, nil
	}
	if id, ok := tok.TokenToID("<|endoftext|>"); ok {
		return id, nil
	}
	return 0, nil
}

// Tokenize returns the ids the model is fed for prompt, special tokens
// included, cut to the maximum length (keeping the final special token).
func (e *TextEncoder) Tokenize(prompt string) []int {
	e.tokMu.Lock()
	ids := e.tok.Encode(prompt)
	e.tokMu.Unlock()
	if len(ids) > e.maxLen {
		ids = append(ids[:e.maxLen-1:e.maxLen-1], ids[len(ids)-1])
	}
	return ids
}

// tensors makes the model inputs for the token sequences of one batch of
// size n (sequences past len(seqs) are padding).
func (e *TextEncoder) tensors(seqs [][]int, n int) []*tensors.Tensor {
	ids := make([]int64, n*e.maxLen)
	mask := make([]int64, n*e.maxLen)
	for i := range n {
		row, mrow := ids[i*e.maxLen:(i+1)*e.maxLen], mask[i*e.maxLen:(i+1)*e.maxLen]
		var seq []int
		if i < len(seqs) {
			seq = seqs[i]
		}
		for t := range row {
			if t < len(seq) {
				row[t], mrow[t] = int64(seq[t]), 1
			} else {
				row[t] = int64(e.padID)
			}
		}
	}
	mk := func(v []int64) *tensors.Tensor {
		if e.idsType == dtypes.Int32 {
			v32 := make([]int32, len(v))
			for i, x := range v {
				v32[i] = int32(x)
			}
			return tensors.FromFlatDataAndDimensions(v32, n, e.maxLen)
		}
		return tensors.FromFlatDataAndDimensions(v, n, e.maxLen)
	}
	if e.mask {
		return []*tensors.Tensor{mk(ids), mk(mask)}
	}
	return []*tensors.Tensor{mk(ids)}
}

// Name implements palate.TextEmbedder.
func (e *TextEncoder) Name() string { return e.name }

// Dim implements palate.TextEmbedder.
func (e *TextEncoder) Dim() int { return e.dim }

// Version identifies the model and tokenizer files and the settings.
func (e *TextEncoder) Version() string { return e.version }

// EmbedTexts embeds prompts in batches, Parallelism batches at once; an
// empty prompt gives zeros. Returns ctx's error if ctx is done first.
func (e *TextEncoder) EmbedTexts(ctx context.Context, prompts []string) ([][]float32, error) {
	out := make([][]float32, len(prompts))
	err := runJobs(ctx, len(prompts), e.sizes, e.par, func(start, n, size int) error {
		seqs := make([][]int, n)
		for i := range n {
			seqs[i] = e.Tokenize(prompts[start+i])
		}
		v, _, err := e.s.run(e.tensors(seqs, size)...)
		if err != nil {
			return err
		}
		for i := range n {
			if prompts[start+i] == "" || len(seqs[i]) == 0 {
				// Nothing to read (a prompt the tokenizer makes no token of
				// pools no position): the empty prompt's zeros.
				out[start+i] = make([]float32, e.dim)
				continue
			}
			x := v[i*e.perItem : (i+1)*e.perItem]
			last := len(seqs[i]) - 1
			if e.pool == "mean" {
				last = len(seqs[i])
			}
			vec, err := poolRow(x, e.dim, e.pool, last, e.normalize)
			if err != nil {
				return palate.Errorf(palate.EINVALID, "onnx model %s, prompt %d: %v", e.s.path, start+i, err)
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

// EmbedText implements palate.TextEmbedder, whose method returns no error:
// when the model fails it returns zeros and keeps the first error for Err.
// Use EmbedTexts to see errors at once.
func (e *TextEncoder) EmbedText(prompt string) []float32 {
	v, err := e.EmbedTexts(context.Background(), []string{prompt})
	if err != nil {
		e.errMu.Lock()
		if e.err == nil {
			e.err = err
		}
		e.errMu.Unlock()
		return make([]float32, e.dim)
	}
	return v[0]
}

// Err returns the first error EmbedText met, or nil.
func (e *TextEncoder) Err() error {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	return e.err
}
