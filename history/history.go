// Package history joins a dataset with its embeddings into what every
// predictor reads: each person's decided comparisons and votes in time order,
// split into what may be learned from and what is judged, and the episodes
// (a history and a target pair) that training and evaluation are made of.
// It imports no machine-learning library, so baselines and the bench share it
// with the model.
package history

import (
	"math/rand/v2"
	"sort"
	"time"

	"palate"
	"palate/dataset"
)

// Label says what a history item is. The values equal model.Label's, which
// train relies on (and tests).
type Label int32

// Labels of history items.
const (
	Liked         Label = 1 // the preferred image of a comparison
	Disliked      Label = 2 // the other image of a comparison
	SingleLike    Label = 3 // an image liked on its own (a vote)
	SingleDislike Label = 4 // an image disliked on its own
)

// Positive reports whether the label is a like of either kind.
func (l Label) Positive() bool { return l == Liked || l == SingleLike }

// Item is one history element: an image with what the person did with it.
type Item struct {
	Image int32 // row in the embeddings table
	Label Label
	Time  time.Time
}

// Pair is one decided comparison: the preferred and the other image.
type Pair struct {
	ID        string
	Win, Lose int32 // rows in the embeddings table
	Time      time.Time
}

// Single is one vote.
type Single struct {
	ID    string
	Image int32
	Like  bool
	Time  time.Time
}

// UserData is one person's decided comparisons and votes in time order,
// split into the part the model may learn from and the test part.
type UserData struct {
	ID   string
	Part dataset.Part // Train for seen people, Unseen or Validation for held-out ones
	// Pairs and Votes before the person's test cutoff (all of them for
	// held-out people); TestPairs and TestVotes after it.
	Pairs, TestPairs []Pair
	Votes, TestVotes []Single
	// Ties counts tied comparisons, which carry no preference and are left out.
	Ties int
}

// Data is a dataset ready for episodes: every image's embedding and prompt
// embedding, and every person's interactions by split.
type Data struct {
	Emb      *palate.Embeddings
	Text     [][]float32 // prompt embedding of each embeddings row
	TextName string
	Users    []*UserData
	byID     map[string]int
	rows     map[string]int
}

// LoadData joins a dataset with its embeddings and embeds its prompts.
// Every image named by a comparison or vote must have an embedding: a
// missing one is an EINVALID error naming it.
func LoadData(d *dataset.Dataset, emb *palate.Embeddings, text palate.TextEmbedder) (*Data, error) {
	rows := emb.Index()
	prompts := make(map[string]string, len(d.Images))
	for _, im := range d.Images {
		prompts[im.ID] = im.Prompt
	}
	out := &Data{Emb: emb, Text: make([][]float32, len(emb.IDs)), TextName: text.Name(), byID: map[string]int{}, rows: rows}
	cache := map[string][]float32{}
	for i, id := range emb.IDs {
		p := prompts[id]
		v, ok := cache[p]
		if !ok {
			v = text.EmbedText(p)
			cache[p] = v
		}
		out.Text[i] = v
	}
	row := func(what, id string) (int32, error) {
		r, ok := rows[id]
		if !ok {
			return 0, palate.Errorf(palate.EINVALID, "%s names image %q, which has no %s embedding", what, id, emb.Embedder)
		}
		return int32(r), nil
	}
	part := d.Splits.PartFunc()
	user := func(id string) *UserData {
		k, ok := out.byID[id]
		if !ok {
			k = len(out.Users)
			out.byID[id] = k
			out.Users = append(out.Users, &UserData{ID: id})
		}
		return out.Users[k]
	}
	for _, c := range d.Comparisons {
		u := user(c.User)
		win, lose, ok := c.Winner()
		if !ok {
			u.Ties++
			continue
		}
		w, err := row("comparison "+c.ID, win)
		if err != nil {
			return nil, err
		}
		l, err := row("comparison "+c.ID, lose)
		if err != nil {
			return nil, err
		}
		p := Pair{ID: c.ID, Win: w, Lose: l, Time: c.Time}
		switch pt := part(c.User, c.Time); pt {
		case dataset.Test:
			u.TestPairs = append(u.TestPairs, p)
		default:
			u.Part = pt
			u.Pairs = append(u.Pairs, p)
		}
	}
	for _, v := range d.Votes {
		u := user(v.User)
		r, err := row("vote "+v.ID, v.Image)
		if err != nil {
			return nil, err
		}
		s := Single{ID: v.ID, Image: r, Like: v.Liked(), Time: v.Time}
		switch pt := part(v.User, v.Time); pt {
		case dataset.Test:
			u.TestVotes = append(u.TestVotes, s)
		default:
			u.Part = pt
			u.Votes = append(u.Votes, s)
		}
	}
	for _, u := range out.Users {
		if u.Part == dataset.Test { // only test interactions: still a seen person
			u.Part = dataset.Train
		}
		for _, ps := range [][]Pair{u.Pairs, u.TestPairs} {
			sort.SliceStable(ps, func(i, j int) bool { return ps[i].Time.Before(ps[j].Time) })
		}
		for _, vs := range [][]Single{u.Votes, u.TestVotes} {
			sort.SliceStable(vs, func(i, j int) bool { return vs[i].Time.Before(vs[j].Time) })
		}
	}
	return out, nil
}

