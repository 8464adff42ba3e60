package onnx

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"palate"
	"palate/onnx/onnxtest"
)

// clipTokenizer is a tokenizer.json in the layout of CLIP's (openai/
// clip-vit-base-patch32): NFC, whitespace folding and lowercasing, CLIP's
// split pattern, byte-level mapping, BPE with the "</w>" end-of-word
// suffix, <|startoftext|> and <|endoftext|> around every prompt. Its
// vocabulary is tiny: by the merges, "red" is one token, "fox" one, "cat"
// two ("ca" "t</w>") and "a" one.
const clipTokenizer = `{
 "version": "1.0", "truncation": null, "padding": null,
 "added_tokens": [
  {"id": 0, "content": "<|startoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true},
  {"id": 1, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
 ],
 "normalizer": {"type": "Sequence", "normalizers": [
  {"type": "NFC"},
  {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
  {"type": "Lowercase"}
 ]},
 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
  {"type": "Split", "pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"}, "behavior": "Removed", "invert": true},
  {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}
 ]},
 "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", 1], "cls": ["<|startoftext|>", 0], "trim_offsets": false, "add_prefix_space": false},
 "decoder": {"type": "BPEDecoder", "suffix": "</w>"},
 "model": {"type": "BPE", "dropout": null, "unk_token": "<|endoftext|>", "continuing_subword_prefix": "", "end_of_word_suffix": "</w>", "fuse_unk": false, "byte_fallback": false,
  "vocab": {"<|startoftext|>": 0, "<|endoftext|>": 1, "a": 2, "c": 3, "d": 4, "e": 5, "f": 6, "o": 7, "r": 8, "t": 9, "x": 10,
   "a</w>": 11, "d</w>": 12, "t</w>": 13, "x</w>": 14, "re": 15, "red</w>": 16, "fo": 17, "fox</w>": 18, "ca": 19},
  "merges": ["r e", "re d</w>", "f o", "fo x</w>", "c a"]}
}`

const (
	vocab   = 20
	textLen = 8
	textDim = 5
)

// tinyText is a text model: token embeddings (Gather), a linear map, and the
// hidden states multiplied by the attention mask, so a wrong mask shows.
type tinyText struct{ emb, w []float32 }

func newTinyText() *tinyText {
	r := rand.New(rand.NewPCG(5, 5))
	t := &tinyText{emb: make([]float32, vocab*textDim), w: make([]float32, textDim*textDim)}
	for i := range t.emb {
		t.emb[i] = float32(r.NormFloat64())
	}
	for i := range t.w {
		t.w[i] = float32(r.NormFloat64())
	}
	return t
}

func (m *tinyText) write(t *testing.T, dir string) string {
	t.Helper()
	g := onnxtest.New("tiny-text")
	g.Input("input_ids", onnxtest.Int64, -1, textLen)
	g.Input("attention_mask", onnxtest.Int64, -1, textLen)
	g.Weight("emb", m.emb, vocab, textDim)
	g.Weight("w", m.w, textDim, textDim)
	g.Ints("axes", []int64{2}, 1)
	g.Node("Gather", []string{"emb", "input_ids"}, []string{"e"}, map[string]any{"axis": 0})
	g.Node("MatMul", []string{"e", "w"}, []string{"h"}, nil)
	g.Node("Cast", []string{"attention_mask"}, []string{"mf"}, map[string]any{"to": onnxtest.Float})
	g.Node("Unsqueeze", []string{"mf", "axes"}, []string{"m3"}, nil)
	g.Node("Mul", []string{"h", "m3"}, []string{"last_hidden_state"}, nil)
	g.Output("last_hidden_state", -1, textLen, textDim)
	path := filepath.Join(dir, "text.onnx")
	if err := g.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "tokenizer.json", clipTokenizer)
	return path
}

// hidden is the model's output at one token, in plain loops.
func (m *tinyText) hidden(id int) []float32 {
	out := make([]float32, textDim)
	for k := range textDim {
		var s float64
		for j := range textDim {
			s += float64(m.emb[id*textDim+j]) * float64(m.w[j*textDim+k])
		}
		out[k] = float32(s)
	}
	return out
}

