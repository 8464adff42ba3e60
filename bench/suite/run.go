// Package suite runs palate's bench: it trains or loads palate and its
// variants, fits every baseline, judges them all on the same held-out
// comparisons with the same k history pairs per person, computes the world's
// reference ceilings on exactly those comparisons, and fills a bench.Report
// (the headline table, the history-length curve, vote AUC, similar users,
// drift and cost). It lives apart from package bench because the baselines'
// tests import bench, and because it needs GoMLX (through train and scorer),
// which bench's measures do not.
package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"palate"
	"palate/baseline"
	"palate/bench"
	"palate/dataset"
	"palate/features"
	"palate/history"
	"palate/model"
	"palate/scorer"
	"palate/train"
	"palate/world"
)

// The step budget of each palate run (the most joint steps, or stage-1
// steps for two-stage; its base stage may take up to 4× as many,
// train.Options.BaseSteps, and usually stops earlier) is by default what
// `palate train` takes on the same data, train.StepsForData: 300 on the
// default world, more for more training comparisons. So the full bench
// reads the model that `palate train` makes, and --quick differs from it
// in seeds and variants, not in steps.

// DefaultKs are the history lengths of the history curve.
var DefaultKs = []int{0, 1, 2, 4, 8, 16, 32}

// Options configure a bench run. Zero values take the defaults in brackets.
type Options struct {
	// Data is the dataset directory; when it is a taste world (it has
	// world.json) the reference ceilings, similar-user and drift measures
	// are computed from its truth.
	Data string
	// Embedder names the embeddings palate and the baselines read
	// [features.Name: pixels-v3].
	Embedder string
	// Model, when set, is a checkpoint evaluated as palate/full (one
	// seed); no palate variant is trained.
	Model string
	// Seeds is how many seeds the full model and the seeded baselines run
	// over [3; 1 with Quick]. Secondary variants run one seed.
	Seeds int
	// Quick runs a reduced bench: one seed, QuickVariants.
	Quick bool
	// Steps is the most optimizer steps of each palate training run (of
	// stage 1 for two-stage, whose stage 2 takes half as many)
	// [train.StepsForData of the data, 300 on the default world].
	Steps int
	// Variants names the palate variants to train (see Variants) [all;
	// QuickVariants with Quick].
	Variants []string
	// Config is the full model's configuration, the base of every variant
	// [model.DefaultConfig()].
	Config *model.Config
	// Train holds base training options; Steps, Seed and Mode are set per
	// run [train.DefaultOptions()].
	Train *train.Options
	// Batch is the training batch size [64].
	Batch int
	// K is the history length of the headline table, the paper's N_ref [8].
	K int
	// Ks are the history lengths of the curve [DefaultKs].
	Ks []int
	// DescriptorPairs is how many pairs describe a person for the
	// similar-users measure: a seen person's most recent training pairs, a
	// held-out person's first pairs [16, capped at palate's history].
	DescriptorPairs int
	// Resamples is the number of bootstrap resamples [1000].
	Resamples int
	// Workers is how many people are scored at once [GOMAXPROCS].
	Workers int
	// TrainParallel is how many of palate's training runs go at once: each
	// runs on one core (the Go backend's sequential mode); on 2 cores two
	// at a time took the quick bench from 600 s to 428 s [GOMAXPROCS].
	TrainParallel int
	// Log receives progress lines; nil for none.
	Log io.Writer
	// Progress is the training progress style (train.Progress*)
	// [train.ProgressPlain with a Log, train.ProgressNone without].
	Progress string
	// Command is recorded in the report as the command line that made it.
	Command string
	// GuidancePeople, when positive, adds the generation-guidance
	// measurement (see Guidance) with that many seen and unseen people,
	// guided by palate/full's first seed; it needs a taste world and the
	// built-in embedder (features.Name), and is skipped with a note otherwise [0: off].
	GuidancePeople int
	// GuidancePrompts is how many prompts each guided person writes [2].
	GuidancePrompts int
}

