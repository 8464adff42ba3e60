package train

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"palate/features"
	"palate/model"
)

// benchConfig is the model the benchmarks measure: the default model on the
// built-in pixels-v3 embedder (features.Dim floats) and hashbow-v1 prompts.
func benchConfig() model.Config {
	cfg := model.DefaultConfig()
	cfg.ImageDim = features.Dim
	return cfg
}

// benchBatch is B episodes of 16 pairs (32 history tokens).
func benchBatch(cfg model.Config, B int, rng *rand.Rand) *model.Batch {
	bt := model.NewBatch(B, cfg.MaxHistory, 2, cfg.ImageDim, cfg.TextDim)
	vec := func(d int) []float32 {
		v := make([]float32, d)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for b := range B {
		for h := range cfg.MaxHistory {
			l := model.LabelLiked
			if h%2 == 1 {
				l = model.LabelDisliked
			}
			bt.SetHistory(b, h, vec(cfg.ImageDim), vec(cfg.TextDim), l, int32(rng.IntN(cfg.RecencyBuckets)))
		}
		bt.SetTarget(b, 0, vec(cfg.ImageDim), vec(cfg.TextDim))
		bt.SetTarget(b, 1, vec(cfg.ImageDim), vec(cfg.TextDim))
	}
	return bt
}

// BenchmarkTrainStep times one AdamW step on B=64 episodes of 16-pair
// histories (32 history tokens + K=10 preference tokens) of the default
// model on pixels-v3 (benchConfig; the doc of package train has figures
// for the d=128 model of its first version), per backend configuration. Run it with GOEXPERIMENT=simd and without.
// "go" (the default config) may hang on the upstream worker-pool deadlock;
// the watchdog then fails the benchmark after 60 s instead of hanging.
func BenchmarkTrainStep(b *testing.B) {
	for _, backend := range []string{"go:ops_sequential", "go:parallelism=8", "go:parallelism=-1", "go"} {
		b.Run(backend, func(b *testing.B) {
			cfg := benchConfig()
			opts := DefaultOptions()
			opts.Backend = backend
			opts.StepTimeout = time.Minute
			tr, err := NewTrainer(cfg, opts)
			if err != nil {
				b.Fatal(err)
			}
			bt := benchBatch(cfg, 64, rand.New(rand.NewPCG(1, 2)))
			if _, err := tr.Step(bt, 1e-3); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for range b.N {
				if _, err := tr.Step(bt, 1e-3); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "episodes/s")
		})
	}
}

// BenchmarkSynthStep times the tiny model the learning test trains.
func BenchmarkSynthStep(b *testing.B) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := DefaultOptions()
	tr, err := NewTrainer(cfg, opts)
	if err != nil {
		b.Fatal(err)
	}
	bt := w.fixedBatches(1, 32, 0, 20, 1)[0]
	if _, err := tr.Step(bt, 1e-3); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Step(bt, 1e-3); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuSeconds is the process's user+system CPU time: with other work on the
// machine, CPU time per step is steadier than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
