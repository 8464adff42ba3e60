package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palate"
	"palate/model"
)

func testCheckpoint(t *testing.T, seed uint64) *Checkpoint {
	t.Helper()
	cfg := synthConfig()
	o := quietOptions()
	o.Seed = seed
	tr, err := NewTrainer(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tr.Weights()
	if err != nil {
		t.Fatal(err)
	}
	return &Checkpoint{
		Config:       cfg,
		Embedder:     EmbedderInfo{Name: "pixels-v2", Dim: cfg.ImageDim},
		TextEmbedder: EmbedderInfo{Name: model.HashBOWName, Dim: cfg.TextDim},
		Summary:      Summary{Mode: ModeJoint, Seed: seed, Steps: int(seed)},
		Weights:      w,
	}
}

func sameCheckpoint(t *testing.T, got, want *Checkpoint) {
	t.Helper()
	if got.Config != want.Config || got.Embedder != want.Embedder || got.TextEmbedder != want.TextEmbedder || got.Summary.Seed != want.Summary.Seed {
		t.Fatalf("checkpoint metadata differs: %+v vs %+v", got, want)
	}
	for p, w := range want.Weights {
		g := got.Weights[p]
		if len(g) != len(w) {
			t.Fatalf("%s: %d values, want %d", p, len(g), len(w))
		}
		for i := range w {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				t.Fatalf("%s[%d] = %v, want %v", p, i, g[i], w[i])
			}
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	ck := testCheckpoint(t, 1)
	if err := Save(dir, ck); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, ck)
	// Saving again over it replaces it and leaves no temporary directories.
	ck2 := testCheckpoint(t, 2)
	if err := Save(dir, ck2); err != nil {
		t.Fatal(err)
	}
	got, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, ck2)
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("leftovers next to the checkpoint: %v", entries)
	}
	for _, f := range []string{ConfigFile, WeightsFile, SummaryFile, ManifestFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// A save that dies at any point leaves a directory that loads as the old
// checkpoint or the new one, never as anything else, also through a
// symbolic link to it.
func TestCheckpointAtomicSave(t *testing.T) {
	old, next := testCheckpoint(t, 1), testCheckpoint(t, 2)
	for _, stage := range []string{
		"write " + ConfigFile, "write " + WeightsFile, "write " + SummaryFile, "write " + ManifestFile,
		"move old aside", "move new in", "remove old",
		"link/move old aside", "link/move new in",
	} {
		t.Run(stage, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if s, ok := strings.CutPrefix(stage, "link/"); ok {
				stage = s
				if err := os.Symlink(filepath.Join(filepath.Dir(dir), "target"), dir); err != nil {
					t.Fatal(err)
				}
			}
			if err := Save(dir, old); err != nil {
				t.Fatal(err)
			}
			crash := errors.New("simulated crash")
			err := save(dir, next, func(s string) error {
				if s == stage {
					return crash
				}
				return nil
			})
			if !errors.Is(err, crash) {
				t.Fatalf("save: %v", err)
			}
			got, err := Load(dir)
			if err != nil {
				t.Fatalf("after a crash at %q: %v", stage, err)
			}
			want := old
			if stage == "remove old" {
				want = next // the new checkpoint was already in place
			}
			sameCheckpoint(t, got, want)
		})
	}
}

