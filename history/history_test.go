package history

import (
	"testing"

	"palate/dataset"
	"palate/world"
	"palate/world/worldtest"
)

// words is a trivial prompt embedder for tests: the prompt's length.
type words struct{}

func (words) Name() string                 { return "len" }
func (words) Dim() int                     { return 1 }
func (words) EmbedText(p string) []float32 { return []float32{float32(len(p))} }

// tinyWorld builds a small world and loads it with its truth embedding.
func tinyWorld(t testing.TB, users int) *Data {
	t.Helper()
	c := world.DefaultConfig()
	c.Users, c.Groups, c.ImageSize, c.Images = users, 3, 16, "none"
	c.ComparisonsPerUser = world.Range{Min: 6, Max: 40}
	dir, _ := worldtest.Build(t, c, nil)
	ds, emb := worldtest.Read(t, dir, world.TruthEmbedder)
	d, err := LoadData(ds, emb, words{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadDataSplits(t *testing.T) {
	d := tinyWorld(t, 40)
	var seen, held int
	for _, u := range d.Users {
		switch u.Part {
		case dataset.Train:
			seen++
			if len(u.Pairs) == 0 && len(u.TestPairs) == 0 {
				t.Fatalf("%s: no pairs", u.ID)
			}
			for _, p := range u.Pairs {
				for _, q := range u.TestPairs {
					if !p.Time.Before(q.Time) {
						t.Fatalf("%s: train pair %s at %v not before test pair %s at %v", u.ID, p.ID, p.Time, q.ID, q.Time)
					}
				}
			}
		default:
			held++
			if len(u.TestPairs) != 0 {
				t.Fatalf("held-out %s has test pairs; all of theirs are judged by EvalPairs", u.ID)
			}
		}
	}
	if seen == 0 || held == 0 {
		t.Fatalf("%d seen and %d held-out people", seen, held)
	}
}

func TestSamplerNeverPeeks(t *testing.T) {
	d := tinyWorld(t, 30)
	const maxItems = 12
	s, err := NewSampler(d, SamplerOptions{MaxItems: maxItems, Seed: 3, MaxVotes: 3})
	if err != nil {
		t.Fatal(err)
	}
	long := 0
	for it := 0; it < 500; it++ {
		e := s.Next()
		if len(e.History) > maxItems {
			t.Fatalf("episode holds %d items", len(e.History))
		}
		if len(e.History) >= maxItems-2 {
			long++
		}
		for h, item := range e.History {
			if !item.Time.Before(e.Target.Time) {
				t.Fatalf("%s: history item at %v for a target at %v", e.User.ID, item.Time, e.Target.Time)
			}
			if item.Label == Liked && (h+1 >= len(e.History) || e.History[h+1].Label != Disliked) {
				t.Fatal("a liked item is not followed by its disliked partner")
			}
		}
		if e.User.Part != dataset.Train {
			t.Fatalf("episode of %s, who is %v", e.User.ID, e.User.Part)
		}
	}
	if long == 0 {
		t.Fatal("no episode filled its history")
	}
	// Every target's history, for every person: only earlier times.
	for _, u := range s.users {
		for j, p := range u.Pairs {
			for _, it := range s.history(nil, u, p.Time, j) {
				if !it.Time.Before(p.Time) {
					t.Fatalf("%s: history item at %v for a target at %v", u.ID, it.Time, p.Time)
				}
			}
		}
	}
}

func TestEvalPairsProtocol(t *testing.T) {
	d := tinyWorld(t, 40)
	const k = 3
	for _, e := range d.EvalPairs(k, dataset.Train, dataset.Unseen) {
		if len(e.History) > 2*k {
			t.Fatalf("history of %d items for k=%d", len(e.History), k)
		}
		for _, it := range e.History {
			if !it.Time.Before(e.Pair.Time) {
				t.Fatalf("%s: history item not before the judged pair", e.User.ID)
			}
		}
		if e.User.Part == dataset.Unseen {
			if n := min(k, len(e.User.Pairs)); len(e.History) != 2*n {
				t.Fatalf("unseen %s: history of %d items; want their first %d pairs", e.User.ID, len(e.History), n)
			}
		}
	}
}

// With VotePairs some targets are a liked and a disliked training vote of
// the person, read against a history from before both; without it none.
func TestSamplerVotePairs(t *testing.T) {
	d := tinyWorld(t, 30)
	for _, on := range []bool{false, true} {
		s, err := NewSampler(d, SamplerOptions{MaxItems: 12, Seed: 3, MaxVotes: 3, VotePairs: on})
		if err != nil {
			t.Fatal(err)
		}
		fromVotes := 0
		for range 1000 {
			e := s.NextN(2)
			votes := map[int32]Single{}
			for _, v := range e.User.Votes {
				votes[v.Image] = v
			}
			win, okW := votes[e.Target.Win]
			lose, okL := votes[e.Target.Lose]
			if !okW && !okL {
				continue // a comparison
			}
			fromVotes++
			if !okW || !okL || !win.Like || lose.Like {
				t.Fatalf("%s: target %+v is not a liked and a disliked vote", e.User.ID, e.Target)
			}
			if first := min(win.Time.UnixNano(), lose.Time.UnixNano()); e.Target.Time.UnixNano() != first {
				t.Fatalf("%s: vote pair at %v; want the earlier vote's time", e.User.ID, e.Target.Time)
			}
			for _, it := range e.History {
				if !it.Time.Before(e.Target.Time) || it.Image == win.Image || it.Image == lose.Image {
					t.Fatalf("%s: history item %+v for the vote pair %+v", e.User.ID, it, e.Target)
				}
			}
			for _, x := range e.Extra {
				if x.Time.Before(e.Target.Time) {
					t.Fatalf("%s: extra target at %v before the vote pair at %v", e.User.ID, x.Time, e.Target.Time)
				}
			}
		}
		if on != (fromVotes > 0) {
			t.Fatalf("VotePairs %v: %d of 1000 targets made of votes", on, fromVotes)
		}
	}
}
