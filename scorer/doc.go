// Package scorer serves a trained preference model: it loads a checkpoint
// once, encodes a person's history once (Scorer.Context) and scores any
// number of candidate images against it (Scorer.Score), and describes a
// person's taste for finding similar people (Scorer.Descriptor).
//
// Inputs are raw vectors (HistoryItem, Candidate): image embeddings from the
// checkpoint's embedder and prompt embeddings from its text embedder
// (Scorer.EmbedPrompt), so any store or dataset can feed it.
//
// # Speed
//
// Encoding a history is one pass of the small transformer over K + H tokens
// (6 ms for the default model and a 16-pair history). Scoring reads each
// candidate against the cached keys and values of every layer (the model is
// prefix-LM: candidates never see each other); FLOPsPerCandidate gives the
// work, 664,064 floating-point operations for the default model (d=128,
// 2 layers, FFMult 2, K=10, 32 history slots, 308-float images, 64-float
// prompts). Candidates go in batches padded to a few fixed sizes
// (DefaultSizes) so each size compiles once, and the batches of one call run
// concurrently (Options.Parallelism). Measured on the 2-vCPU machine
// (BenchmarkScore, one user, 16-pair history) with GOEXPERIMENT=simd:
// 1,024 candidates in 45-47 ms (88-91 CPU-ms, ~15 GFLOP/s), 64 in 4.6-5.0
// ms, 1 in 0.41-0.43 ms, encoding the history 6.2-6.9 ms; without simd 120,
// 10.3, 0.61 and 13 ms.
//
// # Safety
//
// The weights are compiled into the graphs as constants: calls share no
// mutable state, and one Scorer serves concurrent callers. Every computation
// runs under train.Guard: a call that makes no progress for Options.Timeout
// (the upstream Go-backend deadlock; see package train) returns an error
// instead of hanging.
//
// The Go backend (compute v0.1.2) crashes on graphs with a parameter that no
// output uses; the encoder therefore returns every output it computes.
package scorer
