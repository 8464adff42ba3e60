package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"strings"
)

// Plot file names of Report.Plots.
const (
	PlotHistorySeen   = "history-seen.svg"
	PlotHistoryUnseen = "history-unseen.svg"
)

// DescriptorPlot is the plot file name of a descriptor's 2-D projection.
func DescriptorPlot(descriptor string) string {
	return "descriptors-" + strings.NewReplacer("/", "-", "=", "", " ", "-").Replace(descriptor) + ".svg"
}

func pct(n Num) string {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return "–"
	}
	return fmt.Sprintf("%.1f", 100*float64(n))
}

func num(n Num, digits int) string {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", digits, float64(n))
}

// cell renders a measure: accuracy %, ± seed spread when several seeds, and
// the 95% interval.
func (m Measure) cell() string {
	if m.N == 0 {
		return "–"
	}
	s := pct(m.Acc)
	if len(m.SeedAcc) > 1 {
		s += " ±" + pct(m.Spread)
	}
	return fmt.Sprintf("%s [%s, %s]", s, pct(m.Lo), pct(m.Hi))
}

func rowName(name, variant string) string {
	switch variant {
	case "", "default", "truth":
		return name
	}
	return name + "/" + variant
}

// worldSummary is the part of world.json the Markdown shows.
type worldSummary struct {
	Config struct {
		Users         int     `json:"users"`
		Groups        int     `json:"groups"`
		Individuality float64 `json:"individuality"`
		Noise         float64 `json:"noise"`
		DriftFraction float64 `json:"drift_fraction"`
		Seed          uint64  `json:"seed"`
	} `json:"config"`
	Summary struct {
		SeenUsers       int `json:"seen_users"`
		UnseenUsers     int `json:"unseen_users"`
		ValidationUsers int `json:"validation_users"`
		DriftingUsers   int `json:"drifting_users"`
		Comparisons     int `json:"comparisons"`
		Votes           int `json:"votes"`
	} `json:"summary"`
}

// Markdown renders the report as Markdown: the headline table, the history
// curve, similar users, drift, cost and the notes. plotDir, when not empty,
// is the path from the Markdown file to the directory holding Plots, which
// are then shown inline.
func (r *Report) Markdown(plotDir string) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	s := r.Settings
	p("# palate bench\n\n")
	p("Data `%s`, embedding `%s`", s.Data, s.Embedder)
	if len(r.World) > 0 {
		var w worldSummary
		if json.Unmarshal(r.World, &w) == nil {
			p("; a taste world of %d people in %d groups (seed %d, individuality %g, noise %g, drift %g): %d seen, %d unseen, %d validation, %d drifting; %d comparisons, %d votes",
				w.Config.Users, w.Config.Groups, w.Config.Seed, w.Config.Individuality, w.Config.Noise, w.Config.DriftFraction,
				w.Summary.SeenUsers, w.Summary.UnseenUsers, w.Summary.ValidationUsers, w.Summary.DriftingUsers, w.Summary.Comparisons, w.Summary.Votes)
		}
	}
	p(".\n")
	mode := "full bench"
	if s.Quick {
		mode = "`--quick`"
	}
	switch {
	case len(r.Predictors) == 0 && len(r.Guidance) > 0:
		p("Generation guidance only, palate being the checkpoint `%s`; ", s.Model)
	case s.Model == "":
		p("%s, %d seed(s), %d training steps per run; ", mode, s.Seeds, s.Steps)
	default:
		p("palate/full is the checkpoint `%s`. %s, %d seed(s); ", s.Model, mode, s.Seeds)
	}
	p("%.0f s on %d threads (simd %v).\n\n", float64(r.Cost.WallSeconds), r.Cost.Threads, r.Cost.SIMD)
	if s.Command != "" {
		p("Made by `%s`.\n\n", s.Command)
	}

	if len(r.Predictors) > 0 {
		r.table1(p)
	}
	if len(r.Guidance) > 0 {
		if len(r.Predictors) > 0 {
			p("\n")
		}
		b.Write(GuidanceMarkdown(r.Guidance))
	}
	r.rest(p, plotDir)
	return b.Bytes()
}

