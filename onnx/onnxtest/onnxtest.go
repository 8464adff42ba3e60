// Package onnxtest builds small ONNX models in tests, so that no test needs a
// downloaded model file. A Graph collects inputs, weights, nodes and outputs
// and Marshal writes a serialized ModelProto.
//
// The messages are built with protobuf reflection from the ONNX schema that
// github.com/gomlx/onnx-gomlx registers (its generated package is internal,
// so its Go types cannot be named here); field names are ONNX's own, so the
// bytes are an ordinary .onnx file that any ONNX reader accepts.
package onnxtest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	_ "github.com/gomlx/onnx-gomlx/onnx/parser" // registers the ONNX schema
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// ONNX tensor element types used here.
const (
	Float = 1
	Int64 = 7
)

// Graph is an ONNX graph under construction. Dimensions of -1 in inputs and
// outputs are dynamic (named "batch").
type Graph struct {
	Name    string
	Opset   int
	nodes   []map[string]any
	inits   []map[string]any
	raw     [][]float32 // float data of inits[i], set after the JSON pass
	inputs  []map[string]any
	outputs []map[string]any
}

// New returns an empty graph for ONNX opset 17.
func New(name string) *Graph { return &Graph{Name: name, Opset: 17} }

func valueInfo(name string, elem int, dims []int) map[string]any {
	var ds []map[string]any
	for _, d := range dims {
		if d < 0 {
			ds = append(ds, map[string]any{"dim_param": "batch"})
		} else {
			ds = append(ds, map[string]any{"dim_value": d})
		}
	}
	return map[string]any{
		"name": name,
		"type": map[string]any{"tensor_type": map[string]any{
			"elem_type": elem, "shape": map[string]any{"dim": ds},
		}},
	}
}

// Input declares a graph input of element type elem (Float, Int64).
func (g *Graph) Input(name string, elem int, dims ...int) {
	g.inputs = append(g.inputs, valueInfo(name, elem, dims))
}

// Output declares a float graph output.
func (g *Graph) Output(name string, dims ...int) {
	g.outputs = append(g.outputs, valueInfo(name, Float, dims))
}

// Weight adds a float initializer; len(data) must be the product of dims.
// It is stored as raw little-endian bytes, as exporters do.
func (g *Graph) Weight(name string, data []float32, dims ...int) {
	g.inits = append(g.inits, map[string]any{"name": name, "dims": dims, "data_type": Float})
	g.raw = append(g.raw, data)
}

// Ints adds an int64 initializer (shapes for Reshape, axes, ...).
func (g *Graph) Ints(name string, data []int64, dims ...int) {
	g.inits = append(g.inits, map[string]any{"name": name, "dims": dims, "data_type": Int64, "int64_data": data})
	g.raw = append(g.raw, nil)
}

// Node adds a node. Attribute values may be int, float32, []int or string.
func (g *Graph) Node(op string, inputs, outputs []string, attrs map[string]any) {
	n := map[string]any{"name": fmt.Sprintf("%s_%d", op, len(g.nodes)), "op_type": op, "input": inputs, "output": outputs}
	var as []map[string]any
	for k, v := range attrs {
		a := map[string]any{"name": k}
		switch v := v.(type) {
		case int:
			a["type"], a["i"] = "INT", v
		case float32:
			a["type"], a["f"] = "FLOAT", v
		case []int:
			a["type"], a["ints"] = "INTS", v
		case string:
			a["type"], a["s"] = "STRING", []byte(v)
		default:
			panic(fmt.Sprintf("onnxtest: attribute %s: unsupported type %T", k, v))
		}
		as = append(as, a)
	}
	if as != nil {
		n["attribute"] = as
	}
	g.nodes = append(g.nodes, n)
}

// Marshal returns the serialized ModelProto.
func (g *Graph) Marshal() ([]byte, error) {
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName("protos.ModelProto")
	if err != nil {
		return nil, fmt.Errorf("onnxtest: ONNX schema not registered: %w", err)
	}
	m := map[string]any{
		"ir_version":    8,
		"producer_name": "palate-onnxtest",
		"opset_import":  []map[string]any{{"domain": "", "version": g.Opset}},
		"graph": map[string]any{
			"name": g.Name, "node": g.nodes, "initializer": g.inits,
			"input": g.inputs, "output": g.outputs,
		},
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	msg := dynamicpb.NewMessage(desc.(protoreflect.MessageDescriptor))
	if err := protojson.Unmarshal(js, msg); err != nil {
		return nil, fmt.Errorf("onnxtest: %w", err)
	}
	// Weights go in by reflection: JSON would spell out every float.
	gf := msg.Descriptor().Fields().ByName("graph")
	graph := msg.Mutable(gf).Message()
	inits := graph.Mutable(graph.Descriptor().Fields().ByName("initializer")).List()
	for i, data := range g.raw {
		if data == nil {
			continue
		}
		t := inits.Get(i).Message()
		b := make([]byte, 4*len(data))
		for j, x := range data {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
		}
		t.Set(t.Descriptor().Fields().ByName("raw_data"), protoreflect.ValueOfBytes(b))
	}
	return proto.Marshal(msg)
}

// WriteFile marshals the graph into path, creating its directory.
func (g *Graph) WriteFile(path string) error {
	b, err := g.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
