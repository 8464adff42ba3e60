//go:build diag

package suite

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"palate/dataset"
	"palate/history"
	"palate/model"
	"palate/scorer"
	"palate/train"
	"palate/world/worldtest"
)

// TestDiagEnsemble judges the bench's k = 8 comparisons by the mean score of
// several trained palate models (PALATE_DIAG_MODELS, comma-separated
// checkpoint directories, e.g. the same config trained with different
// seeds), beside each model alone, to ask what an ensemble of seeds is
// worth:
//
//	PALATE_DIAG_DATA=/tmp/wb2 PALATE_DIAG_EMBEDDER=pixels-v3 PALATE_DIAG_MODELS=m1,m2,m3 \
//	  GOEXPERIMENT=simd go test -tags diag -count=1 -run TestDiagEnsemble -v ./bench/suite/
func TestDiagEnsemble(t *testing.T) {
	diagWorld(t) // skips unless PALATE_DIAG_DATA and _EMBEDDER are set
	ds, emb := worldtest.Read(t, os.Getenv("PALATE_DIAG_DATA"), os.Getenv("PALATE_DIAG_EMBEDDER"))
	var d *history.Data
	dirs := strings.Split(os.Getenv("PALATE_DIAG_MODELS"), ",")
	if len(dirs) == 0 || dirs[0] == "" {
		t.Skip("set PALATE_DIAG_MODELS")
	}
	ctx := context.Background()
	var models []*palateModel
	for _, dir := range dirs {
		ck, err := train.LoadFor(dir, emb.Embedder, emb.Dim)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil { // the prompts as the models read them
			if d, err = history.LoadData(ds, emb, model.NewHashBOW(ck.Config.TextDim)); err != nil {
				t.Fatal(err)
			}
		}
		sc, err := scorer.New(ck, scorer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, &palateModel{ck: ck, sc: sc, d: d})
	}
	// margins[m][i] is model m's score of query i's preferred image minus
	// the other's.
	acc := func(margins []float64) float64 {
		var s float64
		for _, m := range margins {
			switch {
			case m > 0:
				s++
			case m == 0:
				s += 0.5
			}
		}
		return 100 * s / float64(len(margins))
	}
	line := make([]string, len(models)+1)
	for _, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
		set := makeSet(d, 8, part, false)
		mean := make([]float64, len(set.qs))
		for mi, m := range models {
			fn := m.score(false)
			margins := make([]float64, len(set.qs))
			for _, g := range set.groups {
				s, err := fn(ctx, set.qs[g[0]:g[1]])
				if err != nil {
					t.Fatal(err)
				}
				for i, row := range s {
					margins[g[0]+i] = row[0] - row[1]
					mean[g[0]+i] += (row[0] - row[1]) / float64(len(models))
				}
			}
			line[mi] += fmt.Sprintf("%.1f/", acc(margins))
		}
		line[len(models)] += fmt.Sprintf("%.1f/", acc(mean))
	}
	for i, dir := range dirs {
		t.Logf("%s: seen/unseen %s", dir, strings.TrimSuffix(line[i], "/"))
	}
	t.Logf("mean of the %d scores: seen/unseen %s", len(models), strings.TrimSuffix(line[len(models)], "/"))
}
