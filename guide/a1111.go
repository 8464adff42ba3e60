package guide

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"palate"
	"palate/features"
)

// DefaultStyles is the A1111 adapter's default vocabulary of style suffixes:
// a latent may append one, and prompt guidance scores each.
var DefaultStyles = []string{
	"vivid colors", "muted colors", "pastel colors", "neon lights",
	"dark moody lighting", "bright airy lighting", "high contrast", "soft light",
	"film grain", "minimalist", "highly detailed", "symmetrical composition",
	"watercolor", "oil painting", "photorealistic", "flat illustration", "cinematic",
}

// A1111Options configure the AUTOMATIC1111/Forge adapter. Zero values take
// the defaults in brackets.
type A1111Options struct {
	// URL is the server's base address, e.g. "http://127.0.0.1:7860".
	URL string
	// Steps, Sampler, Width, Height and CFGScale are sent with every
	// request [20, "Euler a", 512, 512, 7].
	Steps    int
	Sampler  string
	Width    int
	Height   int
	CFGScale float64
	// Negative is a negative prompt sent with every request, before any
	// that guidance adds.
	Negative string
	// Styles is the vocabulary of style suffixes [DefaultStyles].
	Styles []string
	// Timeout bounds one request [2 minutes].
	Timeout time.Duration
	// Client sends the requests [a new http.Client].
	Client *http.Client
	// Limits bound the size of a returned image [features' defaults].
	Limits features.Limits
}

// A1111 generates through an AUTOMATIC1111 or Forge server's
// POST /sdapi/v1/txt2img. Its latent is the sampler seed (below 2^32) and
// one code choosing a style suffix from the vocabulary or none: the code's
// range [0, 1] is split into len(Styles)+1 equal parts, the first meaning no
// suffix.
type A1111 struct {
	opt A1111Options
}

// MaxResponseBytes bounds a txt2img response body.
const MaxResponseBytes = 256 << 20

// NewA1111 returns the adapter. Returns EINVALID for a missing URL or bad
// options.
func NewA1111(opt A1111Options) (*A1111, error) {
	if opt.URL == "" {
		return nil, palate.Errorf(palate.EINVALID, "a1111: no server URL")
	}
	if !strings.HasPrefix(opt.URL, "http://") && !strings.HasPrefix(opt.URL, "https://") {
		return nil, palate.Errorf(palate.EINVALID, "a1111: URL %q is not http:// or https://", opt.URL)
	}
	opt.URL = strings.TrimRight(opt.URL, "/")
	if opt.Steps == 0 {
		opt.Steps = 20
	}
	if opt.Sampler == "" {
		opt.Sampler = "Euler a"
	}
	if opt.Width == 0 {
		opt.Width = 512
	}
	if opt.Height == 0 {
		opt.Height = 512
	}
	if opt.CFGScale == 0 {
		opt.CFGScale = 7
	}
	if opt.Styles == nil {
		opt.Styles = DefaultStyles
	}
	if opt.Timeout == 0 {
		opt.Timeout = 2 * time.Minute
	}
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	switch {
	case opt.Steps < 1 || opt.Steps > 500:
		return nil, palate.Errorf(palate.EINVALID, "a1111: steps is %d; want 1..500", opt.Steps)
	case opt.Width < 64 || opt.Width > 4096 || opt.Height < 64 || opt.Height > 4096:
		return nil, palate.Errorf(palate.EINVALID, "a1111: size is %d×%d; want 64..4096 each", opt.Width, opt.Height)
	case !(opt.CFGScale > 0 && opt.CFGScale <= 100):
		return nil, palate.Errorf(palate.EINVALID, "a1111: cfg_scale is %g; want > 0", opt.CFGScale)
	case opt.Timeout < 0:
		return nil, palate.Errorf(palate.EINVALID, "a1111: timeout is %v; want > 0", opt.Timeout)
	}
	for i, s := range opt.Styles {
		if strings.TrimSpace(s) == "" {
			return nil, palate.Errorf(palate.EINVALID, "a1111: style %d is empty", i)
		}
	}
	return &A1111{opt: opt}, nil
}

// Name implements Generator.
func (*A1111) Name() string { return "a1111" }

// Sample implements Generator: a random seed and a uniform style code.
func (g *A1111) Sample(r *rand.Rand, _ string) Latent {
	return Latent{Codes: []float64{r.Float64()}, Seed: uint64(r.Uint32())}
}

// Perturb implements Generator: the style code moves by a normal step of
// standard deviation scale (reflected into [0, 1]) and the seed, which
// changes the whole picture, is redrawn with probability min(scale, 1).
func (g *A1111) Perturb(r *rand.Rand, l Latent, scale float64) Latent {
	out := l.Clone()
	for i := range out.Codes {
		out.Codes[i] = reflect01(out.Codes[i] + scale*r.NormFloat64())
	}
	if r.Float64() < scale {
		out.Seed = uint64(r.Uint32())
	}
	return out
}

