package world

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Parts of the population, as splits.json records them.
const (
	PartSeen       = "seen"
	PartUnseen     = "unseen"
	PartValidation = "validation"
)

// Person is one simulated person: a point in taste space near their group's,
// a shared sense of quality, a way of writing prompts, and, for some, a
// taste that drifts toward another group's over their history.
type Person struct {
	Index    int         `json:"-"`
	ID       string      `json:"user"`
	Group    int         `json:"group"`
	Taste    []float64   `json:"taste"`               // z at the start of the history
	DriftTo  int         `json:"drift_to"`            // group drifted toward; -1 when stable
	TasteEnd []float64   `json:"taste_end,omitempty"` // z at the end, when drifting
	Baseline float64     `json:"like_baseline"`       // utility at which like and dislike are equally likely
	Part     string      `json:"part"`                // seen, unseen or validation
	Style    PromptStyle `json:"prompt_style"`
	// First and Last are the times of the first and last interaction; taste
	// drifts linearly between them.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Drifts reports whether the person's taste drifts.
func (p *Person) Drifts() bool { return p.DriftTo >= 0 }

// TasteAt returns the person's taste vector at time t.
func (p *Person) TasteAt(t time.Time) []float64 {
	if !p.Drifts() || !p.Last.After(p.First) {
		return p.Taste
	}
	f := float64(t.Sub(p.First)) / float64(p.Last.Sub(p.First))
	f = clamp01(f)
	z := make([]float64, len(p.Taste))
	for i := range z {
		z[i] = (1-f)*p.Taste[i] + f*p.TasteEnd[i]
	}
	return z
}

// World is a taste world: its config, the groups' tastes and content
// interests. People and their interactions are made from it on demand,
// deterministically from the seed and the person's index.
type World struct {
	Config   Config
	Groups   [][]float64 // taste vector of each group's centre
	Interest [][]float64 // each group's weights over Subjects
	parts    []string    // part of each person
	groupW   []float64   // relative group sizes
	idWidth  int
}

// New makes the world's groups and assigns people to parts. It validates cfg.
func New(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	w := &World{Config: cfg, idWidth: len(fmt.Sprint(cfg.Users - 1))}
	for g := 0; g < cfg.Groups; g++ {
		z := make([]float64, TasteDim)
		for i := range z {
			z[i] = r.NormFloat64()
		}
		w.Groups = append(w.Groups, z)
		w.Interest = append(w.Interest, dirichlet(r, len(Subjects), 0.7))
		w.groupW = append(w.groupW, 0.5+r.Float64())
	}
	// Exact shares of unseen and validation people, chosen by permutation.
	w.parts = make([]string, cfg.Users)
	perm := r.Perm(cfg.Users)
	nUnseen := int(math.Round(cfg.UnseenFraction * float64(cfg.Users)))
	nVal := int(math.Round(cfg.ValidationFraction * float64(cfg.Users)))
	for i, k := range perm {
		switch {
		case i < nUnseen:
			w.parts[k] = PartUnseen
		case i < nUnseen+nVal:
			w.parts[k] = PartValidation
		default:
			w.parts[k] = PartSeen
		}
	}
	return w, nil
}

// UserID returns the id of person i.
func (w *World) UserID(i int) string { return fmt.Sprintf("u%0*d", w.idWidth, i) }

// personRand is the random stream of person i: the same whatever order
// people are made in, so building in parallel stays deterministic.
func (w *World) personRand(i int) *rand.Rand {
	return rand.New(rand.NewPCG(w.Config.Seed^0x5eed5eed, uint64(i)+1))
}

// person makes person i (without First/Last, which the interactions set).
func (w *World) person(i int, r *rand.Rand) *Person {
	cfg := &w.Config
	p := &Person{Index: i, ID: w.UserID(i), DriftTo: -1, Part: w.parts[i]}
	p.Group = pickWeighted(r, w.groupW)
	p.Taste = w.deviate(r, w.Groups[p.Group])
	if r.Float64() < cfg.DriftFraction && cfg.Groups > 1 {
		to := r.IntN(cfg.Groups - 1)
		if to >= p.Group {
			to++
		}
		p.DriftTo = to
		p.TasteEnd = w.deviate(r, w.Groups[to])
	}
	personal := dirichlet(r, len(Subjects), 0.5)
	subj := make([]float64, len(Subjects))
	for k := range subj {
		subj[k] = 0.6*w.Interest[p.Group][k] + 0.4*personal[k]
	}
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	p.Style = PromptStyle{
		Subjects: subj, NameSubj: u(0.7, 0.95), NameCount: u(0.1, 0.5),
		NameHue: u(0.1, 0.5), NameSat: u(0.1, 0.4), NameLight: u(0.1, 0.4),
		NameStyle: u(0.1, 0.4), NameBackgr: u(0.1, 0.4),
	}
	// The like baseline is the median utility of the person's own kind of
	// pictures, so they like about half of what they are shown.
	us := make([]float64, 31)
	for k := range us {
		a := Resolve(p.Style.MakePrompt(r), randomLatent(r))
		us[k] = w.utility(p.Taste, &a)
	}
	p.Baseline = median(us)
	return p
}

func (w *World) deviate(r *rand.Rand, centre []float64) []float64 {
	z := make([]float64, len(centre))
	for i := range z {
		z[i] = centre[i] + w.Config.Individuality*r.NormFloat64()
	}
	return z
}

// utility is a person's utility with taste z: taste plus weighted quality.
func (w *World) utility(z []float64, a *Attrs) float64 {
	return TasteUtility(z, a) + w.Config.QualityWeight*Quality(a)
}

// Utility is person p's true utility for an image with attributes a at time t.
func (w *World) Utility(p *Person, t time.Time, a *Attrs) float64 {
	return w.utility(p.TasteAt(t), a)
}

// GroupUtility is what the group oracle knows: the taste of the person's
// (starting) group and the shared quality, without the personal deviation.
func (w *World) GroupUtility(p *Person, a *Attrs) float64 {
	return w.utility(w.Groups[p.Group], a)
}

// GlobalUtility is what the global oracle knows: the shared quality only.
func (w *World) GlobalUtility(a *Attrs) float64 { return Quality(a) }

// dirichlet draws from a symmetric Dirichlet(alpha) with alpha in (0, 1]
// via Gamma(alpha) = Gamma(alpha+1) * U^(1/alpha).
func dirichlet(r *rand.Rand, n int, alpha float64) []float64 {
	x := make([]float64, n)
	var s float64
	for i := range x {
		x[i] = gamma1(r, alpha+1) * math.Pow(r.Float64(), 1/alpha)
		s += x[i]
	}
	for i := range x {
		x[i] /= s
	}
	return x
}

// gamma1 draws Gamma(shape, 1) for shape >= 1 (Marsaglia–Tsang).
func gamma1(r *rand.Rand, shape float64) float64 {
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	// insertion sort: x is small
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
