package model

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the ops unqualified.
	"github.com/gomlx/gomlx/ml/layers/activation"
	mlm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/nn"
	"github.com/gomlx/gomlx/support/exceptions"
)

// maskedLogit is added to the attention logit of a padded key: far below any
// real logit, yet finite, so a row whose keys are all padding stays a valid
// (uniform) softmax instead of NaN.
const maskedLogit = -1e9

// Inputs are the graph nodes of one Batch, in the order of Batch.Tensors.
type Inputs struct {
	HistImage   *Node // [B, H, ImageDim] float32
	HistText    *Node // [B, H, TextDim] float32
	HistLabel   *Node // [B, H] int32 (Label)
	HistRecency *Node // [B, H] int32
	TgtImage    *Node // [B, T, ImageDim] float32
	TgtText     *Node // [B, T, TextDim] float32
}

// NumInputs is the number of graph inputs of a Batch.
const NumInputs = 6

// InputsFromNodes groups the graph parameters made from Batch.Tensors.
func InputsFromNodes(nodes []*Node) Inputs {
	if len(nodes) != NumInputs {
		exceptions.Panicf("model: want %d input nodes, got %d", NumInputs, len(nodes))
	}
	return Inputs{nodes[0], nodes[1], nodes[2], nodes[3], nodes[4], nodes[5]}
}

// Encoded is one or more users' histories encoded once, ready to score any
// number of targets: every layer's keys and values of the context
// (preference tokens followed by history slots) and the additive attention
// bias that hides padded slots. Lc is Config.ContextLen.
type Encoded struct {
	// Bias is [B, Lc]: 0 for real context tokens, maskedLogit for padding.
	Bias *Node
	// K and V hold, per layer, the context's keys and values, head-major:
	// [B, Heads, Lc, HeadDim].
	K, V []*Node
	// Taste is the person's weights over the base head's features,
	// [B, BaseHidden]: the taste head's vector plus the group head's
	// posterior-weighted group tastes (nil with neither head); with
	// Config.GroupRaw the group tastes over the image follow, [B,
	// Config.TasteDim()].
	Taste *Node

	// The fields below are for user descriptors and training; ScoreTargets
	// needs only Bias, K and V.

	// PrefAttention is [B, H, DescriptorTokens]: how much each history slot
	// attends to each preference token, averaged over heads and layers
	// (zero rows for padded slots). Nil when PrefTokens is 0.
	PrefAttention *Node
	// PrefStates is [B, DescriptorTokens, DModel]: the encoded preference
	// tokens after the final layer norm (pool mode: zero for unselected pool
	// tokens). Nil when PrefTokens is 0.
	PrefStates *Node
	// HistoryMean is [B, DModel]: the mean encoded history slot after the
	// final layer norm (zero for an empty history).
	HistoryMean *Node
	// HistoryCount is [B] float32: the number of non-padded history slots.
	HistoryCount *Node
	// GroupPosterior is [B, DescriptorTokens]: the group head's posterior
	// over the preference tokens (pool mode: zero for unselected tokens).
	// Nil without the group head.
	GroupPosterior *Node
	// KeyLoss is the scalar L2P key-matching loss (pool mode, else nil).
	KeyLoss *Node
}

// ContextNodes flattens the part of e that ScoreTargets reads, in the order
// ContextFromNodes expects: Bias, then K and V of each layer.
func (e *Encoded) ContextNodes() []*Node {
	out := []*Node{e.Bias}
	for l := range e.K {
		out = append(out, e.K[l], e.V[l])
	}
	if e.Taste != nil {
		out = append(out, e.Taste)
	}
	return out
}

// NumContextNodes is len(Encoded.ContextNodes()) for cfg.
func NumContextNodes(cfg Config) int {
	n := 1 + 2*cfg.Layers
	if cfg.Personal() {
		n++
	}
	return n
}

// ContextFromNodes rebuilds an Encoded (Bias, K, V only) from graph inputs
// laid out as ContextNodes.
func ContextFromNodes(cfg Config, nodes []*Node) *Encoded {
	if len(nodes) != NumContextNodes(cfg) {
		exceptions.Panicf("model: want %d context nodes, got %d", NumContextNodes(cfg), len(nodes))
	}
	e := &Encoded{Bias: nodes[0]}
	for l := range cfg.Layers {
		e.K = append(e.K, nodes[1+2*l])
		e.V = append(e.V, nodes[2+2*l])
	}
	if cfg.Personal() {
		e.Taste = nodes[1+2*cfg.Layers]
	}
	return e
}

