package features

import "testing"

// BenchmarkStages times each stage of EmbedTo on a 64×64 picture.
func BenchmarkStages(b *testing.B) {
	img := baseScene().render(64)
	s := new(scratch)
	v := make([]float32, Dim)
	s.load(img)
	s.colour(v)
	s.texture(v)
	s.foreground()
	s.shape(v)
	stages := map[string]func(){
		"load":       func() { s.load(img) },
		"colour":     func() { s.colour(v) },
		"texture":    func() { s.texture(v) },
		"foreground": func() { s.foreground() },
		"shape":      func() { s.shape(v) },
		"layout":     func() { s.layout(v) },
		"finish":     func() { finish(v, blocks[:]) },
	}
	for name, f := range stages {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
		})
	}
}
