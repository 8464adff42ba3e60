package features

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"palate"
)

// pngHeader returns the signature and IHDR chunk of a PNG claiming w×h
// 8-bit RGBA pixels, with no image data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // bit depth 8, colour type RGBA
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeRejects(t *testing.T) {
	good := pngBytes(t, baseScene().render(64))
	random := make([]byte, 4096)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	tests := map[string]struct {
		data []byte
		lim  Limits
		code string
		msg  string // a substring the message must contain
	}{
		"bomb header":   {pngHeader(100000, 100000), DefaultLimits, palate.ETOOLARGE, "100000x100000"},
		"over pixels":   {good, Limits{MaxPixels: 64*64 - 1}, palate.ETOOLARGE, "4095"},
		"over bytes":    {good, Limits{MaxBytes: int64(len(good) - 1)}, palate.ETOOLARGE, "bytes"},
		"truncated png": {good[:len(good)/2], DefaultLimits, palate.EINVALID, "png"},
		"header only":   {pngHeader(10, 10), DefaultLimits, palate.EINVALID, "png"},
		"random bytes":  {random, DefaultLimits, palate.EINVALID, "unknown image format"},
		"empty":         {nil, DefaultLimits, palate.EINVALID, "empty"},
		"zero size png": {pngHeader(0, 10), DefaultLimits, palate.EINVALID, "png"},
		"bad webp":      {solidWebP(5, 3, color.NRGBA{})[:20], DefaultLimits, palate.EINVALID, "webp"},
		"text":          {[]byte("hello, this is not a picture"), DefaultLimits, palate.EINVALID, "format"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			img, _, err := Decode(bytes.NewReader(tc.data), tc.lim)
			if img != nil || palate.ErrorCode(err) != tc.code {
				t.Fatalf("got image %v, err %v; want code %s", img != nil, err, tc.code)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q lacks %q", err, tc.msg)
			}
		})
	}
}

// TestDecodeBombDoesNotAllocate checks that a header claiming ten gigapixels
// is refused before any pixel buffer exists.
func TestDecodeBombDoesNotAllocate(t *testing.T) {
	data := pngHeader(100000, 100000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := Decode(bytes.NewReader(data), DefaultLimits)
	runtime.ReadMemStats(&after)
	if palate.ErrorCode(err) != palate.ETOOLARGE {
		t.Fatalf("err %v, want ETOOLARGE", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing a bomb header allocated %d bytes", n)
	}
}

func TestDecodeFile(t *testing.T) {
	dir := t.TempDir()
	good := pngBytes(t, baseScene().render(64))
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := map[string]struct {
		path string
		lim  Limits
		code string
		msg  string
	}{
		"ok":           {write("a.png", good), DefaultLimits, "", ""},
		"too big":      {write("b.png", good), Limits{MaxBytes: 100}, palate.ETOOLARGE, "over the limit of 100 bytes"},
		"missing":      {filepath.Join(dir, "nope.png"), DefaultLimits, palate.ENOTFOUND, "nope.png"},
		"corrupt":      {write("c.png", good[:100]), DefaultLimits, palate.EINVALID, "c.png"},
		"directory":    {dir, DefaultLimits, palate.EINVALID, "regular"},
		"wrong ext ok": {write("d.jpg", good), DefaultLimits, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			img, format, err := DecodeFile(tc.path, tc.lim)
			if palate.ErrorCode(err) != tc.code {
				t.Fatalf("err %v, want code %q", err, tc.code)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("message %q lacks %q", err, tc.msg)
				}
				return
			}
			if format != "png" || img.Bounds().Dx() != 64 {
				t.Errorf("format %q bounds %v", format, img.Bounds())
			}
		})
	}
}

func TestEmbedFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 12; i++ {
		p := filepath.Join(dir, string(rune('a'+i))+".png")
		data := pngBytes(t, randomScene(r).render(64))
		if i == 5 {
			data = []byte("broken")
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	p := NewPixels()

	t.Run("skip bad files", func(t *testing.T) {
		got := make([][]float32, len(paths))
		var bad []int
		err := EmbedFiles(context.Background(), p, paths, 0, DefaultLimits, func(i int, vec []float32, err error) error {
			if err != nil {
				bad = append(bad, i)
				return nil
			}
			got[i] = vec
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) != 1 || bad[0] != 5 {
			t.Fatalf("bad files %v, want [5]", bad)
		}
		for i, v := range got {
			if i == 5 {
				continue
			}
			img, _, _ := DecodeFile(paths[i], DefaultLimits)
			if dist(v, embed(t, img)) != 0 {
				t.Fatalf("file %d: batch vector differs from Embed", i)
			}
		}
	})
	t.Run("stop at bad file", func(t *testing.T) {
		err := EmbedFiles(context.Background(), p, paths, 3, DefaultLimits, func(i int, vec []float32, err error) error {
			return err
		})
		if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "f.png") {
			t.Fatalf("err %v, want EINVALID naming f.png", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := EmbedFiles(ctx, p, paths, 2, DefaultLimits, func(int, []float32, error) error { return nil })
		if err != context.Canceled {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	})
}

func TestEmbedAll(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	imgs := make([]image.Image, 20)
	for i := range imgs {
		imgs[i] = randomScene(r).render(64)
	}
	p := NewPixels()
	dst := make([]float32, len(imgs)*Dim)
	var mu sync.Mutex
	calls := 0
	err := EmbedAll(context.Background(), p, len(imgs), 4, dst, func(i int) (image.Image, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return imgs[i], nil
	})
	if err != nil || calls != len(imgs) {
		t.Fatalf("err %v, %d calls", err, calls)
	}
	for i, img := range imgs {
		if dist(dst[i*Dim:(i+1)*Dim], embed(t, img)) != 0 {
			t.Fatalf("row %d differs from Embed", i)
		}
	}
	err = EmbedAll(context.Background(), p, len(imgs), 4, dst[:Dim], func(i int) (image.Image, error) { return imgs[i], nil })
	if palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("short table: err %v, want EINVALID", err)
	}
	err = EmbedAll(context.Background(), p, 3, 2, dst, func(i int) (image.Image, error) { return nil, nil })
	if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), "image ") {
		t.Fatalf("nil image: err %v, want EINVALID naming the index", err)
	}
}