// Style returns the style suffix a latent chooses, "" for none.
func (g *A1111) Style(l Latent) (string, error) {
	if len(l.Codes) != 1 || !(l.Codes[0] >= 0 && l.Codes[0] <= 1) {
		return "", palate.Errorf(palate.EINVALID, "a1111: a latent has one style code in 0..1, got %v", l.Codes)
	}
	if l.Seed > math.MaxUint32 {
		return "", palate.Errorf(palate.EINVALID, "a1111: seed %d is not below 2^32", l.Seed)
	}
	k := int(l.Codes[0] * float64(len(g.opt.Styles)+1))
	k = min(k, len(g.opt.Styles))
	if k == 0 {
		return "", nil
	}
	return g.opt.Styles[k-1], nil
}

// Styles implements Prompter: the vocabulary less the phrases the prompt
// already holds, each phrase its own group.
func (g *A1111) Styles(prompt string) []Style {
	p := strings.ToLower(prompt)
	var out []Style
	for _, s := range g.opt.Styles {
		if !strings.Contains(p, strings.ToLower(s)) {
			out = append(out, Style{Words: s, Group: s})
		}
	}
	return out
}

// Generate implements Generator.
func (g *A1111) Generate(ctx context.Context, prompt string, l Latent) (image.Image, error) {
	return g.GenerateNegative(ctx, prompt, "", l)
}

// txt2img is the request body of POST /sdapi/v1/txt2img.
type txt2img struct {
	Prompt         string  `json:"prompt"`
	NegativePrompt string  `json:"negative_prompt"`
	Seed           int64   `json:"seed"`
	Steps          int     `json:"steps"`
	SamplerName    string  `json:"sampler_name"`
	Width          int     `json:"width"`
	Height         int     `json:"height"`
	CFGScale       float64 `json:"cfg_scale"`
}

// GenerateNegative implements Prompter. A server that cannot be reached,
// times out, answers 5xx or answers something that is not a picture is
// EUNAVAILABLE; a 4xx answer (the server refused the request) is EINVALID.
// Every error names the server's address and, for an error status, the
// start of its answer.
func (g *A1111) GenerateNegative(ctx context.Context, prompt, negative string, l Latent) (image.Image, error) {
	style, err := g.Style(l)
	if err != nil {
		return nil, err
	}
	if style != "" {
		prompt = joinPrompt(prompt, style)
	}
	req := txt2img{
		Prompt: prompt, NegativePrompt: joinPrompt(g.opt.Negative, negative), Seed: int64(l.Seed),
		Steps: g.opt.Steps, SamplerName: g.opt.Sampler, Width: g.opt.Width, Height: g.opt.Height, CFGScale: g.opt.CFGScale,
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "a1111: %w", err)
	}
	url := g.opt.URL + "/sdapi/v1/txt2img"
	ctx, cancel := context.WithTimeout(ctx, g.opt.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "a1111: %v", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := g.opt.Client.Do(hr)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: %s did not answer within %v", url, g.opt.Timeout)
		}
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: %s did not finish its answer within %v", url, g.opt.Timeout)
		}
		return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: reading the answer of %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		code := palate.EUNAVAILABLE
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			code = palate.EINVALID
		}
		return nil, palate.Errorf(code, "a1111: %s answered %s: %s", url, resp.Status, snippet(data))
	}
	if len(data) > MaxResponseBytes {
		return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: the answer of %s is over %d bytes", url, MaxResponseBytes)
	}
	var out struct {
		Images []string `json:"images"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: the answer of %s is not txt2img JSON (%v): %s", url, err, snippet(data))
	}
	if len(out.Images) == 0 {
		return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: the answer of %s has no images", url)
	}
	b64 := out.Images[0]
	if i := strings.Index(b64, ";base64,"); strings.HasPrefix(b64, "data:") && i >= 0 {
		b64 = b64[i+len(";base64,"):]
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, palate.Errorf(palate.EUNAVAILABLE, "a1111: images[0] of the answer of %s is not base64: %v", url, err)
	}
	img, _, err := features.Decode(bytes.NewReader(raw), g.opt.Limits)
	if err != nil {
		code := palate.ErrorCode(err)
		if code != palate.ETOOLARGE {
			code = palate.EUNAVAILABLE // the server sent a broken picture
		}
		return nil, palate.Errorf(code, "a1111: images[0] of the answer of %s: %v", url, err)
	}
	return img, nil
}

// joinPrompt joins two prompt parts with ", ", leaving out an empty one.
func joinPrompt(a, b string) string {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ", " + b
}

// snippet is the start of a response body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return fmt.Sprintf("%q", s)
}
