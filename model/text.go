package model

import (
	"palate"
	"palate/features"
)

// TextEmbedder turns a prompt into a fixed-length vector, the text half of
// every token; see palate.TextEmbedder.
type TextEmbedder = palate.TextEmbedder

// HashBOW is the built-in prompt embedder "hashbow-v1", which lives in
// package features (it needs no machine-learning library).
type HashBOW = features.HashBOW

// HashBOWName is the name of the built-in hashed bag-of-words embedder.
const HashBOWName = features.HashBOWName

// NewHashBOW returns the hashbow-v1 embedder with dimension dim (64 when
// dim <= 0).
func NewHashBOW(dim int) HashBOW { return features.NewHashBOW(dim) }
