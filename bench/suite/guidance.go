package suite

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"palate"
	"palate/baseline"
	"palate/bench"
	"palate/dataset"
	"palate/features"
	"palate/guide"
	"palate/history"
	"palate/scorer"
	"palate/world"
)

// GuidanceOptions configure the generation-guidance measurement. Zero values
// take the defaults in brackets.
type GuidanceOptions struct {
	// Data is a taste world (it needs world.json and its truth files).
	Data string
	// Model is the palate checkpoint that guides; it must read the
	// built-in embedder's (features.Name, pixels-v3) embeddings, which is
	// what the generated pictures are embedded with.
	Model string
	// People is how many seen and how many unseen people are judged (those
	// with at least K pairs; all of them when fewer) [50].
	People int
	// Prompts is how many prompts each person writes, in their own
	// prompt style [4].
	Prompts int
	// Budget is the generator calls per guided picture, the same for every
	// judge [guide.DefaultBudget].
	Budget int
	// K is the history length, the Table-1 protocol's N_ref [8].
	K int
	// Methods are the guidance methods measured [guide.Methods].
	Methods []string
	// Avoid is latent search's negative-feedback weight (guide.Options);
	// 0 takes guide's default, negative turns it off.
	Avoid float64
	// Unguided is how many unguided pictures each guided one is judged
	// against [16].
	Unguided int
	// TruthLatents is how many common latents give the person's true
	// effect of a style phrase, for prompt guidance's Spearman [64].
	TruthLatents int
	// Seed seeds the choice of people, their prompts, the latents and the
	// non-personal scorer's fit [1].
	Seed uint64
	// Resamples is the number of bootstrap resamples [1000].
	Resamples int
	// Workers is how many trials (person × prompt) run at once
	// [GOMAXPROCS].
	Workers int
	// Log receives progress lines; nil for none.
	Log io.Writer
}

