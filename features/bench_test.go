package features

import (
	"bytes"
	"context"
	"image"
	"math/rand/v2"
	"testing"
)

func benchEmbed(b *testing.B, img image.Image) { benchEmbedWith(b, NewPixels(), img) }

func benchEmbedWith(b *testing.B, p *Pixels, img image.Image) {
	dst := make([]float32, p.Dim())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := p.EmbedTo(dst, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkEmbed64(b *testing.B) { benchEmbed(b, baseScene().render(64)) }

// BenchmarkEmbed64V2 and V1 measure the older recipes, for comparison.
func BenchmarkEmbed64V2(b *testing.B) { benchEmbedWith(b, NewPixelsV2(), baseScene().render(64)) }
func BenchmarkEmbed64V1(b *testing.B) { benchEmbedWith(b, NewPixelsV1(), baseScene().render(64)) }

func BenchmarkEmbed128(b *testing.B) { benchEmbed(b, baseScene().render(128)) }
func BenchmarkEmbed512(b *testing.B) { benchEmbed(b, baseScene().render(512)) }

// BenchmarkEmbed64Interface measures Embed, which allocates the vector.
func BenchmarkEmbed64Interface(b *testing.B) {
	img := baseScene().render(64)
	p := NewPixels()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Embed(ctx, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func benchDecodeEmbed(b *testing.B, size int) {
	data := pngBytes(b, baseScene().render(size))
	p := NewPixels()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		img, _, err := Decode(bytes.NewReader(data), DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Embed(ctx, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkDecodeEmbedPNG64(b *testing.B)  { benchDecodeEmbed(b, 64) }
func BenchmarkDecodeEmbedPNG128(b *testing.B) { benchDecodeEmbed(b, 128) }
func BenchmarkDecodeEmbedPNG512(b *testing.B) { benchDecodeEmbed(b, 512) }

// BenchmarkEmbedAll64 measures EmbedAll on all cores; b.N images.
func BenchmarkEmbedAll64(b *testing.B) {
	imgs := make([]image.Image, 64)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range imgs {
		imgs[i] = randomScene(r).render(64)
	}
	p := NewPixels()
	dst := make([]float32, b.N*Dim)
	b.ResetTimer()
	err := EmbedAll(context.Background(), p, b.N, 0, dst, func(i int) (image.Image, error) {
		return imgs[i%len(imgs)], nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}
