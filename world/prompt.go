package world

import (
	"math/rand/v2"
	"strings"
)

// The prompt vocabulary. Each phrase narrows one attribute's code interval;
// ParsePrompt reads the phrases back, so any prompt a person types renders.
type phrase struct {
	words  string
	attr   int
	lo, hi float64
}

var (
	countWords = []string{"", "two", "three", "four", "five"} // index = count-1
	hueWords   = HueNames
	satPhrases = []phrase{
		{"muted", AttrSaturation, 0, 0.3},
		{"pastel", AttrSaturation, 0.2, 0.45},
		{"vivid", AttrSaturation, 0.65, 0.9},
		{"neon", AttrSaturation, 0.85, 1},
	}
	lightPhrases = []phrase{
		{"dark", AttrBrightness, 0, 0.3},
		{"moody", AttrBrightness, 0.15, 0.4},
		{"bright", AttrBrightness, 0.65, 0.9},
		{"airy", AttrBrightness, 0.8, 1},
	}
	stylePhrases = []phrase{
		{"soft", AttrContrast, 0, 0.3},
		{"bold", AttrContrast, 0.7, 1},
		{"grainy", AttrGrain, 0.6, 1},
		{"clean", AttrGrain, 0, 0.2},
		{"minimal", AttrClutter, 0, 0.2},
		{"busy", AttrClutter, 0.7, 1},
		{"symmetric", AttrSymmetry, 0.75, 1},
		{"tiny", AttrScale, 0, 0.3},
		{"huge", AttrScale, 0.75, 1},
	}
	backgroundPhrases = []string{
		"on a plain background", "on a gradient", "on stripes", "on dots", "at the horizon",
	}
	subjectPlural = []string{"orbs", "spirals", "stars", "flowers", "trees", "houses", "mountains", "faces"}
)

// PromptStyle is how likely a person is to name each kind of attribute when
// writing a prompt: their content interests.
type PromptStyle struct {
	Subjects   []float64 // weights over Subjects
	NameSubj   float64   // probability the prompt names the subject
	NameCount  float64
	NameHue    float64
	NameSat    float64
	NameLight  float64
	NameStyle  float64
	NameBackgr float64
}

// MakePrompt writes a prompt the way a person with this style would.
func (s *PromptStyle) MakePrompt(r *rand.Rand) Prompt {
	var words []string
	p := OpenPrompt("")
	subj := -1
	if r.Float64() < s.NameSubj {
		subj = pickWeighted(r, s.Subjects)
	}
	count := 0
	if subj >= 0 && r.Float64() < s.NameCount {
		count = 1 + r.IntN(MaxCount)
	}
	if count > 1 {
		words = append(words, countWords[count-1])
	} else if count == 1 || subj >= 0 {
		words = append(words, "a")
	}
	if r.Float64() < s.NameStyle {
		words = append(words, stylePhrases[r.IntN(len(stylePhrases))].words)
	}
	if r.Float64() < s.NameLight {
		words = append(words, lightPhrases[r.IntN(len(lightPhrases))].words)
	}
	if r.Float64() < s.NameSat {
		words = append(words, satPhrases[r.IntN(len(satPhrases))].words)
	}
	if r.Float64() < s.NameHue {
		words = append(words, hueWords[r.IntN(len(hueWords))])
	}
	switch {
	case subj >= 0 && count > 1:
		words = append(words, subjectPlural[subj])
	case subj >= 0:
		words = append(words, Subjects[subj])
	default:
		if len(words) == 0 || words[0] != "a" {
			words = append([]string{"a"}, words...)
		}
		words = append(words, "picture")
	}
	if r.Float64() < s.NameBackgr {
		words = append(words, backgroundPhrases[r.IntN(len(backgroundPhrases))])
	}
	p = ParsePrompt(strings.Join(words, " "))
	return p
}

// ParsePrompt returns the prompt whose code intervals the text's phrases
// name; words it does not know leave attributes open.
func ParsePrompt(text string) Prompt {
	p := OpenPrompt(text)
	t := " " + strings.ToLower(strings.Join(strings.Fields(text), " ")) + " "
	has := func(w string) bool { return strings.Contains(t, " "+w+" ") }
	set := func(attr int, lo, hi float64) { p.Lo[attr], p.Hi[attr] = lo, hi }
	for _, ph := range append(append(append([]phrase{}, satPhrases...), lightPhrases...), stylePhrases...) {
		if has(ph.words) {
			set(ph.attr, ph.lo, ph.hi)
		}
	}
	for k, w := range hueWords {
		if has(w) {
			c := float64(k) / float64(len(hueWords))
			set(AttrHue, c-0.04, c+0.04)
		}
	}
	for k := range Subjects {
		if has(Subjects[k]) || has(subjectPlural[k]) {
			lo, hi := CategoryRange(k, len(Subjects))
			set(AttrSubject, lo, hi)
			if has(subjectPlural[k]) {
				// A plural without a number means two or more.
				lo, _ := CategoryRange(1, MaxCount)
				set(AttrCount, lo, 1)
			} else {
				lo, hi := CategoryRange(0, MaxCount)
				set(AttrCount, lo, hi)
			}
		}
	}
	for n := 2; n <= MaxCount; n++ {
		if has(countWords[n-1]) {
			lo, hi := CategoryRange(n-1, MaxCount)
			set(AttrCount, lo, hi)
		}
	}
	for k, ph := range backgroundPhrases {
		if strings.Contains(t, " "+ph+" ") {
			lo, hi := CategoryRange(k, len(Backgrounds))
			set(AttrBackground, lo, hi)
		}
	}
	return p
}

func pickWeighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	u := r.Float64() * sum
	for i, x := range w {
		u -= x
		if u < 0 {
			return i
		}
	}
	return len(w) - 1
}
