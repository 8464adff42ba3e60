package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"palate"
)

// Resize modes of a vision Config.
const (
	// ResizeCrop scales the shorter side to the input size and cuts the
	// centre out (CLIP, SigLIP and most ViT exports).
	ResizeCrop = "crop"
	// ResizeSquash scales both sides to the input size, changing the
	// aspect ratio.
	ResizeSquash = "squash"
)

// CLIP's preprocessing: ViT-B/32 and its siblings were trained on 224×224
// bicubic centre crops normalised with these per-channel values.
var (
	CLIPMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// Config is the preprocessing of a vision model: the JSON sidecar
// PATH.json next to PATH (vision.onnx.json for vision.onnx), for example
//
//	{"name": "clip-vit-b32", "preset": "clip", "output": "image_embeds"}
//
// Every field is optional and unknown fields are an error. Pixels are read
// as RGB in [0, 1], then v = (x - mean) / std per channel.
type Config struct {
	// Preset fills the fields left unset: "clip" is 224×224, crop,
	// bicubic, RGB, NCHW and CLIPMean / CLIPStd.
	Preset string `json:"preset,omitempty"`
	// Name is the embedder's name, which names the embeddings table
	// ("onnx-" and the model file's base name when empty).
	Name string `json:"name,omitempty"`
	// Input and Output name the graph input and output to use; empty means
	// the graph's only input and its first output.
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	// Size is the input [height, width], or one number for a square; zero
	// takes it from the graph when the graph fixes it.
	Size Size `json:"size,omitempty"`
	// Mean and Std normalise each channel, in the order of Channels
	// (defaults: 0 and 1).
	Mean *[3]float32 `json:"mean,omitempty"`
	Std  *[3]float32 `json:"std,omitempty"`
	// Resize is ResizeCrop (default) or ResizeSquash.
	Resize string `json:"resize,omitempty"`
	// Interpolation is "bicubic" (default) or "bilinear".
	Interpolation string `json:"interpolation,omitempty"`
	// Channels is "rgb" (default) or "bgr".
	Channels string `json:"channels,omitempty"`
	// Layout is "nchw" (default) or "nhwc".
	Layout string `json:"layout,omitempty"`
	// Pool reduces an output of shape [batch, tokens, dim]: "first" (the
	// class token) or "mean". Outputs [batch, dim] and [batch, dim, 1, 1]
	// need none.
	Pool string `json:"pool,omitempty"`
	// Normalize, when not false, scales every vector to unit length.
	Normalize *bool `json:"normalize,omitempty"`
}

// Size is [height, width]; in JSON one number (square) or two.
type Size [2]int

// UnmarshalJSON accepts 224 or [224, 224].
func (s *Size) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*s = Size{n, n}
		return nil
	}
	var hw []int
	if err := json.Unmarshal(b, &hw); err != nil || len(hw) != 2 {
		return fmt.Errorf("size: want a number or [height, width], got %s", b)
	}
	*s = Size{hw[0], hw[1]}
	return nil
}

// IsZero reports whether the size is unset (for omitempty).
func (s Size) IsZero() bool { return s == Size{} }

// TextConfig is the setup of a text model: the sidecar PATH.json next to
// the text model, for example
//
//	{"name": "clip-text", "tokenizer": "tokenizer.json", "output": "text_embeds"}
//
// Every field is optional and unknown fields are an error.
type TextConfig struct {
	// Name is the embedder's name ("onnx-" and the file's base name).
	Name string `json:"name,omitempty"`
	// Tokenizer is the HuggingFace tokenizer.json, relative to the model's
	// directory ("tokenizer.json").
	Tokenizer string `json:"tokenizer,omitempty"`
	// MaxLength is the token sequence length fed to the model, special
	// tokens included; longer prompts are cut (the graph's length when it
	// fixes one, else 77, CLIP's context).
	MaxLength int `json:"max_length,omitempty"`
	// PadToken pads short sequences (the tokenizer's padding token, else
	// "<|endoftext|>" when the vocabulary has it, else id 0).
	PadToken string `json:"pad_token,omitempty"`
	// InputIDs and AttentionMask name the graph inputs ("input_ids", and
	// "attention_mask" when the graph has an input of that name).
	InputIDs      string `json:"input_ids,omitempty"`
	AttentionMask string `json:"attention_mask,omitempty"`
	// Output names the graph output (the first).
	Output string `json:"output,omitempty"`
	// Pool reduces an output of shape [batch, tokens, dim]: "eos" (the last
	// real token, as CLIP does), "first" or "mean" (over real tokens).
	Pool string `json:"pool,omitempty"`
	// Normalize, when not false, scales every vector to unit length.
	Normalize *bool `json:"normalize,omitempty"`
}