// A checkpoint whose files were damaged or half written is refused.
func TestCheckpointDamageRefused(t *testing.T) {
	for name, damage := range map[string]func(dir string) error{
		"truncated weights": func(dir string) error {
			p := filepath.Join(dir, WeightsFile)
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, b[:len(b)/2], 0o644)
		},
		"flipped byte": func(dir string) error {
			p := filepath.Join(dir, WeightsFile)
			b, _ := os.ReadFile(p)
			b[100] ^= 1
			return os.WriteFile(p, b, 0o644)
		},
		"edited config": func(dir string) error {
			p := filepath.Join(dir, ConfigFile)
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, []byte(strings.Replace(string(b), `"layers": 2`, `"layers": 3`, 1)), 0o644)
		},
		"no manifest": func(dir string) error { return os.Remove(filepath.Join(dir, ManifestFile)) },
		// The manifest has no checksum: a shape that cannot be must be an
		// error, not a panic (a negative length) or a huge allocation.
		"negative shape": func(dir string) error { return editFirstShape(dir, "[-1]") },
		"zero shape":     func(dir string) error { return editFirstShape(dir, "[0, 4]") },
		"huge shape":     func(dir string) error { return editFirstShape(dir, "[4294967296, 4294967296]") },
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if err := Save(dir, testCheckpoint(t, 1)); err != nil {
				t.Fatal(err)
			}
			if err := damage(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(dir); palate.ErrorCode(err) != palate.EINVALID {
				t.Fatalf("Load = %v, want EINVALID", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nothing")); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("missing dir: %v, want ENOTFOUND", err)
	}
}

// TestCheckpointFromAnotherVersion: a checkpoint whose files are intact
// but that this build cannot rebuild exactly (a model option it does not
// know, weights it has no variable for, as a newer palate might write) is
// refused with EINVALID naming what, not loaded without that part.
func TestCheckpointFromAnotherVersion(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(t *testing.T, dir string)
		want string
	}{
		"unknown model option": {func(t *testing.T, dir string) {
			rewrite(t, dir, ConfigFile, func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"layers": 2`, `"layers": 2, "new_option": 1`, 1))
			})
		}, `unknown field "model.new_option"`},
		"removed model option, on": {func(t *testing.T, dir string) {
			rewrite(t, dir, ConfigFile, func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"layers": 2`, `"layers": 2, "taste_steps": 3`, 1))
			})
		}, `taste_steps = 3`},
		"repeated key": {func(t *testing.T, dir string) {
			rewrite(t, dir, ConfigFile, func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"layers": 2`, `"layers": 2, "layers": 3`, 1))
			})
		}, `"layers" is given twice`},
		"key in another case": {func(t *testing.T, dir string) {
			rewrite(t, dir, ConfigFile, func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"layers": 2`, `"Layers": 2`, 1))
			})
		}, `want "layers"`},
		"unused weights": {func(t *testing.T, dir string) {
			var off int
			rewrite(t, dir, WeightsFile, func(b []byte) []byte { off = len(b); return append(b, make([]byte, 16)...) })
			if err := editManifest(dir, func(m map[string]any) {
				m["weights"] = append(m["weights"].([]any), map[string]any{"path": model.Root + "/raw/step", "dims": []int{4}, "offset": off})
			}); err != nil {
				t.Fatal(err)
			}
		}, model.Root + "/raw/step"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if err := Save(dir, testCheckpoint(t, 1)); err != nil {
				t.Fatal(err)
			}
			c.edit(t, dir)
			_, err := Load(dir)
			if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load = %v, want EINVALID naming %q", err, c.want)
			}
			t.Log(err)
		})
	}
}

// TestCheckpointRemovedOptionsOff: a checkpoint written while palate had
// an option it has since removed names that option; with the option off
// the model is today's, and it loads to the same weights.
func TestCheckpointRemovedOptionsOff(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	ck := testCheckpoint(t, 1)
	if err := Save(dir, ck); err != nil {
		t.Fatal(err)
	}
	rewrite(t, dir, ConfigFile, func(b []byte) []byte {
		return []byte(strings.Replace(string(b), `"layers": 2`, `"layers": 2, "taste_steps": 0, "raw_step": false`, 1))
	})
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, ck)
}

// rewrite edits file name of checkpoint dir and records its new checksum
// in the manifest, so the checkpoint stays intact.
func rewrite(t *testing.T, dir, name string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	b = edit(b)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if err := editManifest(dir, func(m map[string]any) { m["files"].(map[string]any)[name] = hex.EncodeToString(sum[:]) }); err != nil {
		t.Fatal(err)
	}
}

// editManifest edits the manifest of checkpoint dir as generic JSON.
func editManifest(dir string, edit func(map[string]any)) error {
	p := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(p, out, 0o644)
}

// editFirstShape replaces the shape of the manifest's first weights entry.
func editFirstShape(dir, dims string) error {
	var d any
	if err := json.Unmarshal([]byte(dims), &d); err != nil {
		return err
	}
	return editManifest(dir, func(m map[string]any) { m["weights"].([]any)[0].(map[string]any)["dims"] = d })
}