func TestTokenizeCLIP(t *testing.T) {
	dir := t.TempDir()
	path := newTinyText().write(t, dir)
	e, err := OpenText(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]int{
		"A red CAT":           {0, 11, 16, 19, 13, 1},
		"  red\tfox ":         {0, 16, 18, 1},
		"red fox a cat a red": {0, 16, 18, 11, 19, 13, 11, 1}, // cut to 8, the end token kept
		"":                    {0, 1},
	}
	for in, want := range tests {
		if got := e.Tokenize(in); !slices.Equal(got, want) {
			t.Errorf("Tokenize(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestTextEncoderMatchesReference(t *testing.T) {
	dir := t.TempDir()
	m := newTinyText()
	path := m.write(t, dir)
	e, err := OpenText(path, Options{BatchSizes: []int{1, 2}, Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "onnx-text" || e.Dim() != textDim {
		t.Fatalf("name %q dim %d", e.Name(), e.Dim())
	}
	prompts := []string{"a red cat", "fox", "red fox", ""}
	got, err := e.EmbedTexts(context.Background(), prompts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prompts {
		ids := e.Tokenize(p)
		want := unit(m.hidden(ids[len(ids)-1])) // "eos": the last real token
		if p == "" {
			want = make([]float32, textDim)
		}
		near(t, p, got[i], want, 1e-5)
	}
	near(t, "EmbedText", e.EmbedText("fox"), got[1], 1e-6)
	if e.Err() != nil {
		t.Fatal(e.Err())
	}

	// Mean over real tokens, not normalised: the mask must zero the padding.
	mean, err := OpenText(path, Options{TextConfig: &TextConfig{Name: "t-mean", Pool: "mean", Normalize: new(bool)}})
	if err != nil {
		t.Fatal(err)
	}
	v := mean.EmbedText("red fox")
	want := make([]float32, textDim)
	ids := mean.Tokenize("red fox")
	for _, id := range ids {
		for k, x := range m.hidden(id) {
			want[k] += x / float32(len(ids))
		}
	}
	near(t, "mean", v, want, 1e-5)
	if math.Abs(float64(v[0])) < 1e-9 {
		t.Fatal("mean pooled vector is zero")
	}
}

func TestOpenTextErrors(t *testing.T) {
	dir := t.TempDir()
	path := newTinyText().write(t, dir)
	tests := map[string]struct {
		path string
		opts Options
		code string
		want string
	}{
		"missing tokenizer": {path, Options{TextConfig: &TextConfig{Tokenizer: "nope.json"}}, palate.ENOTFOUND, "nope.json"},
		"bad tokenizer":     {path, Options{TextConfig: &TextConfig{Tokenizer: writeFile(t, dir, "bad.json", "{")}}, palate.EINVALID, "tokenizer"},
		"length mismatch":   {path, Options{TextConfig: &TextConfig{MaxLength: 77}}, palate.EINVALID, "max_length is 77"},
		"bad pad":           {path, Options{TextConfig: &TextConfig{PadToken: "[PAD]"}}, palate.EINVALID, `pad_token "[PAD]"`},
		"missing model":     {filepath.Join(dir, "none.onnx"), Options{}, palate.ENOTFOUND, "does not exist"},
		"no such input":     {path, Options{TextConfig: &TextConfig{InputIDs: "ids"}}, palate.EINVALID, `no input "ids"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := OpenText(tc.path, tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if palate.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q (%s); want %s containing %q", err, palate.ErrorCode(err), tc.code, tc.want)
			}
		})
	}
}

// Interface checks.
var (
	_ palate.Embedder     = (*Embedder)(nil)
	_ palate.TextEmbedder = (*TextEncoder)(nil)
)

// onnxtest's character tokenizer and text model open as a text encoder
// that tells prompts apart (what the CLI tests train with).
func TestCharTokenizerTextModel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "text.onnx")
	if err := onnxtest.TextModel(onnxtest.CharVocab, 16, 6, 1).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "tokenizer.json", string(onnxtest.CharTokenizer()))
	e, err := OpenText(path, Options{TextConfig: &TextConfig{Name: "chars", Pool: "mean"}})
	if err != nil {
		t.Fatal(err)
	}
	// "ab c!": start, a, b</w>, c</w>, unknown "!" as end-of-text, end.
	if got, want := e.Tokenize("Ab c!"), []int{0, 2, 2 + 36 + 1, 2 + 36 + 2, 1, 1}; !slices.Equal(got, want) {
		t.Fatalf("Tokenize = %v, want %v", got, want)
	}
	a, b := e.EmbedText("a red fox"), e.EmbedText("a blue cat")
	if e.Err() != nil || len(a) != 6 || slices.Equal(a, b) {
		t.Fatalf("vectors %v and %v (err %v); want two different 6-vectors", a, b, e.Err())
	}
}