// param returns the graph value of model variable name (relative to Root).
func param(scope *mlm.Scope, g *Graph, name string) *Node {
	v := scope.Store().GetVariable(Root + "/" + name)
	if v == nil {
		exceptions.Panicf("model variable %s/%s is missing: call model.InitParams or load a checkpoint", Root, name)
	}
	return v.NodeValue(g)
}

func dense(x, w, b *Node) *Node {
	return nn.Dense(x, w, b, compute.DenseLayoutInputOutputs)
}

func layerNorm(x, gain, bias *Node) *Node {
	return nn.LayerNorm(x, []int{x.Rank() - 1}, 1e-5, gain, bias, nil)
}

// dropout zeroes each value with probability rate and scales the rest by
// 1/(1-rate), drawing from the store's random state (deterministic for a
// seeded store). It is the identity outside training.
func dropout(scope *mlm.Scope, x *Node, rate float64, training bool) *Node {
	if !training || rate <= 0 {
		return x
	}
	u := scope.RandomUniform(x.Graph(), x.Shape())
	keep := ConvertDType(GreaterOrEqual(u, ConstAs(u, rate)), x.DType())
	return Mul(x, MulScalar(keep, 1/(1-rate)))
}

// normImage standardises an image embedding and applies the model's own
// gain and bias: per dimension with the training images' frozen statistics
// under Config.ImageStandardize, else LayerNorm of each vector. Either way
// the model is indifferent to the scale of whatever embedder made the
// vectors. Every reader of an image embedding (tokens, pair differences,
// the base head) takes this one node.
func normImage(scope *mlm.Scope, cfg Config, img *Node) *Node {
	g := img.Graph()
	gain, bias := param(scope, g, "in/img_norm_gain"), param(scope, g, "in/img_norm_bias")
	if !cfg.ImageStandardize {
		return layerNorm(img, gain, bias)
	}
	// (x - mean)·istd·gain + bias as one multiply-add per value.
	scale := Mul(param(scope, g, "in/img_istd"), gain)
	offset := Sub(bias, Mul(param(scope, g, "in/img_mean"), scale))
	r := img.Rank()
	return Add(Mul(img, ExpandLeftToRank(scale, r)), ExpandLeftToRank(offset, r))
}

// embedItems turns normalised images and prompts into tokens without label
// or recency: imgN·W_img + text·W_txt.
func embedItems(scope *mlm.Scope, imgN, txt *Node) *Node {
	g := imgN.Graph()
	x := dense(imgN, param(scope, g, "in/img_w"), nil)
	return Add(x, dense(txt, param(scope, g, "in/txt_w"), nil))
}

// shift moves v [B, H, ...] along the slot axis: by +1 puts slot h+1 at h,
// by -1 slot h-1; slots shifted in from past the ends are zeros.
func shift(v *Node, by int) *Node {
	g := v.Graph()
	H := v.Shape().Dim(1)
	pad := Zeros(g, shapes.Make(v.DType(), append([]int{v.Shape().Dim(0), 1}, v.Shape().Dimensions[2:]...)...))
	if H < 2 {
		return ZerosLike(v)
	}
	if by > 0 {
		return Concatenate([]*Node{SliceAxis(v, 1, AxisRange(1, H)), pad}, 1)
	}
	return Concatenate([]*Node{pad, SliceAxis(v, 1, AxisRange(0, H-1))}, 1)
}

// pairSlots finds the history's comparisons, [B, H] float masks: head is 1 on
// a liked slot whose next slot is disliked (its partner), tail on a disliked
// slot whose previous slot is liked. Votes, padding and a comparison cut in
// two by truncation are in neither.
func pairSlots(label *Node) (head, tail *Node) {
	g := label.Graph()
	is := func(l Label) *Node { return ConvertDType(Equal(label, Const(g, int32(l))), dtypes.Float32) }
	liked, disliked := is(LabelLiked), is(LabelDisliked)
	return Mul(liked, shift(disliked, 1)), Mul(disliked, shift(liked, -1))
}

