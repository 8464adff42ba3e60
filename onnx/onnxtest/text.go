package onnxtest

import (
	"encoding/json"
	"math/rand/v2"
)

// CharTokenizer returns a tokenizer.json in the layout of CLIP's
// (lowercasing, CLIP's split pattern, byte-level BPE with the "</w>"
// end-of-word suffix, <|startoftext|> and <|endoftext|> around every
// prompt) whose vocabulary is the letters and digits alone and has no
// merges: every word becomes one token per character, and any other
// character the unknown token <|endoftext|>. Its vocabulary size is
// CharVocab.
func CharTokenizer() []byte {
	vocab := map[string]int{"<|startoftext|>": 0, "<|endoftext|>": 1}
	for _, suffix := range []string{"", "</w>"} {
		for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789" {
			vocab[string(c)+suffix] = len(vocab)
		}
	}
	special := func(id int, s string) map[string]any {
		return map[string]any{"id": id, "content": s, "single_word": false, "lstrip": false, "rstrip": false, "normalized": id == 0, "special": true}
	}
	tok := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens": []any{special(0, "<|startoftext|>"), special(1, "<|endoftext|>")},
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "NFC"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": `\s+`}, "content": " "},
			map[string]any{"type": "Lowercase"},
		}},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`}, "behavior": "Removed", "invert": true},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}},
		"post_processor": map[string]any{"type": "RobertaProcessing", "sep": []any{"<|endoftext|>", 1}, "cls": []any{"<|startoftext|>", 0}, "trim_offsets": false, "add_prefix_space": false},
		"decoder":        map[string]any{"type": "BPEDecoder", "suffix": "</w>"},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": "<|endoftext|>", "continuing_subword_prefix": "", "end_of_word_suffix": "</w>",
			"fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": []string{}},
	}
	b, err := json.MarshalIndent(tok, "", " ")
	if err != nil {
		panic(err) // only maps, strings and numbers
	}
	return b
}

// CharVocab is the vocabulary size of CharTokenizer.
const CharVocab = 2 + 2*36

// TextModel is a tiny text encoder: random token embeddings (Gather), a
// linear map and the hidden states times the attention mask. It has inputs
// "input_ids" and "attention_mask" (int64 [batch, length]) and output
// "last_hidden_state" ([batch, length, dim]); different seeds give
// different weights.
func TextModel(vocab, length, dim int, seed uint64) *Graph {
	r := rand.New(rand.NewPCG(seed, seed))
	normal := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	g := New("tiny-text")
	g.Input("input_ids", Int64, -1, length)
	g.Input("attention_mask", Int64, -1, length)
	g.Weight("emb", normal(vocab*dim), vocab, dim)
	g.Weight("w", normal(dim*dim), dim, dim)
	g.Ints("axes", []int64{2}, 1)
	g.Node("Gather", []string{"emb", "input_ids"}, []string{"e"}, map[string]any{"axis": 0})
	g.Node("MatMul", []string{"e", "w"}, []string{"h"}, nil)
	g.Node("Cast", []string{"attention_mask"}, []string{"mf"}, map[string]any{"to": Float})
	g.Node("Unsqueeze", []string{"mf", "axes"}, []string{"m3"}, nil)
	g.Node("Mul", []string{"h", "m3"}, []string{"last_hidden_state"}, nil)
	g.Output("last_hidden_state", -1, length, dim)
	return g
}
