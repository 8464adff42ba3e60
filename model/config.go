package model

import (
	"fmt"

	"palate"
)

// Token modes for Config.TokenMode.
const (
	// TokenModeFixed prepends the same K learnable preference tokens to every
	// history, as the paper's released code does.
	TokenModeFixed = "fixed"
	// TokenModePool keeps a pool of PoolSize tokens with keys and prepends the
	// K whose keys best match a summary of the history (L2P style, as the
	// paper's first released version), adding a key-matching loss.
	TokenModePool = "pool"
)

// Config holds every hyperparameter of the preference model. It is saved with
// each checkpoint, so a scorer rebuilds exactly the graph that was trained.
// The zero value is not useful: start from DefaultConfig.
type Config struct {
	// ImageDim is the length of an image embedding. It comes from the
	// embedder (0 in DefaultConfig: training fills it from the dataset).
	ImageDim int `json:"image_dim"`
	// TextDim is the length of a prompt embedding. Default 64, the dimension
	// of the built-in "hashbow-v1" text embedder.
	TextDim int `json:"text_dim"`
	// DModel is the width of every token. Default 64: on taste worlds of a
	// few hundred people d=128 fitted the training pairs faster but judged
	// held-out pairs no better (60.7% vs 62.8% seen, truth embedding, 400
	// steps), at half the speed.
	DModel int `json:"d_model"`
	// Layers is the number of transformer layers. Default 2.
	Layers int `json:"layers"`
	// Heads is the number of attention heads; DModel must be a multiple.
	// Default 4.
	Heads int `json:"heads"`
	// FFMult sets the hidden width of each feed-forward block to
	// FFMult*DModel. Default 2, not the usual 4: measured on the Go backend,
	// 4 costs 108 CPU-ms per 1,024 candidates scored and 2 costs 92 (the
	// 50 ms target on 2 cores needs under ~100), and the hidden layer of
	// 256 is ample for one token per image.
	FFMult int `json:"ff_mult"`
	// Dropout is the drop rate on the input tokens, on every residual
	// branch and on the base head's features, during training only.
	// Default 0.5, with train.Options.WeightDecay 1: the model otherwise
	// memorises the outcomes of its few thousand noisy training pairs (on
	// pixels-v3 the base stage reached 86% training accuracy at 57%
	// validation with 0.3 and 0.1). The pair, against 0.3 and 0.1, on
	// three taste worlds read through pixels-v3 (quick bench, one seed, seen
	// / unseen): default 60.0 / 62.5 against 58.8 / 60.1, harder 57.8 /
	// 54.8 against 54.6 / 53.6, 20 groups 57.9 / 57.8 against 56.4 / 55.7;
	// see docs/BENCHMARKS.md.
	Dropout float64 `json:"dropout"`
	// PrefTokens is K, the number of preference tokens prepended to every
	// history. Default 10 (the paper's released code); 0 is the ablation.
	PrefTokens int `json:"pref_tokens"`
	// TokenMode is TokenModeFixed (default) or TokenModePool.
	TokenMode string `json:"token_mode"`
	// PoolSize is M, the number of tokens in the pool (TokenModePool only).
	// Default 20.
	PoolSize int `json:"pool_size"`
	// PoolKeyWeight weighs the key-matching loss of TokenModePool (L2P's
	// surrogate loss). Default 0.5, L2P's value.
	PoolKeyWeight float64 `json:"pool_key_weight"`
	// Lambda weighs the contrastive preference loss: L = L_base + Lambda*L_CP.
	// Default 1; 0 is the ablation.
	Lambda float64 `json:"lambda"`
	// LabelSmoothing softens the targets of L_base: the true class gets
	// 1-LabelSmoothing. Default 0 (none), as the paper.
	LabelSmoothing float64 `json:"label_smoothing"`
	// RecencyBuckets is the number of recency embeddings; see AgeBucket.
	// Default 8.
	RecencyBuckets int `json:"recency_buckets"`
	// BaseHidden is the width of the base head: a one-hidden-layer ReLU MLP
	// over the target's own image and prompt embeddings whose output is added
	// to s+, so the score is a non-personal utility plus what the transformer
	// reads from the history. 0 turns it off (the paper's readout alone).
	// Default 64; see docs/BENCHMARKS.md for the measurement behind it.
	BaseHidden int `json:"base_hidden"`
	// TasteHead makes the base head personal: the history's comparisons,
	// each read as φ(preferred) − φ(other) in the base head's hidden
	// features φ, are averaged and mapped by a small MLP to a vector t, and
	// φ(target)·t is added to s+ beside the base score. It is a per-person
	// linear model over learnt features whose weights are inferred from the
	// history in one pass (amortised, as a neural process), and costs one
	// dot product per candidate. Needs BaseHidden > 0. Default true.
	TasteHead bool `json:"taste_head"`
	// GroupHead reads each preference token as the taste of a group of
	// people, in the base head's features: token k gives a weight vector
	// w_k (and a prior logit) through one learnt projection. A history's
	// comparisons are evidence for each group, the sum over its pairs of
	// log σ(u(preferred) − u(other)) with u = base score + φ·w_k, so the
	// softmax of prior plus evidence is the person's posterior over the
	// groups (a mixture of Bradley–Terry models, inferred exactly rather
	// than left for attention to approximate). The posterior-weighted
	// Σ π_k w_k joins the taste head's vector, so scoring costs nothing
	// more, and the posterior describes the person for finding similar
	// people. Needs BaseHidden > 0; off when PrefTokens is 0. Default true,
	// with BasePersonal and GroupRaw: alone (session 4, pixels-v2) it was
	// within noise of the model without it; the three together lift
	// palate/full on pixels-v3 by 1.8 points on the default world's seen
	// people (three runs; unseen level) and by 0.6 to 2.7 on two other
	// worlds (docs/BENCHMARKS.md, "Session 6"). Checkpoints written before
	// it existed load with false.
	GroupHead bool `json:"group_head"`
	// BasePersonal makes training's base stage (BaseLosses) fit the taste
	// head and the group head (fixed tokens only) with the base head: a
	// personal Bradley–Terry model on the base features, whose weights are
	// read from the history, without the transformer. The base features
	// then learn the directions in which people differ, not only the
	// shared quality. Its steps skip the transformer but read the
	// history: about three times a plain base step, a fifth of a joint
	// step (train.Options.BaseSteps). Default true (see GroupHead).
	BasePersonal bool `json:"base_personal"`
	// GroupRaw lets the group head's group tastes reach the normalised
	// image embedding itself, not only the base head's features φ: each
	// group's weights cover [φ, x] (x the image as every reader takes it),
	// so a group's taste is linear in the embedder's own dimensions plus
	// what φ adds. φ is learnt mostly for the shared utility, and the
	// directions in which groups differ can be ones φ never kept: on the
	// default world a per-group linear model over pixels-v3's own floats
	// reaches 65.4% when told each person's group (bench/suite/diag_test.go).
	// The raw part of every group's weights is held near zero by GroupL2.
	// No effect without the group head. Default true (see GroupHead);
	// checkpoints written before it existed load with false.
	GroupRaw bool `json:"group_raw"`
	// GroupL2 weighs a ridge penalty on the raw part of the group tastes
	// (GroupRaw): GroupL2 times the mean over groups of their squared
	// norm, added to the training losses. Default 0.1: 0.01, 0.3 and 1
	// gave 61.3/62.5, 60.9/62.8 and 62.0/62.8% seen/unseen on the default
	// world against 61.8/63.6 (one seed each, within noise of each other).
	GroupL2 float64 `json:"group_l2"`
	// PairDiff adds to both history tokens of a comparison a projection of
	// the difference between its preferred and its other image, so the model
	// sees which image beat which, not only a set of liked and a set of
	// disliked images. A comparison's two items must sit in adjacent slots,
	// liked then disliked (as package history lays them out); a slot whose
	// neighbour is not its partner gets nothing. Default true.
	PairDiff bool `json:"pair_diff"`
	// ImageStandardize reads every image embedding centred per dimension
	// and scaled by one factor for the whole vector, (x - mean)·k with the
	// training images' statistics (frozen variables in the checkpoint; see
	// ImageStats), then through a learnt gain and bias per dimension.
	// Without it each vector is layer-normalised on its own, which rescales
	// a vector by its own spread: harmless for a unit-norm pixel vector, but
	// it bends embeddings whose dimensions mean different things (one-hot
	// categories beside continuous values, as the taste world's truth
	// embedding). Default true; checkpoints written before it existed load
	// with false.
	ImageStandardize bool `json:"image_standardize"`
	// MaxHistory is H, the number of history slots of an episode (pairs take
	// two). Longer histories keep their most recent MaxHistory items.
	// Default 32 (16 pairs).
	MaxHistory int `json:"max_history"`
}

