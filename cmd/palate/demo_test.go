package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palate/internal/testmodel"
	"palate/train"
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

// What the demo can check in a moment it checks before building anything:
// a taken address, an unreadable bench report, too few people.
func TestDemoChecksFirst(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "d")
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"address in use":        {[]string{"--addr", taken.Addr().String()}, 1, "--addr " + taken.Addr().String()},
		"no bench file":         {[]string{"--addr", "127.0.0.1:0", "--bench", filepath.Join(dir, "nope.json")}, 1, "--bench: bench report"},
		"one person":            {[]string{"--users", "1"}, 2, "--users 1"},
		"fewer than the groups": {[]string{"--users", "5"}, 2, "--users 5: want a whole number >= 6"},
		"one comparison":        {[]string{"--comparisons", "1"}, 2, "--comparisons 1"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"demo", "--dir", dir}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %q", code, stderr, tc.code, tc.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the refused demo left %s (%v)", dir, err)
			}
		})
	}
}

// TestReusableModel: the demo reuses a model that loads, trains quietly
// where there is none, and says why it trains where one does not load.
func TestReusableModel(t *testing.T) {
	var out strings.Builder
	dir := testmodel.Dir(t, 1)
	if !reusableModel(dir, &out) || !strings.Contains(out.String(), "reusing the model in "+dir) {
		t.Errorf("a good model: %q", out.String())
	}
	out.Reset()
	if reusableModel(filepath.Join(t.TempDir(), "model"), &out) || out.Len() != 0 {
		t.Errorf("no model: %q", out.String())
	}
	if err := os.WriteFile(filepath.Join(dir, train.WeightsFile), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if reusableModel(dir, &out) || !strings.Contains(out.String(), "training a new model in place of "+dir+", which does not load: ") ||
		!strings.Contains(out.String(), "weights.bin does not match its checksum") {
		t.Errorf("a damaged model: %q", out.String())
	}
}
