package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"palate"
	"palate/api"
	"palate/features"
	"palate/internal/testmodel"
	"palate/memstore"
)

// syncBuffer is a bytes.Buffer safe to write from the command's goroutine
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `palate serve` on a free loopback port and returns its URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1) // buffered: a code read below is put back for the cleanup
	go func() { done <- Main(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errOut.String())
		}
	})
	re := regexp.MustCompile(`serving on (http://\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			done <- code // the cleanup waits for it: without it a failed start hangs the test
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
	return ""
}

func TestServeAndRemoteCommands(t *testing.T) {
	t.Setenv("PALATE_WRITE_KEY", "")
	t.Setenv("PALATE_READ_KEY", "")
	t.Setenv("PALATE_KEY", "")
	url := startServe(t, "--db", "mem:", "--model", testmodel.Dir(t, 1))
	c := &api.Client{BaseURL: url}
	ctx := context.Background()
	var imgs []api.Image
	for i := range 4 {
		v := make([]float32, features.Dim)
		v[i] = 1
		imgs = append(imgs, api.Image{ID: fmt.Sprint("i", i), Prompt: "p", Embedding: v, Embedder: features.Name})
	}
	if _, err := c.AddImages(ctx, imgs); err != nil {
		t.Fatal(err)
	}
	for u, win := range map[string]float64{"ann": 1, "bob": 0, "cy": 1} {
		if _, err := c.AddComparisons(ctx, []api.Comparison{
			{ID: u + "1", User: u, Image0: "i0", Image1: "i1", Label0: api.Float(win)},
			{ID: u + "2", User: u, Image0: "i2", Image1: "i3", Label0: api.Float(win)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		args []string
		code int
		want []string
	}{
		"score":           {[]string{"score", "--server", url, "--user", "ann", "--images", "i0,i3"}, 0, []string{"ann: history of 4 items", "i0", "i3", "P(like)"}},
		"score empty id":  {[]string{"score", "--server", url, "--user", "ann", "--images", "i0,,i3"}, 2, []string{"id 2 of 3 is empty"}},
		"score cold":      {[]string{"score", "--server", url, "--user", "zed", "--images", "i0"}, 0, []string{"cold start"}},
		"score unknown":   {[]string{"score", "--server", url, "--user", "ann", "--images", "i0,nope"}, 1, []string{`candidates[1].id: image "nope" not found`, "not_found"}},
		"similar":         {[]string{"similar", "--server", url, "--user", "ann", "--n", "1"}, 0, []string{"similarity"}},
		"profile":         {[]string{"profile", "--server", url, "--user", "ann", "--n", "2"}, 0, []string{"ann: 2 comparisons, 0 votes", "taste descriptor", "liked, highest score first"}},
		"profile cold":    {[]string{"profile", "--server", url, "--user", "zed"}, 0, []string{"cold start"}},
		"profile no user": {[]string{"profile", "--server", url}, 2, []string{"--user is required"}},
		"server down":     {[]string{"profile", "--server", "http://127.0.0.1:1", "--user", "ann"}, 1, []string{"unavailable"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			for _, w := range tc.want {
				if code != tc.code || !strings.Contains(stdout+stderr, w) {
					t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, w, stdout, stderr)
				}
			}
		})
	}
}

func TestServeRefusals(t *testing.T) {
	t.Setenv("PALATE_WRITE_KEY", "")
	t.Setenv("PALATE_READ_KEY", "")
	dir := testmodel.Dir(t, 1)
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"open address without keys": {[]string{"serve", "--db", "mem:", "--addr", "0.0.0.0:0", "--model", dir}, 1, "refusing to listen on 0.0.0.0:0 without keys"},
		"sqlite without a file":     {[]string{"serve", "--db", "sqlite:"}, 1, "names no file"},
		"sqlite missing directory":  {[]string{"serve", "--db", "sqlite:" + filepath.Join(t.TempDir(), "no", "x.db")}, 1, "unable to open database file"},
		"bad db":                    {[]string{"serve", "--db", "mysql://x"}, 1, `store URL "mysql://x"`},
		"bad model":                 {[]string{"serve", "--db", "mem:", "--model", t.TempDir()}, 1, "manifest"},
		"unknown embedder":          {[]string{"serve", "--db", "mem:", "--embedder", "pixels-v9"}, 1, `unknown embedder "pixels-v9"; known: pixels-v3, pixels-v2, pixels-v1`},
		"publish mem":               {[]string{"model", "publish", "--db", "mem:", "--model", dir}, 0, "published model"},
		"publish no model":          {[]string{"model", "publish", "--db", "mem:"}, 2, "--model is required"},
		"publish bad flag":          {[]string{"model", "publish", "--bogus"}, 2, "bogus"},
		"model no subcommand":       {[]string{"model"}, 2, "publish"},
		"model misspelt subcommand": {[]string{"model", "publsh"}, 2, `unknown subcommand "publsh"; want: publish`},
		"publish missing dir":       {[]string{"model", "publish", "--db", "mem:", "--model", "/nonexistent/m"}, 1, "not found"},
		"publish postgres down":     {[]string{"model", "publish", "--db", "postgres://127.0.0.1:1/db", "--model", dir}, 1, "unavailable"},
		"no images directory":       {[]string{"serve", "--db", "mem:", "--model", dir, "--images", filepath.Join(t.TempDir(), "none")}, 1, "images directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
	// Publishing a model again changes nothing, and says so: the latest
	// stays the latest, an older one does not come back.
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	dir2 := testmodel.Dir(t, 2)
	for i, step := range []struct{ dir, want string }{
		{dir, "published model"}, {dir, "already the latest published"},
		{dir2, "published model"}, {dir, "does not roll back"},
	} {
		if code, stdout, stderr := run(t, "model", "publish", "--db", db, "--model", step.dir); code != 0 || !strings.Contains(stdout, step.want) {
			t.Fatalf("publish %d: exit %d, output lacks %q:\n%s%s", i+1, code, step.want, stdout, stderr)
		}
	}
	t.Setenv("PALATE_READ_KEY", "r")
	code, _, stderr := run(t, "serve", "--db", "mem:", "--model", dir, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "PALATE_WRITE_KEY") {
		t.Fatalf("read key alone: exit %d %s", code, stderr)
	}
}

func TestLoadtest(t *testing.T) {
	t.Setenv("PALATE_WRITE_KEY", "")
	dir := testmodel.Dir(t, 1)
	code, stdout, stderr := run(t, "loadtest", "--model", dir, "--candidates", "8", "--images", "16", "--history", "4", "--clients", "1,2", "--duration", "300ms")
	if code != 0 {
		t.Fatalf("loadtest exited %d: %s", code, stderr)
	}
	rows := regexp.MustCompile(`(?m)^\s+(\d+)\s+(\d+)\s+(\d+)\s`).FindAllStringSubmatch(stdout, -1)
	if len(rows) != 2 || rows[0][1] != "1" || rows[1][1] != "2" {
		t.Fatalf("loadtest output:\n%s", stdout)
	}
	for _, r := range rows {
		if r[2] == "0" || r[3] != "0" {
			t.Fatalf("a run made no requests or had errors:\n%s", stdout)
		}
	}
	if !strings.Contains(stdout, "history of 8 items") || !strings.Contains(stdout, "context cache:") {
		t.Fatalf("loadtest output:\n%s", stdout)
	}
	if code, _, stderr := run(t, "loadtest", "--clients", "0"); code != 2 || !strings.Contains(stderr, "--clients") {
		t.Fatalf("bad --clients: %d %s", code, stderr)
	}
}

// brokenLatest is a store whose LatestModel fails with a code other than
// not_found.
type brokenLatest struct{ palate.Store }

func (brokenLatest) LatestModel(context.Context) (*palate.ModelRecord, error) {
	return nil, palate.Errorf(palate.EUNAVAILABLE, "connection reset")
}

// TestLatestModel checks that publish reads "no model yet" as nothing and
// any other failure as an error naming the store, rather than publishing
// past it.
func TestLatestModel(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	if m, err := latestModel(ctx, st, "mem:"); m != nil || err != nil {
		t.Fatalf("empty store: %v, %v; want nil, nil", m, err)
	}
	_, err := latestModel(ctx, brokenLatest{st}, "mem:")
	if palate.ErrorCode(err) != palate.EUNAVAILABLE || !strings.Contains(err.Error(), "reading the latest model at mem:") {
		t.Fatalf("failing store: %v; want unavailable naming the store", err)
	}
}
