package baseline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"palate/bench"
	"palate/dataset"
	"palate/features"
	"palate/history"
)

// loadWorld reads a built world directory with one of its embeddings.
func loadWorld(t testing.TB, dir, embedder string) *history.Data {
	t.Helper()
	ds, err := dataset.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := dataset.ReadEmbeddings(dir, embedder)
	if err != nil {
		t.Fatal(err)
	}
	d, err := history.LoadData(ds, emb, features.NewHashBOW(64))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// accuracy judges p on the Table-1 protocol with k history pairs.
func accuracy(p Predictor, d *history.Data, k int, parts ...dataset.Part) bench.Interval {
	return bench.PairAccuracy(bench.JudgePairs(p.Score, d.EvalPairs(k, parts...)), 0, 1)
}

// fitAll fits the four baselines on d, logging their choices and times.
func fitAll(t testing.TB, d *history.Data, seed uint64) []Predictor {
	t.Helper()
	ctx := context.Background()
	np := NewNonPersonal(NonPersonalOptions{Seed: seed})
	ps := []Predictor{np, NewCentroid(), NewPerUserLinear(np, PerUserLinearOptions{}), NewUserKNN(UserKNNOptions{}),
		named{NewUserKNN(UserKNNOptions{Base: np}), "user-knn+np"}}
	for _, p := range ps {
		start := time.Now()
		if err := p.Fit(ctx, d); err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		t.Logf("fit %-16s %6.2f s", p.Name(), time.Since(start).Seconds())
	}
	st := np.Stats()
	t.Logf("non-personal: %d train / %d val pairs, %d epochs (kept %d), val loss %.4f acc %.3f, %d params",
		st.TrainPairs, st.ValPairs, st.Epochs, st.BestEpoch, st.ValLoss, st.ValAcc, st.Params)
	pl := ps[2].(*PerUserLinear)
	ls, loss, acc := pl.Validation()
	t.Logf("per-user-linear: λ = %g (grid %v, loss %.4f, acc %.3f)", pl.Lambda(), ls, loss, acc)
	for _, p := range ps[3:] {
		kn := p.(interface {
			Choice() (int, float64, float64)
		})
		n, prior, scale := kn.Choice()
		t.Logf("%s: N = %d, n0 = %g, β = %g", p.Name(), n, prior, scale)
	}
	return ps
}

// named renames a predictor, to tell variants apart in logs.
type named struct {
	*UserKNN
	name string
}

func (n named) Name() string { return n.name }

// TestBaselinesOnBuiltWorld reports every baseline's accuracy on a built
// world: set PALATE_BASELINE_WORLD to its directory, and optionally
// PALATE_BASELINE_EMBEDDERS to a comma list (default "truth,pixels-v3") and
// PALATE_BASELINE_SEEDS to the number of non-personal seeds (default 1).
func TestBaselinesOnBuiltWorld(t *testing.T) {
	dir := os.Getenv("PALATE_BASELINE_WORLD")
	if dir == "" {
		t.Skip("PALATE_BASELINE_WORLD not set")
	}
	embs := os.Getenv("PALATE_BASELINE_EMBEDDERS")
	if embs == "" {
		embs = "truth,pixels-v3"
	}
	seeds := 1
	if s := os.Getenv("PALATE_BASELINE_SEEDS"); s != "" {
		seeds, _ = strconv.Atoi(s)
	}
	var wf struct {
		Summary struct {
			Seen, Unseen struct {
				Oracle float64 `json:"oracle"`
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "world.json")); err == nil {
		_ = json.Unmarshal(b, &wf)
	}
	ks := []int{0, 1, 2, 4, 8, 16, 32}
	for _, e := range strings.Split(embs, ",") {
		t.Run(e, func(t *testing.T) {
			d := loadWorld(t, dir, e)
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				ps := fitAll(t, d, seed)
				var np [2]float64
				for _, p := range ps {
					start := time.Now()
					var curve []string
					for _, k := range ks {
						curve = append(curve, fmt.Sprintf("%.3f", accuracy(p, d, k, dataset.Train).Acc))
					}
					s := accuracy(p, d, 8, dataset.Train)
					u := accuracy(p, d, 8, dataset.Unseen)
					if p.Name() == "non-personal" {
						np = [2]float64{s.Acc, u.Acc}
					}
					// Votes: each seen person's test votes scored from their 8
					// most recent training pairs; AUC pooled over people.
					var scores []float64
					var likes []bool
					for _, ud := range d.Parts(dataset.Train) {
						if len(ud.TestVotes) == 0 {
							continue
						}
						hist := history.PairItems(ud.Pairs[max(0, len(ud.Pairs)-8):])
						var rows []int32
						for _, v := range ud.TestVotes {
							rows = append(rows, v.Image)
							likes = append(likes, v.Like)
						}
						scores = append(scores, p.Score(hist, rows)...)
					}
					t.Logf("seed %d %-16s k=8 seen %.3f [%.3f, %.3f] n=%d gap %.2f | unseen %.3f [%.3f, %.3f] n=%d gap %.2f | vote AUC %.3f | seen by k %v: %s (%.1f s)",
						seed, p.Name(), s.Acc, s.Lo, s.Hi, s.N, bench.GapClosure(s.Acc, np[0], wf.Summary.Seen.Oracle),
						u.Acc, u.Lo, u.Hi, u.N, bench.GapClosure(u.Acc, np[1], wf.Summary.Unseen.Oracle),
						bench.AUC(scores, likes), ks, strings.Join(curve, " "), time.Since(start).Seconds())
				}
			}
		})
	}
}
