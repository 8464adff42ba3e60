// Package palate holds the domain of the palate taste engine: the images,
// comparisons and votes people make, the embeddings that stand for images, the
// small interfaces between parts, and the one error type every part returns.
//
// palate learns each person's visual taste for generated images from what they
// liked, disliked and picked, re-implementing the method of "Learning User
// Preferences for Image Generation Models" (arXiv 2508.08220) at CPU scale.
// This package imports only the standard library; technologies live in
// sub-packages named after them (sqlite, features, model, ...).
package palate

import (
	"context"
	"image"
	"time"
)

// Image is a picture known to palate. Path is relative to a dataset directory
// and empty when only an embedding of the image exists.
type Image struct {
	ID     string `json:"id"`
	Prompt string `json:"prompt"`
	Path   string `json:"path,omitempty"`
}

// Comparison is one Pick-a-Pic style choice: a person saw two images made for
// the same prompt and picked one. Label0 is 1 when Image0 was preferred, 0 when
// Image1 was, and 0.5 for a tie.
type Comparison struct {
	ID     string    `json:"id"`
	User   string    `json:"user"`
	Prompt string    `json:"prompt"`
	Image0 string    `json:"image_0"`
	Image1 string    `json:"image_1"`
	Label0 float64   `json:"label_0"`
	Time   time.Time `json:"time"`
}

// Winner returns the preferred and the other image id, and false for a tie.
func (c Comparison) Winner() (win, lose string, ok bool) {
	switch c.Label0 {
	case 1:
		return c.Image0, c.Image1, true
	case 0:
		return c.Image1, c.Image0, true
	}
	return "", "", false
}

// Vote values.
const (
	Like    = "like"
	Dislike = "dislike"
)

// Vote is a single like or dislike of one image by one person.
type Vote struct {
	ID    string    `json:"id"`
	User  string    `json:"user"`
	Image string    `json:"image"`
	Vote  string    `json:"vote"`
	Time  time.Time `json:"time"`
}

// Liked reports whether the vote is a like.
func (v Vote) Liked() bool { return v.Vote == Like }

// Embeddings is a table of fixed-length vectors, one per image, made by one
// embedder. Row i of Data (Dim floats starting at i*Dim) belongs to IDs[i].
type Embeddings struct {
	Embedder string    `json:"embedder"`
	Version  string    `json:"version"`
	Dim      int       `json:"dimension"`
	IDs      []string  `json:"ids"`
	Data     []float32 `json:"-"`
}

// MaxEmbeddingValue bounds the magnitude of every embedding value: stored
// and sent vectors must hold finite numbers under it (EmbeddingValueOK).
// Larger values, though finite in float32, overflow the squares and
// products of a model's arithmetic (3e38 is finite, its square is not);
// real encoders' values are many orders of magnitude smaller.
const MaxEmbeddingValue = 1 << 20

// EmbeddingValueOK reports whether x is finite and under MaxEmbeddingValue
// in magnitude.
func EmbeddingValueOK(x float32) bool { return x > -MaxEmbeddingValue && x < MaxEmbeddingValue }

// Row returns the vector of row i; it aliases Data.
func (e *Embeddings) Row(i int) []float32 { return e.Data[i*e.Dim : (i+1)*e.Dim] }

// Index maps image ids to rows.
func (e *Embeddings) Index() map[string]int {
	m := make(map[string]int, len(e.IDs))
	for i, id := range e.IDs {
		m[id] = i
	}
	return m
}

// Embedder turns an image into a fixed-length vector. Implementations are safe
// for concurrent use.
type Embedder interface {
	// Name is the embedder's stable name, e.g. "pixels-v3"; it names the
	// embeddings file and is checked against a model's checkpoint.
	Name() string
	// Dim is the length of every vector Embed returns.
	Dim() int
	// Embed returns the image's vector. Returns EINVALID for an image it
	// cannot read.
	Embed(ctx context.Context, img image.Image) ([]float32, error)
}

// TextEmbedder turns a prompt into a fixed-length vector. Training and
// scoring must use the same one; its name and dimension are saved with every
// model. Implementations are safe for concurrent use.
type TextEmbedder interface {
	// Name is the embedder's stable name, e.g. "hashbow-v1".
	Name() string
	// Dim is the length of every vector EmbedText returns.
	Dim() int
	// EmbedText returns the prompt's vector; an empty prompt gives zeros.
	EmbedText(prompt string) []float32
}
