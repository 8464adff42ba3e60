package onnx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"
	ox "github.com/gomlx/onnx-gomlx/onnx"
	"github.com/gomlx/onnx-gomlx/onnx/parser"

	"palate"
	"palate/train"
)

// MaxModelBytes bounds the model files Open reads (ViT-L/14's vision tower
// is 1.2 GB in float32).
const MaxModelBytes = 4 << 30

// session is one ONNX graph made runnable by GoMLX's pure-Go backend: it
// compiles once per batch size (on first use) and is then safe to call
// from many goroutines at once.
type session struct {
	path    string
	sha     string // hex SHA-256 of the model file
	raw     []byte // the file, until build
	model   ox.Model
	backend compute.Backend
	exec    *mlm.Exec
	feeds   []string // graph inputs, in the order run takes them
	out     string
	timeout time.Duration

	compileMu sync.Mutex // held while a new batch size compiles
	ready     sync.Map   // batch size -> struct{}{} once compiled
}

// openSession reads and parses the model at path and loads its weights.
// Returns ENOTFOUND for a missing file and EINVALID for one that is not an
// ONNX model.
func openSession(path, backend string, timeout time.Duration) (s *session, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, palate.Errorf(palate.ENOTFOUND, "onnx model %s does not exist", path)
	}
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s is not a regular file", path)
	}
	if fi.Size() > MaxModelBytes {
		return nil, palate.Errorf(palate.ETOOLARGE, "onnx model %s is %d bytes; at most %d are read", path, fi.Size(), int64(MaxModelBytes))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	sum := sha256.Sum256(b)
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, palate.Errorf(palate.EINVALID, "onnx model %s: %v", path, r)
		}
	}()
	m, err := parser.Parse(b)
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "onnx model %s is not a readable ONNX file: %v", path, err)
	}
	m = m.WithBaseDir(filepath.Dir(path))
	if timeout == 0 {
		timeout = train.DefaultStepTimeout
	}
	be, err := train.NewBackend(backend)
	if err != nil {
		return nil, err
	}
	return &session{path: path, sha: hex.EncodeToString(sum[:]), raw: b, model: m, backend: be, timeout: timeout}, nil
}

// rewrite replaces the parsed model by one from edit(file bytes), when
// edit changes anything; it returns how many rewrites edit made.
func (s *session) rewrite(edit func([]byte) ([]byte, int, error)) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, palate.Errorf(palate.EINVALID, "onnx model %s: %v", s.path, r)
		}
	}()
	b, n, err := edit(s.raw)
	if err != nil || n == 0 {
		return 0, err
	}
	m, err := parser.Parse(b)
	if err != nil {
		return 0, palate.Errorf(palate.EINTERNAL, "onnx model %s: after rewriting: %v", s.path, err)
	}
	s.model = m.WithBaseDir(filepath.Dir(s.path))
	return n, nil
}

// inputShape returns the declared shape of graph input name, or an
// EINVALID error listing the inputs there are.
func (s *session) inputShape(name string) (shapes.Shape, error) {
	names, shs := s.model.Inputs()
	for i, n := range names {
		if n == name {
			return shs[i], nil
		}
	}
	return shapes.Shape{}, palate.Errorf(palate.EINVALID, "onnx model %s has no input %q; its inputs are %q", s.path, name, names)
}

// pickOutput returns name if the graph has that output, or its first
// output when name is empty.
func (s *session) pickOutput(name string) (string, error) {
	names, _ := s.model.Outputs()
	if len(names) == 0 {
		return "", palate.Errorf(palate.EINVALID, "onnx model %s has no outputs", s.path)
	}
	if name == "" {
		return names[0], nil
	}
	for _, n := range names {
		if n == name {
			return n, nil
		}
	}
	return "", palate.Errorf(palate.EINVALID, "onnx model %s has no output %q; its outputs are %q", s.path, name, names)
}

// build loads the weights and prepares the executor for feeds -> out.
func (s *session) build(feeds []string, out string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = palate.Errorf(palate.EINVALID, "onnx model %s: %v", s.path, r)
		}
	}()
	s.feeds, s.out = feeds, out
	s.raw = nil
	store := mlm.NewStore()
	if err := s.model.VariablesToScope(store.RootScope()); err != nil {
		return palate.Errorf(palate.EINVALID, "onnx model %s: reading its weights: %v", s.path, err)
	}
	s.exec, err = mlm.NewExec(s.backend, store, func(scope *mlm.Scope, in []*Node) *Node {
		m := make(map[string]*Node, len(feeds))
		for i, f := range feeds {
			m[f] = in[i]
		}
		return s.model.CallGraph(scope, in[0].Graph(), m, out)[0]
	})
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "onnx model %s: %w", s.path, err)
	}
	return nil
}

// unimplemented matches onnx-gomlx's message for an operator it lacks.
var unimplemented = regexp.MustCompile(`unimplemented ONNX op "([^"]+)"`)

// run executes the graph on args (one per feed, batch first) and returns
// the output's values and shape. The first call of each batch size
// compiles, one size at a time; a graph that cannot be built is EINVALID
// (naming an unsupported operator), a hang is the watchdog's EINTERNAL.
func (s *session) run(args ...*tensors.Tensor) ([]float32, []int, error) {
	defer func() {
		for _, a := range args {
			a.FinalizeAll()
		}
	}()
	batch := args[0].Shape().Dimensions[0]
	if _, ok := s.ready.Load(batch); !ok {
		s.compileMu.Lock()
		defer s.compileMu.Unlock()
		if _, ok := s.ready.Load(batch); !ok {
			v, dims, err := s.call(args)
			if err != nil {
				return nil, nil, s.compileError(err)
			}
			s.ready.Store(batch, struct{}{})
			return v, dims, nil
		}
	}
	return s.call(args)
}

func (s *session) call(args []*tensors.Tensor) ([]float32, []int, error) {
	type result struct {
		v    []float32
		dims []int
	}
	r, err := train.Guard(s.timeout, "onnx model "+s.path, func() (result, error) {
		in := make([]any, len(args))
		for i, a := range args {
			in[i] = a
		}
		outs, err := s.exec.Exec(in...)
		if err != nil {
			return result{}, err
		}
		defer outs[0].FinalizeAll()
		o := outs[0]
		if o.Shape().DType != dtypes.Float32 {
			return result{}, palate.Errorf(palate.EINVALID, "onnx model %s: output %q is %s; want float32", s.path, s.out, o.Shape().DType)
		}
		return result{tensors.MustCopyFlatData[float32](o), o.Shape().Dimensions}, nil
	})
	return r.v, r.dims, err
}

func (s *session) compileError(err error) error {
	if palate.ErrorCode(err) != palate.EINTERNAL || errors.Is(err, train.ErrStuck) {
		return err
	}
	msg := err.Error()
	if m := unimplemented.FindStringSubmatch(msg); m != nil {
		return palate.Errorf(palate.EINVALID, "onnx model %s uses operator %q, which onnx-gomlx (the ONNX runtime built in) does not support", s.path, m[1])
	}
	if i := strings.IndexByte(msg, '\n'); i > 0 && len(msg) > 2000 {
		msg = msg[:i] // drop a stack trace
	}
	return palate.Errorf(palate.EINVALID, "onnx model %s cannot be run: %s", s.path, msg)
}

// shapeString prints a declared shape with "batch" for dynamic axes.
func shapeString(sh shapes.Shape) string {
	parts := make([]string, len(sh.Dimensions))
	for i, d := range sh.Dimensions {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return fmt.Sprintf("%s[%s]", sh.DType, strings.Join(parts, ","))
}
