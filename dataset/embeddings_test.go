package dataset

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"palate"
)

// sampleEmbeddings holds values that a lossy format would change: negative
// zero, the smallest subnormal, the largest value allowed (just under
// palate.MaxEmbeddingValue).
// largest is the largest float32 under palate.MaxEmbeddingValue.
var largest = math.Nextafter32(palate.MaxEmbeddingValue, 0)

func sampleEmbeddings() *palate.Embeddings {
	return &palate.Embeddings{
		Embedder: "toy-v1", Version: "1.0", Dim: 3,
		IDs: []string{"img-1", "img-2", "img-3", "img-4"},
		Data: []float32{
			0, float32(math.Copysign(0, -1)), 1,
			math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, largest,
			-largest, 0.1, 1.0 / 3,
			-2.5, 1e-38, 1e6,
		},
	}
}

func TestEmbeddingsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := &palate.Embeddings{Embedder: "big_v2.1", Dim: 37}
	for i := range 3000 {
		big.IDs = append(big.IDs, "id-"+strconv.Itoa(i))
	}
	big.Data = make([]float32, len(big.IDs)*big.Dim)
	for i := range big.Data {
		// Any sign and mantissa, any exponent under 2^20's.
		big.Data[i] = math.Float32frombits(rng.Uint32()&0x807fffff | rng.Uint32N(bigExponent)<<23)
	}
	tests := map[string]*palate.Embeddings{
		"special values": sampleEmbeddings(),
		"random bits":    big,
		"no rows":        {Embedder: "empty", Version: "", Dim: 8, IDs: []string{}},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteEmbeddings(dir, want); err != nil {
				t.Fatal(err)
			}
			got, err := ReadEmbeddings(dir, want.Embedder)
			if err != nil {
				t.Fatal(err)
			}
			if got.Embedder != want.Embedder || got.Version != want.Version || got.Dim != want.Dim || !reflect.DeepEqual(got.IDs, want.IDs) {
				t.Errorf("header = %q %q %d %q; want %q %q %d %q", got.Embedder, got.Version, got.Dim, got.IDs, want.Embedder, want.Version, want.Dim, want.IDs)
			}
			if len(got.Data) != len(want.Data) {
				t.Fatalf("%d values; want %d", len(got.Data), len(want.Data))
			}
			for i := range want.Data {
				if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
					t.Fatalf("value %d = %x; want %x", i, math.Float32bits(got.Data[i]), math.Float32bits(want.Data[i]))
				}
			}
			names, err := EmbeddingNames(dir)
			if err != nil || !reflect.DeepEqual(names, []string{want.Embedder}) {
				t.Errorf("EmbeddingNames = %q, %v", names, err)
			}
			assertNoTemp(t, dir)
		})
	}
}

// TestEmbeddingsFile checks the bytes: little-endian rows in id order.
func TestEmbeddingsFile(t *testing.T) {
	dir := t.TempDir()
	e := sampleEmbeddings()
	if err := WriteEmbeddings(dir, e); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "embeddings", "toy-v1.f32"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*len(e.Data) {
		t.Fatalf("%d bytes; want %d", len(b), 4*len(e.Data))
	}
	if got := binary.LittleEndian.Uint32(b[4*5:]); got != math.Float32bits(largest) {
		t.Errorf("row 1 value 2 = %x; want %x", got, math.Float32bits(largest))
	}
}

