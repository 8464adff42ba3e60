package server

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"palate"
	"palate/api"
	"palate/features"
	"palate/internal/testmodel"
	"palate/memstore"
	"palate/modelpub"
	"palate/train"
)

// Two small checkpoints shared by every test: built once in TestMain.
var (
	modelDirs [2]string
	records   [2]*palate.ModelRecord
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "palate-server-test-")
	if err != nil {
		panic(err)
	}
	for i := range modelDirs {
		ck, err := testmodel.New(uint64(i + 1))
		if err != nil {
			panic(err)
		}
		ck.Summary.Finished = time.Date(2026, 11, 27, 8, i, 0, 0, time.UTC)
		modelDirs[i] = filepath.Join(dir, fmt.Sprint("model", i))
		if err := train.Save(modelDirs[i], ck); err != nil {
			panic(err)
		}
		if records[i], err = modelpub.Pack(modelDirs[i]); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	if tinyWorldDir != "" {
		os.RemoveAll(tinyWorldDir)
	}
	os.Exit(code)
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// env is a server over a memstore, reached through the Go client.
type env struct {
	t     testing.TB
	store palate.Store
	mem   *memstore.Store
	srv   *Server
	http  *httptest.Server
	c     *api.Client
}

// quietLogger drops info messages (model loads) and keeps errors.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// newEnv starts a server; cfg.Store defaults to a new memstore.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	e := &env{t: t}
	if cfg.Store == nil {
		e.mem = memstore.New()
		cfg.Store = e.mem
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	e.store = cfg.Store
	if m, ok := cfg.Store.(*memstore.Store); ok {
		e.mem = m
	}
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.http = httptest.NewServer(srv.Handler())
	e.c = &api.Client{BaseURL: e.http.URL, Key: cfg.WriteKey}
	t.Cleanup(func() {
		e.http.Close()
		srv.Close()
	})
	return e
}

// publishedEnv starts a server that follows a memstore with model 0
// published.
func publishedEnv(t *testing.T) *env {
	t.Helper()
	mem := memstore.New()
	if err := mem.PublishModel(context.Background(), records[0]); err != nil {
		t.Fatal(err)
	}
	return newEnv(t, Config{Store: mem})
}

// pngOf returns a w×h PNG of random colours.
func pngOf(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	base := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{base.R + uint8(rng.IntN(40)), base.G + uint8(x), base.B + uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// vec returns a random unit-ish vector of pixels-v3's dimension.
func vec(seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	v := make([]float32, features.Dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64()) / 18
	}
	return v
}

// seedImages adds n images "img0".."img{n-1}" with pixels-v3 vectors.
func (e *env) seedImages(n int) {
	e.t.Helper()
	items := make([]api.Image, n)
	for i := range items {
		items[i] = api.Image{ID: fmt.Sprint("img", i), Prompt: fmt.Sprintf("prompt %d", i%3), Embedding: vec(uint64(i)), Embedder: features.Name}
	}
	if _, err := e.c.AddImages(context.Background(), items); err != nil {
		e.t.Fatal(err)
	}
}

// seedUser records k comparisons for user between images of [0, n), the
// lower-numbered image preferred when prefLow.
func (e *env) seedUser(user string, k, n int, prefLow bool, seed uint64) {
	e.t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	items := make([]api.Comparison, k)
	for i := range items {
		a := rng.IntN(n)
		b := (a + 1 + rng.IntN(n-1)) % n
		l := 0.0
		if (a < b) == prefLow {
			l = 1
		}
		items[i] = api.Comparison{ID: fmt.Sprintf("%s-c%d", user, i), User: user, Image0: fmt.Sprint("img", a), Image1: fmt.Sprint("img", b),
			Label0: api.Float(l), Time: t0.Add(time.Duration(i) * time.Minute)}
	}
	if _, err := e.c.AddComparisons(context.Background(), items); err != nil {
		e.t.Fatal(err)
	}
}

// do sends a raw request and returns the status and body.
func (e *env) do(method, path, key, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	switch {
	case strings.Contains(key, " "): // a whole header value
		req.Header.Set("Authorization", key)
	case key != "":
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wantErr checks err's palate code and that its message names want.
func wantErr(t *testing.T, err error, code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s naming %q", code, want)
	}
	if got := palate.ErrorCode(err); got != code || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q (code %s); want code %s naming %q", err, got, code, want)
	}
}

// eventually retries f until it returns nil or 10 s pass.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after 10 s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
