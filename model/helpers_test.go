package model

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlm "github.com/gomlx/gomlx/ml/model"
)

// testBackend is one sequential Go backend for the whole package's tests:
// ops_sequential cannot hit the upstream worker-pool deadlock.
var testBackend = sync.OnceValue(func() compute.Backend {
	b, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		panic(err)
	}
	return b
})

func smallConfig() Config {
	cfg := DefaultConfig()
	cfg.ImageDim = 12
	cfg.TextDim = 8
	cfg.DModel = 16
	cfg.Heads = 2
	cfg.FFMult = 2
	cfg.PrefTokens = 3
	cfg.PoolSize = 5
	cfg.MaxHistory = 6
	cfg.RecencyBuckets = 4
	cfg.Dropout = 0
	return cfg
}

func newStore(t testing.TB, cfg Config, seed uint64) *mlm.Store {
	t.Helper()
	store := mlm.NewStore()
	if err := InitParams(store, cfg, seed); err != nil {
		t.Fatal(err)
	}
	return store
}

// randomBatch fills n of the H history slots of every episode (n <= H) and
// all targets with random vectors.
func randomBatch(cfg Config, B, T, n int, rng *rand.Rand) *Batch {
	bt := NewBatch(B, cfg.MaxHistory, T, cfg.ImageDim, cfg.TextDim)
	vec := func(d int) []float32 {
		v := make([]float32, d)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for b := range B {
		for h := range n {
			bt.SetHistory(b, h, vec(cfg.ImageDim), vec(cfg.TextDim), Label(1+rng.IntN(4)), int32(rng.IntN(cfg.RecencyBuckets)))
		}
		for tt := range T {
			bt.SetTarget(b, tt, vec(cfg.ImageDim), vec(cfg.TextDim))
		}
	}
	return bt
}

// forwardLogits runs Forward (no training) and returns logits [B*T*2].
func forwardLogits(t testing.TB, store *mlm.Store, cfg Config, bt *Batch) []float32 {
	t.Helper()
	out := runOnBatch(t, store, bt, func(scope *mlm.Scope, inputs []*Node) []*Node {
		logits, _ := Forward(scope, cfg, InputsFromNodes(inputs), false)
		return []*Node{logits}
	})
	return tensors.MustCopyFlatData[float32](out[0])
}

// runOnBatch builds a graph of the batch's input tensors with fn, runs it
// once over store's variables and returns its outputs.
func runOnBatch(t testing.TB, store *mlm.Store, bt *Batch, fn func(scope *mlm.Scope, inputs []*Node) []*Node) []*tensors.Tensor {
	t.Helper()
	exec, err := mlm.NewExec(testBackend(), store, fn)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	args := make([]any, 0, NumInputs)
	for _, x := range bt.Tensors() {
		args = append(args, x)
	}
	out, err := exec.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
