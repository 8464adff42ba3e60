package world

import (
	"bytes"
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"palate"
	"palate/dataset"
)

// meanColour is a tiny embedder for tests: the mean of each channel.
type meanColour struct{}

func (meanColour) Name() string { return "mean-colour" }
func (meanColour) Dim() int     { return 3 }
func (meanColour) Embed(_ context.Context, img image.Image) ([]float32, error) {
	b := img.Bounds()
	var s [3]float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			s[0], s[1], s[2] = s[0]+float64(r), s[1]+float64(g), s[2]+float64(bl)
		}
	}
	n := float64(b.Dx()*b.Dy()) * 65535
	return []float32{float32(s[0] / n), float32(s[1] / n), float32(s[2] / n)}, nil
}

func tinyConfig() Config {
	c := DefaultConfig()
	c.Users, c.Groups, c.ImageSize = 24, 3, 32
	c.ComparisonsPerUser = Range{Min: 3, Max: 6}
	c.VotesPerUser = Range{Min: 0, Max: 3}
	return c
}

func buildTiny(t *testing.T, c Config, dir string, emb palate.Embedder) *Summary {
	t.Helper()
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.Build(context.Background(), dir, emb, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildWritesAValidDataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	s := buildTiny(t, tinyConfig(), dir, meanColour{})
	d, err := dataset.Read(dir)
	if err != nil {
		t.Fatalf("the built world does not read back: %v", err)
	}
	if len(d.Images) != s.Images || len(d.Comparisons) != s.Comparisons || len(d.Votes) != s.Votes {
		t.Fatalf("summary %+v does not match the files (%d images, %d comparisons, %d votes)",
			s, len(d.Images), len(d.Comparisons), len(d.Votes))
	}
	if s.SeenUsers+s.UnseenUsers+s.ValidationUsers != s.Users || d.Splits == nil {
		t.Fatalf("parts do not add up: %+v", s)
	}
	for _, name := range []string{"mean-colour", TruthEmbedder} {
		e, err := dataset.ReadEmbeddings(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.IDs) != s.Images {
			t.Fatalf("%s has %d rows; want %d", name, len(e.IDs), s.Images)
		}
	}
	for _, im := range d.Images[:5] {
		if _, err := os.Stat(filepath.Join(dir, im.Path)); err != nil {
			t.Fatalf("image file missing: %v", err)
		}
	}
	for _, f := range []string{WorldFile, TruthFile, ImageTruthFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuildDeterministic(t *testing.T) {
	c := tinyConfig()
	c.Images = "none"
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	buildTiny(t, c, a, meanColour{})
	buildTiny(t, c, b, meanColour{})
	for _, f := range []string{"images.jsonl", "comparisons.jsonl", "votes.jsonl", "splits.json",
		TruthFile, ImageTruthFile, "embeddings/mean-colour.f32", "embeddings/truth.f32"} {
		x, err1 := os.ReadFile(filepath.Join(a, f))
		y, err2 := os.ReadFile(filepath.Join(b, f))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two builds of the same seed", f)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	c := tinyConfig()
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	w, _ := New(c)
	if _, err := w.Build(context.Background(), full, meanColour{}, nil); palate.ErrorCode(err) != palate.ECONFLICT {
		t.Fatalf("building into a non-empty directory: %v; want a conflict", err)
	}
	c.Images = "none"
	w, _ = New(c)
	if _, err := w.Build(context.Background(), filepath.Join(t.TempDir(), "n"), nil, nil); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("images none without an embedder: %v; want invalid", err)
	}
	// A cancelled build leaves nothing at the destination.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dst := filepath.Join(t.TempDir(), "c")
	if _, err := w.Build(ctx, dst, meanColour{}, nil); err == nil {
		t.Fatal("cancelled build succeeded")
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("cancelled build left %s", dst)
	}
}

// TestBuildThroughLink checks that a symbolic link as the destination is
// followed and kept, whether it points to an empty directory or nowhere
// yet, and that a link to a non-empty directory is refused like it.
func TestBuildThroughLink(t *testing.T) {
	root := t.TempDir()
	empty, later, full := filepath.Join(root, "empty"), filepath.Join(root, "later"), filepath.Join(root, "full")
	for _, d := range []string{empty, full} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(full, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{empty, later} {
		link := to + "-link"
		if err := os.Symlink(to, link); err != nil {
			t.Fatal(err)
		}
		buildTiny(t, tinyConfig(), link, meanColour{})
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", link, err)
		}
		if _, err := os.Stat(filepath.Join(to, "world.json")); err != nil {
			t.Errorf("the world did not land at %s: %v", to, err)
		}
	}
	if err := os.Symlink(full, full+"-link"); err != nil {
		t.Fatal(err)
	}
	w, _ := New(tinyConfig())
	if _, err := w.Build(context.Background(), full+"-link", meanColour{}, nil); palate.ErrorCode(err) != palate.ECONFLICT {
		t.Errorf("building through a link to a non-empty directory: %v; want a conflict", err)
	}
}