// User returns the person with the given id, or nil.
func (d *Data) User(id string) *UserData {
	if k, ok := d.byID[id]; ok {
		return d.Users[k]
	}
	return nil
}

// Parts returns the people of the given parts.
func (d *Data) Parts(parts ...dataset.Part) []*UserData {
	var out []*UserData
	for _, u := range d.Users {
		for _, p := range parts {
			if u.Part == p {
				out = append(out, u)
				break
			}
		}
	}
	return out
}

// PairItems turns pairs into history items: the liked then the disliked image.
func PairItems(ps []Pair) []Item {
	out := make([]Item, 0, 2*len(ps))
	for _, p := range ps {
		out = append(out, Item{Image: p.Win, Label: Liked, Time: p.Time},
			Item{Image: p.Lose, Label: Disliked, Time: p.Time})
	}
	return out
}

// SingleItems turns votes into history items.
func SingleItems(vs []Single) []Item {
	out := make([]Item, 0, len(vs))
	for _, v := range vs {
		l := SingleDislike
		if v.Like {
			l = SingleLike
		}
		out = append(out, Item{Image: v.Image, Label: l, Time: v.Time})
	}
	return out
}

// SamplerOptions shapes training episodes.
type SamplerOptions struct {
	MaxItems int `json:"-"`         // most history items (a pair is two); required (train sets it from the model)
	MaxPairs int `json:"max_pairs"` // most history pairs; default MaxItems/2
	MaxVotes int `json:"max_votes"` // most single votes joining the history; default 4, negative for none
	// FullShare is the share of episodes that take as many earlier pairs
	// as allowed; the rest take a uniform number in [0, MaxPairs], so a
	// model also learns to read short histories. Default 0.7.
	FullShare float64 `json:"full_share"`
	// VotePairs adds targets made of votes: each seen person's training
	// likes and dislikes, shuffled and matched one to one, each match a
	// target pair (the liked image preferred) read against a history from
	// before the earlier of the two. They are drawn as often as a
	// comparison each. Off by default.
	VotePairs bool   `json:"vote_pairs"`
	Seed      uint64 `json:"seed"` // default: the training seed
}

// Episode is one training example: a person's target pairs and the history
// they are read against. Every target is at or after the first one, and
// every history item strictly before it.
type Episode struct {
	User    *UserData
	Target  Pair   // the sampled comparison
	Extra   []Pair // further targets of the same person, when asked for
	History []Item
}

