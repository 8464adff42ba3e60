package features

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// HashBOWName is the name of the built-in hashed bag-of-words embedder.
const HashBOWName = "hashbow-v1"

// HashBOW is the built-in prompt embedder "hashbow-v1": signed feature
// hashing of the lowercased word unigrams and bigrams, L2-normalised. Words
// are maximal runs of letters and digits. It needs no model file, is
// deterministic across runs and machines, and gives prompts that share words
// nearby vectors, which is all the model needs to tell prompts apart.
type HashBOW struct {
	// D is the output dimension (64 unless set).
	D int
}

// NewHashBOW returns the hashbow-v1 embedder with dimension dim (64 when
// dim <= 0).
func NewHashBOW(dim int) HashBOW {
	if dim <= 0 {
		dim = 64
	}
	return HashBOW{D: dim}
}

// Name implements palate.TextEmbedder.
func (h HashBOW) Name() string { return HashBOWName }

// Dim implements palate.TextEmbedder.
func (h HashBOW) Dim() int {
	if h.D <= 0 {
		return 64
	}
	return h.D
}

// EmbedText implements palate.TextEmbedder.
func (h HashBOW) EmbedText(prompt string) []float32 {
	dim := h.Dim()
	out := make([]float32, dim)
	words := strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	add := func(feature string) {
		f := fnv.New64a()
		_, _ = f.Write([]byte(feature))
		v := f.Sum64()
		i := int(v % uint64(dim))
		if v>>63 == 1 {
			out[i]--
		} else {
			out[i]++
		}
	}
	for i, w := range words {
		add(w)
		if i > 0 {
			add(words[i-1] + " " + w)
		}
	}
	var n float64
	for _, x := range out {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		inv := float32(1 / math.Sqrt(n))
		for i := range out {
			out[i] *= inv
		}
	}
	return out
}
