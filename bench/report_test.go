package bench

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestNumJSON(t *testing.T) {
	tests := map[string]struct {
		in   Num
		want string
	}{
		"number":   {0.625, "0.625"},
		"zero":     {0, "0"},
		"nan":      {Num(math.NaN()), "null"},
		"infinity": {Num(math.Inf(1)), "null"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			if err != nil || string(b) != tc.want {
				t.Fatalf("Marshal(%v) = %s, %v; want %s", tc.in, b, err, tc.want)
			}
			var back Num
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if f := float64(tc.in); !(float64(back) == f || (math.IsNaN(float64(back)) && (math.IsNaN(f) || math.IsInf(f, 0)))) {
				t.Errorf("round trip of %v gave %v", tc.in, back)
			}
		})
	}
}

func TestNewMeasure(t *testing.T) {
	js := []Judged{{"a", 1}, {"a", 0}, {"b", 1}, {"b", 1}}
	m := NewMeasure(js, []float64{0.7, 0.8}, 200, 1)
	if m.N != 4 || math.Abs(float64(m.Acc)-0.75) > 1e-12 || !(m.Lo <= m.Acc && m.Acc <= m.Hi) {
		t.Errorf("NewMeasure = %+v", m)
	}
	if len(m.SeedAcc) != 2 || math.Abs(float64(m.Spread)-0.05) > 1e-12 {
		t.Errorf("seed spread: %+v", m)
	}
	one := NewMeasure(js, []float64{0.75}, 200, 1)
	if one.SeedAcc != nil || !math.IsNaN(float64(one.Spread)) {
		t.Errorf("one seed: SeedAcc %v, Spread %v; want none and NaN", one.SeedAcc, one.Spread)
	}
	b, err := json.Marshal(NewMeasure(nil, nil, 0, 1))
	if err != nil || !strings.Contains(string(b), `"acc":null`) {
		t.Errorf("empty measure JSON %s, %v: want acc null", b, err)
	}
}

// TestReportRendersEmpty: a report with no truth and few rows still renders
// without a panic and names what it has.
func TestReportRendersEmpty(t *testing.T) {
	r := &Report{Format: ReportFormat, Settings: Settings{Data: "d", Embedder: "e", K: 8},
		Predictors: []PredictorResult{{Name: "non-personal", Variant: "default", Seeds: 1,
			Seen: NewMeasure([]Judged{{"a", 1}}, nil, 10, 1), Unseen: NewMeasure(nil, nil, 10, 1),
			GapClosure: Num(math.NaN()), GapClosureUnseen: Num(math.NaN()), VoteAUC: Num(math.NaN()), VoteAUCUnseen: Num(math.NaN())}}}
	md := string(r.Markdown(""))
	if !strings.Contains(md, "| non-personal | 1 | 100.0 [100.0, 100.0] | – |") {
		t.Errorf("Markdown:\n%s", md)
	}
	if len(r.Plots()) != 0 {
		t.Errorf("plots without a curve or projections: %v", r.Plots())
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}

func TestGuidanceRowJSONAndMarkdown(t *testing.T) {
	js := []Judged{{"a", 0.9}, {"a", 0.7}, {"b", 0.5}}
	row := GuidanceRow{Method: "best-of-n", GuidedBy: "palate", Against: "unguided",
		WinRate: NewWinRate(js, 200, 1), People: 2, Seen: NewWinRate(js[:2], 200, 1), Unseen: NewWinRate(nil, 200, 1),
		Calls: 32, Seconds: 0.0123}
	rho := NewMeanInterval([]Judged{{"a", 0.5}, {"b", 0.7}}, 200, 1)
	row.Spearman = &rho
	if math.Abs(float64(row.WinRate.WinRate)-0.7) > 1e-12 || !(row.Lo <= row.WinRate.WinRate && row.WinRate.WinRate <= row.Hi) {
		t.Errorf("win rate %+v; want 0.7 inside its interval", row.WinRate)
	}
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"method", "guided_by", "against", "win_rate", "lo", "hi", "calls", "n", "seen", "unseen", "spearman"} {
		if _, ok := m[k]; !ok {
			t.Errorf("guidance row JSON lacks %q: %s", k, b)
		}
	}
	if m["win_rate"].(float64) != float64(row.WinRate.WinRate) {
		t.Errorf("win_rate in JSON is %v", m["win_rate"])
	}
	r := &Report{Format: ReportFormat, Settings: Settings{Data: "d", Embedder: "e", K: 8}, Guidance: []GuidanceRow{row}}
	md := string(r.Markdown(""))
	for _, want := range []string{"## Generation guidance", "| best-of-n | **palate** | unguided | 70.0 [", "| – | 3 | 32.0 | 0.012 | 0.60 ["} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Table 1") {
		t.Errorf("a report with no predictors renders a Table 1:\n%s", md)
	}
}
