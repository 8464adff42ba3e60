package suite

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"palate"
	"palate/world"
)

// Truth is what a taste world knows and no predictor may see: each person's
// true taste and group, and each image's attributes. The reference ceilings
// are computed from it on exactly the comparisons the predictors are judged
// on.
type Truth struct {
	World  *world.World
	People map[string]*world.Person
	Attrs  map[string]*world.Attrs // by image id
	// Raw is world.json as written by the world builder.
	Raw json.RawMessage

	crowdOnce  sync.Once
	crowdShare []float64 // each group's share of the people (groupShares)
}

// worldFile is the part of world.json the bench reads.
type worldFile struct {
	Config world.Config `json:"config"`
}

// LoadTruth reads a taste world's truth from dir: world.json (its config,
// from which the groups' tastes are rebuilt), truth.jsonl (the people) and
// image_truth.jsonl (each image's attributes). It returns nil and no error
// when dir has no world.json (a dataset that is not a taste world).
func LoadTruth(dir string) (*Truth, error) {
	raw, err := os.ReadFile(filepath.Join(dir, world.WorldFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var wf worldFile
	wf.Config = world.DefaultConfig()
	if err := json.Unmarshal(raw, &wf); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "%s: %v", world.WorldFile, err)
	}
	w, err := world.New(wf.Config)
	if err != nil {
		return nil, err
	}
	people, err := world.ReadTruth(dir)
	if err != nil {
		return nil, err
	}
	t := &Truth{World: w, People: make(map[string]*world.Person, len(people)), Raw: raw}
	for _, p := range people {
		t.People[p.ID] = p
	}
	if t.Attrs, err = readImageTruth(filepath.Join(dir, world.ImageTruthFile)); err != nil {
		return nil, err
	}
	return t, nil
}

// readImageTruth reads image_truth.jsonl (one world.Shown a line), keeping
// only each image's attributes.
func readImageTruth(path string) (map[string]*world.Attrs, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]*world.Attrs{}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for line := 1; dec.More(); line++ {
		var s struct {
			ID    string      `json:"id"`
			Attrs world.Attrs `json:"attrs"`
		}
		if err := dec.Decode(&s); err != nil {
			return nil, palate.Errorf(palate.EINVALID, "%s:%d: %v", world.ImageTruthFile, line, err)
		}
		a := s.Attrs
		out[s.ID] = &a
	}
	return out, nil
}

// Groups returns the world's number of taste groups.
func (t *Truth) Groups() int { return t.World.Config.Groups }

// Reference kinds: what a reference ceiling knows.
const (
	Oracle       = "oracle"        // the person's true utility at the time
	GroupOracle  = "group-oracle"  // the person's group's taste and the shared quality
	GlobalOracle = "global-oracle" // the shared quality only
	// CrowdOracle scores everyone alike with the mean over the world's
	// people (seen and unseen) of their groups' utilities: a strong
	// non-personal reference, what a scorer that knew the crowd's taste
	// but no one in it would get (the mean utility is not quite the
	// accuracy-optimal shared ranking, a per-pair majority would be). It is
	// well above the global oracle, because what the groups share beyond
	// quality (the average taste) is not personal.
	CrowdOracle = "crowd-oracle"
)

// crowdUtility is CrowdOracle's score: the world's group utilities of a,
// weighted by how many of its people are in each group.
func (t *Truth) crowdUtility(a *world.Attrs) float64 {
	var u float64
	for g, w := range t.groupShares() {
		if w > 0 {
			u += w * t.World.GroupUtility(&world.Person{Group: g}, a)
		}
	}
	return u
}

// groupShares is each group's share of the world's people (seen and
// unseen), computed once.
func (t *Truth) groupShares() []float64 {
	t.crowdOnce.Do(func() {
		t.crowdShare = make([]float64, t.Groups())
		for _, p := range t.People {
			if p.Group >= 0 && p.Group < len(t.crowdShare) {
				t.crowdShare[p.Group]++
			}
		}
		for g := range t.crowdShare {
			t.crowdShare[g] /= float64(max(1, len(t.People)))
		}
	})
	return t.crowdShare
}
