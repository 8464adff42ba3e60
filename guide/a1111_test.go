package guide

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"palate"
)

func pngBase64(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w {
		img.Set(i, i%h, color.NRGBA{R: 200, G: 30, B: 90, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// fakeA1111 serves POST /sdapi/v1/txt2img, records each request and answers
// with reply.
type fakeA1111 struct {
	t     *testing.T
	mu    sync.Mutex
	reqs  []txt2img
	reply func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeA1111) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/sdapi/v1/txt2img" {
		http.Error(w, `{"detail":"Not Found"}`, http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q; want application/json", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var req txt2img
	if err := dec.Decode(&req); err != nil {
		f.t.Errorf("request body: %v", err)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	f.reply(w, r)
}

func TestA1111Request(t *testing.T) {
	img := pngBase64(t, 24, 16)
	f := &fakeA1111{t: t, reply: func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"images": []string{img}, "parameters": map[string]any{}, "info": "{}"})
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	g, err := NewA1111(A1111Options{URL: srv.URL + "/", Negative: "blurry", Styles: []string{"vivid colors", "film grain"}, Steps: 12, Width: 640, Height: 384})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Code 0.9 of 3 parts (none, vivid, grain) picks "film grain".
	got, err := g.GenerateNegative(ctx, "a red fox", "dark", Latent{Codes: []float64{0.9}, Seed: 4242})
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds().Dx() != 24 || got.Bounds().Dy() != 16 {
		t.Errorf("decoded a %v picture; the server sent 24×16", got.Bounds())
	}
	want := txt2img{Prompt: "a red fox, film grain", NegativePrompt: "blurry, dark", Seed: 4242, Steps: 12,
		SamplerName: "Euler a", Width: 640, Height: 384, CFGScale: 7}
	if f.reqs[0] != want {
		t.Errorf("request %+v; want %+v", f.reqs[0], want)
	}
	// Code 0.1 picks no style; Generate sends only the base negative.
	if _, err := g.Generate(ctx, "a red fox", Latent{Codes: []float64{0.1}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if r := f.reqs[1]; r.Prompt != "a red fox" || r.NegativePrompt != "blurry" || r.Seed != 1 {
		t.Errorf("second request %+v", r)
	}
	// A data URL is accepted too.
	f.reply = func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"images": ["data:image/png;base64,` + img + `"]}`))
	}
	if _, err := g.Generate(ctx, "x", Latent{Codes: []float64{0}, Seed: 2}); err != nil {
		t.Errorf("data URL: %v", err)
	}
	// Sampling and perturbing stay inside the latent space and are
	// deterministic for a seed.
	r1, r2 := rand.New(rand.NewPCG(5, 5)), rand.New(rand.NewPCG(5, 5))
	for range 50 {
		a, b := g.Sample(r1, "x"), g.Sample(r2, "x")
		if a.Seed != b.Seed || a.Codes[0] != b.Codes[0] {
			t.Fatal("Sample is not deterministic for a seed")
		}
		p := g.Perturb(r1, a, 0.7)
		g.Perturb(r2, b, 0.7)
		if _, err := g.Style(p); err != nil {
			t.Fatalf("Perturb left the latent space: %v", err)
		}
	}
	if s := g.Styles("a fox, Vivid Colors"); len(s) != 1 || s[0].Words != "film grain" {
		t.Errorf("Styles of a prompt holding one style: %v", s)
	}
}

func TestA1111Errors(t *testing.T) {
	good := pngBase64(t, 8, 8)
	garbage := base64.StdEncoding.EncodeToString([]byte("not a png at all"))
	tests := map[string]struct {
		status int
		body   string
		sleep  bool
		code   string
		want   string
	}{
		"server error":   {500, `{"error": "OutOfMemoryError", "detail": "CUDA out of memory"}`, false, palate.EUNAVAILABLE, "500 Internal Server Error"},
		"refused":        {422, `{"detail": [{"loc": ["body", "steps"], "msg": "bad"}]}`, false, palate.EINVALID, "422"},
		"not json":       {200, `<html>oops</html>`, false, palate.EUNAVAILABLE, "not txt2img JSON"},
		"no images":      {200, `{"images": []}`, false, palate.EUNAVAILABLE, "has no images"},
		"bad base64":     {200, `{"images": ["%%%not base64"]}`, false, palate.EUNAVAILABLE, "images[0] of the answer of"},
		"not a picture":  {200, `{"images": ["` + garbage + `"]}`, false, palate.EUNAVAILABLE, "images[0]"},
		"timeout":        {200, `{"images": ["` + good + `"]}`, true, palate.EUNAVAILABLE, "did not answer within"},
		"empty 502 body": {502, ``, false, palate.EUNAVAILABLE, "(empty body)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeA1111{t: t, reply: func(w http.ResponseWriter, r *http.Request) {
				if tc.sleep {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			g, err := NewA1111(A1111Options{URL: srv.URL, Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = g.Generate(context.Background(), "a fox", Latent{Codes: []float64{0}, Seed: 3})
			if palate.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %v (code %s); want code %s naming %q and the server", err, palate.ErrorCode(err), tc.code, tc.want)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
	if !strings.Contains(tests["server error"].body, "CUDA") {
		t.Fatal("test table changed")
	}

	// A server that is gone.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	g, _ := NewA1111(A1111Options{URL: url})
	if _, err := g.Generate(context.Background(), "a fox", Latent{Codes: []float64{0}, Seed: 3}); palate.ErrorCode(err) != palate.EUNAVAILABLE {
		t.Errorf("closed server: %v; want EUNAVAILABLE", err)
	}
	// A cancelled context is the caller's doing, not the server's.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Generate(ctx, "a fox", Latent{Codes: []float64{0}, Seed: 3}); err == nil || palate.ErrorCode(err) == palate.EUNAVAILABLE {
		t.Errorf("cancelled context: %v; want the cancellation", err)
	}
	// Latents that are not the adapter's.
	for name, l := range map[string]Latent{
		"big seed":   {Codes: []float64{0}, Seed: 1 << 33},
		"two codes":  {Codes: []float64{0, 0}},
		"code above": {Codes: []float64{1.5}},
	} {
		if _, err := g.Generate(context.Background(), "x", l); palate.ErrorCode(err) != palate.EINVALID {
			t.Errorf("%s: %v; want EINVALID", name, err)
		}
	}
	for name, o := range map[string]A1111Options{
		"no url":      {},
		"not http":    {URL: "ftp://x"},
		"steps":       {URL: "http://x", Steps: -3},
		"size":        {URL: "http://x", Width: 10},
		"empty style": {URL: "http://x", Styles: []string{"ok", " "}},
	} {
		if _, err := NewA1111(o); palate.ErrorCode(err) != palate.EINVALID {
			t.Errorf("options %s: %v; want EINVALID", name, err)
		}
	}
}
