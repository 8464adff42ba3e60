package world

// Phrase is a phrase of the prompt vocabulary and the code interval it
// narrows its attribute to; ParsePrompt applies exactly these.
type Phrase struct {
	Words string  `json:"words"`
	Attr  int     `json:"attr"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// StylePhrases returns the phrases that set how a picture looks rather than
// what it shows: saturation, lightness, the style words (contrast, grain,
// clutter, symmetry, scale), hue names and backgrounds. Subjects and counts
// are left out: they change what was asked for. Generation guidance adds
// these to a prompt, or names them in a negative prompt.
func StylePhrases() []Phrase {
	var out []Phrase
	for _, ps := range [][]phrase{satPhrases, lightPhrases, stylePhrases} {
		for _, p := range ps {
			out = append(out, Phrase{Words: p.words, Attr: p.attr, Lo: p.lo, Hi: p.hi})
		}
	}
	for k, w := range hueWords {
		c := float64(k) / float64(len(hueWords))
		out = append(out, Phrase{Words: w, Attr: AttrHue, Lo: c - 0.04, Hi: c + 0.04})
	}
	for k, w := range backgroundPhrases {
		lo, hi := CategoryRange(k, len(Backgrounds))
		out = append(out, Phrase{Words: w, Attr: AttrBackground, Lo: lo, Hi: hi})
	}
	return out
}
