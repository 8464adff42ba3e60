package world

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	tests := map[string]struct {
		json string
		want string // substring of the error; "" for success
	}{
		"empty object":      {`{}`, ""},
		"override":          {`{"users": 50, "groups": 3, "images": "none"}`, ""},
		"unknown key":       {`{"userz": 5}`, "userz"},
		"wrong type":        {`{"users": "many"}`, "users"},
		"too few users":     {`{"users": 1}`, "users"},
		"groups over users": {`{"users": 10, "groups": 11}`, "groups"},
		"bad range":         {`{"comparisons_per_user": {"min": 10, "max": 5}}`, "comparisons_per_user"},
		"zero noise":        {`{"noise": 0}`, "noise"},
		"bad images":        {`{"images": "jpeg"}`, "images"},
		"fractions":         {`{"unseen_fraction": 0.6, "validation_fraction": 0.5}`, "unseen_fraction"},
		"trailing":          {`{} {}`, "trailing"},
		"not json":          {`users: 5`, "world config"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tc.json))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %q", err, tc.want)
			}
		})
	}
}

func small(t *testing.T, seed uint64) *World {
	t.Helper()
	c := DefaultConfig()
	c.Seed, c.Users = seed, 120
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSimulateDeterministic(t *testing.T) {
	a, b := small(t, 7), small(t, 7)
	for _, i := range []int{0, 5, 119} {
		ha, hb := a.Simulate(i), b.Simulate(i)
		if !reflect.DeepEqual(ha, hb) {
			t.Fatalf("person %d differs between two worlds of the same seed", i)
		}
	}
	// Order independence: simulating 5 after 119 gives the same history.
	a.Simulate(119)
	if !reflect.DeepEqual(a.Simulate(5), b.Simulate(5)) {
		t.Fatal("simulation depends on order")
	}
	c := small(t, 8)
	if reflect.DeepEqual(a.Simulate(5).Comparisons, c.Simulate(5).Comparisons) {
		t.Fatal("different seeds gave the same history")
	}
}

func TestSplitRules(t *testing.T) {
	w := small(t, 3)
	counts := map[string]int{}
	for i := 0; i < w.Config.Users; i++ {
		h := w.Simulate(i)
		p := h.Person
		counts[p.Part]++
		if len(h.Comparisons) < w.Config.ComparisonsPerUser.Min || len(h.Comparisons) > w.Config.ComparisonsPerUser.Max {
			t.Fatalf("%s has %d comparisons, outside %+v", p.ID, len(h.Comparisons), w.Config.ComparisonsPerUser)
		}
		// Times strictly increase over the whole history.
		var times []int64
		for _, c := range h.Comparisons {
			times = append(times, c.Time.Unix())
		}
		for k := 1; k < len(times); k++ {
			if times[k] <= times[k-1] {
				t.Fatalf("%s: comparison times not increasing", p.ID)
			}
		}
		if p.Part != PartSeen {
			if !h.Cutoff.IsZero() {
				t.Fatalf("%s (%s) has a cutoff", p.ID, p.Part)
			}
			continue
		}
		var train, test int
		for _, c := range h.Comparisons {
			if c.Time.Before(h.Cutoff) {
				train++
			} else {
				test++
			}
			if c.Image0 == c.Image1 || !strings.HasPrefix(c.Image0, p.ID+"-") {
				t.Fatalf("%s: bad image ids %s %s", p.ID, c.Image0, c.Image1)
			}
		}
		if train < 1 || test < 1 {
			t.Fatalf("%s: %d train and %d test comparisons; want at least one of each", p.ID, train, test)
		}
		// The test share is the later ~30%.
		want := float64(len(h.Comparisons)) * w.Config.TestFraction
		if float64(test) < want-1 || float64(test) > want+1 {
			t.Fatalf("%s: %d test of %d comparisons; want about %.1f", p.ID, test, len(h.Comparisons), want)
		}
	}
	if counts[PartUnseen] != 18 || counts[PartValidation] != 6 {
		t.Fatalf("parts %v; want exactly 18 unseen and 6 validation of 120", counts)
	}
}

func TestOraclesOrdered(t *testing.T) {
	// Three seeds of the default world (fewer people): the reference
	// predictors must be ordered oracle > group > global > 50%, with the
	// oracle near 80% and the global oracle near 60%.
	for seed := uint64(1); seed <= 3; seed++ {
		c := DefaultConfig()
		c.Seed, c.Users = seed, 300
		w, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		var o Oracles
		for i := 0; i < c.Users; i++ {
			o.Add(w.OracleCounts(w.Simulate(i)))
		}
		a, g, q := o.Accuracy()
		t.Logf("seed %d: n=%d oracle %.3f group %.3f global %.3f", seed, o.N, a, g, q)
		if !(a > g && g > q && q > 0.5) {
			t.Errorf("seed %d: oracle %.3f, group %.3f, global %.3f not ordered", seed, a, g, q)
		}
		if a < 0.74 || a > 0.86 || q < 0.55 || q > 0.66 {
			t.Errorf("seed %d: oracle %.3f or global %.3f far from the calibrated 80%% / 60%%", seed, a, q)
		}
	}
}

func TestPromptRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	style := PromptStyle{Subjects: []float64{1, 1, 1, 1, 1, 1, 1, 1}, NameSubj: 0.8, NameCount: 0.5,
		NameHue: 0.5, NameSat: 0.5, NameLight: 0.5, NameStyle: 0.5, NameBackgr: 0.5}
	for k := 0; k < 500; k++ {
		p := style.MakePrompt(r)
		if got := ParsePrompt(p.Text); got != p {
			t.Fatalf("ParsePrompt(%q) = %+v; want %+v", p.Text, got, p)
		}
		// Every image of the prompt honours what it names.
		a := Resolve(p, randomLatent(r))
		for i, w := range Subjects {
			if strings.Contains(" "+p.Text+" ", " "+w+" ") && a.Subject != i {
				t.Fatalf("%q rendered subject %s", p.Text, Subjects[a.Subject])
			}
		}
		if strings.Contains(p.Text, " dark ") && a.Brightness > 0.3 {
			t.Fatalf("%q has brightness %.2f", p.Text, a.Brightness)
		}
	}
	if p := ParsePrompt("three neon blue stars on stripes"); Resolve(p, Latent{}).Count != 3 ||
		Subjects[Resolve(p, Latent{}).Subject] != "star" || Backgrounds[Resolve(p, Latent{}).Background] != "stripes" {
		t.Fatalf("typed prompt not parsed: %+v", Resolve(p, Latent{}))
	}
}

// AttrVectorNames names every dim of AttrVector, the one-hot parts in the
// order AttrVector sets them.
func TestAttrVectorNames(t *testing.T) {
	names := AttrVectorNames()
	if len(names) != AttrVectorDim {
		t.Fatalf("%d names for %d dims", len(names), AttrVectorDim)
	}
	a := Attrs{Subject: 2, Background: 3, Count: 1}
	v := AttrVector(&a)
	if len(v) != AttrVectorDim {
		t.Fatalf("AttrVector has %d dims, AttrVectorDim says %d", len(v), AttrVectorDim)
	}
	for i, x := range v {
		hot := names[i] == "subject "+Subjects[2] || names[i] == "background "+Backgrounds[3]
		if i >= 11 && (x == 1) != hot {
			t.Errorf("dim %d (%s) is %v", i, names[i], x)
		}
	}
}
