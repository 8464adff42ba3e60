package scorer

import (
	"context"
	"math"
)

// Descriptor describes a person's taste for finding people with similar
// taste. All vectors are empty for a cold start (no history).
type Descriptor struct {
	// Attention is how the person's history attends to the preference
	// tokens (the paper's Figure 3): for each token, the attention weight
	// from the history items, averaged over heads, layers and items, then
	// L2-normalised. Length Config.DescriptorTokens() (the whole pool in
	// pool mode, unselected tokens 0); empty when the model has K = 0.
	Attention []float32
	// Tokens are the preference tokens after encoding with this history,
	// flattened [DescriptorTokens × DModel]; empty when K = 0.
	Tokens []float32
	// Groups is the group head's posterior over the preference tokens read
	// as groups of people (model.Config.GroupHead): which group tastes
	// explain the history's choices. Length Config.DescriptorTokens();
	// empty without the group head.
	Groups []float32
	// HistoryMean is the mean encoded history item, [DModel]: a descriptor
	// that exists even with K = 0.
	HistoryMean []float32
	// ColdStart is true when the history was empty.
	ColdStart bool
	// Items is the number of history items used.
	Items int
}

// Descriptor encodes a history and returns its descriptors. The model has
// no positional embeddings, so the encoding is the same for every order of
// the history: averaging over several random orders, as the paper does for
// its LLM, would only repeat the same numbers (a test checks this
// invariance), and Descriptor encodes once.
func (s *Scorer) Descriptor(ctx context.Context, history []HistoryItem) (*Descriptor, error) {
	c, err := s.Context(ctx, history)
	if err != nil {
		return nil, err
	}
	return c.Descriptor(), nil
}

// Descriptor returns the descriptors of an encoded history.
func (c *Context) Descriptor() *Descriptor {
	d := &Descriptor{ColdStart: c.ColdStart, Items: c.Items}
	if c.ColdStart {
		return d
	}
	d.HistoryMean = append([]float32(nil), c.histMean...)
	if c.attn != nil {
		H := len(c.labels)
		k := len(c.attn) / H
		att := make([]float64, k)
		for h, l := range c.labels {
			if l == 0 {
				continue
			}
			for j := range k {
				att[j] += float64(c.attn[h*k+j])
			}
		}
		d.Attention = make([]float32, k)
		var norm float64
		for j := range att {
			norm += att[j] * att[j]
		}
		if norm > 0 {
			inv := 1 / math.Sqrt(norm)
			for j := range att {
				d.Attention[j] = float32(att[j] * inv)
			}
		}
		d.Tokens = append([]float32(nil), c.states...)
	}
	d.Groups = append([]float32(nil), c.groups...)
	return d
}

// Vector returns the descriptor used to compare people: the attention on
// the preference tokens, or the mean encoded history when the model has no
// preference tokens.
func (d *Descriptor) Vector() []float32 {
	if len(d.Attention) > 0 {
		return d.Attention
	}
	return d.HistoryMean
}
