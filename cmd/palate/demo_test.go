package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palate/world"
)

// A demo directory whose world was built before pixels-v3 (it has only
// pixels-v1 and pixels-v2 vectors) is refused with a message that says
// what to remove, rather than served with vectors the model and server do
// not read.
func TestDemoRefusesOldWorld(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "world")
	if err := os.MkdirAll(filepath.Join(dir, "embeddings"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := world.DefaultConfig()
	b, err := json.Marshal(map[string]any{"config": cfg, "summary": world.Summary{Users: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		world.WorldFile:                b,
		"embeddings/pixels-v1.json":    []byte(`{}`),
		"embeddings/pixels-v1.f32":     nil,
		"embeddings/pixels-v2.json":    []byte(`{}`),
		"embeddings/pixels-v2.f32":     nil,
		"embeddings/unrelated-note.md": []byte("x"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := &Env{Stdout: io.Discard, Stderr: io.Discard}
	_, err = loadOrBuildWorld(context.Background(), cfg, dir, env)
	if err == nil || !strings.Contains(err.Error(), "no pixels-v3 vectors") || !strings.Contains(err.Error(), "[pixels-v1 pixels-v2]") ||
		!strings.Contains(err.Error(), "remove the demo directory "+filepath.Dir(dir)) {
		t.Fatalf("old world: %v", err)
	}
	// With a pixels-v3 table it is reused.
	for _, f := range []string{"pixels-v3.json", "pixels-v3.f32"} {
		if err := os.WriteFile(filepath.Join(dir, "embeddings", f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := loadOrBuildWorld(context.Background(), cfg, dir, env); err != nil || s.Users != 1 {
		t.Fatalf("current world: %+v, %v", s, err)
	}
}
