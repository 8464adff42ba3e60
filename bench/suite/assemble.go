package suite

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"palate/bench"
	"palate/train"
)

var nan = math.NaN()

// measure summarises a row's outcomes on one set over its seeds.
func (r *runner) measure(outs []*outcome, keep func(string) bool) bench.Measure {
	if len(outs) == 0 {
		return bench.Measure{Acc: bench.Num(nan), Lo: bench.Num(nan), Hi: bench.Num(nan), Spread: bench.Num(nan)}
	}
	js := averageJudged(outs)
	var accs []float64
	for _, o := range outs {
		if keep == nil {
			accs = append(accs, o.acc())
			continue
		}
		f := &outcome{judged: filterJudged(o.judged, keep)}
		accs = append(accs, f.acc())
	}
	if keep != nil {
		js = filterJudged(js, keep)
	}
	return bench.NewMeasure(js, accs, r.opt.Resamples, 1)
}

// meanAcc is the mean over seeds of the plain accuracy.
func meanAcc(outs []*outcome) float64 {
	if len(outs) == 0 {
		return nan
	}
	var s float64
	for _, o := range outs {
		s += o.acc()
	}
	return s / float64(len(outs))
}

// voteAUC is the mean over seeds of the pooled vote AUC.
func voteAUC(outs []*outcome) float64 {
	if len(outs) == 0 {
		return nan
	}
	var s float64
	for _, o := range outs {
		s += bench.AUC(o.vScores, o.vLabels)
	}
	return s / float64(len(outs))
}

