package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"palate"
	"palate/dataset"
)

// npyBytes writes a version 1.0 .npy file by hand: header dict padded with
// spaces to a multiple of 64 bytes, then the raw data.
func npyBytes(descr string, fortran bool, shape string, data []byte) []byte {
	f := "False"
	if fortran {
		f = "True"
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func f16bytes(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

// fixture writes a dataset of four images (no files: only ids) and
// returns its directory.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	w, err := dataset.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := w.Image(palate.Image{ID: id, Prompt: "p " + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func put(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportNPYFloat32(t *testing.T) {
	dir := fixture(t)
	vals := []float32{1, 2, 3, -1, -2, -3, 0.5, 0.25, 0.125, 1e-30, 1e6, 0}
	file := put(t, t.TempDir(), "x.npy", npyBytes("<f4", false, "(4, 3)", f32bytes(vals...)))
	res, err := ImportEmbeddings(context.Background(), EmbeddingsOptions{Dir: dir, Name: "clip-b32", File: file})
	if err != nil {
		t.Fatal(err)
	}
	if res != (EmbeddingsResult{Rows: 4, Dim: 3, Format: "npy float32"}) {
		t.Errorf("result %+v", res)
	}
	e, err := dataset.ReadEmbeddings(dir, "clip-b32")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.IDs, []string{"a", "b", "c", "d"}) || !slices.Equal(e.Data, vals) || e.Version != "imported from x.npy" {
		t.Errorf("table %v %v %q", e.IDs, e.Data, e.Version)
	}
	// The same name again is refused unless Replace says so.
	if _, err := ImportEmbeddings(context.Background(), EmbeddingsOptions{Dir: dir, Name: "clip-b32", File: file, Version: "again"}); palate.ErrorCode(err) != palate.ECONFLICT {
		t.Errorf("a second import of clip-b32: %v, want ECONFLICT", err)
	}
	if _, err := ImportEmbeddings(context.Background(), EmbeddingsOptions{Dir: dir, Name: "clip-b32", File: file, Version: "again", Replace: true}); err != nil {
		t.Errorf("a second import with Replace: %v", err)
	}
}

func TestImportNPYFloat16WithIDs(t *testing.T) {
	dir := fixture(t)
	// 1, -2, 0.5, 65504, 2^-24 (smallest subnormal), -0, 0.333 (0x3555)
	h := []uint16{0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000, 0x3555, 0x3C00}
	want := []float32{1, -2, 0.5, 65504, float32(math.Ldexp(1, -24)), float32(math.Copysign(0, -1)), 0.333251953125, 1}
	tmp := t.TempDir()
	file := put(t, tmp, "x.npy", npyBytes("<f2", false, "(4, 2)", f16bytes(h...)))
	ids := put(t, tmp, "ids.txt", []byte("d\nb\na\nc\n"))
	if _, err := ImportEmbeddings(context.Background(), EmbeddingsOptions{Dir: dir, Name: "half", File: file, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	e, err := dataset.ReadEmbeddings(dir, "half")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.IDs, []string{"d", "b", "a", "c"}) {
		t.Fatalf("ids %v", e.IDs)
	}
	for i := range want {
		if e.Data[i] != want[i] || math.Signbit(float64(e.Data[i])) != math.Signbit(float64(want[i])) {
			t.Errorf("value %d = %v, want %v", i, e.Data[i], want[i])
		}
	}
}

func TestImportJSONL(t *testing.T) {
	dir := fixture(t)
	body := `{"id": "c", "vector": [1, 2]}
{"id": "a", "vector": [3, 4.5]}

{"id": "b", "vector": [-1e-3, 0]}
{"id": "d", "vector": [7, 8]}
`
	file := put(t, t.TempDir(), "v.jsonl", []byte(body))
	res, err := ImportEmbeddings(context.Background(), EmbeddingsOptions{Dir: dir, Name: "ext", File: file, Version: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || res.Dim != 2 {
		t.Errorf("result %+v", res)
	}
	e, err := dataset.ReadEmbeddings(dir, "ext")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.IDs, []string{"c", "a", "b", "d"}) || !slices.Equal(e.Data, []float32{1, 2, 3, 4.5, -1e-3, 0, 7, 8}) || e.Version != "v9" {
		t.Errorf("table %v %v %q", e.IDs, e.Data, e.Version)
	}
}

func TestImportEmbeddingsErrors(t *testing.T) {
	tmp := t.TempDir()
	good := f32bytes(1, 2, 3, 4, 5, 6, 7, 8)
	nan := f32bytes(1, 2, 3, float32(math.NaN()), 5, 6, 7, 8)
	huge := f32bytes(1, 2, 3, 4, 3e38, 6, 7, 8)
	tests := map[string]struct {
		file, ids string
		want      string
	}{
		"rows":        {put(t, tmp, "r.npy", npyBytes("<f4", false, "(3, 2)", good[:24])), "", "has 3 rows but images.jsonl names 4 images"},
		"nan":         {put(t, tmp, "n.npy", npyBytes("<f4", false, "(4, 2)", nan)), "", `row 1 (images.jsonl line 2): embedding "b" value 1 is NaN`},
		"too large":   {put(t, tmp, "h.npy", npyBytes("<f4", false, "(4, 2)", huge)), "", `row 2 (images.jsonl line 3): embedding "c" value 0 is 3e+38; want a finite number under 1048576`},
		"truncated":   {put(t, tmp, "t.npy", npyBytes("<f4", false, "(4, 2)", good[:20])), "", "data ends in row 2 of 4"},
		"float64":     {put(t, tmp, "d.npy", npyBytes("<f8", false, "(4, 2)", nil)), "", "dtype <f8; want float32 or float16"},
		"big-endian":  {put(t, tmp, "b.npy", npyBytes(">f4", false, "(4, 2)", nil)), "", "big-endian"},
		"fortran":     {put(t, tmp, "f.npy", npyBytes("<f4", true, "(4, 2)", good)), "", "Fortran order"},
		"3-D":         {put(t, tmp, "3.npy", npyBytes("<f4", false, "(2, 2, 2)", good)), "", "3-D array; want 2-D"},
		"not npy":     {put(t, tmp, "x.npy", []byte("hello world")), "", "not a NumPy .npy file"},
		"unknown id":  {put(t, tmp, "u.npy", npyBytes("<f4", false, "(4, 2)", good)), put(t, tmp, "u.txt", []byte("a\nb\nzz\nc\n")), `u.txt:3: id "zz" is not an image`},
		"repeated id": {put(t, tmp, "p.npy", npyBytes("<f4", false, "(4, 2)", good)), put(t, tmp, "p.txt", []byte("a\nb\na\nc\n")), `p.txt:3: id "a" repeats line 1`},
		"missing":     {put(t, tmp, "m.npy", npyBytes("<f4", false, "(3, 2)", good[:24])), put(t, tmp, "m.txt", []byte("a\nb\nc\n")), `1 images of images.jsonl have no vector, e.g. ["d"]`},
		"no file":     {filepath.Join(tmp, "none.npy"), "", "does not exist"},
		"extension":   {put(t, tmp, "x.csv", []byte("1,2")), "", `extension ".csv"`},
		"jsonl dim":   {put(t, tmp, "dim.jsonl", []byte("{\"id\":\"a\",\"vector\":[1,2]}\n{\"id\":\"b\",\"vector\":[1]}\n")), "", `dim.jsonl:2: vector of "b" has 1 values; line 1 set the dimension to 2`},
		"jsonl field": {put(t, tmp, "fld.jsonl", []byte("{\"id\":\"a\",\"vec\":[1,2]}\n")), "", `fld.jsonl:1: json: unknown field "vec"`},
		"jsonl dup":   {put(t, tmp, "dup.jsonl", []byte("{\"id\":\"a\",\"vector\":[1]}\n{\"id\":\"a\",\"vector\":[1]}\n")), "", `dup.jsonl:2: id "a" repeats line 1`},
		"jsonl huge":  {put(t, tmp, "big.jsonl", []byte("{\"id\":\"a\",\"vector\":[1e300]}\n")), "", "beyond float32"},
		"jsonl miss":  {put(t, tmp, "miss.jsonl", []byte("{\"id\":\"a\",\"vector\":[1]}\n{\"id\":\"c\",\"vector\":[1]}\n")), "", `2 images of images.jsonl have no vector, e.g. ["b" "d"]`},
		"jsonl ids":   {put(t, tmp, "ids.jsonl", []byte("{}")), put(t, tmp, "i.txt", []byte("a\n")), "--ids is for .npy files"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := fixture(t)
			// An old table of the same name must survive a failed import.
			old := &palate.Embeddings{Embedder: "vec", Version: "old", Dim: 1, IDs: []string{"a"}, Data: []float32{42}}
			if err := dataset.WriteEmbeddings(dir, old); err != nil {
				t.Fatal(err)
			}
			_, err := ImportEmbeddings(context.Background(), EmbeddingsOptions{Dir: dir, Name: "vec", File: tc.file, IDs: tc.ids, Replace: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			}
			e, rerr := dataset.ReadEmbeddings(dir, "vec")
			if rerr != nil || e.Version != "old" || e.Data[0] != 42 {
				t.Fatalf("old table not kept: %v %+v", rerr, e)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, dataset.EmbeddingsDir)); len(entries) != 2 {
				t.Errorf("embeddings dir holds %d files, want the old 2", len(entries))
			}
		})
	}
}

func TestFloat16Special(t *testing.T) {
	if v := Float16(0x7C00); !math.IsInf(float64(v), 1) {
		t.Errorf("0x7C00 = %v, want +Inf", v)
	}
	if v := Float16(0xFE00); !math.IsNaN(float64(v)) {
		t.Errorf("0xFE00 = %v, want NaN", v)
	}
	if v := Float16(0x03FF); v != float32(1023*math.Ldexp(1, -24)) {
		t.Errorf("largest subnormal = %v", v)
	}
	// Every finite half converts to the float32 that rounds back to it.
	for h := range uint32(0x7C00) {
		v := Float16(uint16(h))
		if v < 0 || math.IsInf(float64(v), 0) {
			t.Fatalf("0x%04x = %v", h, v)
		}
		if h > 0 && v <= Float16(uint16(h-1)) {
			t.Fatalf("not increasing at 0x%04x: %v <= %v", h, v, Float16(uint16(h-1)))
		}
	}
}
