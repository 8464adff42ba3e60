package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"palate/features"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	code, out, _ := run(t, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range []string{"demo", "world", "embed", "train", "score", "similar", "serve", "model", "profile", "loadtest"} {
		if !strings.Contains(out, c) {
			t.Errorf("help does not list %q", c)
		}
		code, out, _ := run(t, "help", c)
		if code != 0 || !strings.Contains(out, "Usage: palate "+c) {
			t.Errorf("help %s: exit %d, %q", c, code, out)
		}
	}
	if code, _, _ := run(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command exited %d; want 2", code)
	}
	if code, _, _ := run(t); code != 2 {
		t.Errorf("no command exited %d; want 2", code)
	}
}

func TestWorldCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.json")
	os.WriteFile(cfg, []byte(`{"users": 12, "groups": 2, "comparisons_per_user": {"min": 3, "max": 5}, "image_size": 32}`), 0o644)
	out := filepath.Join(dir, "w")
	code, stdout, stderr := run(t, "world", "--config", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("world exited %d: %s", code, stderr)
	}
	for _, want := range []string{"12 people in 2 taste groups", "oracle", "group oracle", "global oracle", features.Name} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	// Re-embedding the PNGs gives a table the same size as the world's.
	code, stdout, stderr = run(t, "embed", "--data", out)
	if code != 0 || !strings.Contains(stdout, "embedded") {
		t.Fatalf("embed exited %d: %s %s", code, stdout, stderr)
	}

	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"no out":             {[]string{"world"}, 2, "--out is required"},
		"unknown flag":       {[]string{"world", "--bogus"}, 2, "bogus"},
		"bad key":            {[]string{"world", "--config", write(t, dir, `{"userz": 3}`), "--out", filepath.Join(dir, "x")}, 1, "userz"},
		"bad value":          {[]string{"world", "--config", write(t, dir, `{"noise": -1}`), "--out", filepath.Join(dir, "x")}, 1, "noise"},
		"missing file":       {[]string{"world", "--config", filepath.Join(dir, "nope.json"), "--out", filepath.Join(dir, "x")}, 1, "nope.json"},
		"non-empty":          {[]string{"world", "--config", cfg, "--out", out}, 1, "not empty"},
		"bad embedder":       {[]string{"embed", "--data", out, "--embedder", "clip"}, 1, "unknown embedder"},
		"world bad embedder": {[]string{"world", "--config", cfg, "--out", filepath.Join(dir, "x"), "--embedder", "pixels-v9"}, 1, `or "none" for only the true-attribute vectors`},
		"no data":            {[]string{"embed", "--data", filepath.Join(dir, "none")}, 1, "images.jsonl"},
		// Nothing a user has is overwritten or deleted by an output flag.
		"world on a file":    {[]string{"world", "--config", cfg, "--out", notes}, 1, "is a file"},
		"train on a dataset": {[]string{"train", "--data", out, "--out", out}, 1, "holds no checkpoint"},
		"train on a file":    {[]string{"train", "--data", out, "--out", notes}, 1, "is a file"},
		// Words after the flags, and negative counts, are refused, not
		// ignored or read as the defaults.
		"extra words":      {[]string{"world", "--config", cfg, "--out", filepath.Join(dir, "x"), "oops"}, 2, `unexpected arguments ["oops"]`},
		"words first":      {[]string{"world", "extra", "--out", filepath.Join(dir, "x")}, 2, "unexpected arguments"},
		"negative steps":   {[]string{"train", "--data", out, "--out", filepath.Join(dir, "x"), "--steps", "-5"}, 2, "--steps -5"},
		"negative n":       {[]string{"similar", "--data", out, "--model", filepath.Join(dir, "m"), "--user", "u", "--n", "-2"}, 2, "--n -2"},
		"no workers":       {[]string{"embed", "--data", out, "--workers", "0"}, 2, "--workers 0"},
		"negative limit":   {[]string{"serve", "--max-batch", "-1"}, 2, "--max-batch -1"},
		"no timeout":       {[]string{"serve", "--timeout", "0s"}, 2, "--timeout 0s"},
		"negative seeds":   {[]string{"bench", "--data", out, "--json", filepath.Join(dir, "b.json"), "--seeds", "-1"}, 2, "--seeds -1"},
		"profile n":        {[]string{"profile", "--user", "u", "--n", "0"}, 2, "--n 0"},
		"negative bytes":   {[]string{"serve", "--max-body", "-1"}, 2, "--max-body -1"},
		"negative people":  {[]string{"guide", "--people", "-1"}, 2, "--people -1"},
		"not a server URL": {[]string{"similar", "--server", "notaurl", "--user", "u"}, 2, `--server "notaurl": want a URL`},
		// A bench's outputs are checked before it runs, not after.
		"bench json dir": {[]string{"bench", "--data", out, "--json", filepath.Join(dir, "no", "b.json")}, 1, "--json " + filepath.Join(dir, "no", "b.json") + " cannot be written"},
		"bench md a dir": {[]string{"bench", "--data", out, "--markdown", dir}, 1, "is a directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %q", code, stderr, tc.code, tc.want)
			}
		})
	}
	if b, err := os.ReadFile(notes); err != nil || string(b) != "keep me" {
		t.Errorf("notes.txt after the refused commands: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, "images.jsonl")); err != nil {
		t.Errorf("the world after train --out was refused: %v", err)
	}
}

