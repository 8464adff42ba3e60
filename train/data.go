package train

import (
	"context"
	"fmt"

	"palate/dataset"
	"palate/history"
	"palate/model"
)

// DataOptions says how a dataset becomes batches.
type DataOptions struct {
	// Batch is the number of histories per training step. Default 64.
	Batch int `json:"batch"`
	// TargetPairs is how many of a person's comparisons (the sampled one
	// and later ones) are read against each history: they share one
	// encoding of it. Default 4.
	TargetPairs int `json:"target_pairs"`
	// EvalPairs is k, the history pairs each validation pair is judged
	// from (the paper's N_ref). Default 8.
	EvalPairs int `json:"eval_pairs"`
	// Sampler shapes the training episodes; MaxItems is set from the model.
	Sampler history.SamplerOptions `json:"sampler"`
}

func (o *DataOptions) fill(cfg model.Config, seed uint64) {
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.TargetPairs <= 0 {
		o.TargetPairs = 4
	}
	if o.EvalPairs <= 0 {
		o.EvalPairs = 8
	}
	o.Sampler.MaxItems = cfg.MaxHistory
	if o.Sampler.Seed == 0 {
		o.Sampler.Seed = seed
	}
}

// StepsForData is StepsFor d's training comparisons: the default Steps
// that OnData trains for.
func StepsForData(d *history.Data, batch int) int {
	pairs := 0
	for _, u := range d.Parts(dataset.Train) {
		pairs += len(u.Pairs)
	}
	return StepsFor(pairs, batch)
}

// OnData trains a model on the training part of d: episodes from seen
// people's earlier pairs, early stopping on the validation people judged from
// their first EvalPairs pairs (when the dataset has none, training runs its
// full length on the last weights, and the summary says it was not
// validated). cfg.ImageDim and cfg.TextDim are set from d, and opts.Steps,
// when zero, from StepsFor the training comparisons.
func OnData(ctx context.Context, d *history.Data, cfg model.Config, opts Options, do DataOptions) (*Checkpoint, error) {
	cfg.ImageDim = d.Emb.Dim
	if len(d.Text) > 0 {
		cfg.TextDim = len(d.Text[0])
	}
	do.fill(cfg, opts.Seed)
	if cfg.ImageStandardize && opts.ImageMean == nil {
		opts.ImageMean, opts.ImageIStd = model.ImageStats(d.Emb.Data, d.Emb.Dim)
	}
	s, err := history.NewSampler(d, do.Sampler)
	if err != nil {
		return nil, err
	}
	if opts.Steps == 0 {
		opts.Steps = StepsForData(d, do.Batch)
	}
	src := &EpisodeSource{S: s, D: d, Cfg: cfg, B: do.Batch, P: do.TargetPairs}
	var validate ValidateFunc
	if pairs := d.EvalPairs(do.EvalPairs, dataset.Validation); len(pairs) > 0 {
		validate = ValidateOn(EvalBatches(cfg, d, pairs, do.Batch))
	} else if opts.Log != nil {
		fmt.Fprintln(opts.Log, "train: the dataset has no validation people; training without early stopping")
	}
	return Run(ctx, cfg, opts, src, validate)
}
