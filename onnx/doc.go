// Package onnx runs image and text encoders exported to ONNX (CLIP's or
// SigLIP's vision and text towers, a ResNet, a sentence encoder) as palate
// embedders, in pure Go: no Python, no cgo, no ONNX Runtime.
//
// Open loads an image encoder with its preprocessing, read from a small JSON
// sidecar next to the model (vision.onnx.json for vision.onnx, see Config):
// input size, resize mode (shortest side + centre crop, or squash),
// interpolation, per-channel mean and std, channel order and layout. The
// embedder's name (which names the embeddings table) comes from the sidecar
// or is "onnx-" and the file's base name: the table name is a file name, so
// it cannot hold the ':' of the CLI's "onnx:PATH". Vectors are L2-normalised
// unless the sidecar says "normalize": false. For CLIP ViT-B/32's vision
// tower the sidecar is
//
//	{"name": "clip-vit-b32", "preset": "clip"}
//
// which means 224×224, bicubic, shortest side resized then centre-cropped,
// RGB, NCHW, mean (0.48145466, 0.4578275, 0.40821073) and std (0.26862954,
// 0.26130258, 0.27577711). OpenText loads a text encoder with its
// HuggingFace tokenizer.json (see TextConfig).
//
// Both run batched, a few batches at once, and are safe for concurrent use.
// The graph compiles once per batch size, on first use; calls of any size are
// cut into batches of those sizes and the last one padded. Version
// fingerprints the model file and preprocessing, so Check catches vectors
// made by another model under the same name.
//
// # Why onnx-gomlx
//
// The graph runs through github.com/gomlx/onnx-gomlx v0.5.2, which converts
// an ONNX graph into a GoMLX graph, on the same pure-Go backend (and
// GOEXPERIMENT=simd matrix kernels) that trains palate's model. v0.5.2 is
// the newest release that builds against GoMLX v0.28.2 (it asks for
// v0.28.1; v0.5.3 and later require a newer GoMLX). It covers the operators
// of ViT and CLIP exports (Conv, MatMul, Gemm, Softmax, LayerNormalization,
// Gelu, Erf, attention ops, ...) and names any operator it lacks, which Open
// reports as EINVALID. Alternatives looked at: github.com/knights-analytics/hugot
// (pure-Go backend) is built on GoMLX v0.26.0 and would pull the whole
// module back; github.com/advancedclimatesystems/gonnx v1.1.0 interprets
// the graph op by op on gonum (about 8× slower on a BERT encoder by
// onnx-gomlx's authors' measure) and lacks operators CLIP exports use
// (ReduceMean, Pow, Sqrt, Erf, LayerNormalization, GlobalAveragePool); ONNX
// Runtime needs cgo.
// Tokenizers come from github.com/gomlx/go-huggingface's hftokenizer (pure
// Go, BPE with CLIP's end-of-word suffix, WordPiece, Unigram), already a
// dependency of onnx-gomlx.
//
// The Go backend (compute v0.1.2) runs convolutions with a generic loop, so
// Open rewrites a ViT's patch embedding (a Conv on the image whose kernel
// equals its stride) into Reshape, Transpose and MatMul, which compute the
// same values about ten times faster; other convolutions (a ResNet's) run
// as they are, slowly. Throughput is in docs/BENCHMARKS.md.
//
// This package is the one place outside model, train and scorer that
// imports GoMLX: the runtime is GoMLX itself.
package onnx