// Sampler makes training episodes: for a random training comparison of a
// seen person, a random set of that person's strictly earlier pairs (and
// votes) in random order. It never looks at later interactions, and never
// runs out. Not safe for concurrent use.
type Sampler struct {
	d     *Data
	opt   SamplerOptions
	r     *rand.Rand
	users []*UserData
	votes [][]Pair // each user's vote pairs (SamplerOptions.VotePairs)
	cum   []int    // cumulative target counts over users, for uniform sampling over targets
}

// NewSampler returns a sampler over the Train part of d. Returns EINVALID
// when no seen person has a decided training comparison.
func NewSampler(d *Data, opt SamplerOptions) (*Sampler, error) {
	if opt.MaxItems <= 0 {
		return nil, palate.Errorf(palate.EINVALID, "sampler: MaxItems is %d; want > 0", opt.MaxItems)
	}
	if opt.MaxPairs <= 0 {
		opt.MaxPairs = opt.MaxItems / 2
	}
	if opt.MaxVotes < 0 {
		opt.MaxVotes = 0
	} else if opt.MaxVotes == 0 {
		opt.MaxVotes = 4
	}
	if opt.FullShare == 0 {
		opt.FullShare = 0.7
	}
	s := &Sampler{d: d, opt: opt, r: rand.New(rand.NewPCG(opt.Seed, 0xe915))}
	total := 0
	for _, u := range d.Parts(dataset.Train) {
		var vp []Pair
		if opt.VotePairs {
			vp = s.votePairs(u)
		}
		if len(u.Pairs)+len(vp) == 0 {
			continue
		}
		total += len(u.Pairs) + len(vp)
		s.users = append(s.users, u)
		s.votes = append(s.votes, vp)
		s.cum = append(s.cum, total)
	}
	if total == 0 {
		return nil, palate.Errorf(palate.EINVALID, "no training comparisons: every seen person's comparisons are ties, test or held out")
	}
	return s, nil
}

// Next returns the next episode with one target pair.
func (s *Sampler) Next() Episode { return s.NextN(1) }

// NextN returns an episode with n target pairs: the sampled comparison and
// n-1 more drawn (with replacement) from the same person's comparisons at or
// after it, all read against a history from before the first. Sharing a
// history among several later targets is also how the model is judged.
func (s *Sampler) NextN(n int) Episode {
	k := s.r.IntN(s.cum[len(s.cum)-1])
	ui := sort.SearchInts(s.cum, k+1)
	u := s.users[ui]
	j := k
	if ui > 0 {
		j -= s.cum[ui-1]
	}
	var target Pair
	if j < len(u.Pairs) {
		target = u.Pairs[j]
	} else {
		// A vote pair: the comparisons before it are those strictly earlier.
		target = s.votes[ui][j-len(u.Pairs)]
		j = sort.Search(len(u.Pairs), func(i int) bool { return !u.Pairs[i].Time.Before(target.Time) })
	}
	e := Episode{User: u, Target: target, History: s.history(nil, u, target.Time, j)}
	for range n - 1 {
		if j == len(u.Pairs) { // no later comparison
			e.Extra = append(e.Extra, target)
			continue
		}
		e.Extra = append(e.Extra, u.Pairs[j+s.r.IntN(len(u.Pairs)-j)])
	}
	return e
}

// votePairs matches u's training likes and dislikes one to one at random,
// each match a pair whose time is the earlier vote's.
func (s *Sampler) votePairs(u *UserData) []Pair {
	var likes, dislikes []Single
	for _, v := range u.Votes {
		if v.Like {
			likes = append(likes, v)
		} else {
			dislikes = append(dislikes, v)
		}
	}
	s.r.Shuffle(len(likes), func(a, b int) { likes[a], likes[b] = likes[b], likes[a] })
	s.r.Shuffle(len(dislikes), func(a, b int) { dislikes[a], dislikes[b] = dislikes[b], dislikes[a] })
	var out []Pair
	for i := range min(len(likes), len(dislikes)) {
		l, d := likes[i], dislikes[i]
		t := l.Time
		if d.Time.Before(t) {
			t = d.Time
		}
		out = append(out, Pair{ID: l.ID + "+" + d.ID, Win: l.Image, Lose: d.Image, Time: t})
	}
	return out
}