func (o *Options) fill() error {
	if o.Data == "" {
		return palate.Errorf(palate.EINVALID, "bench: no dataset directory")
	}
	if o.Embedder == "" {
		o.Embedder = features.Name
	}
	if o.Seeds <= 0 {
		o.Seeds = 3
		if o.Quick {
			o.Seeds = 1
		}
	}
	if o.Variants == nil {
		if o.Quick {
			o.Variants = slices.Clone(QuickVariants)
		} else {
			for _, v := range Variants {
				o.Variants = append(o.Variants, v.Name)
			}
		}
	}
	if o.Model != "" {
		o.Variants = []string{"full"}
	}
	for _, n := range o.Variants {
		if _, ok := variantByName(n); !ok {
			return palate.Errorf(palate.EINVALID, "bench: unknown palate variant %q", n)
		}
	}
	if !slices.Contains(o.Variants, "full") {
		return palate.Errorf(palate.EINVALID, "bench: the variants must include \"full\"")
	}
	if o.Config == nil {
		c := model.DefaultConfig()
		o.Config = &c
	}
	if o.Train == nil {
		t := train.DefaultOptions()
		o.Train = &t
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.K <= 0 {
		o.K = 8
	}
	if o.Ks == nil {
		o.Ks = slices.Clone(DefaultKs)
	}
	if o.DescriptorPairs <= 0 {
		o.DescriptorPairs = 16
	}
	if o.Resamples <= 0 {
		o.Resamples = bench.DefaultResamples
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.TrainParallel <= 0 {
		o.TrainParallel = runtime.GOMAXPROCS(0)
	}
	if o.Progress == "" {
		o.Progress = train.ProgressNone
		if o.Log != nil {
			o.Progress = train.ProgressPlain
		}
	}
	return nil
}

// row accumulates one predictor's results over its seeds.
type row struct {
	name, variant string
	reference     bool
	seen, unseen  []*outcome // one per seed
	fit           []float64  // fitting or training seconds per seed
	steps         []int
	stoppedBy     string
	bestVal       []float64
	encode        float64
	perCand       float64
	params        int
	note          string
	noRecency     [2][]*outcome // palate/full scored without recency: seen, unseen
}

// runner holds one bench run's state.
type runner struct {
	opt   Options
	start time.Time
	// logMu keeps the bench's own log lines and the training runs'
	// prefixed lines whole on the shared log.
	logMu  sync.Mutex
	d      *history.Data
	dTruth *history.Data // the truth embedding, for the embedder diagnostic
	truth  *Truth
	// main are the headline sets (seen, unseen) with votes; curve the
	// history-curve sets by k (seen, unseen), sharing main's at K.
	main      [2]*evalSet
	mainTruth [2]*evalSet
	curve     map[int][2]*evalSet
	rows      []*row
	// curves are the first seed's outcomes on the curve sets, by row and k.
	curves map[*row]map[int][2]*outcome
	// descs are people's descriptors by descriptor name and person.
	descs     map[string]map[string][]float32
	descOrder []string
	cap       int // most history pairs palate reads
	modelCfg  *model.Config
	notes     []string
	// fullCk is palate/full's first seed, which guides in the guidance
	// measurement; guided is that measurement's table.
	fullCk *train.Checkpoint
	guided []bench.GuidanceRow
	// full holds palate/full's seeds on the bench's embedding, for the
	// ensemble row.
	full []fullSeed
}

// fullSeed is one seed of palate/full as the ensemble row reads it.
type fullSeed struct {
	score  scoreFn
	fit    float64 // training seconds, a shared base stage's included
	params int
}

func (r *runner) logf(format string, args ...any) {
	if r.opt.Log != nil {
		r.logMu.Lock()
		defer r.logMu.Unlock()
		fmt.Fprintf(r.opt.Log, "bench [%5.0fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
	}
}

func (r *runner) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// Run runs the bench and returns its report.
func Run(ctx context.Context, opt Options) (*bench.Report, error) {
	r := &runner{opt: opt, start: time.Now(), curves: map[*row]map[int][2]*outcome{}, descs: map[string]map[string][]float32{}}
	if err := r.opt.fill(); err != nil {
		return nil, err
	}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if r.truth != nil {
		if err := r.references(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.baselines(ctx); err != nil {
		return nil, err
	}
	if err := r.palate(ctx); err != nil {
		return nil, err
	}
	if err := r.guidance(ctx); err != nil {
		return nil, err
	}
	rep := r.report()
	rep.Guidance = r.guided
	r.logf("done")
	return rep, nil
}

// load reads the data, the truth and builds the evaluation sets.
func (r *runner) load(ctx context.Context) error {
	o := &r.opt
	textDim := o.Config.TextDim
	var ck *train.Checkpoint
	if o.Model != "" {
		var err error
		if ck, err = train.Load(o.Model); err != nil {
			return err
		}
		if ck.TextEmbedder.Name != model.HashBOWName {
			return palate.Errorf(palate.ENOTIMPLEMENTED, "bench: %s reads prompts with %q; the bench embeds them with %s only", o.Model, ck.TextEmbedder.Name, model.HashBOWName)
		}
		textDim = ck.TextEmbedder.Dim
		r.cap = ck.Config.MaxHistory / 2
		r.modelCfg = &ck.Config
	} else {
		r.cap = o.Config.MaxHistory / 2
	}
	ds, err := dataset.Read(o.Data)
	if err != nil {
		return err
	}
	emb, err := dataset.ReadEmbeddings(o.Data, o.Embedder)
	if err != nil {
		return err
	}
	if ck != nil {
		if err := ck.CheckEmbedder(emb.Embedder, emb.Dim); err != nil {
			return err
		}
	}
	if r.d, err = history.LoadData(ds, emb, model.NewHashBOW(textDim)); err != nil {
		return err
	}
	if o.Steps <= 0 {
		o.Steps = train.StepsForData(r.d, o.Batch)
	}
	if slices.Contains(o.Variants, "truth-embedder") {
		temb, err := dataset.ReadEmbeddings(o.Data, world.TruthEmbedder)
		if err != nil {
			r.note("The truth-embedder diagnostic was left out: the dataset has no %q embedding (%v).", world.TruthEmbedder, err)
			o.Variants = slices.DeleteFunc(o.Variants, func(s string) bool { return s == "truth-embedder" })
		} else if r.dTruth, err = history.LoadData(ds, temb, model.NewHashBOW(textDim)); err != nil {
			return err
		}
	}
	if r.truth, err = LoadTruth(o.Data); err != nil {
		return err
	}
	if r.truth == nil {
		r.note("The data is not a taste world (no world.json): no reference ceilings, gap closure, similar-user or drift measures.")
	}
	r.main = [2]*evalSet{makeSet(r.d, o.K, dataset.Train, true), makeSet(r.d, o.K, dataset.Unseen, true)}
	if r.dTruth != nil {
		r.mainTruth = [2]*evalSet{makeSet(r.dTruth, o.K, dataset.Train, true), makeSet(r.dTruth, o.K, dataset.Unseen, true)}
	}
	r.curve = map[int][2]*evalSet{}
	for _, k := range o.Ks {
		if k == o.K {
			r.curve[k] = r.main
			continue
		}
		r.curve[k] = [2]*evalSet{makeSet(r.d, k, dataset.Train, false), makeSet(r.d, k, dataset.Unseen, false)}
	}
	r.logf("loaded %s (%s, %d people): %d seen and %d unseen test comparisons, %d and %d held-out votes at k=%d",
		o.Data, emb.Embedder, len(r.d.Users), r.main[0].pairs, r.main[1].pairs, r.main[0].votes, r.main[1].votes, o.K)
	return ctx.Err()
}

// evalMain scores fn on the headline sets and appends the outcomes to rw.
func (r *runner) evalMain(ctx context.Context, rw *row, fn scoreFn, sets [2]*evalSet) error {
	for p, set := range sets {
		o, err := evaluate(ctx, set, fn, r.opt.Workers)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", rw.name, rw.variant, err)
		}
		if p == 0 {
			rw.seen = append(rw.seen, o)
		} else {
			rw.unseen = append(rw.unseen, o)
		}
	}
	return nil
}

// evalCurve scores fn on the curve sets (k up to maxK) for rw's first seed.
func (r *runner) evalCurve(ctx context.Context, rw *row, fn scoreFn, maxK int) error {
	m := map[int][2]*outcome{}
	for _, k := range r.opt.Ks {
		if k > maxK {
			continue
		}
		if k == r.opt.K && len(rw.seen) > 0 {
			m[k] = [2]*outcome{rw.seen[0], rw.unseen[0]}
			continue
		}
		var pair [2]*outcome
		for p, set := range r.curve[k] {
			o, err := evaluate(ctx, set, fn, r.opt.Workers)
			if err != nil {
				return err
			}
			pair[p] = o
		}
		m[k] = pair
	}
	r.curves[rw] = m
	return nil
}

func (r *runner) addRow(name, variant string) *row {
	rw := &row{name: name, variant: variant, encode: nan, perCand: nan}
	r.rows = append(r.rows, rw)
	return rw
}

// references computes the world's reference ceilings on the judged sets.
func (r *runner) references(ctx context.Context) error {
	for _, kind := range []string{Oracle, GroupOracle, CrowdOracle, GlobalOracle} {
		rw := r.addRow(kind, "truth")
		rw.reference = true
		fn := r.truth.truthScore(kind, r.d)
		if err := r.evalMain(ctx, rw, fn, r.main); err != nil {
			return err
		}
		if err := r.evalCurve(ctx, rw, fn, math.MaxInt); err != nil {
			return err
		}
	}
	r.logf("reference ceilings on the judged comparisons: oracle %.3f seen / %.3f unseen",
		r.rows[0].seen[0].acc(), r.rows[0].unseen[0].acc())
	return nil
}

// baselines fits and judges every baseline, the seeded ones over every
// seed.
func (r *runner) baselines(ctx context.Context) error {
	o := &r.opt
	np := r.addRow("non-personal", "default")
	cen := r.addRow("centroid", "default")
	pul := r.addRow("per-user-linear", "default")
	knn := r.addRow("user-knn", "plain")
	knnB := r.addRow("user-knn", "on-non-personal")
	cen.note = "nothing learnt: one d-float direction per person from the history"
	pul.note = "shares the non-personal scorer; fits a d-float weight vector per person at scoring time"
	knn.note = "stores one d-float descriptor per seen person"
	knnB.note = "shares the non-personal scorer; stores one d-float descriptor per seen person"
	fit := func(rw *row, p baseline.Predictor, seed int) error {
		t0 := time.Now()
		if err := p.Fit(ctx, r.d); err != nil {
			return fmt.Errorf("%s: %w", rw.name, err)
		}
		rw.fit = append(rw.fit, time.Since(t0).Seconds())
		if err := r.evalMain(ctx, rw, baselineScore(p.Score), r.main); err != nil {
			return err
		}
		if seed == 1 {
			if err := r.evalCurve(ctx, rw, baselineScore(p.Score), math.MaxInt); err != nil {
				return err
			}
		}
		n := len(rw.seen) - 1
		r.logf("%s/%s seed %d: fit %.1f s; seen %.3f, unseen %.3f", rw.name, rw.variant, seed,
			rw.fit[n], rw.seen[n].acc(), rw.unseen[n].acc())
		return nil
	}
	dim := r.d.Emb.Dim
	for s := 1; s <= o.Seeds; s++ {
		npP := baseline.NewNonPersonal(baseline.NonPersonalOptions{Seed: uint64(s)})
		if err := fit(np, npP, s); err != nil {
			return err
		}
		np.params = npP.Stats().Params
		if s == 1 {
			c := baseline.NewCentroid()
			if err := fit(cen, c, s); err != nil {
				return err
			}
			err := r.describe(ctx, []string{"centroid"}, r.d, func(_ context.Context, h []history.Item) ([][]float32, error) {
				return [][]float32{c.Descriptor(h)}, nil
			})
			if err != nil {
				return err
			}
			k := baseline.NewUserKNN(baseline.UserKNNOptions{})
			if err := fit(knn, k, s); err != nil {
				return err
			}
			knn.params = len(r.d.Parts(dataset.Train)) * dim
		}
		pl := baseline.NewPerUserLinear(npP, baseline.PerUserLinearOptions{})
		if err := fit(pul, pl, s); err != nil {
			return err
		}
		pul.params = np.params
		kb := baseline.NewUserKNN(baseline.UserKNNOptions{Base: npP})
		if err := fit(knnB, kb, s); err != nil {
			return err
		}
		knnB.params = np.params + len(r.d.Parts(dataset.Train))*dim
	}
	return nil
}

// palate trains (or loads) palate's variants and judges them.
func (r *runner) palate(ctx context.Context) error {
	o := &r.opt
	if o.Model != "" {
		ck, err := train.Load(o.Model)
		if err != nil {
			return err
		}
		r.note("palate/full is the checkpoint %s, evaluated as is (one seed); no variant was trained.", o.Model)
		rw := r.addRow("palate", "full")
		return r.evalPalate(ctx, rw, ck, r.d, 1, true)
	}
	// Every (variant, seed) run is trained first, TrainParallel at a time
	// (each training runs on one core), then judged in order, so the
	// report does not depend on which run finished first.
	type job struct {
		v     Variant
		seed  int
		d     *history.Data
		rw    *row
		cfg   model.Config
		to    train.Options
		base  *job          // the shared base-stage run this one starts from
		done  chan struct{} // closed when a base job has finished
		ck    *train.Checkpoint
		users []string // variants that start from this base job
	}
	var jobs []*job
	for _, name := range o.Variants {
		v, _ := variantByName(name)
		seeds := 1
		if v.Name == "full" {
			seeds = o.Seeds
		}
		d := r.d
		if v.Truth {
			d = r.dTruth
		}
		rw := r.addRow("palate", v.Name)
		for s := 1; s <= seeds; s++ {
			j := &job{v: v, seed: s, d: d, rw: rw, cfg: *o.Config, to: *o.Train}
			j.to.Steps, j.to.Seed, j.to.OutDir = o.Steps, uint64(s), ""
			if v.Apply != nil {
				v.Apply(&j.cfg, &j.to)
			}
			jobs = append(jobs, j)
		}
	}
	// Runs that differ only after the base stage (λ, the training mode)
	// share one base-stage run of their seed: it is trained once, first,
	// and each of them starts from its checkpoint.
	groups := map[string][]*job{}
	var keys []string // in the jobs' order, so the schedule is the same every run
	for _, j := range jobs {
		if key, ok := baseKey(j.cfg, j.to, j.d); ok {
			if groups[key] == nil {
				keys = append(keys, key)
			}
			groups[key] = append(groups[key], j)
		}
	}
	var bases, alone, started []*job
	for _, key := range keys {
		if g := groups[key]; len(g) > 1 {
			b := &job{v: Variant{Name: "base"}, seed: g[0].seed, d: g[0].d, cfg: g[0].cfg, to: g[0].to, done: make(chan struct{})}
			b.to.Mode = train.ModeBase
			for _, j := range g {
				j.base = b
				b.users = append(b.users, j.v.Name)
			}
			bases = append(bases, b)
		}
	}
	for _, j := range jobs {
		if j.base == nil {
			alone = append(alone, j)
		} else {
			started = append(started, j)
		}
	}
	for _, b := range bases {
		r.note("palate's %s seed %d share one base stage, trained once.", strings.Join(b.users, ", "), b.seed)
	}
	order := slices.Concat(bases, alone, started)
	if o.TrainParallel > 1 && len(order) > 1 {
		r.note("palate's runs were trained %d at a time on %d threads: a run's training seconds are its own wall time while sharing the machine (with its base stage's, where shared).", min(o.TrainParallel, len(order)), o.Workers)
	}
	// The first failure cancels the runs still training.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.TrainParallel)
	for _, j := range order {
		g.Go(func() error {
			if j.done != nil {
				defer close(j.done)
			}
			to := j.to
			to.Log, to.Progress = o.Log, o.Progress
			if o.TrainParallel > 1 && o.Log != nil {
				to.Log = newPrefixWriter(o.Log, &r.logMu, fmt.Sprintf("[%s seed %d] ", j.v.Name, j.seed))
			}
			if to.LogEvery == 0 {
				to.LogEvery = 30 * time.Second
			}
			if j.base != nil {
				select {
				case <-j.base.done:
				case <-gctx.Done():
					return gctx.Err()
				}
				if j.base.ck == nil {
					return nil // the base run failed: its error is the group's
				}
				to.Start = j.base.ck
			}
			to.Embedder = train.EmbedderInfo{Name: j.d.Emb.Embedder, Dim: j.d.Emb.Dim}
			to.TextEmbedder = train.EmbedderInfo{Name: j.d.TextName, Dim: len(j.d.Text[0])}
			steps := fmt.Sprintf("%d steps, %s", to.Steps, to.Mode)
			switch {
			case to.Mode == train.ModeBase:
				steps = "the base stage alone, for " + strings.Join(j.users, ", ")
			case to.Start != nil:
				steps += ", from the shared base stage"
			}
			r.logf("training palate/%s seed %d (%s, K=%d, λ=%g, %s tokens, %s embedding)", j.v.Name, j.seed,
				steps, j.cfg.PrefTokens, j.cfg.Lambda, j.cfg.TokenMode, j.d.Emb.Embedder)
			ck, err := train.OnData(gctx, j.d, j.cfg, to, train.DataOptions{Batch: o.Batch, EvalPairs: o.K})
			if err != nil {
				return fmt.Errorf("training palate/%s seed %d: %w", j.v.Name, j.seed, err)
			}
			j.ck = ck
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, j := range jobs {
		if err := r.evalPalate(ctx, j.rw, j.ck, j.d, j.seed, j.v.Name == "full"); err != nil {
			return err
		}
		if j.v.Name == "full" && j.seed == 1 {
			r.fullCk = j.ck
		}
	}
	return r.ensemble(ctx)
}

// ensemble judges palate/full's seeds together, each candidate scored by
// the mean of their scores (a row "palate/ensemble" of one seed), when
// there are at least two: what averaging the seeds' models would buy, at
// as many times the training and the scoring.
func (r *runner) ensemble(ctx context.Context) error {
	n := len(r.full)
	if n < 2 {
		return nil
	}
	rw := r.addRow("palate", "ensemble")
	fns := make([]scoreFn, n)
	var fit float64
	for i, f := range r.full {
		fns[i], fit, rw.params = f.score, fit+f.fit, rw.params+f.params
	}
	rw.fit = []float64{fit}
	if full := r.find("palate", "full"); full != nil { // timed on its first seed
		rw.encode, rw.perCand = float64(n)*full.encode, float64(n)*full.perCand
	}
	rw.note = fmt.Sprintf("the mean score of palate/full's %d seeds: %d trainings (train seconds are their sum) and %d times the scoring (timings: %d times palate/full's)", n, n, n, n)
	if err := r.evalMain(ctx, rw, meanScore(fns), r.main); err != nil {
		return err
	}
	r.logf("palate/ensemble of %d seeds: seen %.3f, unseen %.3f", n, rw.seen[0].acc(), rw.unseen[0].acc())
	return nil
}

// meanScore scores each query by the mean of fns' scores.
func meanScore(fns []scoreFn) scoreFn {
	return func(ctx context.Context, qs []query) ([][]float64, error) {
		var sum [][]float64
		for _, fn := range fns {
			s, err := fn(ctx, qs)
			if err != nil {
				return nil, err
			}
			if len(s) != len(qs) {
				return nil, palate.Errorf(palate.EINTERNAL, "bench: a predictor returned %d scores for %d queries", len(s), len(qs))
			}
			if sum == nil {
				sum = make([][]float64, len(qs))
				for i := range s {
					sum[i] = make([]float64, len(s[i]))
				}
			}
			for i := range s {
				if len(s[i]) != len(sum[i]) {
					return nil, palate.Errorf(palate.EINTERNAL, "bench: a predictor returned %d scores for query %d's %d images", len(s[i]), i, len(sum[i]))
				}
				for j, v := range s[i] {
					sum[i][j] += v / float64(len(fns))
				}
			}
		}
		return sum, nil
	}
}

// evalPalate judges one trained model: the headline sets always; with the
// first seed its descriptors, timing and (full model) the history curve;
// for the full model, the headline sets again without recency.
func (r *runner) evalPalate(ctx context.Context, rw *row, ck *train.Checkpoint, d *history.Data, seed int, full bool) error {
	sc, err := scorer.New(ck, scorer.Options{})
	if err != nil {
		return err
	}
	m := &palateModel{variant: rw.variant, seed: uint64(seed), ck: ck, sc: sc, d: d}
	sum := ck.Summary
	fit, steps := sum.WallSeconds, sum.Steps
	if sum.Start != nil { // a shared base stage is part of the run
		fit, steps = fit+sum.Start.WallSeconds, steps+sum.Start.Steps
	}
	rw.fit = append(rw.fit, fit)
	rw.steps = append(rw.steps, steps)
	rw.bestVal = append(rw.bestVal, sum.BestValAccuracy)
	if !sum.Validated {
		rw.bestVal[len(rw.bestVal)-1] = nan
	}
	if rw.stoppedBy == "" {
		rw.stoppedBy = sum.StoppedBy
	}
	rw.params = params(ck.Config)
	sets := r.main
	if d == r.dTruth && d != r.d {
		sets = r.mainTruth
	}
	if err := r.evalMain(ctx, rw, m.score(false), sets); err != nil {
		return err
	}
	if rw.variant == "full" && d == r.d {
		r.full = append(r.full, fullSeed{score: m.score(false), fit: fit, params: params(ck.Config)})
	}
	n := len(rw.seen) - 1
	r.logf("palate/%s seed %d: trained %d steps in %.0f s (%s); seen %.3f, unseen %.3f (scored in %.0f s)", rw.variant, seed,
		sum.Steps, sum.WallSeconds, sum.StoppedBy, rw.seen[n].acc(), rw.unseen[n].acc(), rw.seen[n].seconds+rw.unseen[n].seconds)
	if full {
		r.logf("palate/%s seed %d: scoring again without the recency signal", rw.variant, seed)
		var pair [2]*outcome
		for p, set := range sets {
			o, err := evaluate(ctx, set, m.score(true), r.opt.Workers)
			if err != nil {
				return err
			}
			pair[p] = o
		}
		rw.noRecency[0] = append(rw.noRecency[0], pair[0])
		rw.noRecency[1] = append(rw.noRecency[1], pair[1])
	}
	if seed != 1 {
		return nil
	}
	if rw.encode, rw.perCand, err = m.timing(ctx, r.cap); err != nil {
		return err
	}
	if full && d == r.d {
		r.logf("palate/%s: history curve", rw.variant)
		if err := r.evalCurve(ctx, rw, m.score(false), ck.Config.MaxHistory/2); err != nil {
			return err
		}
	}
	names := []string{"palate/" + rw.variant}
	if full {
		names = append(names, "palate/"+rw.variant+"/history-mean", "palate/"+rw.variant+"/groups")
	}
	err = r.describe(ctx, names, d, func(ctx context.Context, h []history.Item) ([][]float32, error) {
		ds, err := m.descriptor(ctx, h)
		if err != nil || ds == nil || ds.ColdStart {
			return nil, err
		}
		return [][]float32{ds.Vector(), ds.HistoryMean, ds.Groups}, nil
	})
	if err != nil {
		return err
	}
	r.logf("palate/%s: timing %.1f ms per history, %.1f µs per candidate; descriptors done", rw.variant, 1e3*rw.encode, 1e6*rw.perCand)
	return nil
}

// guidance runs the reduced generation-guidance measurement when asked,
// guided by the checkpoint evaluated as palate/full (its first seed).
func (r *runner) guidance(ctx context.Context) error {
	o := &r.opt
	if o.GuidancePeople <= 0 {
		return nil
	}
	switch {
	case r.truth == nil:
		r.note("No guidance measurement: %s is not a taste world, and its simulated people are the judges.", o.Data)
		return nil
	case o.Embedder != features.Name:
		r.note("No guidance measurement: generated pictures are embedded with %s, and this bench reads %s.", features.Name, o.Embedder)
		return nil
	}
	modelDir := o.Model
	if modelDir == "" {
		if r.fullCk == nil {
			r.note("No guidance measurement: palate/full was not trained.")
			return nil
		}
		tmp, err := os.MkdirTemp("", "palate-bench-guide-")
		if err != nil {
			return palate.Errorf(palate.EINTERNAL, "guidance: %w", err)
		}
		defer os.RemoveAll(tmp)
		modelDir = filepath.Join(tmp, "model")
		if err := train.Save(modelDir, r.fullCk); err != nil {
			return err
		}
	}
	prompts := o.GuidancePrompts
	if prompts <= 0 {
		prompts = 2
	}
	r.logf("guidance: %d seen and %d unseen people, %d prompts each", o.GuidancePeople, o.GuidancePeople, prompts)
	res, err := Guidance(ctx, GuidanceOptions{
		Data: o.Data, Model: modelDir, People: o.GuidancePeople, Prompts: prompts, K: o.K,
		Resamples: o.Resamples, Workers: o.Workers, Log: o.Log,
	})
	if err != nil {
		return fmt.Errorf("guidance: %w", err)
	}
	r.guided = res.Rows
	for _, n := range res.Notes {
		r.note("Guidance: %s", n)
	}
	r.logf("guidance done in %.0f s", res.Seconds)
	return nil
}

// baseKey says which training runs can share a base stage: those of one
// dataset and seed whose model config and training options agree on all
// the base stage reads, that is all but λ and what only the later stages
// read (the mode, stage 2's steps and rate). ok is false for a run with no
// base stage.
func baseKey(cfg model.Config, to train.Options, d *history.Data) (key string, ok bool) {
	if cfg.BaseHidden <= 0 || to.BaseSteps < 0 {
		return "", false
	}
	cfg.Lambda = 0
	to.Mode, to.Stage2Steps, to.Stage2LearningRate = "", 0, 0
	b, err := json.Marshal(struct {
		C model.Config
		O train.Options
		D string
		E int
	}{cfg, to, d.Emb.Embedder, d.Emb.Dim})
	if err != nil {
		return "", false
	}
	return string(b), true
}
