// Package train trains palate's preference model (package model) and keeps
// it in checkpoints.
//
// Run is the training loop: batches from a Source (the episode sampler),
// AdamW with warm-up and cosine or linear decay, global-norm gradient
// clipping, decoupled weight decay on weight matrices only, early stopping
// on validation pairwise accuracy (a ValidateFunc) that keeps the best
// weights, a progress bar on a terminal and plain log lines otherwise, and a
// clean stop on context cancellation (Ctrl-C) that saves the best checkpoint.
// It is deterministic: the same Options.Seed and the same batches give
// bit-identical weights (initial weights come from model.InitParams on the
// host, dropout from the store's seeded generator, and the Go backend's
// matrix products split work by fixed tiles).
//
// Two modes: ModeJoint trains everything; ModeTwoStage is the paper's
// schedule, stage 1 all variables except the preference tokens, stage 2 only
// the tokens (model.ParamSpec.Pref), each stage with a fresh optimizer and
// its own early stopping, stage 2 starting from stage 1's best weights.
// Either mode begins, when the model has a base head, with a base stage
// (StageBase, Options.BaseSteps): the base head alone fitted as a
// non-personal Bradley–Terry scorer (model.BaseLosses; with
// model.Config.BasePersonal the taste and group heads too), which only starts
// the model; the kept weights are the best validated after it. ModeBase
// trains that base stage alone, and Options.Start begins another run of the
// same model (λ may differ) from its checkpoint instead of a base stage of
// its own: the bench trains it once for the variants that differ only after
// it. Every image
// statistic of model.Config.ImageStandardize is computed from the dataset
// by OnData and frozen. Trainer is the step-level building block for custom
// loops.
//
// A checkpoint directory (Save, Load) holds config.json (every
// hyperparameter, the image and text embedders' names and dimensions),
// weights.bin (little-endian float32), summary.json (how training went) and
// manifest.json (the SHA-256 of the others, written last). Save writes to a
// temporary sibling directory, fsyncs it and swaps it in by rename; Load
// verifies every checksum, so a crash mid-save leaves the old checkpoint or
// the new one, never a mixture, and a damaged directory is refused. So is
// one this build cannot rebuild exactly: config.json is read strictly (a
// model option it does not know, a key given twice or in another case)
// and weights the config has no variable for are named; options palate
// has removed are accepted only when off. LoadFor and
// Checkpoint.CheckEmbedder refuse data from another embedder with an
// EINVALID error naming both.
//
// # Backend: measured and chosen
//
// Everything runs on GoMLX v0.28.2's pure-Go backend (compute v0.1.2, no
// cgo). Build and test with GOEXPERIMENT=simd: it turns on the backend's
// AVX2 and AVX-512 matrix products (the 2-vCPU machines these figures come
// from were an AMD EPYC VM exposing AVX2 and FMA, and from session 13 an
// Intel Xeon with AVX-512), about 2× faster training steps; SIMDBuild
// reports it.
//
// BenchmarkTrainStep (B=64 episodes of 16 pairs = 32 history tokens, K=10,
// d=128, 2 layers, 4 heads, 308-float pixel embeddings, 64-float prompts;
// seconds per AdamW step) on the 2-vCPU machine while other sessions kept
// its load average at 2.5-5, so wall times spread widely; read the minimum
// as the uncontended figure. Comparison of configurations (3 interleaved
// rounds of 8 steps, FFMult 4):
//
//	config             GOEXPERIMENT=simd     without simd
//	go:ops_sequential  0.85 (0.85-1.23)      1.88 (1.88-3.10)
//	go:parallelism=8   0.80 (0.80-1.26)      1.24 (1.24-2.16)
//	go:parallelism=-1  0.47 (0.47-1.70)      1.56 (1.56-2.09)
//	go (default)       0.85 (0.85-1.59),     1.20 (1.20-1.66),
//	                   hung in 1 of 3 runs   hung in 6 of 9 runs
//
// With the final defaults (FFMult 2), go:ops_sequential takes 0.71 s per
// step with simd (0.70 CPU-s: 90 episodes/s) and 1.60-1.66 s without;
// go:parallelism=8 measured the same (0.71-0.75 CPU-s) on the loaded machine.
//
// The default configuration deadlocks: the watchdog ended 7 of its 12 runs
// ("training step: computation made no progress for 1m0s"), at 0% CPU. The cause, read from
// compute/internal/gobackend/workerspool: in parallel mode each graph node
// runs in a worker slot of a bounded pool and the matrix product inside it
// asks the same pool for more slots (Saturate, with sync.Cond.Signal rather
// than Broadcast); once every slot is held by a node waiting for one, nothing
// moves. parallelism=8 or -1 make that rare, not impossible.
//
// DefaultBackend is "go:ops_sequential": nodes run one after another in the
// calling goroutine, so no node holds a slot while asking for one and the
// deadlock cannot happen by construction; matrix products still use both
// cores. On an idle machine the parallel configurations would be up to
// ~1.5-1.8× faster per step; on a loaded one (as here, and as CI is) the
// difference vanishes into the noise, and two concurrent half-batch steps
// were no faster than one full step either, so no data-parallel scheme was
// kept. Safety by construction wins; every step, validation and scoring call
// still runs under Guard, so a hang from any cause returns an error wrapping
// ErrStuck after Options.StepTimeout instead of blocking forever.
//
// palate builds against its own copy of compute v0.1.2
// (third_party/gomlx-compute, a replace in go.mod) with two changes. The
// first is the transpose: upstream moved every element through a per-element index
// iterator, 23% of a training step's CPU time in a profile of
// BenchmarkTrainStep; the copy moves whole runs of the last axis (model's
// TestTransposeMatchesReference checks it against plain index arithmetic).
// The step went from 0.59-0.60 s to 0.51-0.53 s (default model, pixels-v3,
// go:ops_sequential, two rounds of 20 steps, the two builds interleaved on
// an otherwise idle machine). The second clears the vector registers' upper
// halves (VZEROUPPER) in the float32 matrix kernels before scalar code: on
// the Intel machine the AVX-SSE transition penalty had made a step 1.3×
// slower (351 → 275 ms, five interleaved rounds of 10 steps; training the
// default world took 4:53 → 3:44 and gave the same weights, byte for byte;
// docs/BENCHMARKS.md "Session 13").
//
// Two upstream defects shape the code: the Go backend crashes (index out of
// range) on a graph with a parameter no output uses, so graphs return what
// they read; and its bias addition costs an integer modulo per element, so
// the model's dense layers have no biases.
package train
