package model

import (
	"fmt"
	"time"

	"palate"
)

// Label says what a history slot holds. It is the input of the label
// embedding, so the values are part of every checkpoint: never renumber.
type Label int32

// Label values.
const (
	// LabelPad marks an empty history slot; it is the padding mask.
	LabelPad Label = 0
	// LabelLiked is the preferred image of a comparison.
	LabelLiked Label = 1
	// LabelDisliked is the other image of a comparison.
	LabelDisliked Label = 2
	// LabelSingleLike is an image liked on its own (a vote).
	LabelSingleLike Label = 3
	// LabelSingleDislike is an image disliked on its own (a vote).
	LabelSingleDislike Label = 4
	// LabelQuery marks a target, the image to be scored; it never appears in
	// a history.
	LabelQuery Label = 5
	// NumLabels is the size of the label embedding table.
	NumLabels = 6
)

// String names the label for logs.
func (l Label) String() string {
	switch l {
	case LabelPad:
		return "pad"
	case LabelLiked:
		return "liked"
	case LabelDisliked:
		return "disliked"
	case LabelSingleLike:
		return "single-like"
	case LabelSingleDislike:
		return "single-dislike"
	case LabelQuery:
		return "query"
	}
	return fmt.Sprintf("label(%d)", int32(l))
}

// ageBounds are the upper bounds of the recency buckets: bucket i holds ages
// below ageBounds[i]; the last bucket holds everything older.
var ageBounds = []time.Duration{
	time.Hour,
	6 * time.Hour,
	24 * time.Hour,
	3 * 24 * time.Hour,
	7 * 24 * time.Hour,
	30 * 24 * time.Hour,
	90 * 24 * time.Hour,
	365 * 24 * time.Hour,
	3 * 365 * 24 * time.Hour,
}

// AgeBucket maps how long before the target a history item happened to a
// recency bucket in [0, buckets): 0 is under an hour, then under 6 hours, a
// day, 3 days, a week, 30 days, 90 days, a year, 3 years; the last bucket
// holds everything older than the bucket before it. Negative ages count as
// 0. Training and scoring must both use it, so the embedding means the same.
func AgeBucket(age time.Duration, buckets int) int32 {
	if buckets <= 1 || age < 0 {
		return 0
	}
	for i, b := range ageBounds {
		if i >= buckets-1 {
			break
		}
		if age < b {
			return int32(i)
		}
	}
	return int32(buckets - 1)
}

// Batch is the host-side input of the model: B episodes, each with H history
// slots and T targets. All arrays are row-major and flat; a slot's image
// vector is HistImage[(b*H+h)*ImageDim : (b*H+h+1)*ImageDim].
//
// For training T is 2: target 0 is the liked image x+ and target 1 the
// disliked image x- of one comparison, both read against the same history.
// For scoring T is the number of candidates.
type Batch struct {
	// B, H and T are the number of episodes, history slots per episode and
	// targets per episode.
	B, H, T int
	// ImageDim and TextDim are the lengths of image and prompt embeddings.
	ImageDim, TextDim int

	// HistImage is [B, H, ImageDim]: each history slot's image embedding.
	HistImage []float32
	// HistText is [B, H, TextDim]: the embedding of the prompt the image
	// was made for.
	HistText []float32
	// HistLabel is [B, H]: a Label per slot. LabelPad marks an empty slot
	// and is the only padding mask: padded slots are never attended to.
	HistLabel []int32
	// HistRecency is [B, H]: each slot's recency bucket (see AgeBucket),
	// 0 = most recent.
	HistRecency []int32

	// TgtImage is [B, T, ImageDim]: each target's image embedding.
	TgtImage []float32
	// TgtText is [B, T, TextDim]: each target's prompt embedding. Targets
	// always have LabelQuery and recency bucket 0.
	TgtText []float32

	// Valid, if > 0, says only the first Valid episodes are real: the rest
	// pad the last batch of a fixed set (validation) and are not counted by
	// train.PairAccuracy. 0 means all B are real.
	Valid int
}