// pairDiff returns, for each history slot of a comparison, a projection of
// the normalised preferred image minus the other one, [B, H, d]; other slots
// get zeros.
func pairDiff(scope *mlm.Scope, imgN, head, tail *Node) *Node {
	diffHead := Mul(Sub(imgN, shift(imgN, 1)), InsertAxes(head, -1))
	diffTail := Mul(Sub(shift(imgN, -1), imgN), InsertAxes(tail, -1))
	return dense(Add(diffHead, diffTail), param(scope, imgN.Graph(), "in/pair_w"), nil)
}

// lookup gathers rows of table [N, d] for int32 indices of any shape.
func lookup(table, idx *Node) *Node {
	return Gather(table, InsertAxes(idx, -1))
}

// attnProjections returns q, k, v head-major, [B, Heads, L, HeadDim], for
// x [B, L, d]: one matrix product and one transpose, so the attention
// products that follow need no further transposes in the Go backend.
func attnProjections(scope *mlm.Scope, cfg Config, layer string, h *Node) (q, k, v *Node) {
	g := h.Graph()
	B, L := h.Shape().Dim(0), h.Shape().Dim(1)
	qkv := dense(h, param(scope, g, layer+"qkv_w"), nil)
	qkv = TransposeAllAxes(Reshape(qkv, B, L, 3, cfg.Heads, cfg.HeadDim()), 2, 0, 3, 1, 4) // [3, B, heads, L, hd]
	part := func(i int) *Node { return Reshape(SliceAxis(qkv, 0, AxisElem(i)), B, cfg.Heads, L, cfg.HeadDim()) }
	return part(0), part(1), part(2)
}

// mergeHeads turns [B, Heads, L, HeadDim] back into [B, L, d].
func mergeHeads(x *Node) *Node {
	s := x.Shape()
	return Reshape(TransposeAllAxes(x, 0, 2, 1, 3), s.Dim(0), s.Dim(2), s.Dim(1)*s.Dim(3))
}

// feedForward is the second half of a pre-LN block, residual included.
func feedForward(scope *mlm.Scope, cfg Config, layer string, x *Node, training bool) *Node {
	g := x.Graph()
	h := layerNorm(x, param(scope, g, layer+"ln2_gain"), param(scope, g, layer+"ln2_bias"))
	h = nn.Dense(h, param(scope, g, layer+"ff1_w"), nil, compute.DenseLayoutInputOutputs, activation.TypeRelu)
	h = dense(h, param(scope, g, layer+"ff2_w"), nil)
	return Add(x, dropout(scope, h, cfg.Dropout, training))
}

// prefTokens returns the preference tokens for each episode, [B, K, d], and
// in pool mode the one-hot selection [B, K, M] and the key-matching loss.
// hist is [B, H, d] (history tokens before the transformer), mask [B, H].
func prefTokens(scope *mlm.Scope, cfg Config, hist, histMaskF *Node) (tokens, selection, keyLoss *Node) {
	g := hist.Graph()
	B, K, d := hist.Shape().Dim(0), cfg.PrefTokens, cfg.DModel
	if cfg.TokenMode != TokenModePool {
		t := param(scope, g, "pref/tokens")
		return BroadcastToDims(Reshape(t, 1, K, d), B, K, d), nil, nil
	}
	// L2P: the query is a summary of the history that the selection does not
	// train (L2P uses a frozen encoder): the masked mean of its tokens.
	count := ReduceSum(histMaskF, 1)                                     // [B]
	sum := ReduceSum(Mul(hist, InsertAxes(histMaskF, -1)), 1)            // [B, d]
	query := StopGradient(Div(sum, InsertAxes(MaxScalar(count, 1), -1))) // [B, d]
	query = L2NormalizeWithEpsilon(query, 1e-6, -1)
	keys := L2NormalizeWithEpsilon(param(scope, g, "pref/keys"), 1e-6, -1)  // [M, d]
	sim := Einsum("bd,md->bm", query, keys)                                 // [B, M] cosine similarity
	_, idx := TopK(StopGradient(sim), K, -1)                                // [B, K]
	selection = OneHot(idx, cfg.PoolSize, dtypes.Float32)                   // [B, K, M]
	tokens = Einsum("bkm,md->bkd", selection, param(scope, g, "pref/pool")) // [B, K, d]
	// Key-matching loss: pull each selected key toward the query, averaged
	// over the selected keys of users that have a history.
	chosen := ReduceSum(selection, 1)                                                      // [B, M]
	perUser := DivScalar(ReduceSum(Mul(chosen, OneMinus(sim)), 1), float64(K))             // [B]
	has := ConvertDType(GreaterThan(count, ScalarZero(g, dtypes.Float32)), dtypes.Float32) // [B]
	keyLoss = Div(ReduceAllSum(Mul(perUser, has)), MaxScalar(ReduceAllSum(has), 1))
	return tokens, selection, keyLoss
}

