package onnx

import (
	"context"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"palate"
	"palate/onnx/onnxtest"
)

// tinyNet is a small vision model with fixed weights, written both as an
// ONNX graph and as plain Go loops: a 3×3 stride-2 convolution, ReLU, one
// self-attention over the 16 positions as tokens, global average pooling
// and a linear projection to outDim.
type tinyNet struct {
	size       int // input side (8)
	conv       []float32
	bias       []float32
	wq         []float32
	proj       []float32
	outDim     int
	convOut    int // channels
	pooledSide int
}

func newTinyNet(seed uint64) *tinyNet {
	r := rand.New(rand.NewPCG(seed, 1))
	w := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 0.5)
		}
		return v
	}
	n := &tinyNet{size: 8, convOut: 4, outDim: 6, pooledSide: 4}
	n.conv, n.bias, n.wq, n.proj = w(4*3*3*3), w(4), w(4*4), w(4*6)
	return n
}

// graph writes the model with the given batch axis (-1 dynamic).
func (n *tinyNet) graph(batch int) *onnxtest.Graph {
	g := onnxtest.New("tiny-vision")
	g.Input("pixel_values", onnxtest.Float, batch, 3, n.size, n.size)
	g.Weight("w", n.conv, 4, 3, 3, 3)
	g.Weight("b", n.bias, 4)
	g.Weight("wq", n.wq, 4, 4)
	g.Weight("proj", n.proj, 4, 6)
	g.Ints("tok_shape", []int64{0, 4, 16}, 3)
	g.Ints("map_shape", []int64{0, 4, 4, 4}, 4)
	g.Node("Conv", []string{"pixel_values", "w", "b"}, []string{"c"}, map[string]any{
		"kernel_shape": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1, 1, 1}})
	g.Node("Relu", []string{"c"}, []string{"r"}, nil)
	g.Node("Reshape", []string{"r", "tok_shape"}, []string{"r3"}, nil)
	g.Node("Transpose", []string{"r3"}, []string{"t"}, map[string]any{"perm": []int{0, 2, 1}}) // [B,16,4]
	g.Node("MatMul", []string{"t", "wq"}, []string{"q"}, nil)
	g.Node("Transpose", []string{"t"}, []string{"kt"}, map[string]any{"perm": []int{0, 2, 1}})
	g.Node("MatMul", []string{"q", "kt"}, []string{"s"}, nil)
	g.Node("Softmax", []string{"s"}, []string{"p"}, map[string]any{"axis": -1})
	g.Node("MatMul", []string{"p", "t"}, []string{"a"}, nil)
	g.Node("Transpose", []string{"a"}, []string{"at"}, map[string]any{"perm": []int{0, 2, 1}})
	g.Node("Reshape", []string{"at", "map_shape"}, []string{"m"}, nil)
	g.Node("GlobalAveragePool", []string{"m"}, []string{"gp"}, nil)
	g.Node("Flatten", []string{"gp"}, []string{"f"}, nil)
	g.Node("MatMul", []string{"f", "proj"}, []string{"image_embeds"}, nil)
	g.Output("image_embeds", batch, 6)
	return g
}

// forward computes the model on one planar [3][size][size] input.
func (n *tinyNet) forward(x []float32) []float32 {
	s, o := n.size, n.pooledSide
	c := make([]float64, 4*o*o)
	for oc := range 4 {
		for oy := range o {
			for ox := range o {
				sum := float64(n.bias[oc])
				for ic := range 3 {
					for ky := range 3 {
						for kx := range 3 {
							y, xx := oy*2-1+ky, ox*2-1+kx
							if y < 0 || y >= s || xx < 0 || xx >= s {
								continue
							}
							sum += float64(n.conv[((oc*3+ic)*3+ky)*3+kx]) * float64(x[(ic*s+y)*s+xx])
						}
					}
				}
				c[(oc*o+oy)*o+ox] = max(sum, 0)
			}
		}
	}
	T := o * o
	tok := func(t, ch int) float64 { return c[ch*T+t] } // token t, channel ch
	pooled := make([]float64, 4)
	for i := range T {
		q := make([]float64, 4)
		for k := range 4 {
			for j := range 4 {
				q[k] += tok(i, j) * float64(n.wq[j*4+k])
			}
		}
		sc := make([]float64, T)
		mx := math.Inf(-1)
		for j := range T {
			for k := range 4 {
				sc[j] += q[k] * tok(j, k)
			}
			mx = math.Max(mx, sc[j])
		}
		var z float64
		for j := range sc {
			sc[j] = math.Exp(sc[j] - mx)
			z += sc[j]
		}
		for k := range 4 {
			var a float64
			for j := range T {
				a += sc[j] / z * tok(j, k)
			}
			pooled[k] += a / float64(T)
		}
	}
	out := make([]float32, n.outDim)
	for k := range n.outDim {
		var v float64
		for j := range 4 {
			v += pooled[j] * float64(n.proj[j*n.outDim+k])
		}
		out[k] = float32(v)
	}
	return out
}

