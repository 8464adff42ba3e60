package scorer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"palate/features"
	"palate/model"
)

// benchScorer is the default model (model.DefaultConfig) on the built-in
// pixels-v3 embedder (features.Dim floats) and hashbow-v1 prompts (64).
func benchScorer(b *testing.B) (*Scorer, model.Config) {
	cfg := model.DefaultConfig()
	cfg.ImageDim = features.Dim
	s, err := New(testCheckpoint(b, cfg, 1), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s, cfg
}

// BenchmarkScore scores n candidates for one user with a 16-pair (32-item)
// history already encoded. Target: 1,024 candidates in under 50 ms on 2 cores.
func BenchmarkScore(b *testing.B) {
	s, cfg := benchScorer(b)
	rng := rand.New(rand.NewPCG(1, 2))
	c, err := s.Context(context.Background(), history(cfg, 32, rng))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("candidates=%d", n), func(b *testing.B) {
			cands := candidates(cfg, n, rng)
			if _, err := s.Score(context.Background(), c, cands); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for range b.N {
				if _, err := s.Score(context.Background(), c, cands); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/op")
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(n)/sec, "candidates/s")
			b.ReportMetric(float64(FLOPsPerCandidate(cfg)), "FLOPs/candidate")
			b.ReportMetric(float64(FLOPsPerCandidate(cfg))*float64(n)/sec/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkContext encodes a 16-pair history (once per user).
func BenchmarkContext(b *testing.B) {
	s, cfg := benchScorer(b)
	hist := history(cfg, 32, rand.New(rand.NewPCG(1, 2)))
	if _, err := s.Context(context.Background(), hist); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.Context(context.Background(), hist); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuSeconds is the process's user+system CPU time: with other work on the
// machine, CPU time per operation is steadier than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