// EncodeContext encodes histories once per user: the preference tokens and
// history slots go through the transformer with full (bidirectional)
// attention among themselves, padded slots masked out. Its keys and values
// at every layer are what ScoreTargets reads, so any number of candidates can
// be scored against one encoding. Dropout applies only when training.
func EncodeContext(scope *mlm.Scope, cfg Config, histImage, histText, histLabel, histRecency *Node, training bool) *Encoded {
	g := histImage.Graph()
	B, H, K := histImage.Shape().Dim(0), histImage.Shape().Dim(1), cfg.PrefTokens
	Lc := K + H

	histN := normImage(scope, cfg, histImage)
	head, tail := pairSlots(histLabel)
	hist := embedItems(scope, histN, histText)
	if cfg.PairDiff {
		hist = Add(hist, pairDiff(scope, histN, head, tail))
	}
	hist = Add(hist, lookup(param(scope, g, "in/label_emb"), histLabel))
	hist = Add(hist, lookup(param(scope, g, "in/recency_emb"), histRecency))
	histMask := NotEqual(histLabel, ScalarZero(g, dtypes.Int32)) // [B, H]
	histMaskF := ConvertDType(histMask, dtypes.Float32)

	enc := &Encoded{}
	x := hist
	maskF := histMaskF
	var tokens, selection *Node
	if K > 0 {
		tokens, selection, enc.KeyLoss = prefTokens(scope, cfg, hist, histMaskF)
		x = Concatenate([]*Node{tokens, hist}, 1)
		maskF = Concatenate([]*Node{Ones(g, shapes.Make(dtypes.Float32, B, K)), histMaskF}, 1)
	}
	enc.Taste, enc.GroupPosterior = historyTaste(scope, cfg, histN, histText, head, tokens, selection, training)
	if enc.GroupPosterior != nil && selection != nil {
		enc.GroupPosterior = Einsum("bk,bkm->bm", enc.GroupPosterior, selection)
	}
	enc.Bias = MulScalar(OneMinus(maskF), maskedLogit) // [B, Lc]
	bias4 := Reshape(enc.Bias, B, 1, 1, Lc)
	x = dropout(scope, x, cfg.Dropout, training)

	scale := 1 / math.Sqrt(float64(cfg.HeadDim()))
	var prefAttn *Node
	for l := range cfg.Layers {
		layer := layerName(l)
		h := layerNorm(x, param(scope, g, layer+"ln1_gain"), param(scope, g, layer+"ln1_bias"))
		q, k, v := attnProjections(scope, cfg, layer, h)
		scores := Add(MulScalar(Einsum("bhqd,bhkd->bhqk", q, k), scale), bias4) // [B, heads, Lc, Lc]
		attn := Softmax(scores, -1)
		o := mergeHeads(Einsum("bhqk,bhkd->bhqd", attn, v)) // [B, Lc, d]
		o = dense(o, param(scope, g, layer+"out_w"), nil)
		x = Add(x, dropout(scope, o, cfg.Dropout, training))
		x = feedForward(scope, cfg, layer, x, training)
		enc.K = append(enc.K, k)
		enc.V = append(enc.V, v)
		if K > 0 {
			// History rows (queries K..Lc) onto preference-token columns (keys 0..K).
			a := ReduceMean(Slice(attn, AxisRange(), AxisRange(), AxisRange(K, Lc), AxisRange(0, K)), 1) // [B, H, K]
			if prefAttn == nil {
				prefAttn = a
			} else {
				prefAttn = Add(prefAttn, a)
			}
		}
	}
	final := layerNorm(x, param(scope, g, "out/ln_gain"), param(scope, g, "out/ln_bias")) // [B, Lc, d]
	histStates := SliceAxis(final, 1, AxisRange(K, Lc))                                   // [B, H, d]
	enc.HistoryCount = ReduceSum(histMaskF, 1)
	enc.HistoryMean = Div(ReduceSum(Mul(histStates, InsertAxes(histMaskF, -1)), 1),
		InsertAxes(MaxScalar(enc.HistoryCount, 1), -1))
	if K > 0 {
		prefAttn = Mul(DivScalar(prefAttn, float64(cfg.Layers)), InsertAxes(histMaskF, -1))
		prefStates := SliceAxis(final, 1, AxisRange(0, K)) // [B, K, d]
		if selection != nil {
			// Pool mode: place each selected token at its pool index.
			prefAttn = Einsum("bhk,bkm->bhm", prefAttn, selection)
			prefStates = Einsum("bkm,bkd->bmd", selection, prefStates)
		}
		enc.PrefAttention = prefAttn
		enc.PrefStates = prefStates
	}
	return enc
}