func (o *GuidanceOptions) fill() error {
	if o.Data == "" || o.Model == "" {
		return palate.Errorf(palate.EINVALID, "guidance: a taste world and a palate checkpoint are both needed")
	}
	if o.People <= 0 {
		o.People = 50
	}
	if o.Prompts <= 0 {
		o.Prompts = 4
	}
	if o.Budget <= 0 {
		o.Budget = guide.DefaultBudget
	}
	if o.K <= 0 {
		o.K = 8
	}
	if o.Methods == nil {
		o.Methods = slices.Clone(guide.Methods)
	}
	for _, m := range o.Methods {
		if !slices.Contains(guide.Methods, m) {
			return palate.Errorf(palate.EINVALID, "guidance: unknown method %q; want one of %v", m, guide.Methods)
		}
	}
	if o.Unguided <= 0 {
		o.Unguided = 16
	}
	if o.TruthLatents <= 0 {
		o.TruthLatents = 64
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Resamples <= 0 {
		o.Resamples = bench.DefaultResamples
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}

// GuidanceResult is the measurement's table and how it was made.
type GuidanceResult struct {
	Rows    []bench.GuidanceRow
	Notes   []string
	Seconds float64
	// Embedder is the embedder the judges read; K the history length.
	Embedder string
	K        int
}

// Judges measured, in table order; palate is compared head to head with
// the two learnt baselines.
var guidanceJudges = []string{guide.ByPalate, guide.ByNonPersonal, guide.ByCentroid, guide.ByOracle}

// Guidance measures generation guidance on a taste world: for each judged
// person (seen and unseen, their k-pair Table-1 history) and each of their
// prompts, every method guided by every judge makes a picture within the
// same generator-call budget and from the same seed, and each person judges
// it with their true utility and Bradley–Terry noise against the unguided
// generator's pictures and against the same method guided by the
// non-personal scorer and by the centroid. It reports win rates with 95%
// cluster-bootstrap intervals over people, the cost per guided picture, and
// for prompt guidance the Spearman correlation between the effects it
// estimated and the person's true ones.
func Guidance(ctx context.Context, opt GuidanceOptions) (*GuidanceResult, error) {
	start := time.Now()
	if err := opt.fill(); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "guidance [%5.0fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
		}
	}
	truth, err := LoadTruth(opt.Data)
	if err != nil {
		return nil, err
	}
	if truth == nil {
		return nil, palate.Errorf(palate.EINVALID, "guidance: %s is not a taste world (no %s): the simulated people are the judges", opt.Data, world.WorldFile)
	}
	sc, err := scorer.Load(opt.Model, scorer.Options{})
	if err != nil {
		return nil, err
	}
	ck := sc.Checkpoint()
	if ck.Embedder.Name != features.Name {
		return nil, palate.Errorf(palate.ENOTIMPLEMENTED, "guidance: generated pictures are embedded with %s, but the model reads %q", features.Name, ck.Embedder.Name)
	}
	ds, err := dataset.Read(opt.Data)
	if err != nil {
		return nil, err
	}
	emb, err := dataset.ReadEmbeddings(opt.Data, ck.Embedder.Name)
	if err != nil {
		return nil, err
	}
	text := sc.TextEmbedder() // the checkpoint's own, so history and candidates agree
	if text == nil {
		return nil, palate.Errorf(palate.ENOTIMPLEMENTED, "guidance: the model's text embedder %q is not available here", ck.TextEmbedder.Name)
	}
	d, err := history.LoadData(ds, emb, text)
	if err != nil {
		return nil, err
	}
	px := features.NewPixels()
	if err := ck.CheckEmbedder(px.Name(), px.Dim()); err != nil {
		return nil, err
	}
	hist := guide.ProtocolHistory(d, opt.K)
	np := baseline.NewNonPersonal(baseline.NonPersonalOptions{Seed: opt.Seed})
	ce := baseline.NewCentroid()
	for _, p := range []baseline.Predictor{np, ce} {
		if err := p.Fit(ctx, d); err != nil {
			return nil, err
		}
	}
	logf("loaded %s and %s; fitted the non-personal scorer and the centroid", opt.Data, opt.Model)
	pj, err := guide.NewPalate(sc, d, px, hist)
	if err != nil {
		return nil, err
	}
	gen := guide.NewWorld(truth.World.Config.ImageSize)
	at := func(user string) time.Time {
		h, err := hist(user)
		if err != nil {
			return time.Time{}
		}
		return h.At
	}
	m := &measurer{
		opt: opt, gen: gen, w: truth.World, people: truth.People, at: at,
		oracle: &guide.Oracle{W: truth.World, Gen: gen, People: truth.People, At: at},
	}
	m.judges = map[string]guide.Judge{
		guide.ByPalate:      pj,
		guide.ByNonPersonal: guide.NewNonPersonal(np, px, text),
		guide.ByCentroid:    guide.NewCentroid(ce, d, px, hist),
		guide.ByOracle:      m.oracle,
	}

	var trials []trial
	counts := map[dataset.Part]int{}
	for _, part := range []dataset.Part{dataset.Train, dataset.Unseen} {
		people := pickPeople(d, truth, part, opt.K, opt.People, opt.Seed)
		counts[part] = len(people)
		for _, u := range people {
			r := rand.New(rand.NewPCG(opt.Seed, hashString(u.ID)))
			p := truth.People[u.ID]
			for q := range opt.Prompts {
				trials = append(trials, trial{user: u.ID, seen: part == dataset.Train,
					prompt: p.Style.MakePrompt(r).Text, seed: opt.Seed ^ hashString(fmt.Sprintf("%s/%d", u.ID, q))})
			}
		}
	}
	if len(trials) == 0 {
		return nil, palate.Errorf(palate.EINVALID, "guidance: no seen or unseen person of %s has %d pairs", opt.Data, opt.K)
	}
	logf("%d seen and %d unseen people, %d prompts each: %d trials of %d methods × %d judges at %d generator calls",
		counts[dataset.Train], counts[dataset.Unseen], opt.Prompts, len(trials), len(opt.Methods), len(guidanceJudges), opt.Budget)

	outs := make([]*trialOut, len(trials))
	errs := make([]error, opt.Workers)
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	for w := range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[w] != nil {
					continue
				}
				outs[i], errs[w] = m.run(ctx, trials[i])
				mu.Lock()
				finished++
				if finished%max(1, len(trials)/10) == 0 {
					logf("%d/%d trials", finished, len(trials))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range trials {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	res := &GuidanceResult{Rows: m.rows(trials, outs), Embedder: px.Name(), K: opt.K, Seconds: time.Since(start).Seconds()}
	res.Notes = append(res.Notes,
		fmt.Sprintf("Guidance: %d seen and %d unseen people (with at least %d pairs; their Table-1 history of k = %d pairs, judged as of just after it), %d prompts each written in the person's own prompt style, %d trials. Every method had %d generator calls (prompt guidance: the calls its phrase estimates fit, see `calls`) and the same seed whatever its judge.",
			counts[dataset.Train], counts[dataset.Unseen], opt.K, opt.K, opt.Prompts, len(trials), opt.Budget),
		fmt.Sprintf("A win rate is the mean Bradley–Terry probability (the world's noise τ = %g) that the person picks the guided picture by their true utility; against unguided it averages over %d unguided pictures per trial. Intervals: 95%% cluster bootstrap over people, %d resamples.",
			truth.World.Config.Noise, opt.Unguided, opt.Resamples),
		fmt.Sprintf("Judges: palate `%s`; the non-personal scorer fitted here (seed %d); the centroid; the oracle is the person's true utility (a reference, not a method). Spearman: the prompt method's estimated phrase effects against the person's true effects of the same phrases over %d common latents.",
			opt.Model, opt.Seed, opt.TruthLatents),
		fmt.Sprintf("Latent search's negative-feedback weight: %s.", avoidNote(opt.Avoid)),
		fmt.Sprintf("Seconds per guided picture are wall time with %d trials running at once on %d threads (generation, %s embedding, scoring).", opt.Workers, runtime.GOMAXPROCS(0), features.Name),
	)
	logf("done")
	return res, nil
}

func avoidNote(a float64) string {
	switch {
	case a < 0:
		return "off"
	case a == 0:
		return "the default"
	}
	return fmt.Sprint(a)
}

// pickPeople returns up to n people of a part with at least k pairs and a
// truth record, chosen at random (by seed) from those sorted by id.
func pickPeople(d *history.Data, truth *Truth, part dataset.Part, k, n int, seed uint64) []*history.UserData {
	var us []*history.UserData
	for _, u := range d.Parts(part) {
		if len(u.Pairs) >= k && truth.People[u.ID] != nil {
			us = append(us, u)
		}
	}
	sort.Slice(us, func(a, b int) bool { return us[a].ID < us[b].ID })
	r := rand.New(rand.NewPCG(seed, uint64(part)+0x9e0))
	r.Shuffle(len(us), func(a, b int) { us[a], us[b] = us[b], us[a] })
	return us[:min(n, len(us))]
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// trial is one person and prompt.
type trial struct {
	user, prompt string
	seen         bool
	seed         uint64
}

// guided is one method and judge's picture in a trial.
type guided struct {
	utility float64 // the person's true utility of the picture
	calls   int
	seconds float64
	rho     float64 // prompt guidance: Spearman of estimated and true effects; NaN otherwise
}

type trialOut struct {
	unguided []float64 // true utilities of the unguided pictures
	guided   map[[2]string]guided
}

type measurer struct {
	opt    GuidanceOptions
	gen    *guide.World
	w      *world.World
	people map[string]*world.Person
	at     func(string) time.Time
	oracle *guide.Oracle
	judges map[string]guide.Judge
}

func (m *measurer) utility(user, prompt, negative string, l guide.Latent) (float64, error) {
	a, err := m.gen.Attrs(prompt, negative, l)
	if err != nil {
		return 0, err
	}
	return m.w.Utility(m.people[user], m.at(user), &a), nil
}

func (m *measurer) run(ctx context.Context, t trial) (*trialOut, error) {
	out := &trialOut{guided: map[[2]string]guided{}}
	r := rand.New(rand.NewPCG(t.seed, 0x4e6))
	for range m.opt.Unguided {
		u, err := m.utility(t.user, t.prompt, "", m.gen.Sample(r, t.prompt))
		if err != nil {
			return nil, err
		}
		out.unguided = append(out.unguided, u)
	}
	for _, method := range m.opt.Methods {
		for _, by := range guidanceJudges {
			j := m.judges[by]
			o := guide.Options{Budget: m.opt.Budget, Seed: t.seed, Avoid: m.opt.Avoid}
			var res *guide.Result
			var err error
			switch method {
			case guide.MethodBestOfN:
				res, err = guide.BestOfN(ctx, m.gen, j, t.user, t.prompt, o)
			case guide.MethodLatentSearch:
				res, err = guide.LatentSearch(ctx, m.gen, j, t.user, t.prompt, o)
			case guide.MethodPrompt:
				res, err = guide.PromptGuidance(ctx, m.gen, j, t.user, t.prompt, o)
			}
			if err != nil {
				return nil, fmt.Errorf("guidance: %s guided by %s for %s, %q: %w", method, by, t.user, t.prompt, err)
			}
			u, err := m.utility(t.user, res.Best.Prompt, res.Best.Negative, res.Best.Latent)
			if err != nil {
				return nil, err
			}
			g := guided{utility: u, calls: res.Calls, seconds: res.Seconds, rho: math.NaN()}
			if method == guide.MethodPrompt && len(res.Effects) >= 2 {
				if g.rho, err = m.spearman(t, res.Effects); err != nil {
					return nil, err
				}
			}
			out.guided[[2]string{method, by}] = g
		}
	}
	return out, nil
}

// spearman compares estimated phrase effects with the person's true ones:
// the mean change of their utility when the phrase joins the prompt, over
// common latents.
func (m *measurer) spearman(t trial, effects []guide.Effect) (float64, error) {
	r := rand.New(rand.NewPCG(t.seed, 0x7e11))
	ls := make([]guide.Latent, m.opt.TruthLatents)
	base := make([]float64, len(ls))
	for i := range ls {
		ls[i] = m.gen.Sample(r, t.prompt)
		var err error
		if base[i], err = m.utility(t.user, t.prompt, "", ls[i]); err != nil {
			return 0, err
		}
	}
	est := make([]float64, len(effects))
	tru := make([]float64, len(effects))
	for k, e := range effects {
		est[k] = e.Effect
		for i, l := range ls {
			u, err := m.utility(t.user, t.prompt+", "+e.Words, "", l)
			if err != nil {
				return 0, err
			}
			tru[k] += (u - base[i]) / float64(len(ls))
		}
	}
	return guide.Spearman(est, tru), nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// rows turns the trials' outcomes into the table.
func (m *measurer) rows(trials []trial, outs []*trialOut) []bench.GuidanceRow {
	tau := m.w.Config.Noise
	var rows []bench.GuidanceRow
	for mi, method := range m.opt.Methods {
		row := func(by, against string, win func(o *trialOut) float64) bench.GuidanceRow {
			var all, seen, unseen, rhos []bench.Judged
			people := map[string]bool{}
			var calls, secs float64
			for i, t := range trials {
				o := outs[i]
				j := bench.Judged{User: t.user, Correct: win(o)}
				all = append(all, j)
				if t.seen {
					seen = append(seen, j)
				} else {
					unseen = append(unseen, j)
				}
				people[t.user] = true
				g := o.guided[[2]string{method, by}]
				calls += float64(g.calls)
				secs += g.seconds
				if !math.IsNaN(g.rho) {
					rhos = append(rhos, bench.Judged{User: t.user, Correct: g.rho})
				}
			}
			seed := m.opt.Seed + uint64(100*mi+len(rows))
			r := bench.GuidanceRow{Method: method, GuidedBy: by, Against: against,
				WinRate: bench.NewWinRate(all, m.opt.Resamples, seed), People: len(people),
				Seen: bench.NewWinRate(seen, m.opt.Resamples, seed), Unseen: bench.NewWinRate(unseen, m.opt.Resamples, seed),
				Calls: bench.Num(calls / float64(len(trials))), Seconds: bench.Num(secs / float64(len(trials)))}
			if method == guide.MethodPrompt && against == guide.MethodUnguided {
				s := bench.NewMeanInterval(rhos, m.opt.Resamples, seed)
				r.Spearman = &s
			}
			return r
		}
		for _, by := range guidanceJudges {
			rows = append(rows, row(by, guide.MethodUnguided, func(o *trialOut) float64 {
				u := o.guided[[2]string{method, by}].utility
				var w float64
				for _, u0 := range o.unguided {
					w += sigmoid((u-u0)/tau) / float64(len(o.unguided))
				}
				return w
			}))
		}
		for _, other := range []string{guide.ByNonPersonal, guide.ByCentroid} {
			rows = append(rows, row(guide.ByPalate, other, func(o *trialOut) float64 {
				return sigmoid((o.guided[[2]string{method, guide.ByPalate}].utility - o.guided[[2]string{method, other}].utility) / tau)
			}))
		}
	}
	return rows
}