// planar normalises an image already at the model's size, in plain loops.
func planar(img image.Image, mean, std [3]float32) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	x := make([]float32, 3*w*h)
	for y := range h {
		for xx := range w {
			r, g, bl, _ := img.At(b.Min.X+xx, b.Min.Y+y).RGBA()
			for c, v := range []uint32{r >> 8, g >> 8, bl >> 8} {
				x[(c*h+y)*w+xx] = (float32(v)/255 - mean[c]) / std[c]
			}
		}
	}
	return x
}

func unit(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(ss))
	}
	return out
}

func randomImage(r *rand.Rand, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("%s: value %d is %v, want %v (got %v, want %v)", what, i, got[i], want[i], got, want)
		}
	}
}

var (
	testMean = [3]float32{0.5, 0.4, 0.3}
	testStd  = [3]float32{0.25, 0.2, 0.3}
)

// writeModel writes the tiny net and a sidecar into dir and returns the
// model's path.
func writeModel(t *testing.T, dir string, n *tinyNet, batch int, sidecar string) string {
	t.Helper()
	path := filepath.Join(dir, "vision.onnx")
	if err := n.graph(batch).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if sidecar != "" {
		if err := os.WriteFile(SidecarPath(path), []byte(sidecar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

const testSidecar = `{"mean": [0.5, 0.4, 0.3], "std": [0.25, 0.2, 0.3]}`

func TestEmbedderMatchesReference(t *testing.T) {
	net := newTinyNet(1)
	path := writeModel(t, t.TempDir(), net, -1, testSidecar)
	e, err := Open(path, Options{BatchSizes: []int{1, 4}, Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "onnx-vision" || e.Dim() != 6 {
		t.Fatalf("name %q dim %d; want onnx-vision and 6", e.Name(), e.Dim())
	}
	if !strings.Contains(e.Version(), "sha256:") || !strings.Contains(e.Version(), "crop 8x8") {
		t.Errorf("version %q does not fingerprint the model and preprocessing", e.Version())
	}
	r := rand.New(rand.NewPCG(7, 7))
	imgs := make([]image.Image, 11) // 11 = 4+4+1+1+1 or padded: exercises chunking
	for i := range imgs {
		imgs[i] = randomImage(r, 8, 8)
	}
	got, err := e.EmbedBatch(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range imgs {
		want := unit(net.forward(planar(img, testMean, testStd)))
		near(t, "image "+string(rune('a'+i)), got[i], want, 2e-5)
	}
	one, err := e.Embed(context.Background(), imgs[3])
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Embed vs EmbedBatch", one, got[3], 1e-6)
}

func TestEmbedderConcurrent(t *testing.T) {
	net := newTinyNet(2)
	path := writeModel(t, t.TempDir(), net, -1, testSidecar)
	e, err := Open(path, Options{BatchSizes: []int{1, 2, 4}, Parallelism: 3})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 3))
	imgs := make([]image.Image, 9)
	want := make([][]float32, len(imgs))
	for i := range imgs {
		imgs[i] = randomImage(r, 8, 8)
		want[i] = unit(net.forward(planar(imgs[i], testMean, testStd)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := imgs[g%len(imgs):]
			got, err := e.EmbedBatch(context.Background(), part)
			if err != nil {
				errs <- err
				return
			}
			for i := range part {
				for j := range got[i] {
					if math.Abs(float64(got[i][j]-want[g%len(imgs)+i][j])) > 2e-5 {
						errs <- palate.Errorf(palate.EINTERNAL, "goroutine %d image %d value %d: %v want %v", g, i, j, got[i][j], want[g%len(imgs)+i][j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestPreprocessCropAndSquash(t *testing.T) {
	// 16×8: left half red, right half blue. A crop takes columns 4..11
	// unscaled (red, then blue); a squash halves the width.
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for y := range 8 {
		for x := range 16 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 8 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	id := [3]float32{1, 1, 1}
	crop, err := Config{Size: Size{8, 8}, Std: &id}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	p := newPrep(crop)
	x := make([]float32, p.size())
	if err := p.fill(x, img); err != nil {
		t.Fatal(err)
	}
	want := planar(img.SubImage(image.Rect(4, 0, 12, 8)), [3]float32{}, id)
	near(t, "crop", x, want, 1e-6)

	sq := crop
	sq.Resize = ResizeSquash
	p = newPrep(sq)
	if err := p.fill(x, img); err != nil {
		t.Fatal(err)
	}
	// Red plane: column 0 fully red, column 7 fully blue; rows are equal.
	if x[0] < 0.99 || x[7] > 0.01 || x[2*64+0] > 0.01 || x[2*64+7] < 0.99 {
		t.Errorf("squash: red[0]=%v red[7]=%v blue[0]=%v blue[7]=%v", x[0], x[7], x[128], x[135])
	}

	// BGR and NHWC: the first pixel's three values are blue, green, red.
	bgr := crop
	bgr.Channels, bgr.Layout = "bgr", "nhwc"
	p = newPrep(bgr)
	if err := p.fill(x, img); err != nil {
		t.Fatal(err)
	}
	if x[0] != 0 || x[1] != 0 || x[2] != 1 {
		t.Errorf("bgr nhwc first pixel = %v, want [0 0 1]", x[:3])
	}
}

func TestCLIPPreset(t *testing.T) {
	c, err := Config{Preset: "clip"}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.Size != (Size{224, 224}) || *c.Mean != CLIPMean || *c.Std != CLIPStd || c.Resize != ResizeCrop || c.Interpolation != "bicubic" {
		t.Errorf("clip preset resolved to %+v", c)
	}
	// A 448×300 photo: the short side becomes 224, the centre 224 kept.
	p := newPrep(c)
	if r := p.source(image.Rect(0, 0, 448, 300)); r != image.Rect(74, 0, 374, 300) {
		t.Errorf("crop of 448x300 = %v, want (74,0)-(374,300)", r)
	}
}

func TestOpenErrors(t *testing.T) {
	net := newTinyNet(1)
	dir := t.TempDir()
	good := writeModel(t, dir, net, -1, testSidecar)
	fixed := filepath.Join(dir, "fixed.onnx")
	if err := net.graph(1).WriteFile(fixed); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(SidecarPath(fixed), []byte(`{"size": 16}`), 0o644)
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("not a model at all"), 0o644)
	os.WriteFile(SidecarPath(garbage), []byte(`{}`), 0o644)
	nosidecar := filepath.Join(dir, "bare.onnx")
	net.graph(-1).WriteFile(nosidecar)
	unsupported := filepath.Join(dir, "hardmax.onnx")
	g := onnxtest.New("u")
	g.Input("x", onnxtest.Float, -1, 3, 4, 4)
	g.Node("Hardmax", []string{"x"}, []string{"h"}, nil)
	g.Node("GlobalAveragePool", []string{"h"}, []string{"y"}, nil)
	g.Output("y", -1, 3, 1, 1)
	if err := g.WriteFile(unsupported); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(SidecarPath(unsupported), []byte(`{}`), 0o644)
	tokens := filepath.Join(dir, "tokens.onnx")
	g = onnxtest.New("tok")
	g.Input("x", onnxtest.Float, -1, 3, 8, 8)
	g.Ints("shape", []int64{0, 3, 64}, 3)
	g.Node("Reshape", []string{"x", "shape"}, []string{"y"}, nil)
	g.Output("y", -1, 3, 64)
	g.WriteFile(tokens)
	os.WriteFile(SidecarPath(tokens), []byte(`{}`), 0o644)

	tests := map[string]struct {
		path string
		opts Options
		code string
		want string
	}{
		"missing file":     {filepath.Join(dir, "nope.onnx"), Options{}, palate.ENOTFOUND, "nope.onnx does not exist"},
		"not onnx":         {garbage, Options{}, palate.EINVALID, "not a readable ONNX file"},
		"no sidecar":       {nosidecar, Options{}, palate.EINVALID, "bare.onnx.json"},
		"unknown field":    {good, Options{Sidecar: writeFile(t, dir, "bad.json", `{"mean": [0,0,0], "colour": "rgb"}`)}, palate.EINVALID, `unknown field "colour"`},
		"bad resize":       {good, Options{Config: &Config{Resize: "stretch"}}, palate.EINVALID, `resize is "stretch"`},
		"size mismatch":    {fixed, Options{}, palate.EINVALID, `input "pixel_values" has shape Float32[1,3,8,8]; the config's size is 16x16`},
		"wrong layout":     {good, Options{Config: &Config{Layout: "nhwc"}}, palate.EINVALID, "axis 3 has 8 channels"},
		"unsupported op":   {unsupported, Options{}, palate.EINVALID, `operator "Hardmax"`},
		"tokens need pool": {tokens, Options{}, palate.EINVALID, `set "pool"`},
		"bad name":         {good, Options{Config: &Config{Name: "clip:b32"}}, palate.EINVALID, `name "clip:b32" has ':'`},
		"no such output":   {good, Options{Config: &Config{Output: "logits"}}, palate.EINVALID, `no output "logits"; its outputs are ["image_embeds"]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Open(tc.path, tc.opts)
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

func TestFixedBatchAndPool(t *testing.T) {
	net := newTinyNet(4)
	dir := t.TempDir()
	fixed := filepath.Join(dir, "fixed.onnx")
	if err := net.graph(1).WriteFile(fixed); err != nil {
		t.Fatal(err)
	}
	e, err := Open(fixed, Options{Config: &Config{Name: "tiny", Mean: &testMean, Std: &testStd, Normalize: new(bool)}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	imgs := []image.Image{randomImage(r, 8, 8), randomImage(r, 8, 8), randomImage(r, 8, 8)}
	got, err := e.EmbedBatch(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range imgs {
		near(t, "fixed batch, not normalised", got[i], net.forward(planar(img, testMean, testStd)), 2e-5)
	}

	// Token output [B,3,64] pooled by mean and by first token.
	g := onnxtest.New("tok")
	g.Input("x", onnxtest.Float, -1, 3, 8, 8)
	g.Ints("shape", []int64{0, 3, 64}, 3)
	g.Node("Reshape", []string{"x", "shape"}, []string{"y"}, nil)
	g.Output("y", -1, 3, 64)
	tokens := filepath.Join(dir, "tokens.onnx")
	g.WriteFile(tokens)
	id := [3]float32{1, 1, 1}
	for _, pool := range []string{"first", "mean"} {
		e, err := Open(tokens, Options{Config: &Config{Std: &id, Pool: pool, Normalize: new(bool)}})
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.Embed(context.Background(), imgs[0])
		if err != nil {
			t.Fatal(err)
		}
		x := planar(imgs[0], [3]float32{}, id)
		want := make([]float32, 64)
		for j := range want {
			if pool == "first" {
				want[j] = x[j]
			} else {
				want[j] = (x[j] + x[64+j] + x[128+j]) / 3
			}
		}
		near(t, pool, v, want, 1e-6)
	}
}

func TestCheckTable(t *testing.T) {
	dir := t.TempDir()
	a := writeModel(t, dir, newTinyNet(1), -1, testSidecar)
	e, err := Open(a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ok := &palate.Embeddings{Embedder: e.Name(), Version: e.Version(), Dim: e.Dim()}
	if err := e.Check(ok); err != nil {
		t.Fatal(err)
	}
	// Same file name, other weights: the version differs.
	b := writeModel(t, t.TempDir(), newTinyNet(2), -1, testSidecar)
	e2, err := Open(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Name() != e.Name() || e2.Version() == e.Version() {
		t.Fatalf("names %q %q, versions %q %q", e.Name(), e2.Name(), e.Version(), e2.Version())
	}
	err = e2.Check(ok)
	if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "re-embed") {
		t.Fatalf("Check of another model's table: %v", err)
	}
}

func TestEmbedBadImage(t *testing.T) {
	path := writeModel(t, t.TempDir(), newTinyNet(1), -1, testSidecar)
	e, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	imgs := []image.Image{randomImage(rand.New(rand.NewPCG(1, 1)), 8, 8), image.NewRGBA(image.Rect(0, 0, 0, 5))}
	_, err = e.EmbedBatch(context.Background(), imgs)
	if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "image 1") {
		t.Fatalf("empty image: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.EmbedBatch(ctx, imgs[:1]); err == nil {
		t.Fatal("cancelled context: no error")
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
