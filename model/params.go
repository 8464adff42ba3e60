package model

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"

	"palate"
)

// Root is the store scope under which every model variable lives.
const Root = "/palate"

// prefScope holds the preference tokens (and, in pool mode, their keys): the
// only variables that stage 2 of two-stage training updates.
const prefScope = Root + "/pref"

// ParamSpec describes one model variable: where it lives, its shape and how
// it starts. The list from Params is the single source of truth for which
// variables exist, so every graph function and the trainer agree on them.
type ParamSpec struct {
	// Path is the variable's absolute path in the store, under Root.
	Path string
	// Dims is the variable's shape (float32).
	Dims []int
	// Std is the standard deviation of its normal initialisation; 0 means
	// constant Const.
	Std float64
	// Const is the initial value when Std is 0 (0 for biases, 1 for gains).
	Const float32
	// Decay says whether AdamW weight decay applies: only weight matrices,
	// never biases, layer-norm parameters, embeddings or tokens.
	Decay bool
	// Pref marks preference-token variables (the tokens, and the pool's
	// keys): stage 2 of two-stage training updates only these.
	Pref bool
	// Base marks what the base stage of training (BaseLosses) updates: the
	// base head's variables, and under Config.BasePersonal the taste head's,
	// the group head's and the tokens it reads.
	Base bool
	// Frozen marks statistics that training sets once and never updates
	// (the image standardisation of Config.ImageStandardize).
	Frozen bool
}

// Params lists every variable of a model with config cfg, in a fixed order.
//
// The dense layers have no biases (as in PaLM or LLaMA): the layer norms'
// offsets and the label embedding play that part, and the Go backend adds a
// bias with an integer modulo per element, which cost 11% of scoring time.
func Params(cfg Config) []ParamSpec {
	d, ff, L := cfg.DModel, cfg.DModel*cfg.FFMult, cfg.Layers
	resid := 1 / math.Sqrt(2*float64(L)) // GPT-2 style scaling of residual outputs
	var ps []ParamSpec
	add := func(path string, std float64, c float32, decay bool, dims ...int) {
		ps = append(ps, ParamSpec{Path: Root + "/" + path, Dims: dims, Std: std, Const: c, Decay: decay,
			Pref:   strings.HasPrefix(Root+"/"+path, prefScope+"/"),
			Base:   strings.HasPrefix(path, "base/") || cfg.BasePersonal && baseStagePersonal(cfg, path),
			Frozen: path == "in/img_mean" || path == "in/img_istd"})
	}
	if cfg.ImageStandardize {
		add("in/img_mean", 0, 0, false, cfg.ImageDim)
		add("in/img_istd", 0, 1, false, cfg.ImageDim)
	}
	add("in/img_norm_gain", 0, 1, false, cfg.ImageDim)
	add("in/img_norm_bias", 0, 0, false, cfg.ImageDim)
	add("in/img_w", 1/math.Sqrt(float64(cfg.ImageDim)), 0, true, cfg.ImageDim, d)
	add("in/txt_w", 1/math.Sqrt(float64(cfg.TextDim)), 0, true, cfg.TextDim, d)
	add("in/label_emb", 0.5, 0, false, NumLabels, d)
	add("in/recency_emb", 0.1, 0, false, cfg.RecencyBuckets, d)
	if cfg.PairDiff {
		add("in/pair_w", 1/math.Sqrt(float64(cfg.ImageDim)), 0, true, cfg.ImageDim, d)
	}
	switch {
	case cfg.PrefTokens > 0 && cfg.TokenMode == TokenModePool:
		add("pref/pool", 0.5, 0, false, cfg.PoolSize, d)
		add("pref/keys", 1, 0, false, cfg.PoolSize, d)
	case cfg.PrefTokens > 0:
		add("pref/tokens", 0.5, 0, false, cfg.PrefTokens, d)
	}
	for l := range L {
		p := layerName(l)
		add(p+"ln1_gain", 0, 1, false, d)
		add(p+"ln1_bias", 0, 0, false, d)
		add(p+"qkv_w", 1/math.Sqrt(float64(d)), 0, true, d, 3*d)
		add(p+"out_w", resid/math.Sqrt(float64(d)), 0, true, d, d)
		add(p+"ln2_gain", 0, 1, false, d)
		add(p+"ln2_bias", 0, 0, false, d)
		add(p+"ff1_w", 1/math.Sqrt(float64(d)), 0, true, d, ff)
		add(p+"ff2_w", resid/math.Sqrt(float64(ff)), 0, true, ff, d)
	}
	add("out/ln_gain", 0, 1, false, d)
	add("out/ln_bias", 0, 0, false, d)
	add("out/w", 0.02, 0, true, d, 2)
	add("out/b", 0, 0, false, 2)
	if h := cfg.BaseHidden; h > 0 {
		add("base/w1", 1/math.Sqrt(float64(cfg.ImageDim+cfg.TextDim)), 0, true, cfg.ImageDim+cfg.TextDim, h)
		add("base/b1", 0, 0, false, h)
		add("base/w2", 0.02, 0, true, h, 1)
		if cfg.TasteHead {
			add("taste/w1", 1/math.Sqrt(float64(h)), 0, true, h, h)
			add("taste/b1", 0, 0, false, h)
			add("taste/w2", 0.02/math.Sqrt(float64(h)), 0, true, h, h)
		}
		if cfg.groupHead() {
			// Columns 0..h-1 give a token's weights over φ, column h its
			// prior logit.
			add("group/w", 0.2/math.Sqrt(float64(d)), 0, true, d, h+1)
			// With GroupRaw, a token's weights over the image itself,
			// started at zero so the raw part grows only as the data asks.
			if cfg.groupRaw() {
				add("group/w_raw", 0, 0, true, d, cfg.ImageDim)
			}
		}
	}
	return ps
}

