package suite

import (
	"context"
	"math"
	"testing"

	"palate/dataset"
	"palate/world"
)

// TestTruthOnJudgedPairs recomputes the reference ceilings on the judged
// comparisons: they must order oracle ≥ group oracle ≥ crowd oracle ≥
// global oracle, and where the judged set is the world's own test set (seen
// people at any k, unseen people at k = 0) they must equal world.json's
// numbers exactly.
func TestTruthOnJudgedPairs(t *testing.T) {
	dir, sum := testWorld(t)
	d := loadTestData(t, dir, world.TruthEmbedder)
	tr, err := LoadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr == nil {
		t.Fatal("LoadTruth found no world.json")
	}
	if len(tr.People) != sum.Users {
		t.Fatalf("%d people in the truth; the world has %d", len(tr.People), sum.Users)
	}
	ctx := context.Background()
	acc := func(kind string, set *evalSet) (float64, int) {
		o, err := evaluate(ctx, set, tr.truthScore(kind, d), 2)
		if err != nil {
			t.Fatal(err)
		}
		return o.acc(), len(o.judged)
	}
	for _, k := range []int{0, 8} {
		for _, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
			set := makeSet(d, k, part, true)
			// The set's comparisons are exactly EvalPairs'.
			eps := d.EvalPairs(k, part)
			var pairs []query
			for _, q := range set.qs {
				if !q.vote {
					pairs = append(pairs, q)
				}
			}
			if len(pairs) != len(eps) {
				t.Fatalf("k=%d %v: %d judged pairs, EvalPairs has %d", k, part, len(pairs), len(eps))
			}
			for i, e := range eps {
				q := pairs[i]
				if q.user != e.User || q.rows[0] != e.Pair.Win || q.rows[1] != e.Pair.Lose || !q.at.Equal(e.Pair.Time) || len(q.hist) != len(e.History) {
					t.Fatalf("k=%d %v: judged pair %d differs from EvalPairs", k, part, i)
				}
			}
			o, n := acc(Oracle, set)
			g, _ := acc(GroupOracle, set)
			q, _ := acc(GlobalOracle, set)
			c, _ := acc(CrowdOracle, set)
			t.Logf("k=%d %-6v n=%4d oracle %.3f group %.3f crowd %.3f global %.3f (%d votes)", k, part, n, o, g, c, q, set.votes)
			if !(o >= g && g >= c && c >= q) {
				t.Errorf("k=%d %v: oracle %.3f, group %.3f, crowd %.3f, global %.3f: want oracle ≥ group ≥ crowd ≥ global", k, part, o, g, c, q)
			}
			want := sum.Seen
			if part == dataset.Unseen {
				if k != 0 {
					continue
				}
				want = sum.Unseen
			}
			if n != want.N || math.Abs(o-want.Oracle) > 1e-12 || math.Abs(g-want.GroupOracle) > 1e-12 || math.Abs(q-want.GlobalOracle) > 1e-12 {
				t.Errorf("k=%d %v: recomputed n=%d %.4f/%.4f/%.4f; world.json says n=%d %.4f/%.4f/%.4f",
					k, part, n, o, g, q, want.N, want.Oracle, want.GroupOracle, want.GlobalOracle)
			}
		}
	}
}

// TestCrowdUtility: the crowd oracle's score of an image is the mean over
// the world's people of their group's utility, worked person by person.
func TestCrowdUtility(t *testing.T) {
	dir, _ := testWorld(t)
	tr, err := LoadTruth(dir)
	if err != nil || tr == nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range tr.Attrs {
		var want float64
		for _, p := range tr.People {
			want += tr.World.GroupUtility(p, a)
		}
		want /= float64(len(tr.People))
		if got := tr.crowdUtility(a); math.Abs(got-want) > 1e-9*(1+math.Abs(want)) {
			t.Fatalf("crowd utility %v; the people's mean group utility is %v", got, want)
		}
		if n++; n == 50 {
			break
		}
	}
}

// TestLoadTruthAbsent: a dataset that is not a taste world has no truth,
// and that is not an error.
func TestLoadTruthAbsent(t *testing.T) {
	tr, err := LoadTruth(t.TempDir())
	if err != nil || tr != nil {
		t.Fatalf("LoadTruth(empty dir) = %v, %v; want nil, nil", tr, err)
	}
}
