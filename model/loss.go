package model

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	mlm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Losses are the scalar training losses of one batch, each a mean over its
// episodes, and the batch's pairwise accuracy.
type Losses struct {
	// Total is what training minimises: Base + Lambda*CP + PoolKeyWeight*Key.
	Total *Node
	// Base is L_base = CE(s(x+), +) + CE(s(x-), -).
	Base *Node
	// CP is L_CP = -log σ(s+(x+) - s+(x-)) - log σ(s-(x-) - s-(x+)).
	CP *Node
	// Key is the pool mode's key-matching loss (0 in fixed mode).
	Key *Node
	// Accuracy is the fraction of episodes whose liked target scores above
	// the disliked one (ties count half).
	Accuracy *Node
}

// PairLoss computes the paper's losses from logits [B, 2, 2]: logits[b, 0]
// are (s+, s-) of the liked target x+, logits[b, 1] those of the disliked
// target x-, both read against the same history. With s(x) the two logits
// and CE the 2-class cross-entropy after softmax,
//
//	L_base = CE(s(x+), +) + CE(s(x-), -)
//	L_CP   = -log σ(s+(x+) - s+(x-)) - log σ(s-(x-) - s-(x+))
//
// both averaged over the batch. smoothing is label smoothing for CE (0 =
// none): the true class gets 1-smoothing, the other smoothing.
func PairLoss(logits *Node, smoothing float64) (base, cp *Node) {
	if logits.Rank() != 3 || logits.Shape().Dim(1) != 2 || logits.Shape().Dim(2) != 2 {
		exceptions.Panicf("model.PairLoss: logits must be [B, 2, 2], got %s", logits.Shape())
	}
	at := func(t, c int) *Node {
		return Reshape(Slice(logits, AxisRange(), AxisElem(t), AxisElem(c)), logits.Shape().Dim(0))
	}
	spPos, smPos := at(0, 0), at(0, 1) // s+(x+), s-(x+)
	spNeg, smNeg := at(1, 0), at(1, 1) // s+(x-), s-(x-)
	// CE of 2-class softmax with true-class margin m = s_true - s_other:
	// -log softmax = softplus(-m).
	ce := func(margin *Node) *Node {
		loss := Softplus(Neg(margin))
		if smoothing > 0 {
			loss = Add(MulScalar(loss, 1-smoothing), MulScalar(Softplus(margin), smoothing))
		}
		return loss
	}
	basePer := Add(ce(Sub(spPos, smPos)), ce(Sub(smNeg, spNeg)))
	// -log σ(z) = softplus(-z).
	cpPer := Add(Softplus(Sub(spNeg, spPos)), Softplus(Sub(smPos, smNeg)))
	return ReduceAllMean(basePer), ReduceAllMean(cpPer)
}

// PairAccuracy is the fraction of episodes of logits [B, 2, 2] whose liked
// target (index 0) has the higher score s+ - s-; ties count half.
func PairAccuracy(logits *Node) *Node {
	s := Score(logits) // [B, 2]
	B := logits.Shape().Dim(0)
	pos := Reshape(SliceAxis(s, 1, AxisElem(0)), B)
	neg := Reshape(SliceAxis(s, 1, AxisElem(1)), B)
	win := ConvertDType(GreaterThan(pos, neg), dtypes.Float32)
	tie := ConvertDType(Equal(pos, neg), dtypes.Float32)
	return ReduceAllMean(Add(win, MulScalar(tie, 0.5)))
}

