package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// patchify rewrites a ViT's patch embedding, a Conv on the image input
// whose kernel equals its stride (no padding, dilation or groups), into
// Reshape, Transpose and MatMul, which compute the same values. GoMLX's
// pure-Go backend (compute v0.1.2) runs convolutions with a generic loop:
// on CLIP ViT-B/32 the patch Conv alone took over 85% of the time, a
// matrix product takes a few percent. Other Convs are left as they are.
//
// The model is edited through protobuf reflection on the ONNX schema that
// onnx-gomlx registers. It returns b unchanged when nothing matches.
func patchify(b []byte, input string, h, w int) ([]byte, int, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName("protos.ModelProto")
	if err != nil {
		return b, 0, nil // schema not registered: leave the model alone
	}
	m := dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
	if err := proto.Unmarshal(b, m); err != nil {
		return b, 0, nil // the parser reports it
	}
	g := m.Mutable(field(m, "graph")).Message()
	inits := map[string][]int64{}
	il := g.Get(field(g, "initializer")).List()
	for i := range il.Len() {
		t := il.Get(i).Message()
		inits[t.Get(field(t, "name")).String()] = ints(t.Get(field(t, "dims")).List())
	}
	nodes := g.Mutable(field(g, "node")).List()
	var out []protoreflect.Value
	n := 0
	for i := range nodes.Len() {
		node := nodes.Get(i).Message()
		rep := patchNodes(g, node, input, h, w, inits, n)
		if rep == nil {
			out = append(out, nodes.Get(i))
			continue
		}
		out = append(out, rep...)
		n++
	}
	if n == 0 {
		return b, 0, nil
	}
	nodes.Truncate(0)
	for _, v := range out {
		nodes.Append(v)
	}
	nb, err := proto.Marshal(m)
	return nb, n, err
}

func field(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
	return m.Descriptor().Fields().ByName(protoreflect.Name(name))
}

func ints(l protoreflect.List) []int64 {
	v := make([]int64, l.Len())
	for i := range v {
		v[i] = l.Get(i).Int()
	}
	return v
}

func strs(l protoreflect.List) []string {
	v := make([]string, l.Len())
	for i := range v {
		v[i] = l.Get(i).String()
	}
	return v
}

// patchNodes returns the nodes that replace a patch Conv, or nil.
func patchNodes(g, node protoreflect.Message, input string, h, w int, inits map[string][]int64, n int) []protoreflect.Value {
	if node.Get(field(node, "op_type")).String() != "Conv" || node.Get(field(node, "domain")).String() != "" {
		return nil
	}
	in, outs := strs(node.Get(field(node, "input")).List()), strs(node.Get(field(node, "output")).List())
	if len(in) < 2 || in[0] != input || len(outs) != 1 {
		return nil
	}
	wd, ok := inits[in[1]]
	if !ok || len(wd) != 4 || wd[2] != wd[3] {
		return nil
	}
	o, c, k := wd[0], wd[1], wd[2]
	if c != 3 || k <= 1 || int64(h)%k != 0 || int64(w)%k != 0 {
		return nil
	}
	attrs := node.Get(field(node, "attribute")).List()
	for i := range attrs.Len() {
		a := attrs.Get(i).Message()
		v := ints(a.Get(field(a, "ints")).List())
		all := func(x int64) bool {
			for _, e := range v {
				if e != x {
					return false
				}
			}
			return true
		}
		switch a.Get(field(a, "name")).String() {
		case "kernel_shape", "strides":
			if len(v) != 2 || !all(k) {
				return nil
			}
		case "pads":
			if !all(0) {
				return nil
			}
		case "dilations":
			if !all(1) {
				return nil
			}
		case "group":
			if a.Get(field(a, "i")).Int() != 1 {
				return nil
			}
		case "auto_pad":
			if s := string(a.Get(field(a, "s")).Bytes()); s != "" && s != "NOTSET" && s != "VALID" {
				return nil
			}
		default:
			return nil
		}
	}
	gh, gw := int64(h)/k, int64(w)/k
	p := fmt.Sprintf("palate_patchify%d_", n)
	addInts(g, p+"s6", []int64{0, c, gh, k, gw, k})
	addInts(g, p+"s3", []int64{0, gh * gw, c * k * k})
	addInts(g, p+"sw", []int64{o, c * k * k})
	addInts(g, p+"s4", []int64{0, o, gh, gw})
	var vs []protoreflect.Value
	add := func(op string, ins []string, out string, perm []int64) {
		vs = append(vs, newNode(g, p+out, op, ins, out, perm))
	}
	add("Reshape", []string{in[0], p + "s6"}, p+"x6", nil)
	add("Transpose", []string{p + "x6"}, p+"xp", []int64{0, 2, 4, 1, 3, 5})
	add("Reshape", []string{p + "xp", p + "s3"}, p+"xt", nil)
	add("Reshape", []string{in[1], p + "sw"}, p+"w2", nil)
	add("Transpose", []string{p + "w2"}, p+"wt", []int64{1, 0})
	add("MatMul", []string{p + "xt", p + "wt"}, p+"y", nil)
	y := p + "y"
	if len(in) > 2 && in[2] != "" {
		add("Add", []string{y, in[2]}, p+"yb", nil)
		y = p + "yb"
	}
	add("Transpose", []string{y}, p+"yt", []int64{0, 2, 1})
	vs = append(vs, newNode(g, p+"out", "Reshape", []string{p + "yt", p + "s4"}, outs[0], nil))
	return vs
}

// addInts appends an int64 initializer to graph g.
func addInts(g protoreflect.Message, name string, v []int64) {
	l := g.Mutable(field(g, "initializer")).List()
	t := l.NewElement().Message()
	t.Set(field(t, "name"), protoreflect.ValueOfString(name))
	t.Set(field(t, "data_type"), protoreflect.ValueOfInt32(7)) // INT64
	t.Mutable(field(t, "dims")).List().Append(protoreflect.ValueOfInt64(int64(len(v))))
	d := t.Mutable(field(t, "int64_data")).List()
	for _, x := range v {
		d.Append(protoreflect.ValueOfInt64(x))
	}
	l.Append(protoreflect.ValueOfMessage(t))
}

// newNode makes a node of graph g; perm, when set, is its "perm" attribute.
func newNode(g protoreflect.Message, name, op string, ins []string, out string, perm []int64) protoreflect.Value {
	nl := g.Mutable(field(g, "node")).List()
	nd := nl.NewElement().Message()
	nd.Set(field(nd, "name"), protoreflect.ValueOfString(name))
	nd.Set(field(nd, "op_type"), protoreflect.ValueOfString(op))
	il := nd.Mutable(field(nd, "input")).List()
	for _, s := range ins {
		il.Append(protoreflect.ValueOfString(s))
	}
	nd.Mutable(field(nd, "output")).List().Append(protoreflect.ValueOfString(out))
	if perm != nil {
		al := nd.Mutable(field(nd, "attribute")).List()
		a := al.NewElement().Message()
		a.Set(field(a, "name"), protoreflect.ValueOfString("perm"))
		a.Set(field(a, "type"), protoreflect.ValueOfEnum(7)) // INTS
		pl := a.Mutable(field(a, "ints")).List()
		for _, x := range perm {
			pl.Append(protoreflect.ValueOfInt64(x))
		}
		al.Append(protoreflect.ValueOfMessage(a))
	}
	return protoreflect.ValueOfMessage(nd)
}