// DefaultConfig returns the defaults documented on each field of Config.
// ImageDim is left 0 for the caller to set from its embedder.
func DefaultConfig() Config {
	return Config{
		TextDim:        64,
		DModel:         64,
		Layers:         2,
		Heads:          4,
		FFMult:         2,
		Dropout:        0.5,
		PrefTokens:     10,
		TokenMode:      TokenModeFixed,
		PoolSize:       20,
		PoolKeyWeight:  0.5,
		Lambda:         1,
		LabelSmoothing: 0,
		RecencyBuckets: 8,
		MaxHistory:     32,
		BaseHidden:     64,
		PairDiff:       true,
		TasteHead:      true,
		GroupHead:      true,
		BasePersonal:   true,
		GroupRaw:       true,
		GroupL2:        0.1,

		ImageStandardize: true,
	}
}

// Validate reports the first hyperparameter that cannot build a model, as an
// EINVALID palate.Error naming the field.
func (c Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return palate.Errorf(palate.EINVALID, "model config: %s = %v, want %s", field, v, want)
	}
	switch {
	case c.ImageDim <= 0:
		return bad("image_dim", c.ImageDim, "> 0 (the embedder's dimension)")
	case c.TextDim <= 0:
		return bad("text_dim", c.TextDim, "> 0")
	case c.DModel <= 0:
		return bad("d_model", c.DModel, "> 0")
	case c.Layers <= 0:
		return bad("layers", c.Layers, "> 0")
	case c.Heads <= 0 || c.DModel%c.Heads != 0:
		return bad("heads", c.Heads, fmt.Sprintf("> 0 and a divisor of d_model (%d)", c.DModel))
	case c.FFMult <= 0:
		return bad("ff_mult", c.FFMult, "> 0")
	case c.Dropout < 0 || c.Dropout >= 1:
		return bad("dropout", c.Dropout, "in [0, 1)")
	case c.PrefTokens < 0:
		return bad("pref_tokens", c.PrefTokens, ">= 0")
	case c.TokenMode != TokenModeFixed && c.TokenMode != TokenModePool:
		return bad("token_mode", c.TokenMode, `"fixed" or "pool"`)
	case c.TokenMode == TokenModePool && c.PrefTokens == 0:
		return bad("pref_tokens", c.PrefTokens, `> 0 with token_mode "pool"`)
	case c.TokenMode == TokenModePool && c.PoolSize < c.PrefTokens:
		return bad("pool_size", c.PoolSize, fmt.Sprintf(">= pref_tokens (%d)", c.PrefTokens))
	case c.PoolKeyWeight < 0:
		return bad("pool_key_weight", c.PoolKeyWeight, ">= 0")
	case c.Lambda < 0:
		return bad("lambda", c.Lambda, ">= 0")
	case c.LabelSmoothing < 0 || c.LabelSmoothing >= 0.5:
		return bad("label_smoothing", c.LabelSmoothing, "in [0, 0.5)")
	case c.RecencyBuckets <= 0:
		return bad("recency_buckets", c.RecencyBuckets, "> 0")
	case c.MaxHistory <= 0:
		return bad("max_history", c.MaxHistory, "> 0")
	case c.BaseHidden < 0:
		return bad("base_hidden", c.BaseHidden, ">= 0")
	case c.TasteHead && c.BaseHidden == 0:
		return bad("taste_head", c.TasteHead, "false when base_hidden is 0 (it reads the base head's features)")
	case c.GroupL2 < 0:
		return bad("group_l2", c.GroupL2, ">= 0")
	case c.GroupHead && c.BaseHidden == 0:
		return bad("group_head", c.GroupHead, "false when base_hidden is 0 (it reads the base head's features)")
	}
	return nil
}

