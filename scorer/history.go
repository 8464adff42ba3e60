package scorer

import (
	"time"

	hist "palate/history"
	"palate/model"
)

// FromHistory turns a person's history items from a dataset into scorer
// input, with ages measured back from at.
func FromHistory(d *hist.Data, items []hist.Item, at time.Time) []HistoryItem {
	out := make([]HistoryItem, len(items))
	for i, it := range items {
		out[i] = HistoryItem{
			Image: d.Emb.Row(int(it.Image)),
			Text:  d.Text[it.Image],
			Label: model.Label(it.Label),
			Age:   at.Sub(it.Time),
		}
	}
	return out
}

// Candidates turns image rows of a dataset into scorer candidates.
func Candidates(d *hist.Data, rows []int32) []Candidate {
	out := make([]Candidate, len(rows))
	for i, r := range rows {
		out[i] = Candidate{Image: d.Emb.Row(int(r)), Text: d.Text[r]}
	}
	return out
}