func meanOf(x []float64) float64 {
	if len(x) == 0 {
		return nan
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func (r *runner) find(name, variant string) *row {
	for _, rw := range r.rows {
		if rw.name == name && (variant == "" || rw.variant == variant) {
			return rw
		}
	}
	return nil
}

// report assembles the bench.Report.
func (r *runner) report() *bench.Report {
	o := &r.opt
	rep := &bench.Report{Format: bench.ReportFormat}
	rep.Settings = bench.Settings{
		Command: o.Command, Data: o.Data, Embedder: o.Embedder, Model: o.Model, Seeds: o.Seeds, Quick: o.Quick, Steps: o.Steps,
		K: o.K, Ks: o.Ks, HistoryCap: r.cap, DescriptorPairs: min(o.DescriptorPairs, r.cap),
		Resamples: o.Resamples, Variants: o.Variants, ModelConfig: o.Config,
	}
	if o.Model != "" {
		rep.Settings.Steps = 0
		rep.Settings.ModelConfig = r.modelCfg
	}
	if r.truth != nil {
		rep.World = r.truth.Raw
	}

	npSeen, npUnseen := nan, nan
	if np := r.find("non-personal", ""); np != nil {
		npSeen, npUnseen = meanAcc(np.seen), meanAcc(np.unseen)
	}
	orSeen, orUnseen := nan, nan
	if or := r.find(Oracle, ""); or != nil {
		orSeen, orUnseen = meanAcc(or.seen), meanAcc(or.unseen)
	}
	for _, rw := range r.rows {
		pr := bench.PredictorResult{
			Name: rw.name, Variant: rw.variant, Reference: rw.reference, Seeds: len(rw.seen),
			Seen: r.measure(rw.seen, nil), Unseen: r.measure(rw.unseen, nil),
			VoteAUC: bench.Num(voteAUC(rw.seen)), VoteAUCUnseen: bench.Num(voteAUC(rw.unseen)),
		}
		pr.GapClosure = bench.Num(bench.GapClosure(meanAcc(rw.seen), npSeen, orSeen))
		pr.GapClosureUnseen = bench.Num(bench.GapClosure(meanAcc(rw.unseen), npUnseen, orUnseen))
		rep.Predictors = append(rep.Predictors, pr)
	}

	// History curve.
	for _, rw := range r.rows {
		m, ok := r.curves[rw]
		if !ok {
			continue
		}
		for p := range 2 {
			for _, k := range o.Ks {
				pair, ok := m[k]
				if !ok {
					continue
				}
				iv := bench.PairAccuracy(pair[p].judged, o.Resamples, 1)
				rep.HistoryCurve = append(rep.HistoryCurve, bench.CurvePoint{
					Name: rw.name, Variant: rw.variant, Part: []string{"seen", "unseen"}[p], K: k,
					Acc: bench.Num(iv.Acc), Lo: bench.Num(iv.Lo), Hi: bench.Num(iv.Hi), N: iv.N,
				})
			}
		}
	}

	// Similar users.
	if r.truth != nil {
		r.describeTruth()
		for _, name := range r.descOrder {
			res, proj := r.similar(name)
			rep.SimilarUsers = append(rep.SimilarUsers, res...)
			if name == "palate/full" || name == "centroid" || name == "truth/taste" {
				rep.Projections = append(rep.Projections, proj)
			}
		}
	}

	// Drift.
	if r.truth != nil {
		drifts := func(id string) bool { p := r.truth.People[id]; return p != nil && p.Drifts() }
		stable := func(id string) bool { p := r.truth.People[id]; return p != nil && !p.Drifts() }
		split := func(outs []*outcome) bench.DriftSplit {
			return bench.DriftSplit{Drifting: r.measure(outs, drifts), Stable: r.measure(outs, stable)}
		}
		rep.Drift.Note = "Pairwise accuracy at k=" + fmt.Sprint(o.K) + " on people whose taste drifts toward another group over their history vs stable people. " +
			"recency=false is palate scored with every history item's recency bucket set to 0 (\"under an hour\"), a setting it never saw in training: " +
			"a rough probe of how much it leans on recency, not a clean ablation (that would need a model trained without recency)."
		for _, rw := range r.rows {
			rep.Drift.Rows = append(rep.Drift.Rows, bench.DriftRow{Name: rw.name, Variant: rw.variant, Recency: true,
				Seen: split(rw.seen), Unseen: split(rw.unseen)})
			if len(rw.noRecency[0]) > 0 {
				rep.Drift.Rows = append(rep.Drift.Rows, bench.DriftRow{Name: rw.name, Variant: rw.variant, Recency: false,
					Seen: split(rw.noRecency[0]), Unseen: split(rw.noRecency[1])})
			}
		}
	}

	// Cost.
	rep.Cost = bench.Cost{WallSeconds: bench.Num(time.Since(r.start).Seconds()), Threads: runtime.GOMAXPROCS(0), SIMD: train.SIMDBuild()}
	for _, rw := range r.rows {
		if rw.reference {
			continue
		}
		var ev, cands []float64
		for i := range rw.seen {
			ev = append(ev, rw.seen[i].seconds+rw.unseen[i].seconds)
			cands = append(cands, float64(rw.seen[i].cands+rw.unseen[i].cands))
		}
		c := bench.CostRow{Name: rw.name, Variant: rw.variant, Seeds: len(rw.seen),
			TrainSeconds: bench.Num(meanOf(rw.fit)), EvalSeconds: bench.Num(meanOf(ev)),
			SecondsPerCandidate: bench.Num(rw.perCand), EncodeSeconds: bench.Num(rw.encode),
			BestValAcc: bench.Num(meanOf(rw.bestVal)), Params: rw.params, Note: rw.note, StoppedBy: rw.stoppedBy}
		if len(rw.steps) > 0 {
			s := 0
			for _, x := range rw.steps {
				s += x
			}
			c.Steps = s / len(rw.steps)
		}
		if rw.name != "palate" && meanOf(cands) > 0 {
			c.SecondsPerCandidate = bench.Num(meanOf(ev) / meanOf(cands))
		}
		rep.Cost.Rows = append(rep.Cost.Rows, c)
	}

	rep.Notes = append(r.protocolNotes(), r.notes...)
	return rep
}

// protocolNotes says how the numbers were made and what was left out.
func (r *runner) protocolNotes() []string {
	o := &r.opt
	var n []string
	n = append(n, fmt.Sprintf("Table-1 protocol with k=%d history pairs: seen people are judged on their test comparisons (after their time cutoff) from their %d most recent training pairs; unseen people on their comparisons after their first %d, from those %d. Ties are excluded. Every predictor is judged on exactly the same comparisons with the same history.", o.K, o.K, o.K, o.K))
	n = append(n, fmt.Sprintf("Intervals are 95%% cluster-bootstrap intervals over people (%d resamples). Rows over several seeds report the mean accuracy; their interval is the bootstrap of the seed-averaged judgements, and ± is half the range of the seeds' accuracies.", o.Resamples))
	if r.truth != nil {
		n = append(n, "Reference ceilings (oracle: the person's true utility at the time; group oracle: their group's taste plus the shared quality; crowd oracle: the mean over the world's people of their groups' utilities, the same for everyone, a strong non-personal reference; global oracle: the shared quality alone) are recomputed from the world's truth on exactly the judged comparisons. They differ from world.json's unseen numbers, which judge all of an unseen person's comparisons.")
		n = append(n, "Gap closure = (acc − non-personal) / (oracle − non-personal), with the non-personal scorer's mean over its seeds.")
	}
	n = append(n, "Vote AUC pools every person's held-out votes (likes positive): seen people's test votes, unseen people's votes after their first k pairs, each scored from the same k-pair history. Pooling across people favours predictors whose scores are comparable between people; the oracle's vote score is the true utility minus the person's like threshold, while the group, crowd and global oracles have no threshold.")
	seedNote := "the first seed of each seeded predictor"
	n = append(n, fmt.Sprintf("History curve: %s. Seen people's judged comparisons are the same at every k; unseen people are judged on their comparisons after their first k, so that set shrinks as k grows. palate reads at most MaxHistory/2 = %d pairs, so its curve stops at k=%d; the baselines go on.", seedNote, r.cap, r.cap))
	n = append(n, fmt.Sprintf("Similar users: each person is described from up to %d pairs (a seen person's most recent training pairs, an unseen person's first pairs); palate's descriptor is the attention on the preference tokens (the mean encoded history for K=0); descriptors are centred by the mean over all described people and normalised, then clustered by k-means into the world's number of groups. truth/taste (the people's true starting tastes) is the ceiling.", min(o.DescriptorPairs, r.cap)))
	if o.Model == "" {
		var sec []string
		for _, v := range o.Variants {
			if v != "full" {
				sec = append(sec, v)
			}
		}
		// The base stage's cap and the weight averaging as training
		// filled them in, read from the full model's first run rather
		// than worked out again here.
		baseNote, judged := "with no base stage", "the weights as they are"
		if ck := r.fullCk; ck != nil {
			if ck.Config.BaseHidden > 0 && ck.Summary.Options.BaseSteps > 0 {
				baseNote = fmt.Sprintf("after a base stage of at most %d", ck.Summary.Options.BaseSteps)
			}
			if a := ck.Summary.Options.WeightAverage; a > 0 {
				judged = fmt.Sprintf("a moving average of the weights (weight_average %g)", a)
			}
		}
		n = append(n, fmt.Sprintf("palate: every training run takes at most %d steps (two-stage: %d + %d) of batch %d %s, with early stopping on the validation people, who judge (and the checkpoint keeps) %s; palate/full runs over %d seed(s), the other variants (%s) over one. K=10 is the full model.",
			o.Steps, o.Steps, max(1, o.Steps/2), o.Batch, baseNote, judged, o.Seeds, strings.Join(sec, ", ")))
	}
	if o.Quick {
		var left []string
		for _, v := range Variants {
			if !slices.Contains(o.Variants, v.Name) {
				left = append(left, v.Name)
			}
		}
		n = append(n, fmt.Sprintf("--quick: one seed for everything, and only the variants %s; left out: %s.",
			strings.Join(o.Variants, ", "), strings.Join(left, ", ")))
	}
	return n
}