// groupHead says whether the model has a group head: it needs preference
// tokens to read.
func (c Config) groupHead() bool { return c.GroupHead && c.PrefTokens > 0 }

// groupRaw says whether the group head's tastes reach the raw image.
func (c Config) groupRaw() bool { return c.GroupRaw && c.groupHead() }

// TasteDim is the width of Encoded.Taste: BaseHidden, plus ImageDim when
// the group tastes reach the raw image (GroupRaw).
func (c Config) TasteDim() int {
	if c.groupRaw() {
		return c.BaseHidden + c.ImageDim
	}
	return c.BaseHidden
}

// Personal says whether Encoded carries a Taste vector (taste head, group
// head or both).
func (c Config) Personal() bool { return c.TasteHead || c.groupHead() }

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.DModel / c.Heads }

// ContextLen is the length of the encoded context: preference tokens plus
// history slots.
func (c Config) ContextLen() int { return c.PrefTokens + c.MaxHistory }

// DescriptorTokens is the number of entries of an attention descriptor:
// PrefTokens in fixed mode, PoolSize in pool mode (unselected pool tokens get
// zero attention), so that descriptors of different users line up.
func (c Config) DescriptorTokens() int {
	if c.TokenMode == TokenModePool {
		return c.PoolSize
	}
	return c.PrefTokens
}
