package onnxtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ViTConfig shapes a vision transformer laid out as CLIP's vision tower is
// exported: patch convolution, class token, position embeddings, pre-norm,
// pre-LN blocks (multi-head attention, quick-GELU MLP), the class token's
// final norm and a projection.
type ViTConfig struct {
	Image, Patch   int // input side and patch side
	Width, Layers  int // model width and depth
	Heads, MLP     int // attention heads and hidden width of the MLP
	Out            int // projection width (the embedding dimension)
	Seed           uint64
	BatchDimension int // graph batch axis: -1 (dynamic) unless set
}

// CLIPViTB32 is CLIP ViT-B/32's vision tower's shape (88M parameters).
var CLIPViTB32 = ViTConfig{Image: 224, Patch: 32, Width: 768, Layers: 12, Heads: 12, MLP: 3072, Out: 512}

// ViT builds the graph with random weights (normal, scaled by 1/sqrt(fan
// in)); input "pixel_values" [batch, 3, Image, Image], output "image_embeds"
// [batch, Out].
func ViT(c ViTConfig) *Graph {
	if c.BatchDimension == 0 {
		c.BatchDimension = -1
	}
	r := rand.New(rand.NewPCG(c.Seed, 17))
	w := func(fanIn int, n int) []float32 {
		v := make([]float32, n)
		s := 1 / math.Sqrt(float64(fanIn))
		for i := range v {
			v[i] = float32(r.NormFloat64() * s)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	d, grid := c.Width, c.Image/c.Patch
	tokens := grid*grid + 1
	dh := d / c.Heads
	g := New("vit")
	g.Input("pixel_values", Float, c.BatchDimension, 3, c.Image, c.Image)
	g.Weight("patch_w", w(3*c.Patch*c.Patch, d*3*c.Patch*c.Patch), d, 3, c.Patch, c.Patch)
	g.Weight("cls", w(1, d), 1, 1, d)
	g.Weight("pos", w(1, tokens*d), tokens, d)
	g.Ints("flat_shape", []int64{0, int64(d), -1}, 3)
	g.Ints("zero", []int64{0}, 1)
	g.Ints("one_d", []int64{1, int64(d)}, 2)
	g.Ints("heads_shape", []int64{0, 0, int64(c.Heads), int64(dh)}, 4)
	g.Ints("merge_shape", []int64{0, 0, int64(d)}, 3)
	g.Weight("scale", []float32{float32(1 / math.Sqrt(float64(dh)))}, 1)
	g.Weight("gelu_k", []float32{1.702}, 1)

	g.Node("Conv", []string{"pixel_values", "patch_w"}, []string{"patches"}, map[string]any{
		"kernel_shape": []int{c.Patch, c.Patch}, "strides": []int{c.Patch, c.Patch}})
	g.Node("Reshape", []string{"patches", "flat_shape"}, []string{"p3"}, nil)
	g.Node("Transpose", []string{"p3"}, []string{"pt"}, map[string]any{"perm": []int{0, 2, 1}})
	// Class token expanded to the batch: Shape → batch → [batch, 1, d].
	g.Node("Shape", []string{"pixel_values"}, []string{"in_shape"}, nil)
	g.Node("Gather", []string{"in_shape", "zero"}, []string{"batch"}, map[string]any{"axis": 0})
	g.Node("Concat", []string{"batch", "one_d"}, []string{"cls_shape"}, map[string]any{"axis": 0})
	g.Node("Expand", []string{"cls", "cls_shape"}, []string{"cls_b"}, nil)
	g.Node("Concat", []string{"cls_b", "pt"}, []string{"seq"}, map[string]any{"axis": 1})
	g.Node("Add", []string{"seq", "pos"}, []string{"emb"}, nil)
	ln := func(in, out, name string) {
		g.Weight(name+"_g", ones(d), d)
		g.Weight(name+"_b", make([]float32, d), d)
		g.Node("LayerNormalization", []string{in, name + "_g", name + "_b"}, []string{out}, map[string]any{"axis": -1, "epsilon": float32(1e-5)})
	}
	linear := func(in, out, name string, din, dout int) {
		g.Weight(name+"_w", w(din, din*dout), din, dout)
		g.Weight(name+"_b", make([]float32, dout), dout)
		g.Node("MatMul", []string{in, name + "_w"}, []string{out + "_mm"}, nil)
		g.Node("Add", []string{out + "_mm", name + "_b"}, []string{out}, nil)
	}
	ln("emb", "x0", "ln_pre")
	x := "x0"
	for l := range c.Layers {
		p := fmt.Sprintf("l%d_", l)
		ln(x, p+"h", p+"ln1")
		for _, n := range []string{"q", "k", "v"} {
			linear(p+"h", p+n, p+n, d, d)
			g.Node("Reshape", []string{p + n, "heads_shape"}, []string{p + n + "4"}, nil)
		}
		g.Node("Transpose", []string{p + "q4"}, []string{p + "qh"}, map[string]any{"perm": []int{0, 2, 1, 3}})
		g.Node("Transpose", []string{p + "k4"}, []string{p + "kh"}, map[string]any{"perm": []int{0, 2, 3, 1}})
		g.Node("Transpose", []string{p + "v4"}, []string{p + "vh"}, map[string]any{"perm": []int{0, 2, 1, 3}})
		g.Node("MatMul", []string{p + "qh", p + "kh"}, []string{p + "s"}, nil)
		g.Node("Mul", []string{p + "s", "scale"}, []string{p + "ss"}, nil)
		g.Node("Softmax", []string{p + "ss"}, []string{p + "a"}, map[string]any{"axis": -1})
		g.Node("MatMul", []string{p + "a", p + "vh"}, []string{p + "o4"}, nil)
		g.Node("Transpose", []string{p + "o4"}, []string{p + "ot"}, map[string]any{"perm": []int{0, 2, 1, 3}})
		g.Node("Reshape", []string{p + "ot", "merge_shape"}, []string{p + "o"}, nil)
		linear(p+"o", p+"att", p+"out", d, d)
		g.Node("Add", []string{x, p + "att"}, []string{p + "r1"}, nil)
		ln(p+"r1", p+"h2", p+"ln2")
		linear(p+"h2", p+"fc", p+"fc", d, c.MLP)
		g.Node("Mul", []string{p + "fc", "gelu_k"}, []string{p + "fck"}, nil)
		g.Node("Sigmoid", []string{p + "fck"}, []string{p + "sig"}, nil)
		g.Node("Mul", []string{p + "fc", p + "sig"}, []string{p + "act"}, nil)
		linear(p+"act", p+"mlp", p+"proj", c.MLP, d)
		g.Node("Add", []string{p + "r1", p + "mlp"}, []string{p + "r2"}, nil)
		x = p + "r2"
	}
	g.Node("Gather", []string{x, "zero"}, []string{"cls_out3"}, map[string]any{"axis": 1})
	g.Ints("cls_axes", []int64{1}, 1)
	g.Node("Squeeze", []string{"cls_out3", "cls_axes"}, []string{"cls_out"}, nil)
	ln("cls_out", "pooled", "ln_post")
	g.Weight("proj", w(d, d*c.Out), d, c.Out)
	g.Node("MatMul", []string{"pooled", "proj"}, []string{"image_embeds"}, nil)
	g.Output("image_embeds", c.BatchDimension, c.Out)
	return g
}