// Save replaces an earlier checkpoint, but never a file or a directory
// holding anything else, which it would delete.
func TestCheckpointOutDir(t *testing.T) {
	root := t.TempDir()
	ck := testCheckpoint(t, 1)
	file := filepath.Join(root, "notes.txt")
	other := filepath.Join(root, "data")
	for _, p := range []string{file, filepath.Join(other, "images.jsonl")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{file, other, file + "/"} {
		if err := CheckOutDir(dir); palate.ErrorCode(err) != palate.ECONFLICT {
			t.Errorf("CheckOutDir(%s) = %v, want ECONFLICT", dir, err)
		}
		if err := Save(dir, ck); palate.ErrorCode(err) != palate.ECONFLICT {
			t.Errorf("Save(%s) = %v, want ECONFLICT", dir, err)
		}
	}
	for _, p := range []string{file, filepath.Join(other, "images.jsonl")} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "keep me" {
			t.Errorf("%s after the refused saves: %q, %v", p, b, err)
		}
	}
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{empty, filepath.Join(root, "new")} {
		if err := Save(dir, ck); err != nil {
			t.Errorf("Save(%s): %v", dir, err)
		}
		if err := Save(dir, testCheckpoint(t, 2)); err != nil { // over a checkpoint
			t.Errorf("Save(%s) again: %v", dir, err)
		}
	}
	// Links at the out path are followed and kept: to an empty directory,
	// dangling (the save creates its target), and to data, which is
	// refused like the data itself.
	target, dangling := filepath.Join(root, "target"), filepath.Join(root, "later", "ck")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"to-empty": target, "dangling": dangling, "to-data": other} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, link := range []string{"to-empty", "dangling"} {
		link := filepath.Join(root, link)
		if err := Save(link, ck); err != nil {
			t.Errorf("Save(%s): %v", link, err)
			continue
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link after the save: %v", link, err)
		}
		if _, err := Load(link); err != nil {
			t.Errorf("Load(%s): %v", link, err)
		}
	}
	for _, dir := range []string{target, dangling} {
		if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
			t.Errorf("the save did not land at the link's target %s: %v", dir, err)
		}
	}
	if err := Save(filepath.Join(root, "to-data"), ck); palate.ErrorCode(err) != palate.ECONFLICT {
		t.Errorf("Save through a link to data = %v, want ECONFLICT", err)
	}
}

func TestCheckpointEmbedderMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	ck := testCheckpoint(t, 1)
	if err := Save(dir, ck); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFor(dir, "pixels-v2", ck.Config.ImageDim); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		dim  int
	}{{"clip-vit-b32", ck.Config.ImageDim}, {"pixels-v2", 512}} {
		_, err := LoadFor(dir, c.name, c.dim)
		if palate.ErrorCode(err) != palate.EINVALID {
			t.Fatalf("LoadFor(%s, %d) = %v, want EINVALID", c.name, c.dim, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "pixels-v2") || !strings.Contains(msg, c.name) {
			t.Fatalf("message should name both embedders: %s", msg)
		}
	}
}

// A text embedder read from a file keeps its path and version through a
// save, and CheckTextEmbedder refuses any other.
func TestCheckpointTextEmbedder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	ck := testCheckpoint(t, 1)
	ck.TextEmbedder = EmbedderInfo{Name: "clip-text", Dim: ck.Config.TextDim, Path: "/models/text.onnx", Version: "onnx sha256:ab"}
	if err := Save(dir, ck); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, ck)
	if err := got.CheckTextEmbedder("clip-text", ck.Config.TextDim, "onnx sha256:ab"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []EmbedderInfo{
		{Name: model.HashBOWName, Dim: ck.Config.TextDim},
		{Name: "clip-text", Dim: ck.Config.TextDim + 1, Version: "onnx sha256:ab"},
		{Name: "clip-text", Dim: ck.Config.TextDim, Version: "onnx sha256:cd"},
	} {
		err := got.CheckTextEmbedder(bad.Name, bad.Dim, bad.Version)
		if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), `"clip-text"`) || !strings.Contains(err.Error(), `"`+bad.Name+`"`) {
			t.Fatalf("%+v: error %v; want EINVALID naming both", bad, err)
		}
	}
}