// table1 renders the headline table.
func (r *Report) table1(p func(string, ...any)) {
	s := r.Settings
	var seenN, unseenN int
	for _, pr := range r.Predictors {
		seenN, unseenN = max(seenN, pr.Seen.N), max(unseenN, pr.Unseen.N)
	}
	p("## Table 1 analogue: pairwise accuracy with k = %d history pairs\n\n", s.K)
	p("Accuracy in %% [95%% bootstrap interval over people]; ± is the spread over seeds. Gap closure is the share of the way from the non-personal scorer to the oracle.\n\n")
	p("| predictor | seeds | seen (n = %d) | unseen (n = %d) | gap closure seen | gap closure unseen | vote AUC seen | vote AUC unseen |\n", seenN, unseenN)
	p("|---|---:|---|---|---:|---:|---:|---:|\n")
	for _, pr := range r.Predictors {
		name := rowName(pr.Name, pr.Variant)
		if pr.Reference {
			name = "*" + name + "*"
		} else if pr.Name == "palate" {
			name = "**" + name + "**"
		}
		p("| %s | %d | %s | %s | %s | %s | %s | %s |\n", name, pr.Seeds, pr.Seen.cell(), pr.Unseen.cell(),
			num(pr.GapClosure, 2), num(pr.GapClosureUnseen, 2), num(pr.VoteAUC, 3), num(pr.VoteAUCUnseen, 3))
	}
}

// rest renders everything after the headline and guidance tables.
func (r *Report) rest(p func(string, ...any), plotDir string) {
	if len(r.HistoryCurve) > 0 {
		p("\n## Accuracy vs history length\n\n")
		for _, part := range []string{"seen", "unseen"} {
			ks, names, cells := r.curveTable(part)
			if len(names) == 0 {
				continue
			}
			p("%s people (accuracy %%, n judged at each k in the last row):\n\n| predictor |", part)
			for _, k := range ks {
				p(" k=%d |", k)
			}
			p("\n|---|%s\n", strings.Repeat("---:|", len(ks)))
			for _, n := range names {
				p("| %s |", n)
				for _, k := range ks {
					c, ok := cells[n][k]
					if !ok {
						p(" |")
						continue
					}
					p(" %s |", pct(c.Acc))
				}
				p("\n")
			}
			p("| *n judged* |")
			for _, k := range ks {
				n := 0
				for _, c := range r.HistoryCurve {
					if c.Part == part && c.K == k {
						n = max(n, c.N)
					}
				}
				p(" %d |", n)
			}
			p("\n\n")
			if plotDir != "" {
				f := PlotHistorySeen
				if part == "unseen" {
					f = PlotHistoryUnseen
				}
				p("![accuracy vs history length, %s people](%s)\n\n", part, path.Join(plotDir, f))
			}
		}
	}

	if len(r.SimilarUsers) > 0 {
		p("## Similar users\n\n")
		p("Descriptors clustered by k-means into the world's number of groups; adjusted Rand index and NMI against the true groups, and precision@10 of cosine nearest neighbours sharing the true group.\n\n")
		p("| descriptor | part | people | ARI | NMI | P@10 |\n|---|---|---:|---:|---:|---:|\n")
		for _, su := range r.SimilarUsers {
			p("| %s | %s | %d | %s | %s | %s |\n", su.Descriptor, su.Part, su.People, num(su.ARI, 3), num(su.NMI, 3), num(su.PAt10, 3))
		}
		p("\n")
		if plotDir != "" {
			for _, pr := range r.Projections {
				p("![%s descriptors, first two principal components, coloured by true group](%s)\n", pr.Descriptor, path.Join(plotDir, DescriptorPlot(pr.Descriptor)))
			}
			p("\n")
		}
	}

	if len(r.Drift.Rows) > 0 {
		p("## Drift\n\n%s\n\n", r.Drift.Note)
		p("| predictor | recency | seen drifting | seen stable | unseen drifting | unseen stable |\n|---|---|---|---|---|---|\n")
		for _, d := range r.Drift.Rows {
			rec := "yes"
			if !d.Recency {
				rec = "**removed**"
			}
			if d.Name != "palate" {
				rec = "–"
			}
			p("| %s | %s | %s | %s | %s | %s |\n", rowName(d.Name, d.Variant), rec,
				d.Seen.Drifting.cell(), d.Seen.Stable.cell(), d.Unseen.Drifting.cell(), d.Unseen.Stable.cell())
		}
		n0, n1 := 0, 0
		for _, d := range r.Drift.Rows {
			n0, n1 = max(n0, d.Seen.Drifting.N), max(n1, d.Seen.Stable.N)
		}
		p("\nSeen comparisons judged: %d of drifting people, %d of stable people.\n\n", n0, n1)
	}

	if len(r.Cost.Rows) > 0 {
		p("## Cost\n\n")
		p("Fit or training seconds (mean over seeds), evaluation seconds on the two headline sets, scoring time per candidate (palate: one call of 512 candidates against an encoded history; baselines: evaluation time per scored candidate, including any per-person fitting), history encoding time and learnt parameters.\n\n")
		p("| predictor | seeds | train s | steps | best val acc | eval s | µs / candidate | encode ms | params | note |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, c := range r.Cost.Rows {
			steps := ""
			if c.Steps > 0 {
				steps = fmt.Sprint(c.Steps)
				if c.StoppedBy != "" {
					steps += " (" + c.StoppedBy + ")"
				}
			}
			p("| %s | %d | %s | %s | %s | %s | %s | %s | %d | %s |\n", rowName(c.Name, c.Variant), c.Seeds,
				num(c.TrainSeconds, 1), steps, pct(c.BestValAcc), num(c.EvalSeconds, 1),
				num(c.SecondsPerCandidate*1e6, 1), num(c.EncodeSeconds*1e3, 2), c.Params, c.Note)
		}
		p("\n")
	}

	if len(r.Notes) > 0 {
		p("## How these numbers were made\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
	}
}

// GuidanceMarkdown renders the generation-guidance table.
func GuidanceMarkdown(rows []GuidanceRow) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Generation guidance: win rates judged by the simulated people\n\n")
	p("How often the guided picture beat the other, as the mean Bradley–Terry probability that the person (their true utility, their noise) picks it, in %% [95%% bootstrap interval over people]; the same person, prompt, seed and generator-call budget on both sides. Spearman: rank correlation of the style-phrase effects prompt guidance estimated with the person's true ones.\n\n")
	p("| method | guided by | against | win rate | seen | unseen | n | calls | s / picture | Spearman |\n")
	p("|---|---|---|---|---|---|---:|---:|---:|---|\n")
	for _, g := range rows {
		by := g.GuidedBy
		if by == "palate" {
			by = "**palate**"
		} else if by == "oracle" {
			by = "*oracle*"
		}
		rho := ""
		if g.Spearman != nil && g.Spearman.N > 0 {
			rho = fmt.Sprintf("%s [%s, %s]", num(g.Spearman.Mean, 2), num(g.Spearman.Lo, 2), num(g.Spearman.Hi, 2))
		}
		p("| %s | %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", g.Method, by, g.Against,
			g.WinRate.cell(), g.Seen.cell(), g.Unseen.cell(), g.N, num(g.Calls, 1), num(g.Seconds, 3), rho)
	}
	p("\n")
	return b.Bytes()
}

