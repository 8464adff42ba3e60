// Package model is palate's preference model as pure GoMLX graph functions:
// the method of "Learning User Preferences for Image Generation Models"
// (arXiv 2508.08220) scaled down so a CPU can train it.
//
// # The model
//
// Every image becomes one token:
//
//	token = LayerNorm(image)·W_img + text·W_txt + label_emb[label] + recency_emb[bucket]
//
// where text is the prompt's embedding (see TextEmbedder; HashBOW is
// built in), label is liked / disliked / single-like / single-dislike for
// history items and "query" for targets, and bucket is how long before the
// target the item happened (AgeBucket; 0 for targets). With Config.PairDiff
// (the default) both history tokens of a comparison also get
// (LayerNorm(preferred) − LayerNorm(other))·W_pair, so the model knows which
// image beat which; the two sit in adjacent slots, liked then disliked.
//
// The context is [P_1..P_K ; history]: K learnable preference tokens shared
// by all users, then the history slots (padded to Config.MaxHistory, padding
// masked out). A pre-LN transformer (Config.Layers layers, Config.Heads heads,
// ReLU feed-forward, no biases in its dense layers) encodes the context with full attention among its
// tokens. There are no positional embeddings: a history is a set of units
// (comparisons and votes), ordered only by their recency buckets, so the
// encoding does not depend on the order of the units.
//
// Targets are read prefix-LM style: at every layer each target token attends
// to that layer's context keys and values and to itself, never to another
// target (the attention is block-diagonal over targets). So EncodeContext
// runs once per user and ScoreTargets scores any number of candidates
// against it, each costing a few small matrix products per layer; the score
// of a candidate does not depend on the others in the call. A final layer
// norm and a dense layer give two logits (s+, s-) per target; the score is
// s+ - s- and P(like) = softmax(s+, s-)[0]. With Config.BaseHidden > 0 (the
// default) a base head, a one-hidden-layer MLP over the target's own image
// and prompt embeddings, is added to s+: a non-personal utility that the
// history then corrects, so that little data is needed for what everyone
// shares.
//
// Two heads make that base score personal at the cost of one dot product
// per candidate (both on by default): the taste head maps the history's
// mean φ(preferred) − φ(other) to weights over the base features φ, and the
// group head reads each preference token as a group's taste (over φ and,
// with Config.GroupRaw, the normalised image itself) and weighs the groups
// by their exact posterior given the history's comparisons, a mixture of
// Bradley–Terry models (Config.GroupHead has the details).
//
// In TokenModePool the K tokens are chosen per user from a pool of
// Config.PoolSize by cosine similarity between learnable keys and the mean
// history token (a stop-gradient summary, as L2P's frozen query), and a
// key-matching loss pulls the chosen keys toward that summary.
//
// # Losses
//
// Training batches hold, per episode, one history and pairs of targets: the
// liked x+ and disliked x- of each comparison. PairLoss computes exactly
//
//	L_base = CE(s(x+), +) + CE(s(x-), -)
//	L_CP   = -log σ(s+(x+) - s+(x-)) - log σ(s-(x-) - s-(x+))
//	L      = L_base + λ·L_CP (+ PoolKeyWeight·L_key in pool mode)
//	         (+ GroupL2 · mean_k |raw group taste k|² with Config.GroupRaw)
//
// # Variables
//
// Params lists every variable (under the store scope Root); InitParams
// creates them from a seed on the host, so initial weights are the same on
// every backend. Variables under Root+"/pref" are the preference tokens: the
// only ones stage 2 of two-stage training updates.
//
// Only this package, train and scorer import GoMLX.
package model