func write(t *testing.T, dir, body string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(body)
	f.Close()
	return f.Name()
}

// `palate train --mode base` writes a base-stage checkpoint; `--start`
// begins another run of the same model from it (λ may differ) and says so;
// a model that differs otherwise, or a start that is not a base-mode
// checkpoint, is refused with the error's code.
func TestTrainFromBase(t *testing.T) {
	dir, _ := e2eWorld(t)
	tmp := t.TempDir()
	model := `"model": {"d_model": 16, "layers": 1, "heads": 2, "max_history": 8, "pref_tokens": 2, "text_dim": 16%s}`
	write := func(name, extra string) string {
		p := filepath.Join(tmp, name)
		os.WriteFile(p, []byte(`{`+fmt.Sprintf(model, extra)+`, "train": {"eval_every": 5, "base_steps": 6}}`), 0o644)
		return p
	}
	base := filepath.Join(tmp, "base")
	code, out, errOut := run(t, "train", "--data", dir, "--out", base, "--config", write("a.json", ""), "--mode", "base")
	if code != 0 || !strings.Contains(out, "trained 6 steps (base 6;") {
		t.Fatalf("base run exited %d: %s %s", code, out, errOut)
	}
	code, out, errOut = run(t, "train", "--data", dir, "--out", filepath.Join(tmp, "noCP"), "--config", write("b.json", `, "lambda": 0`),
		"--steps", "4", "--start", base)
	if code != 0 || !strings.Contains(out, "trained 4 steps (joint 4;") || !strings.Contains(out, "a base stage of 6 steps") {
		t.Fatalf("started run exited %d: %s %s", code, out, errOut)
	}
	code, _, errOut = run(t, "train", "--data", dir, "--out", filepath.Join(tmp, "other"), "--config", write("c.json", `, "base_hidden": 32`),
		"--steps", "4", "--start", base)
	if code == 0 || !strings.Contains(errOut, "only lambda may differ") || !strings.Contains(errOut, "invalid") {
		t.Errorf("another model from the base: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, "train", "--data", dir, "--out", filepath.Join(tmp, "again"), "--config", write("d.json", ""),
		"--steps", "4", "--start", filepath.Join(tmp, "noCP"))
	if code != 2 || !strings.Contains(errOut, "noCP holds a joint checkpoint") {
		t.Errorf("a joint checkpoint as the start: exit %d, %s", code, errOut)
	}
	// Training over a checkpoint says what it replaces.
	code, _, errOut = run(t, "train", "--data", dir, "--out", base, "--config", write("a.json", ""), "--mode", "base")
	if code != 0 || !strings.Contains(errOut, "--out "+base+" holds a checkpoint (pixels-v3, 6 steps") {
		t.Errorf("training over a checkpoint: exit %d, %s", code, errOut)
	}
}
