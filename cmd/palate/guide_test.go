package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGuideCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, `{"users": 12, "groups": 2, "comparisons_per_user": {"min": 4, "max": 6}, "image_size": 32}`)
	w := filepath.Join(dir, "w")
	if code, _, stderr := run(t, "world", "--config", cfg, "--out", w); code != 0 {
		t.Fatalf("world exited %d: %s", code, stderr)
	}
	for _, tc := range []struct{ by, method string }{{"centroid", "prompt"}, {"non-personal", "latent-search"}, {"centroid", "best-of-n"}} {
		out := filepath.Join(dir, tc.by+"-"+tc.method)
		code, stdout, stderr := run(t, "guide", "--data", w, "--user", "u01", "--prompt", "a star", "--by", tc.by,
			"--method", tc.method, "--n", "20", "--out", out)
		if code != 0 {
			t.Fatalf("guide --by %s --method %s exited %d: %s", tc.by, tc.method, code, stderr)
		}
		if !strings.Contains(stdout, "picks the guided picture with probability") {
			t.Errorf("output lacks the true-utility line:\n%s", stdout)
		}
		var s guideSummary
		b, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Guided.Calls > 20 || s.Guided.Calls < 1 || s.Unguided.Calls != 1 || s.GuidedBy != tc.by || s.Method != tc.method {
			t.Errorf("summary %+v", s)
		}
		if s.WinProbability == nil || !(*s.WinProbability > 0 && *s.WinProbability < 1) || s.Guided.TrueUtility == nil {
			t.Errorf("summary lacks the truth: %s", b)
		}
		if tc.method == "prompt" && (len(s.Effects) == 0 || !strings.HasPrefix(s.Positive, "a star")) {
			t.Errorf("prompt guidance summary lacks effects or its positive prompt: %s", b)
		}
		for _, f := range []string{"guided.png", "unguided.png"} {
			fh, err := os.Open(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(fh)
			fh.Close()
			if err != nil || img.Bounds().Dx() != 32 {
				t.Errorf("%s: %v, %v", f, err, img)
			}
		}
	}

	// A real generator's server, faked.
	var pic bytes.Buffer
	png.Encode(&pic, image.NewGray(image.Rect(0, 0, 48, 48)))
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		calls++
		json.NewEncoder(rw).Encode(map[string]any{"images": []string{base64.StdEncoding.EncodeToString(pic.Bytes())}})
	}))
	defer srv.Close()
	out := filepath.Join(dir, "a1111")
	code, _, stderr := run(t, "guide", "--data", w, "--user", "u01", "--prompt", "a fox", "--by", "centroid", "--n", "5", "--a1111", srv.URL, "--out", out)
	if code != 0 || calls != 6 {
		t.Fatalf("guide --a1111 exited %d after %d server calls (want 5 + 1 unguided): %s", code, calls, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if !strings.Contains(string(b), `"generator": "a1111"`) || strings.Contains(string(b), "true_utility") {
		t.Errorf("a1111 summary: %s", b)
	}

	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"no prompt":       {[]string{"guide", "--data", w, "--user", "u01", "--out", out}, 2, "--prompt"},
		"bad method":      {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--method", "magic", "--out", out}, 2, "magic"},
		"bad judge":       {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--by", "clip", "--out", out}, 2, "clip"},
		"palate no model": {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--out", out}, 2, "--model"},
		"unknown user":    {[]string{"guide", "--data", w, "--user", "u99", "--prompt", "x", "--by", "centroid", "--out", out}, 1, "u99"},
		"zero budget":     {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--n", "0", "--out", out}, 2, "--n"},
		"measure alone":   {[]string{"guide", "--measure", "--data", w}, 2, "--model"},
		"a1111 refused":   {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--by", "centroid", "--a1111", "ftp://x", "--out", out}, 1, "ftp://x"},
		// An earlier run's output is replaced (saying so), anything else kept.
		"out is data": {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--by", "centroid", "--out", w}, 1, "is not a guide run's output"},
		"out is file": {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--by", "centroid", "--out", cfg}, 1, "is a file"},
		"out again":   {[]string{"guide", "--data", w, "--user", "u01", "--prompt", "x", "--by", "centroid", "--n", "2", "--out", out}, 0, "replaced the earlier run's guided.png, summary.json, unguided.png in"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %q", code, stderr, tc.code, tc.want)
			}
		})
	}
	// A dataset that is not a taste world needs a real generator.
	if err := os.Remove(filepath.Join(w, "world.json")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "guide", "--data", w, "--user", "u01", "--prompt", "x", "--by", "centroid", "--out", out)
	if code != 2 || !strings.Contains(stderr, "--a1111") {
		t.Errorf("no world and no --a1111: exit %d, %q", code, stderr)
	}
}
