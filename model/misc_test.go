package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"palate"
)

func TestHashBOW(t *testing.T) {
	e := NewHashBOW(64)
	if e.Name() != "hashbow-v1" || e.Dim() != 64 {
		t.Fatalf("name %q dim %d", e.Name(), e.Dim())
	}
	a := e.EmbedText("A red Fox, in the snow!")
	b := e.EmbedText("a red fox in the snow")
	c := e.EmbedText("a red fox on a beach")
	d := e.EmbedText("portrait of an old sailor")
	dot := func(x, y []float32) float64 {
		var s float64
		for i := range x {
			s += float64(x[i]) * float64(y[i])
		}
		return s
	}
	if math.Abs(dot(a, a)-1) > 1e-5 {
		t.Fatalf("not L2-normalised: |a|^2 = %v", dot(a, a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("case and punctuation changed the embedding")
		}
	}
	if !(dot(a, c) > dot(a, d)) {
		t.Fatalf("shared words should be closer: sim(fox,fox beach)=%v sim(fox,sailor)=%v", dot(a, c), dot(a, d))
	}
	if z := e.EmbedText("  ,, "); dot(z, z) != 0 {
		t.Fatal("empty prompt should embed to zeros")
	}
	// Golden value: the embedding must never change across versions, or old
	// checkpoints would read prompts differently.
	g := e.EmbedText("sunset")
	nz := 0
	for _, x := range g {
		if x != 0 {
			nz++
			if math.Abs(math.Abs(float64(x))-1) > 1e-6 {
				t.Fatalf("one-word prompt should be a signed unit vector, got %v", g)
			}
		}
	}
	if nz != 1 {
		t.Fatalf("one-word prompt has %d non-zeros", nz)
	}
}

func TestAgeBucket(t *testing.T) {
	for _, c := range []struct {
		age     time.Duration
		buckets int
		want    int32
	}{
		{-time.Hour, 8, 0},
		{0, 8, 0},
		{30 * time.Minute, 8, 0},
		{2 * time.Hour, 8, 1},
		{12 * time.Hour, 8, 2},
		{2 * 24 * time.Hour, 8, 3},
		{5 * 24 * time.Hour, 8, 4},
		{20 * 24 * time.Hour, 8, 5},
		{60 * 24 * time.Hour, 8, 6},
		{400 * 24 * time.Hour, 8, 7},
		{400 * 24 * time.Hour, 3, 2},
		{2 * time.Hour, 3, 1},
		{2 * time.Hour, 1, 0},
	} {
		if got := AgeBucket(c.age, c.buckets); got != c.want {
			t.Errorf("AgeBucket(%v, %d) = %d, want %d", c.age, c.buckets, got, c.want)
		}
	}
}

func TestConfigValidateAndLoad(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("default config without image_dim: got %v, want EINVALID", err)
	}
	cfg.ImageDim = 32
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"heads":     func(c *Config) { c.Heads = 3 },
		"mode":      func(c *Config) { c.TokenMode = "both" },
		"pool size": func(c *Config) { c.TokenMode = TokenModePool; c.PoolSize = 2 },
		"lambda":    func(c *Config) { c.Lambda = -1 },
		"dropout":   func(c *Config) { c.Dropout = 1 },
	} {
		c := cfg
		mutate(&c)
		if err := c.Validate(); palate.ErrorCode(err) != palate.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "cfg.json")
	if err := os.WriteFile(path, []byte(`{"image_dim": 48, "layers": 3, "token_mode": "pool"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.ImageDim, want.Layers, want.TokenMode = 48, 3, TokenModePool
	if got != want {
		t.Fatalf("LoadConfig = %+v, want %+v", got, want)
	}
	if err := os.WriteFile(path, []byte(`{"d_modle": 64}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("unknown field: got %v, want EINVALID", err)
	}
	// JSON round trip.
	raw, _ := json.Marshal(want)
	var back Config
	if err := json.Unmarshal(raw, &back); err != nil || back != want {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