// history picks random earlier pairs and votes of u before time at, in
// random order. j is the index of the target pair (earlier pairs are [0,j)).
func (s *Sampler) history(items []Item, u *UserData, at time.Time, j int) []Item {
	kmax := s.opt.MaxPairs
	if s.r.Float64() >= s.opt.FullShare {
		kmax = s.r.IntN(s.opt.MaxPairs + 1)
	}
	// Earlier pairs: indices [0, j) hold strictly earlier times (pairs are
	// time-sorted and times are unique per person in practice; equal times
	// are left out to be safe).
	var cand []int
	for i := 0; i < j; i++ {
		if u.Pairs[i].Time.Before(at) {
			cand = append(cand, i)
		}
	}
	s.r.Shuffle(len(cand), func(a, b int) { cand[a], cand[b] = cand[b], cand[a] })
	cand = cand[:min(len(cand), kmax)]
	var votes []int
	for i, v := range u.Votes {
		if v.Time.Before(at) {
			votes = append(votes, i)
		}
	}
	s.r.Shuffle(len(votes), func(a, b int) { votes[a], votes[b] = votes[b], votes[a] })
	room := s.opt.MaxItems - 2*len(cand)
	votes = votes[:min(len(votes), s.opt.MaxVotes, max(room, 0))]
	// Random order of units (a pair stays together: liked then disliked).
	type unit struct{ pair, vote int }
	units := make([]unit, 0, len(cand)+len(votes))
	for _, i := range cand {
		units = append(units, unit{i, -1})
	}
	for _, i := range votes {
		units = append(units, unit{-1, i})
	}
	s.r.Shuffle(len(units), func(a, b int) { units[a], units[b] = units[b], units[a] })
	for _, un := range units {
		if un.pair >= 0 {
			items = append(items, PairItems(u.Pairs[un.pair:un.pair+1])...)
		} else {
			items = append(items, SingleItems(u.Votes[un.vote:un.vote+1])...)
		}
	}
	return items
}

// EvalPair is one held-out comparison with the history it is judged from.
type EvalPair struct {
	User    *UserData
	Pair    Pair
	History []Item
}

// EvalPairs returns the held-out comparisons of people in the given parts,
// each with a history of k pairs, the protocol of the paper's Table 1:
// seen people are judged on their test comparisons from their k most recent
// training pairs; held-out people (unseen, validation) from their first k
// pairs, on the rest. People with no pair to judge are skipped.
func (d *Data) EvalPairs(k int, parts ...dataset.Part) []EvalPair {
	var out []EvalPair
	for _, u := range d.Parts(parts...) {
		var hist []Item
		var test []Pair
		if u.Part == dataset.Train {
			hist = PairItems(u.Pairs[max(0, len(u.Pairs)-k):])
			test = u.TestPairs
		} else {
			n := min(k, len(u.Pairs))
			hist = PairItems(u.Pairs[:n])
			test = u.Pairs[n:]
		}
		for _, p := range test {
			out = append(out, EvalPair{User: u, Pair: p, History: hist})
		}
	}
	return out
}

// All returns every decided comparison and vote of u, training and test,
// as history items in time order: what a deployed model knows of a person.
func (u *UserData) All() []Item {
	items := append(PairItems(u.Pairs), PairItems(u.TestPairs)...)
	items = append(items, SingleItems(u.Votes)...)
	items = append(items, SingleItems(u.TestVotes)...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].Time.Before(items[j].Time) })
	return items
}

// Row returns the embeddings row of an image id.
func (d *Data) Row(id string) (int32, bool) {
	r, ok := d.rows[id]
	return int32(r), ok
}