func layerName(l int) string { return fmt.Sprintf("layer_%d/", l) }

// ScoreTargets reads targets against encoded contexts: at every layer each
// target attends to that layer's context keys and values and to itself, but
// never to another target, so a target's score does not depend on which
// other targets share the call. tgtImage is [B, T, ImageDim], tgtText
// [B, T, TextDim]; the result is [B, T, 2] logits (s+, s-).
func ScoreTargets(scope *mlm.Scope, cfg Config, enc *Encoded, tgtImage, tgtText *Node, training bool) *Node {
	g := tgtImage.Graph()
	B, d := tgtImage.Shape().Dim(0), cfg.DModel
	Lc := enc.Bias.Shape().Dim(1)
	bias4 := Reshape(enc.Bias, B, 1, 1, Lc)

	tgtN := normImage(scope, cfg, tgtImage)
	y := embedItems(scope, tgtN, tgtText)
	query := SliceAxis(param(scope, g, "in/label_emb"), 0, AxisElem(int(LabelQuery))) // [1, d]
	recent := SliceAxis(param(scope, g, "in/recency_emb"), 0, AxisElem(0))            // [1, d]
	y = Add(y, Reshape(Add(query, recent), 1, 1, d))
	y = dropout(scope, y, cfg.Dropout, training)

	scale := 1 / math.Sqrt(float64(cfg.HeadDim()))
	for l := range cfg.Layers {
		layer := layerName(l)
		h := layerNorm(y, param(scope, g, layer+"ln1_gain"), param(scope, g, layer+"ln1_bias"))
		q, k, v := attnProjections(scope, cfg, layer, h)                             // [B, heads, T, hd]
		sCtx := Add(MulScalar(Einsum("bhtd,bhkd->bhtk", q, enc.K[l]), scale), bias4) // [B, heads, T, Lc]
		sSelf := MulScalar(ReduceAndKeep(Mul(q, k), ReduceSum, -1), scale)           // [B, heads, T, 1]
		attn := Softmax(Concatenate([]*Node{sCtx, sSelf}, -1), -1)
		aCtx := SliceAxis(attn, -1, AxisRange(0, Lc))
		aSelf := SliceAxis(attn, -1, AxisElem(Lc)) // [B, heads, T, 1]
		o := Add(Einsum("bhtk,bhkd->bhtd", aCtx, enc.V[l]), Mul(aSelf, v))
		o = dense(mergeHeads(o), param(scope, g, layer+"out_w"), nil)
		y = Add(y, dropout(scope, o, cfg.Dropout, training))
		y = feedForward(scope, cfg, layer, y, training)
	}
	y = layerNorm(y, param(scope, g, "out/ln_gain"), param(scope, g, "out/ln_bias"))
	logits := dense(y, param(scope, g, "out/w"), param(scope, g, "out/b"))
	if cfg.BaseHidden > 0 {
		logits = Add(logits, baseHead(scope, cfg, enc.Taste, tgtN, tgtText, training))
	}
	return logits
}

// baseFeatures are the base head's hidden features φ of normalised images
// and their prompts, [..., BaseHidden], with dropout when training.
func baseFeatures(scope *mlm.Scope, cfg Config, imgN, txt *Node, training bool) *Node {
	g := imgN.Graph()
	x := Concatenate([]*Node{imgN, txt}, -1)
	h := nn.Dense(x, param(scope, g, "base/w1"), param(scope, g, "base/b1"), compute.DenseLayoutInputOutputs, activation.TypeRelu)
	return dropout(scope, h, cfg.Dropout, training)
}

