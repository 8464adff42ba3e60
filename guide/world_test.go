package guide

import (
	"bytes"
	"context"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"palate"
	"palate/world"
)

func pix(t *testing.T, img image.Image) []byte {
	t.Helper()
	rgba, ok := img.(*image.RGBA)
	if !ok {
		t.Fatalf("world picture is %T; want *image.RGBA", img)
	}
	return rgba.Pix
}

func TestWorldGeneratorDeterministic(t *testing.T) {
	g := NewWorld(32)
	ctx := context.Background()
	prompt := "three stars on stripes"
	l1 := g.Sample(rand.New(rand.NewPCG(7, 7)), prompt)
	l2 := g.Sample(rand.New(rand.NewPCG(7, 7)), prompt)
	if l1.Seed != l2.Seed || len(l1.Codes) != world.NumAttrs {
		t.Fatalf("Sample with one seed gave %v and %v", l1, l2)
	}
	a, err := g.Generate(ctx, prompt, l1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := g.Generate(ctx, prompt, l2)
	if !bytes.Equal(pix(t, a), pix(t, b)) {
		t.Error("the same prompt and latent drew two different pictures")
	}
	if a.Bounds().Dx() != 32 {
		t.Errorf("picture is %d px wide; want 32", a.Bounds().Dx())
	}
	l3 := l1.Clone()
	l3.Codes[world.AttrHue] = math.Mod(l3.Codes[world.AttrHue]+0.5, 1)
	c, _ := g.Generate(ctx, prompt, l3)
	if bytes.Equal(pix(t, a), pix(t, c)) {
		t.Error("moving the hue code half way round changed nothing")
	}
	// The world's own images come back exactly from their prompt and latent.
	w, err := world.New(world.Config{Seed: 3, Users: 4, Groups: 2, ComparisonsPerUser: world.Range{Min: 2, Max: 3},
		ImageSize: 32, Noise: 0.5, TestFraction: 0.3, Images: "none"})
	if err != nil {
		t.Fatal(err)
	}
	h := w.Simulate(0)
	for _, s := range h.Images[:4] {
		l := Latent{Codes: s.Latent.U[:], Seed: s.Latent.Seed}
		got, err := g.Attrs(s.Prompt, "", l)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.Attrs {
			t.Errorf("%s %q: attributes %+v; the world made %+v", s.ID, s.Prompt, got, s.Attrs)
		}
		img, _ := g.Generate(ctx, s.Prompt, l)
		if !bytes.Equal(pix(t, img), world.Draw(s.Attrs, s.Latent.Seed, 32).Pix) {
			t.Errorf("%s: regenerated picture differs from the world's", s.ID)
		}
	}
}

func TestWorldKeepsWhatThePromptFixes(t *testing.T) {
	g := NewWorld(16)
	r := rand.New(rand.NewPCG(1, 2))
	prompt := "three neon blue stars on stripes"
	star, stripes := 2, 2
	l := g.Sample(r, prompt)
	var hues []float64
	for i := range 300 {
		if i%3 == 0 {
			l = g.Sample(r, prompt)
		} else {
			l = g.Perturb(r, l, 0.5)
		}
		for j, c := range l.Codes {
			if c < 0 || c > 1 {
				t.Fatalf("code %d is %g after Perturb; want 0..1", j, c)
			}
		}
		a, err := g.Attrs(prompt, "", l)
		if err != nil {
			t.Fatal(err)
		}
		if a.Subject != star || a.Count != 3 || a.Background != stripes || a.Saturation < 0.85 {
			t.Fatalf("latent %v gave %+v: not three neon stars on stripes", l, a)
		}
		if d := math.Abs(a.Hue - 5.0/8); d > 0.04+1e-9 {
			t.Fatalf("hue %.3f is not blue", a.Hue)
		}
		hues = append(hues, a.Hue)
		if a.Brightness != l.Codes[world.AttrBrightness] {
			t.Fatalf("open brightness %g is not its code %g", a.Brightness, l.Codes[world.AttrBrightness])
		}
	}
	if stddev(hues) == 0 {
		t.Error("the hue never moved within blue")
	}
	// Small steps stay close; the seed is kept at scale 0.
	l0 := g.Sample(r, prompt)
	l1 := g.Perturb(r, l0, 0.01)
	for j := range l0.Codes {
		if math.Abs(l1.Codes[j]-l0.Codes[j]) > 0.06 {
			t.Errorf("code %d moved %g at scale 0.01", j, l1.Codes[j]-l0.Codes[j])
		}
	}
	if g.Perturb(r, l0, 0).Seed != l0.Seed {
		t.Error("Perturb at scale 0 redrew the seed")
	}
	if l0.Codes[0] == l1.Codes[0] && l0.Codes[1] == l1.Codes[1] {
		t.Error("Perturb moved nothing")
	}
}

func TestWorldNegativePrompt(t *testing.T) {
	g := NewWorld(16)
	r := rand.New(rand.NewPCG(3, 4))
	tests := map[string]struct {
		prompt, negative string
		ok               func(a world.Attrs) bool
	}{
		"busy":         {"a star", "busy", func(a world.Attrs) bool { return a.Clutter < 0.7 }},
		"two phrases":  {"a star", "muted, dark", func(a world.Attrs) bool { return a.Saturation >= 0.3 && a.Brightness >= 0.3 }},
		"middle piece": {"a star", "pastel", func(a world.Attrs) bool { return a.Saturation < 0.2 || a.Saturation >= 0.45 }},
		"background":   {"a tree", "on stripes", func(a world.Attrs) bool { return a.Background != 2 }},
		"red wraps":    {"a tree", "red", func(a world.Attrs) bool { return a.Hue >= 0.04 && a.Hue <= 0.96 }},
		// The prompt wins where the negative would leave nothing.
		"contradiction": {"a busy star", "busy", func(a world.Attrs) bool { return a.Clutter >= 0.7 }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			seen := map[float64]bool{}
			for range 400 {
				l := g.Sample(r, tc.prompt)
				a, err := g.Attrs(tc.prompt, tc.negative, l)
				if err != nil {
					t.Fatal(err)
				}
				if !tc.ok(a) {
					t.Fatalf("prompt %q, negative %q gave %+v", tc.prompt, tc.negative, a)
				}
				seen[math.Round(a.Saturation*10)] = true
			}
			if len(seen) < 2 {
				t.Error("the negative prompt left no variety")
			}
		})
	}
	img1, _ := g.GenerateNegative(context.Background(), "a star", "", g.Sample(rand.New(rand.NewPCG(1, 1)), ""))
	img2, _ := g.Generate(context.Background(), "a star", g.Sample(rand.New(rand.NewPCG(1, 1)), ""))
	if !bytes.Equal(pix(t, img1), pix(t, img2)) {
		t.Error("an empty negative prompt changed the picture")
	}
}

func TestWorldBadLatentAndStyles(t *testing.T) {
	g := NewWorld(16)
	for name, l := range map[string]Latent{
		"short": {Codes: []float64{0.5}},
		"nan":   {Codes: append(make([]float64, world.NumAttrs-1), math.NaN())},
		"big":   {Codes: append(make([]float64, world.NumAttrs-1), 1.5)},
	} {
		_, err := g.Generate(context.Background(), "a star", l)
		if palate.ErrorCode(err) != palate.EINVALID {
			t.Errorf("%s latent: error %v; want EINVALID", name, err)
		}
	}
	open := g.Styles("a picture")
	if len(open) != len(world.StylePhrases()) {
		t.Errorf("an open prompt allows %d style phrases; want all %d", len(open), len(world.StylePhrases()))
	}
	for _, s := range g.Styles("a vivid star on dots") {
		if s.Group == "saturation" || s.Group == "background" {
			t.Errorf("a prompt fixing saturation and background still offers %q (%s)", s.Words, s.Group)
		}
	}
}