// SidecarPath is where a model's config is looked for: PATH.json.
func SidecarPath(model string) string { return model + ".json" }

// ReadConfig reads a vision sidecar. Returns ENOTFOUND when path does not
// exist and EINVALID naming the file and field for bad JSON.
func ReadConfig(path string) (*Config, error) {
	var c Config
	if err := readJSON(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// ReadTextConfig reads a text sidecar, like ReadConfig.
func ReadTextConfig(path string) (*TextConfig, error) {
	var c TextConfig
	if err := readJSON(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return palate.Errorf(palate.ENOTFOUND, "%s does not exist", path)
	}
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return palate.Errorf(palate.EINVALID, "%s: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return palate.Errorf(palate.EINVALID, "%s: more than one JSON value", path)
	}
	return nil
}

// resolve fills defaults from the preset and checks every field.
func (c Config) resolve() (Config, error) {
	switch c.Preset {
	case "":
	case "clip":
		if c.Size.IsZero() {
			c.Size = Size{224, 224}
		}
		if c.Mean == nil {
			m := CLIPMean
			c.Mean = &m
		}
		if c.Std == nil {
			s := CLIPStd
			c.Std = &s
		}
	default:
		return c, fmt.Errorf("preset is %q; want \"clip\" or none", c.Preset)
	}
	if c.Mean == nil {
		c.Mean = &[3]float32{}
	}
	if c.Std == nil {
		c.Std = &[3]float32{1, 1, 1}
	}
	for i, s := range c.Std {
		if !(s > 0) {
			return c, fmt.Errorf("std[%d] is %v; want a positive number", i, s)
		}
	}
	if c.Size[0] < 0 || c.Size[1] < 0 || c.Size[0] > 4096 || c.Size[1] > 4096 {
		return c, fmt.Errorf("size is %v; want 1 to 4096 pixels a side", c.Size)
	}
	var err error
	pick := func(field string, v *string, allowed ...string) {
		if err != nil {
			return
		}
		if *v == "" {
			*v = allowed[0]
			return
		}
		for _, a := range allowed {
			if *v == a {
				return
			}
		}
		err = fmt.Errorf("%s is %q; want one of %q", field, *v, allowed)
	}
	pick("resize", &c.Resize, ResizeCrop, ResizeSquash)
	pick("interpolation", &c.Interpolation, "bicubic", "bilinear")
	pick("channels", &c.Channels, "rgb", "bgr")
	pick("layout", &c.Layout, "nchw", "nhwc")
	if c.Pool != "" {
		pick("pool", &c.Pool, "first", "mean")
	}
	return c, err
}

func (c TextConfig) resolve() (TextConfig, error) {
	if c.Tokenizer == "" {
		c.Tokenizer = "tokenizer.json"
	}
	if c.MaxLength != 0 && (c.MaxLength < 2 || c.MaxLength > 8192) {
		return c, fmt.Errorf("max_length is %d; want 2 to 8192", c.MaxLength)
	}
	if c.InputIDs == "" {
		c.InputIDs = "input_ids"
	}
	switch c.Pool {
	case "", "eos", "first", "mean":
	default:
		return c, fmt.Errorf("pool is %q; want \"eos\", \"first\" or \"mean\"", c.Pool)
	}
	return c, nil
}

// defaultName is "onnx-" and the model file's base name without ".onnx",
// with characters an embedder name may not hold replaced by '-'.
func defaultName(model string) string {
	base := strings.TrimSuffix(filepath.Base(model), ".onnx")
	var b strings.Builder
	b.WriteString("onnx-")
	for _, r := range base {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			r = '-'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkName accepts the names an embeddings table may have (see package
// dataset): letters, digits, '.', '_' and '-', not starting with '.'.
func checkName(name string) error {
	if name == "" || name[0] == '.' {
		return fmt.Errorf("name %q: want letters, digits, '.', '_' and '-', not starting with '.'", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("name %q has %q; use letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}
