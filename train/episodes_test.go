package train

import (
	"testing"

	"palate/history"
	"palate/model"
)

// The history package's labels are the model's labels: train converts one
// to the other by value.
func TestLabelsAgree(t *testing.T) {
	pairs := map[history.Label]model.Label{
		history.Liked: model.LabelLiked, history.Disliked: model.LabelDisliked,
		history.SingleLike: model.LabelSingleLike, history.SingleDislike: model.LabelSingleDislike,
	}
	for h, m := range pairs {
		if model.Label(h) != m {
			t.Errorf("history label %d is not model label %v", h, m)
		}
	}
}
