package world

import "testing"

// Every style phrase narrows exactly its attribute to exactly its interval
// when a prompt holds it: StylePhrases and ParsePrompt agree.
func TestStylePhrasesMatchParsePrompt(t *testing.T) {
	open := OpenPrompt("")
	phrases := StylePhrases()
	if len(phrases) != len(satPhrases)+len(lightPhrases)+len(stylePhrases)+len(hueWords)+len(backgroundPhrases) {
		t.Fatalf("%d style phrases; the vocabulary has more", len(phrases))
	}
	for _, ph := range phrases {
		p := ParsePrompt("a picture " + ph.Words)
		for i := range NumAttrs {
			lo, hi := open.Lo[i], open.Hi[i]
			if i == ph.Attr {
				lo, hi = ph.Lo, ph.Hi
			}
			if p.Lo[i] != lo || p.Hi[i] != hi {
				t.Errorf("%q: %s is [%g, %g]; want [%g, %g]", ph.Words, AttrNames[i], p.Lo[i], p.Hi[i], lo, hi)
			}
		}
	}
}
