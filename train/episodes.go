package train

import (
	"context"
	"time"

	"palate/history"
	"palate/model"
)

// FillHistory writes items into episode b's history slots of bt (clearing
// the rest), with recency measured back from at. Items beyond the batch's H
// slots are dropped from the front, keeping the most recent.
func FillHistory(bt *model.Batch, b int, d *history.Data, items []history.Item, at time.Time, buckets int) {
	if len(items) > bt.H {
		items = items[len(items)-bt.H:]
	}
	for h := 0; h < bt.H; h++ {
		if h >= len(items) {
			bt.ClearHistory(b, h)
			continue
		}
		it := items[h]
		bt.SetHistory(b, h, d.Emb.Row(int(it.Image)), d.Text[it.Image], model.Label(it.Label),
			model.AgeBucket(at.Sub(it.Time), buckets))
	}
}

// SetTarget writes image row r of d as target t of episode b.
func SetTarget(bt *model.Batch, b, t int, d *history.Data, r int32) {
	bt.SetTarget(b, t, d.Emb.Row(int(r)), d.Text[r])
}

// EpisodeSource turns a history sampler into training batches of B
// histories, each with P target pairs (targets 2p and 2p+1 the liked and
// the disliked image of pair p; P defaults to 1). It implements Source and
// never runs out.
type EpisodeSource struct {
	S   *history.Sampler
	D   *history.Data
	Cfg model.Config
	B   int
	P   int
}

// Next implements Source.
func (e *EpisodeSource) Next(ctx context.Context) (*model.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	P := max(e.P, 1)
	bt := model.NewBatch(e.B, e.Cfg.MaxHistory, 2*P, e.Cfg.ImageDim, e.Cfg.TextDim)
	for b := 0; b < bt.B; b++ {
		ep := e.S.NextN(P)
		FillHistory(bt, b, e.D, ep.History, ep.Target.Time, e.Cfg.RecencyBuckets)
		for p, t := range append([]history.Pair{ep.Target}, ep.Extra...) {
			SetTarget(bt, b, 2*p, e.D, t.Win)
			SetTarget(bt, b, 2*p+1, e.D, t.Lose)
		}
	}
	return bt, nil
}

// EvalBatches packs eval pairs into batches of size B, target 0 the
// preferred image. The last batch is padded by repeating its final pair and
// its Valid field says how many episodes are real.
func EvalBatches(cfg model.Config, d *history.Data, pairs []history.EvalPair, B int) []*model.Batch {
	var batches []*model.Batch
	for lo := 0; lo < len(pairs); lo += B {
		bt := model.NewBatch(B, cfg.MaxHistory, 2, cfg.ImageDim, cfg.TextDim)
		for b := 0; b < B; b++ {
			p := pairs[min(lo+b, len(pairs)-1)]
			FillHistory(bt, b, d, p.History, p.Pair.Time, cfg.RecencyBuckets)
			SetTarget(bt, b, 0, d, p.Pair.Win)
			SetTarget(bt, b, 1, d, p.Pair.Lose)
		}
		bt.Valid = min(B, len(pairs)-lo)
		batches = append(batches, bt)
	}
	return batches
}