// cell renders a win rate: % and the 95% interval.
func (w WinRate) cell() string {
	if w.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s [%s, %s]", pct(w.WinRate), pct(w.Lo), pct(w.Hi))
}

// curveTable arranges the history curve of one part: the k values, the row
// names in first-seen order and each row's points by k.
func (r *Report) curveTable(part string) ([]int, []string, map[string]map[int]CurvePoint) {
	var ks []int
	var names []string
	cells := map[string]map[int]CurvePoint{}
	seenK := map[int]bool{}
	for _, c := range r.HistoryCurve {
		if c.Part != part {
			continue
		}
		n := rowName(c.Name, c.Variant)
		if cells[n] == nil {
			cells[n] = map[int]CurvePoint{}
			names = append(names, n)
		}
		cells[n][c.K] = c
		if !seenK[c.K] {
			seenK[c.K] = true
			ks = append(ks, c.K)
		}
	}
	for i := 1; i < len(ks); i++ { // insertion sort: few ks
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks, names, cells
}

// Plots draws the report's figures as standalone SVG documents, by file
// name: accuracy vs history length for seen and unseen people (palate/full
// with its bootstrap band, the references dashed) and each projected
// descriptor coloured by true group.
func (r *Report) Plots() map[string][]byte {
	out := map[string][]byte{}
	for _, part := range []string{"seen", "unseen"} {
		ks, names, cells := r.curveTable(part)
		if len(names) == 0 {
			continue
		}
		var series []Series
		for _, n := range names {
			sr := Series{Name: strings.Replace(n, "/on-non-personal", " (on np)", 1)}
			for _, k := range ks {
				c, ok := cells[n][k]
				if !ok {
					continue
				}
				sr.X = append(sr.X, float64(k))
				sr.Y = append(sr.Y, float64(c.Acc))
				sr.Lo = append(sr.Lo, float64(c.Lo))
				sr.Hi = append(sr.Hi, float64(c.Hi))
			}
			if n != "palate/full" {
				sr.Lo, sr.Hi = nil, nil
			}
			for _, pr := range r.Predictors {
				if pr.Reference && rowName(pr.Name, pr.Variant) == n {
					sr.Dashed = true
				}
			}
			series = append(series, sr)
		}
		f := PlotHistorySeen
		if part == "unseen" {
			f = PlotHistoryUnseen
		}
		out[f] = LinePlot(fmt.Sprintf("Pairwise accuracy vs history length (%s people)", part), "history pairs k", "pairwise accuracy", series)
	}
	for _, pr := range r.Projections {
		out[DescriptorPlot(pr.Descriptor)] = ScatterPlot(pr.Descriptor+" descriptors (PCA), coloured by true taste group", pr.Points)
	}
	return out
}