func TestReadEmbeddingsErrors(t *testing.T) {
	const good = `{"embedder":"toy","version":"1","dimension":3,"count":2,"ids":["a","b"]}`
	row := func(vals ...float32) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	data := row(1, 2, 3, 4, 5, 6)
	nan := row(1, 2, 3, 4, 5, float32(math.NaN()))
	inf := row(1, 2, 3, float32(math.Inf(-1)), 5, 6)
	huge := row(1, 2, 3, 4, 3e38, 6)
	edge := row(1, 2, 3, -palate.MaxEmbeddingValue, 5, 6)
	tests := map[string]struct {
		header string
		data   []byte // nil: no data file
		code   string
		want   string
	}{
		"nan":                {good, nan, palate.EINVALID, `toy.f32: row 1 (id "b") value 2 is NaN`},
		"inf":                {good, inf, palate.EINVALID, `toy.f32: row 1 (id "b") value 0 is -Inf`},
		"huge":               {good, huge, palate.EINVALID, `toy.f32: row 1 (id "b") value 1 is 3e+38; want a finite number under 1048576 in magnitude`},
		"at the bound":       {good, edge, palate.EINVALID, `toy.f32: row 1 (id "b") value 0 is -1.048576e+06`},
		"truncated":          {good, data[:20], palate.EINVALID, "toy.f32: file is 20 bytes; want 24 (count 2 × dimension 3 × 4)"},
		"too long":           {good, append(row(0), data...), palate.EINVALID, "toy.f32: file is 28 bytes; want 24"},
		"no data file":       {good, nil, palate.EINVALID, "toy.f32: data file does not exist"},
		"count mismatch":     {`{"embedder":"toy","version":"1","dimension":3,"count":3,"ids":["a","b"]}`, data, palate.EINVALID, "toy.json: count is 3 but there are 2 ids"},
		"dimension mismatch": {`{"embedder":"toy","version":"1","dimension":2,"count":2,"ids":["a","b"]}`, data, palate.EINVALID, "file is 24 bytes; want 16"},
		"dimension zero":     {`{"embedder":"toy","version":"1","dimension":0,"count":2,"ids":["a","b"]}`, data, palate.EINVALID, "toy.json: dimension is 0; want a positive number"},
		"dimension negative": {`{"embedder":"toy","version":"1","dimension":-3,"count":2,"ids":["a","b"]}`, data, palate.EINVALID, "dimension is -3"},
		"dimension huge":     {`{"embedder":"toy","version":"1","dimension":4611686018427387904,"count":2,"ids":["a","b"]}`, data, palate.EINVALID, "is too large"},
		"duplicate ids":      {`{"embedder":"toy","version":"1","dimension":3,"count":2,"ids":["a","a"]}`, data, palate.EINVALID, `toy.json: ids[1] "a" repeats ids[0]`},
		"empty id":           {`{"embedder":"toy","version":"1","dimension":3,"count":2,"ids":["a",""]}`, data, palate.EINVALID, "ids[1] is empty"},
		"name mismatch":      {`{"embedder":"other","version":"1","dimension":3,"count":2,"ids":["a","b"]}`, data, palate.EINVALID, `toy.json: embedder is "other"; want "toy"`},
		"missing version":    {`{"embedder":"toy","dimension":3,"count":2,"ids":["a","b"]}`, data, palate.EINVALID, "toy.json: missing version"},
		"missing ids":        {`{"embedder":"toy","version":"1","dimension":3,"count":2}`, data, palate.EINVALID, "toy.json: missing ids"},
		"unknown field":      {`{"embedder":"toy","version":"1","dimension":3,"count":2,"ids":["a","b"],"dtype":"f32"}`, data, palate.EINVALID, `toy.json: unknown field "dtype"`},
		"malformed header":   {"{\n\"embedder\":\"toy\",\n\"dimension\":3,,}", data, palate.EINVALID, "toy.json:3: malformed JSON"},
		"fractional dim":     {`{"embedder":"toy","version":"1","dimension":3.5,"count":2,"ids":["a","b"]}`, data, palate.EINVALID, "dimension is a JSON number 3.5; want an integer"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"embeddings/toy.json": tt.header}
			if tt.data != nil {
				files["embeddings/toy.f32"] = string(tt.data)
			}
			writeFiles(t, dir, files)
			_, err := ReadEmbeddings(dir, "toy")
			assertError(t, err, tt.code, tt.want)
		})
	}
}

func TestReadEmbeddingsNotFound(t *testing.T) {
	dir := t.TempDir()
	if err := WriteEmbeddings(dir, sampleEmbeddings()); err != nil {
		t.Fatal(err)
	}
	_, err := ReadEmbeddings(dir, "clip")
	assertError(t, err, palate.ENOTFOUND, `no embeddings named "clip"`)
	assertError(t, err, palate.ENOTFOUND, `["toy-v1"]`)
	_, err = ReadEmbeddings(dir, "x/../toy-v1")
	assertError(t, err, palate.EINVALID, `embedder name "x/../toy-v1" has '/'`)
	names, err := EmbeddingNames(t.TempDir())
	if names != nil || err != nil {
		t.Errorf("EmbeddingNames of a dir without embeddings = %q, %v", names, err)
	}
}

// TestEmbeddingNamesNeedsBoth checks a header without data, or data
// without a header (a half-finished copy), is not listed.
func TestEmbeddingNamesNeedsBoth(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"embeddings/a.json": "{}", "embeddings/a.f32": "",
		"embeddings/b.json":  "{}",
		"embeddings/c.f32":   "",
		"embeddings/.d.json": "{}", "embeddings/.d.f32": "",
		"embeddings/e.json.123.tmp": "",
	})
	names, err := EmbeddingNames(dir)
	if err != nil || !reflect.DeepEqual(names, []string{"a"}) {
		t.Errorf("EmbeddingNames = %q, %v; want [a]", names, err)
	}
}