// NewBatch returns a zeroed batch: every history slot is padding.
func NewBatch(B, H, T, imageDim, textDim int) *Batch {
	return &Batch{
		B: B, H: H, T: T, ImageDim: imageDim, TextDim: textDim,
		HistImage:   make([]float32, B*H*imageDim),
		HistText:    make([]float32, B*H*textDim),
		HistLabel:   make([]int32, B*H),
		HistRecency: make([]int32, B*H),
		TgtImage:    make([]float32, B*T*imageDim),
		TgtText:     make([]float32, B*T*textDim),
	}
}

// SetHistory fills history slot h of episode b. A nil text leaves the prompt
// embedding zero.
func (bt *Batch) SetHistory(b, h int, image, text []float32, label Label, recency int32) {
	i := b*bt.H + h
	copy(bt.HistImage[i*bt.ImageDim:(i+1)*bt.ImageDim], image)
	clear(bt.HistText[i*bt.TextDim : (i+1)*bt.TextDim])
	copy(bt.HistText[i*bt.TextDim:(i+1)*bt.TextDim], text)
	bt.HistLabel[i] = int32(label)
	bt.HistRecency[i] = recency
}

// ClearHistory makes history slot h of episode b padding again.
func (bt *Batch) ClearHistory(b, h int) {
	i := b*bt.H + h
	clear(bt.HistImage[i*bt.ImageDim : (i+1)*bt.ImageDim])
	clear(bt.HistText[i*bt.TextDim : (i+1)*bt.TextDim])
	bt.HistLabel[i] = int32(LabelPad)
	bt.HistRecency[i] = 0
}

// SetTarget fills target t of episode b. A nil text leaves the prompt
// embedding zero.
func (bt *Batch) SetTarget(b, t int, image, text []float32) {
	i := b*bt.T + t
	copy(bt.TgtImage[i*bt.ImageDim:(i+1)*bt.ImageDim], image)
	clear(bt.TgtText[i*bt.TextDim : (i+1)*bt.TextDim])
	copy(bt.TgtText[i*bt.TextDim:(i+1)*bt.TextDim], text)
}

// Validate checks the array lengths and label and recency ranges against
// cfg, returning an EINVALID palate.Error that names the first bad field.
func (bt *Batch) Validate(cfg Config) error {
	bad := func(format string, args ...any) error {
		return palate.Errorf(palate.EINVALID, "model batch: "+format, args...)
	}
	if bt.B <= 0 || bt.H <= 0 || bt.T <= 0 {
		return bad("B=%d, H=%d, T=%d must all be > 0", bt.B, bt.H, bt.T)
	}
	if bt.ImageDim != cfg.ImageDim || bt.TextDim != cfg.TextDim {
		return bad("dims image=%d text=%d, model wants image=%d text=%d", bt.ImageDim, bt.TextDim, cfg.ImageDim, cfg.TextDim)
	}
	if bt.H != cfg.MaxHistory {
		return bad("H=%d history slots, model wants max_history=%d", bt.H, cfg.MaxHistory)
	}
	check := func(name string, got, want int) error {
		if got != want {
			return bad("len(%s)=%d, want %d", name, got, want)
		}
		return nil
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"HistImage", len(bt.HistImage), bt.B * bt.H * bt.ImageDim},
		{"HistText", len(bt.HistText), bt.B * bt.H * bt.TextDim},
		{"HistLabel", len(bt.HistLabel), bt.B * bt.H},
		{"HistRecency", len(bt.HistRecency), bt.B * bt.H},
		{"TgtImage", len(bt.TgtImage), bt.B * bt.T * bt.ImageDim},
		{"TgtText", len(bt.TgtText), bt.B * bt.T * bt.TextDim},
	} {
		if err := check(c.name, c.got, c.want); err != nil {
			return err
		}
	}
	for i, l := range bt.HistLabel {
		if l < 0 || l >= int32(LabelQuery) {
			return bad("HistLabel[%d]=%d is not a history label", i, l)
		}
	}
	for i, r := range bt.HistRecency {
		if r < 0 || int(r) >= cfg.RecencyBuckets {
			return bad("HistRecency[%d]=%d outside [0, %d)", i, r, cfg.RecencyBuckets)
		}
	}
	return nil
}
