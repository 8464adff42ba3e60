package baseline

import (
	"context"
	"testing"

	"palate/history"
)

// Scoring a table row's raw vector must give exactly the row's score: new
// images go through the same standardisation as fitted ones.
func TestScoreVectorsMatchRows(t *testing.T) {
	s := newSynth(5, 30, 12, 0.8)
	ctx := context.Background()
	np := NewNonPersonal(NonPersonalOptions{Seed: 1, MaxEpochs: 5})
	ce := NewCentroid()
	for _, p := range []Predictor{np, ce} {
		if err := p.Fit(ctx, s.d); err != nil {
			t.Fatal(err)
		}
	}
	u := s.d.Users[0]
	hist := history.PairItems(u.Pairs[:4])
	rows := []int32{0, 3, 7, 11, 20, 31}
	var imgs, texts [][]float32
	for _, r := range rows {
		imgs = append(imgs, s.d.Emb.Row(int(r)))
		texts = append(texts, s.d.Text[r])
	}
	for name, pair := range map[string][2][]float64{
		"non-personal": {np.Score(hist, rows), np.ScoreVectors(imgs, texts)},
		"centroid":     {ce.Score(hist, rows), ce.ScoreVectors(hist, imgs)},
	} {
		byRow, byVec := pair[0], pair[1]
		nonZero := 0
		for i := range rows {
			if byRow[i] != byVec[i] {
				t.Errorf("%s: row %d scores %g from its row and %g from its vector", name, rows[i], byRow[i], byVec[i])
			}
			if byVec[i] != 0 {
				nonZero++
			}
		}
		if nonZero == 0 {
			t.Errorf("%s: every score is 0", name)
		}
	}
	bad := [][]float32{{1, 2}}
	if got := np.ScoreVectors(bad, nil); got[0] != 0 {
		t.Errorf("non-personal scored a 2-float vector of a 4-float table: %g; want 0", got[0])
	}
	if got := ce.ScoreVectors(hist, bad); got[0] != 0 {
		t.Errorf("centroid scored a 2-float vector of a 4-float table: %g; want 0", got[0])
	}
	if got := NewNonPersonal(NonPersonalOptions{}).ScoreVectors(imgs, texts); got[0] != 0 {
		t.Errorf("unfitted non-personal scored %g; want 0", got[0])
	}
}
