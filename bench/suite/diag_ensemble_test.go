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
// seeds), beside each model alone, as the bench's palate/ensemble row does
// with palate/full's seeds, to ask what an ensemble of any models is worth:
//
//	PALATE_DIAG_DATA=/tmp/wb2 PALATE_DIAG_EMBEDDER=pixels-v3 PALATE_DIAG_MODELS=m1,m2,m3 \
//	  GOEXPERIMENT=simd go test -tags diag -count=1 -run TestDiagEnsemble -v ./bench/suite/
func TestDiagEnsemble(t *testing.T) {
	dir, embName, models := os.Getenv("PALATE_DIAG_DATA"), os.Getenv("PALATE_DIAG_EMBEDDER"), os.Getenv("PALATE_DIAG_MODELS")
	if dir == "" || embName == "" || models == "" {
		t.Skip("set PALATE_DIAG_DATA, PALATE_DIAG_EMBEDDER and PALATE_DIAG_MODELS")
	}
	ds, emb := worldtest.Read(t, dir, embName)
	ctx := context.Background()
	var d *history.Data
	var fns []scoreFn
	dirs := strings.Split(models, ",")
	for _, mdir := range dirs {
		ck, err := train.LoadFor(mdir, emb.Embedder, emb.Dim)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil { // the prompts as the first model reads them
			if d, err = history.LoadData(ds, emb, model.NewHashBOW(ck.Config.TextDim)); err != nil {
				t.Fatal(err)
			}
		} else if ck.Config.TextDim != len(d.Text[0]) {
			t.Fatalf("%s reads %d-float prompts, %s %d", mdir, ck.Config.TextDim, dirs[0], len(d.Text[0]))
		}
		sc, err := scorer.New(ck, scorer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fns = append(fns, (&palateModel{ck: ck, sc: sc, d: d}).score(false))
	}
	sets := [2]*evalSet{makeSet(d, 8, dataset.Train, false), makeSet(d, 8, dataset.Unseen, false)}
	judge := func(fn scoreFn) string {
		var acc [2]float64
		for p, set := range sets {
			o, err := evaluate(ctx, set, fn, 0)
			if err != nil {
				t.Fatal(err)
			}
			acc[p] = 100 * o.acc()
		}
		return fmt.Sprintf("%.1f/%.1f", acc[0], acc[1])
	}
	for i, fn := range fns {
		t.Logf("%s: seen/unseen %s", dirs[i], judge(fn))
	}
	t.Logf("mean of the %d scores: seen/unseen %s", len(fns), judge(meanScore(fns)))
}