// TrainLosses runs the whole model on a training batch and returns its
// losses. The batch's T targets are T/2 pairs read against the same history,
// each liked then disliked (x+_1, x-_1, x+_2, x-_2, ...): targets never
// attend to each other, so P pairs per history are P independent episodes
// that share one encoding of the history, P times the training signal for
// little more compute. Total includes the group penalty (Config.GroupL2).
// training turns dropout on.
func TrainLosses(scope *mlm.Scope, cfg Config, in Inputs, training bool) Losses {
	T := in.TgtImage.Shape().Dim(1)
	if T < 2 || T%2 != 0 {
		exceptions.Panicf("model.TrainLosses: want an even number of targets (pairs of x+, x-), got %s", in.TgtImage.Shape())
	}
	logits, enc := Forward(scope, cfg, in, training)
	logits = Reshape(logits, logits.Shape().Dim(0)*T/2, 2, 2)
	base, cp := PairLoss(logits, cfg.LabelSmoothing)
	total := Add(base, MulScalar(cp, cfg.Lambda))
	total = Add(total, groupPenalty(scope, cfg, logits.Graph()))
	key := ScalarZero(logits.Graph(), dtypes.Float32)
	if enc.KeyLoss != nil {
		key = enc.KeyLoss
		total = Add(total, MulScalar(key, cfg.PoolKeyWeight))
	}
	return Losses{Total: total, Base: base, CP: cp, Key: key, Accuracy: PairAccuracy(logits)}
}

// BaseLosses trains the base head alone, as a non-personal Bradley–Terry
// scorer: for each target pair of the batch (liked, disliked, as in
// TrainLosses) the loss is -log σ(u(x+) - u(x-)) with u the base score
// φ(x)·w2, whoever's the history is. It reads only the targets, so a step
// costs a small MLP, not the transformer. Training starts with it (train's
// base stage) so that the transformer and the taste head learn what a
// person adds to a non-personal score that is already fitted, instead of
// fitting both at once from a random start. Under cfg.BasePersonal u also
// has the taste and group heads' φ(x)·t(history), still without the
// transformer, and the loss carries the group penalty (Config.GroupL2).
// CP and Key are zero; Base is Total. Needs cfg.BaseHidden > 0.
func BaseLosses(scope *mlm.Scope, cfg Config, in Inputs, training bool) Losses {
	if cfg.BaseHidden <= 0 {
		exceptions.Panicf("model.BaseLosses: the config has no base head (base_hidden = %d)", cfg.BaseHidden)
	}
	T := in.TgtImage.Shape().Dim(1)
	if T < 2 || T%2 != 0 {
		exceptions.Panicf("model.BaseLosses: want an even number of targets (pairs of x+, x-), got %s", in.TgtImage.Shape())
	}
	g := in.TgtImage.Graph()
	imgN := normImage(scope, cfg, in.TgtImage)
	h := baseFeatures(scope, cfg, imgN, in.TgtText, training)
	u := dense(h, param(scope, g, "base/w2"), nil) // [B, T, 1]
	B := u.Shape().Dim(0)
	if cfg.BasePersonal && cfg.Personal() {
		var tokens *Node
		if cfg.groupHead() && cfg.TokenMode == TokenModeFixed {
			tokens, _, _ = prefTokens(scope, cfg, in.HistImage, nil)
		}
		head, _ := pairSlots(in.HistLabel)
		taste, _ := historyTaste(scope, cfg, normImage(scope, cfg, in.HistImage), in.HistText, head, tokens, nil, training)
		if taste != nil {
			u = Add(u, InsertAxes(personalScore(h, imgN, taste), -1))
		}
	}
	u = Reshape(u, B*T/2, 2)
	margin := Sub(SliceAxis(u, 1, AxisElem(0)), SliceAxis(u, 1, AxisElem(1)))
	loss := ReduceAllMean(Softplus(Neg(margin)))
	if cfg.BasePersonal {
		loss = Add(loss, groupPenalty(scope, cfg, g))
	}
	win := ConvertDType(GreaterThan(margin, ScalarZero(g, dtypes.Float32)), dtypes.Float32)
	tie := ConvertDType(Equal(margin, ScalarZero(g, dtypes.Float32)), dtypes.Float32)
	zero := ScalarZero(g, dtypes.Float32)
	return Losses{Total: loss, Base: loss, CP: zero, Key: zero, Accuracy: ReduceAllMean(Add(win, MulScalar(tie, 0.5)))}
}
