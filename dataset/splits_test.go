package dataset

import (
	"testing"
	"time"

	"palate"
)

func TestPart(t *testing.T) {
	s := &Splits{
		UnseenUsers:     []string{"new"},
		ValidationUsers: []string{"val"},
		Cutoff: map[string]time.Time{
			"known": t0,
			"new":   t0, // no effect: unseen wins
		},
	}
	tests := map[string]struct {
		splits *Splits
		user   string
		t      time.Time
		want   Part
	}{
		"nil splits":        {nil, "known", t0, Train},
		"unseen":            {s, "new", t0.Add(-time.Hour), Unseen},
		"validation":        {s, "val", t0, Validation},
		"before cutoff":     {s, "known", t0.Add(-time.Nanosecond), Train},
		"at cutoff":         {s, "known", t0, Test},
		"after cutoff":      {s, "known", t0.Add(time.Hour), Test},
		"cutoff other zone": {s, "known", t0.In(ist), Test},
		"no cutoff":         {s, "other", t0.Add(time.Hour), Train},
		"empty splits":      {&Splits{}, "known", t0, Train},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.splits.Part(tt.user, tt.t); got != tt.want {
				t.Errorf("Part = %v; want %v", got, tt.want)
			}
			if got := tt.splits.PartFunc()(tt.user, tt.t); got != tt.want {
				t.Errorf("PartFunc = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestPartString(t *testing.T) {
	tests := map[Part]string{Train: "train", Test: "test", Validation: "validation", Unseen: "unseen", Part(9): "Part(9)"}
	for p, want := range tests {
		if got := p.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", int(p), got, want)
		}
	}
}

func TestSplitsRoundTrip(t *testing.T) {
	tests := map[string]*Splits{
		"full":  sample().Splits,
		"empty": {},
		"zone":  {Cutoff: map[string]time.Time{"u": tIST}},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteSplits(dir, want); err != nil {
				t.Fatal(err)
			}
			got, err := ReadSplits(dir)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := normSplits(got), normSplits(want); !equalSplits(g, w) {
				t.Errorf("got %+v; want %+v", g, w)
			}
		})
	}
}

func TestWriteSplitsRejects(t *testing.T) {
	tests := map[string]struct {
		splits *Splits
		want   string
	}{
		"nil":     {nil, "nil splits"},
		"overlap": {&Splits{UnseenUsers: []string{"a"}, ValidationUsers: []string{"a"}}, `user "a" is in both`},
		"twice":   {&Splits{UnseenUsers: []string{"a", "a"}}, `unseen_users names user "a" twice`},
		"empty":   {&Splits{Cutoff: map[string]time.Time{"": t0}}, "cutoff has an empty user"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			assertError(t, WriteSplits(t.TempDir(), tt.splits), palate.EINVALID, tt.want)
		})
	}
}

func equalSplits(a, b *Splits) bool {
	if len(a.UnseenUsers) != len(b.UnseenUsers) || len(a.ValidationUsers) != len(b.ValidationUsers) || len(a.Cutoff) != len(b.Cutoff) {
		return false
	}
	for i := range a.UnseenUsers {
		if a.UnseenUsers[i] != b.UnseenUsers[i] {
			return false
		}
	}
	for i := range a.ValidationUsers {
		if a.ValidationUsers[i] != b.ValidationUsers[i] {
			return false
		}
	}
	for u, c := range a.Cutoff {
		if d, ok := b.Cutoff[u]; !ok || !c.Equal(d) {
			return false
		}
	}
	return true
}