// baseHead is the base part of the score, [B, T, 2] with a zero second
// column so that it adds to s+ only: φ(target)·w2, the same for everyone,
// plus φ(target)·taste when the taste head is on (taste [B, BaseHidden]).
func baseHead(scope *mlm.Scope, cfg Config, taste, imgN, txt *Node, training bool) *Node {
	g := imgN.Graph()
	h := baseFeatures(scope, cfg, imgN, txt, training) // [B, T, Hb]
	u := dense(h, param(scope, g, "base/w2"), nil)     // [B, T, 1]
	if taste != nil {
		u = Add(u, InsertAxes(personalScore(h, imgN, taste), -1))
	}
	return Concatenate([]*Node{u, ZerosLike(u)}, -1)
}

// personalScore is what a person's taste vector (Encoded.Taste) adds to the
// targets' scores, [B, T]: φ·t over the base features φ [B, T, Hb], plus
// x·t_raw over the normalised images imgN [B, T, D] when the taste is
// [t, t_raw], [B, Hb+D] (the group head's raw tastes, Config.GroupRaw).
func personalScore(phi, imgN, taste *Node) *Node {
	Hb := phi.Shape().Dim(2)
	if taste.Shape().Dim(1) == Hb {
		return Einsum("bth,bh->bt", phi, taste)
	}
	u := Einsum("bth,bh->bt", phi, SliceAxis(taste, 1, AxisRange(0, Hb)))
	return Add(u, Einsum("btf,bf->bt", imgN, SliceAxis(taste, 1, AxisRange(Hb, taste.Shape().Dim(1)))))
}

// historyTaste is the person's weights over the base features read from
// their history by the taste head and the group head (each when on; nil,
// nil with neither), followed by the group head's weights over the image
// when it has raw tastes (Config.GroupRaw, tokens given), and the group
// head's posterior over tokens [B, K] (the preference tokens, nil without
// the group head). histN are the normalised history images, head the
// comparisons' first slots, selection the pool tokens each history chose
// (prefTokens; nil for fixed tokens).
func historyTaste(scope *mlm.Scope, cfg Config, histN, histText, head, tokens, selection *Node, training bool) (taste, posterior *Node) {
	if !cfg.Personal() {
		return nil, nil
	}
	phi := baseFeatures(scope, cfg, histN, histText, training)
	pairPhi := Mul(Sub(phi, shift(phi, 1)), InsertAxes(head, -1)) // [B, H, Hb], 0 off head slots
	if cfg.TasteHead {
		taste = tasteVector(scope, pairPhi, head)
	}
	if cfg.groupHead() && tokens != nil {
		var w, raw, wRaw *Node
		if cfg.groupRaw() {
			raw = rawGroupTastes(scope, cfg, tokens.Graph(), selection)
		}
		w, wRaw, posterior = groupTaste(scope, tokens, pairPhi, raw, histN, head)
		if taste == nil {
			taste = w
		} else {
			taste = Add(taste, w)
		}
		if wRaw != nil {
			taste = Concatenate([]*Node{taste, wRaw}, -1) // [B, Hb+D]
		}
	}
	return taste, posterior
}

// tasteVector infers a person's weights over the base features from their
// comparisons: the mean over the history's pairs (head, from pairSlots) of
// φ(preferred) − φ(other) (pairPhi, zero off head slots), through a
// one-hidden-layer MLP, [B, BaseHidden]. An empty history gives the MLP's
// answer for a zero mean.
func tasteVector(scope *mlm.Scope, pairPhi, head *Node) *Node {
	g := pairPhi.Graph()
	n := ReduceSum(head, 1)                                             // [B]
	mean := Div(ReduceSum(pairPhi, 1), InsertAxes(MaxScalar(n, 1), -1)) // [B, Hb]
	h := nn.Dense(mean, param(scope, g, "taste/w1"), param(scope, g, "taste/b1"), compute.DenseLayoutInputOutputs, activation.TypeRelu)
	return dense(h, param(scope, g, "taste/w2"), nil)
}