func TestEmbeddingWriter(t *testing.T) {
	tests := map[string]struct {
		id   string
		vec  []float32
		want string
	}{
		"short":     {"x", []float32{1, 2}, `embedding "x" has 2 values; want 3`},
		"long":      {"x", []float32{1, 2, 3, 4}, `embedding "x" has 4 values; want 3`},
		"nan":       {"x", []float32{1, float32(math.NaN()), 3}, `embedding "x" value 1 is NaN`},
		"inf":       {"x", []float32{1, 2, float32(math.Inf(1))}, `embedding "x" value 2 is +Inf`},
		"huge":      {"x", []float32{1, 2e6, 3}, `embedding "x" value 1 is 2e+06; want a finite number under 1048576`},
		"empty id":  {"", []float32{1, 2, 3}, "embedding id is empty"},
		"duplicate": {"a", []float32{1, 2, 3}, `embedding "a" added twice`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := CreateEmbeddings(dir, "toy", "v", 3)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Add("a", []float32{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
			assertError(t, w.Add(tt.id, tt.vec), palate.EINVALID, tt.want)
			// The bad row is not written; the writer goes on.
			if err := w.Add("b", []float32{4, 5, 6}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			e, err := ReadEmbeddings(dir, "toy")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e.IDs, []string{"a", "b"}) || !reflect.DeepEqual(e.Data, []float32{1, 2, 3, 4, 5, 6}) {
				t.Errorf("read %q %v", e.IDs, e.Data)
			}
		})
	}
}

func TestCreateEmbeddingsRejects(t *testing.T) {
	tests := map[string]struct {
		name string
		dim  int
		want string
	}{
		"zero dim":     {"toy", 0, "dimension is 0"},
		"negative dim": {"toy", -1, "dimension is -1"},
		"empty name":   {"", 3, "embedder name is empty"},
		"dot name":     {".hidden", 3, "starts with '.'"},
		"slash":        {"a/b", 3, "has '/'"},
		"space":        {"a b", 3, "has ' '"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := CreateEmbeddings(t.TempDir(), tt.name, "", tt.dim)
			assertError(t, err, palate.EINVALID, tt.want)
		})
	}
}

func TestWriteEmbeddingsRejects(t *testing.T) {
	tests := map[string]struct {
		edit func(e *palate.Embeddings)
		want string
	}{
		"short data": {func(e *palate.Embeddings) { e.Data = e.Data[:5] }, "5 values for 4 ids × dimension 3"},
		"nan":        {func(e *palate.Embeddings) { e.Data[7] = float32(math.NaN()) }, `row 2: embedding "img-3" value 1 is NaN`},
		"dup id":     {func(e *palate.Embeddings) { e.IDs[3] = "img-1" }, `row 3: embedding "img-1" added twice`},
		"zero dim":   {func(e *palate.Embeddings) { e.Dim = 0 }, "dimension is 0"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			old := sampleEmbeddings()
			if err := WriteEmbeddings(dir, old); err != nil {
				t.Fatal(err)
			}
			e := sampleEmbeddings()
			tt.edit(e)
			assertError(t, WriteEmbeddings(dir, e), palate.EINVALID, tt.want)
			// The old table is intact and nothing is left behind.
			got, err := ReadEmbeddings(dir, "toy-v1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.IDs, old.IDs) {
				t.Errorf("old table changed: %q", got.IDs)
			}
			assertNoTemp(t, dir)
		})
	}
}

// BenchmarkReadEmbeddings reads a 1,000,000 × 128 table (512 MB; 100,000 rows
// with -short) and reports MB/s of float data.
func BenchmarkReadEmbeddings(b *testing.B) {
	n, dim := 1_000_000, 128
	if testing.Short() {
		n = 100_000
	}
	dir := b.TempDir()
	w, err := CreateEmbeddings(dir, "bench", "1", dim)
	if err != nil {
		b.Fatal(err)
	}
	vec := make([]float32, dim)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		for j := range vec {
			vec[j] = rng.Float32()
		}
		if err := w.Add("image-"+strconv.Itoa(i), vec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n) * int64(dim) * 4)
	b.ResetTimer()
	for b.Loop() {
		e, err := ReadEmbeddings(dir, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if len(e.IDs) != n {
			b.Fatal(len(e.IDs))
		}
	}
}