// baseStagePersonal says whether variable path (relative to Root) is one of
// the personal heads' that the base stage trains under Config.BasePersonal.
func baseStagePersonal(cfg Config, path string) bool {
	switch {
	case strings.HasPrefix(path, "taste/"):
		return cfg.TasteHead
	case strings.HasPrefix(path, "group/"), path == "pref/tokens":
		return cfg.groupHead() && cfg.TokenMode == TokenModeFixed
	}
	return false
}

// InitParams creates every variable of Params(cfg) in store, drawn from a
// PCG generator seeded with seed, so the same seed always gives the same
// initial weights. Variables that already exist are left as they are (so a
// store loaded from a checkpoint keeps its weights); one with the wrong shape
// is an EINVALID error.
func InitParams(store *mlm.Store, cfg Config, seed uint64) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, p := range Params(cfg) {
		n := 1
		for _, dim := range p.Dims {
			n *= dim
		}
		// Draw even for existing variables, so each variable's values do not
		// depend on which others exist.
		data := make([]float32, n)
		for i := range data {
			if p.Std > 0 {
				data[i] = float32(rng.NormFloat64() * p.Std)
			} else {
				data[i] = p.Const
			}
		}
		if v := store.GetVariable(p.Path); v != nil {
			if !v.Shape().Equal(shapes.Make(dtypes.Float32, p.Dims...)) {
				return palate.Errorf(palate.EINVALID, "model variable %s has shape %s, config wants %v", p.Path, v.Shape(), p.Dims)
			}
			continue
		}
		if _, err := store.CreateVariable(p.Path, tensors.FromFlatDataAndDimensions(data, p.Dims...)); err != nil {
			return palate.Errorf(palate.EINTERNAL, "create model variable %s: %w", p.Path, err)
		}
	}
	return nil
}

// CheckParams reports whether store holds every variable of Params(cfg) with
// the right shape, as an EINVALID error naming the first that does not.
func CheckParams(store *mlm.Store, cfg Config) error {
	for _, p := range Params(cfg) {
		v := store.GetVariable(p.Path)
		if v == nil {
			return palate.Errorf(palate.EINVALID, "model variable %s is missing", p.Path)
		}
		if !v.Shape().Equal(shapes.Make(dtypes.Float32, p.Dims...)) {
			return palate.Errorf(palate.EINVALID, "model variable %s has shape %s, config wants %v", p.Path, v.Shape(), p.Dims)
		}
	}
	return nil
}

// ImageStats returns the per-dimension mean of n image embeddings (data
// holds them as n rows of dim floats) and one inverse standard deviation for
// every dimension, 1/sqrt(mean variance over dimensions): the frozen
// statistics of Config.ImageStandardize. One scale for the whole vector
// keeps the embedder's own weighting of its dimensions (a hand-weighted
// pixel vector, or a vision model's), where a scale per dimension would
// magnify dimensions that hardly vary into noise (on pixels-v2 it let the
// base head overfit within a few hundred steps). No rows give mean 0 and
// scale 1.
func ImageStats(data []float32, dim int) (mean, istd []float32) {
	mean, istd = make([]float32, dim), make([]float32, dim)
	n := 0
	if dim > 0 {
		n = len(data) / dim
	}
	if n == 0 {
		for j := range istd {
			istd[j] = 1
		}
		return mean, istd
	}
	m := make([]float64, dim)
	for i := range n {
		for j, x := range data[i*dim : (i+1)*dim] {
			m[j] += float64(x)
		}
	}
	for j := range m {
		m[j] /= float64(n)
	}
	var v float64
	for i := range n {
		for j, x := range data[i*dim : (i+1)*dim] {
			d := float64(x) - m[j]
			v += d * d
		}
	}
	v /= float64(n * dim)
	k := float32(1 / math.Sqrt(v+1e-12))
	for j := range m {
		mean[j] = float32(m[j])
		istd[j] = k
	}
	return mean, istd
}