// groupTaste is the group head (Config.GroupHead). tokens [B, K, d] are the
// preference tokens; pairPhi [B, H, Hb] holds φ(preferred) − φ(other) on the
// head slots of the history's comparisons (head [B, H]). Token k's weights
// w_k and prior logit come from one projection; the evidence for k is
// Σ_pairs log σ(Δφ·(w_base + w_k)), the log-likelihood of the person's
// choices were they in group k. It returns Σ_k π_k w_k [B, Hb] and the
// posterior π [B, K]; an empty history gives the prior.
//
// With raw (Config.GroupRaw; rawGroupTastes, [K, D] or [B, K, D]) each
// group's weights also cover the normalised image, histN [B, H, D]: the
// evidence adds Δx·raw_k and tasteRaw is Σ π_k raw_k, [B, D] (nil
// without raw). The images are projected onto the K groups before the
// difference is taken, so no [B, H, D] difference or [B, K, Hb+D] weight
// tensor is built (an earlier version that built them took 42 s for 200
// personal base steps on the default world, against 34 s).
func groupTaste(scope *mlm.Scope, tokens, pairPhi, raw, histN, head *Node) (taste, tasteRaw, posterior *Node) {
	g := tokens.Graph()
	Hb := pairPhi.Shape().Dim(2)
	proj := dense(tokens, param(scope, g, "group/w"), nil)  // [B, K, Hb+1]
	w := SliceAxis(proj, 2, AxisRange(0, Hb))               // [B, K, Hb]
	prior := Squeeze(SliceAxis(proj, 2, AxisElem(Hb)), 2)   // [B, K]
	base := dense(pairPhi, param(scope, g, "base/w2"), nil) // [B, H, 1]
	margin := Add(Einsum("bhf,bkf->bhk", pairPhi, w), base) // [B, H, K]
	spec := "bkf"                                           // the raw tastes' axes: per history, or ...
	if raw != nil && raw.Rank() == 2 {
		spec = "kf" // ... the same for everyone
	}
	if raw != nil {
		onGroups := Einsum("bhf,"+spec+"->bhk", histN, raw) // [B, H, K]
		margin = Add(margin, Sub(onGroups, shift(onGroups, 1)))
	}
	ll := Mul(Neg(Softplus(Neg(margin))), InsertAxes(head, -1)) // log σ(margin) on pairs
	posterior = Softmax(Add(prior, ReduceSum(ll, 1)), -1)       // [B, K]
	taste = Einsum("bk,bkf->bf", posterior, w)
	if raw != nil {
		tasteRaw = Einsum("bk,"+spec+"->bf", posterior, raw)
	}
	return taste, tasteRaw, posterior
}

// rawGroupTable is every token's raw group taste (Config.GroupRaw): the
// fixed tokens [K, d], or the whole pool [M, d], times group/w_raw, so
// [K or M, ImageDim].
func rawGroupTable(scope *mlm.Scope, cfg Config, g *Graph) *Node {
	tokens := "pref/tokens"
	if cfg.TokenMode == TokenModePool {
		tokens = "pref/pool"
	}
	return dense(param(scope, g, tokens), param(scope, g, "group/w_raw"), nil)
}

// rawGroupTastes are the raw group tastes of the tokens a history reads:
// [K, ImageDim] for fixed tokens, the same for everyone, and [B, K,
// ImageDim] for the pool tokens each history selected (selection [B, K, M]).
func rawGroupTastes(scope *mlm.Scope, cfg Config, g *Graph, selection *Node) *Node {
	table := rawGroupTable(scope, cfg, g)
	if selection == nil {
		return table
	}
	return Einsum("bkm,mf->bkf", selection, table)
}

// groupPenalty is GroupL2 times the mean over the group tastes of the
// squared norm of their raw part (Config.GroupRaw), a scalar; zero without
// it. It reads the variables alone: the fixed tokens, or the whole pool.
func groupPenalty(scope *mlm.Scope, cfg Config, g *Graph) *Node {
	if !cfg.groupRaw() || cfg.GroupL2 == 0 {
		return ScalarZero(g, dtypes.Float32)
	}
	raw := rawGroupTable(scope, cfg, g) // [K or M, D]
	return MulScalar(ReduceAllSum(Square(raw)), cfg.GroupL2/float64(raw.Shape().Dim(0)))
}

// Forward runs a whole batch: encode the histories, read the targets. It is
// exactly EncodeContext followed by ScoreTargets in one graph.
func Forward(scope *mlm.Scope, cfg Config, in Inputs, training bool) (logits *Node, enc *Encoded) {
	enc = EncodeContext(scope, cfg, in.HistImage, in.HistText, in.HistLabel, in.HistRecency, training)
	logits = ScoreTargets(scope, cfg, enc, in.TgtImage, in.TgtText, training)
	return logits, enc
}

// Score turns logits [..., 2] into the preference score s+ - s-, [...].
func Score(logits *Node) *Node {
	r := logits.Rank()
	return Squeeze(Sub(SliceAxis(logits, r-1, AxisElem(0)), SliceAxis(logits, r-1, AxisElem(1))), r-1)
}
