package dataset

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"palate"
)

// embeddingHeader is the wire form of embeddings/<name>.json. Pointers tell
// a missing field from a zero one.
type embeddingHeader struct {
	Embedder  *string   `json:"embedder"`
	Version   *string   `json:"version"`
	Dimension *int      `json:"dimension"`
	Count     *int      `json:"count"`
	IDs       *[]string `json:"ids"`
}

// embeddingPaths returns the header and data paths of table name in dir.
func embeddingPaths(dir, name string) (header, data string) {
	base := filepath.Join(dir, EmbeddingsDir, name)
	return base + ".json", base + ".f32"
}

// checkName accepts the names an embedder may have: they become file names,
// so they may not hold separators or start with a dot.
func checkName(name string) error {
	if name == "" {
		return invalid("embedder name is empty")
	}
	if name[0] == '.' {
		return invalid("embedder name %q starts with '.'", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return invalid("embedder name %q has %q; use letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}

// EmbeddingNames returns the names of the embedding tables in dir, sorted: those
// with both a header and a data file. A dataset without an embeddings
// directory has none.
func EmbeddingNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, EmbeddingsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || checkName(name) != nil {
			continue
		}
		_, data := embeddingPaths(dir, name)
		if fi, err := os.Stat(data); err == nil && fi.Mode().IsRegular() {
			names = append(names, name)
		}
	}
	return names, nil
}

// ReadEmbeddings reads the embedding table name from dir and checks it
// against its header. Returns ENOTFOUND when there is no table of that name,
// and EINVALID naming the file for a bad header, a data file whose size does
// not match it, or a NaN or infinite value (naming its row and id).
func ReadEmbeddings(dir, name string) (*palate.Embeddings, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	hpath, dpath := embeddingPaths(dir, name)
	hb, err := os.ReadFile(hpath)
	if errors.Is(err, os.ErrNotExist) {
		have, _ := EmbeddingNames(dir)
		return nil, palate.Errorf(palate.ENOTFOUND, "no embeddings named %q in %s (have %q)", name, dir, have)
	}
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	e, err := parseHeader(hb, name)
	if err != nil {
		if off := jsonOffset(err); off >= 0 {
			return nil, at(fmt.Sprintf("%s:%d", hpath, lineOf(hb, off)), err)
		}
		return nil, at(hpath, err)
	}
	if err := readRows(dpath, e); err != nil {
		return nil, err
	}
	return e, nil
}

// parseHeader decodes and checks a header for table name.
func parseHeader(b []byte, name string) (*palate.Embeddings, error) {
	var h embeddingHeader
	if err := decodeObject(b, &h); err != nil {
		return nil, err
	}
	if err := required(
		"embedder", h.Embedder != nil, "version", h.Version != nil,
		"dimension", h.Dimension != nil, "count", h.Count != nil, "ids", h.IDs != nil,
	); err != nil {
		return nil, err
	}
	switch {
	case *h.Embedder != name:
		return nil, invalid("embedder is %q; want %q, the file's name", *h.Embedder, name)
	case *h.Dimension <= 0:
		return nil, invalid("dimension is %d; want a positive number", *h.Dimension)
	case *h.Count != len(*h.IDs):
		return nil, invalid("count is %d but there are %d ids", *h.Count, len(*h.IDs))
	}
	seen := make(map[string]int, len(*h.IDs))
	for i, id := range *h.IDs {
		if id == "" {
			return nil, invalid("ids[%d] is empty", i)
		}
		if first, ok := seen[id]; ok {
			return nil, invalid("ids[%d] %q repeats ids[%d]", i, id, first)
		}
		seen[id] = i
	}
	return &palate.Embeddings{Embedder: name, Version: *h.Version, Dim: *h.Dimension, IDs: *h.IDs}, nil
}

// readChunk is how many bytes readRows reads at a time: big enough to keep
// the disk busy, small enough to stay in cache while converted.
const readChunk = 256 << 10

// readRows fills e.Data from the data file at path, which must hold exactly
// len(e.IDs) rows of e.Dim float32s.
func readRows(path string, e *palate.Embeddings) error {
	n := len(e.IDs)
	if n > 0 && e.Dim > math.MaxInt/4/n {
		return invalid("%s: count %d × dimension %d is too large", path, n, e.Dim)
	}
	want := int64(n) * int64(e.Dim) * 4
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return invalid("%s: data file does not exist, but its header does", path)
	}
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	if fi.Size() != want {
		return invalid("%s: file is %d bytes; want %d (count %d × dimension %d × 4)", path, fi.Size(), want, n, e.Dim)
	}
	return decodeRows(path, f, e)
}

// decodeRows fills e.Data from r, which holds exactly len(e.IDs)×e.Dim
// float32s (the caller checked the size); path names it in errors.
func decodeRows(path string, r io.Reader, e *palate.Embeddings) error {
	want := int64(len(e.IDs)) * int64(e.Dim) * 4
	e.Data = make([]float32, len(e.IDs)*e.Dim)
	buf := make([]byte, min(int64(readChunk), want))
	for done := 0; done < len(e.Data); {
		chunk := buf[:min(len(buf), 4*(len(e.Data)-done))]
		if _, err := io.ReadFull(r, chunk); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return invalid("%s: file ended after %d bytes; want %d", path, 4*done, want)
			}
			return palate.Errorf(palate.EINTERNAL, "%w", err)
		}
		if i := decodeFloats(e.Data[done:done+len(chunk)/4], chunk); i >= 0 {
			row, col := (done+i)/e.Dim, (done+i)%e.Dim
			return invalid("%s: row %d (id %q) value %d is %v; want a finite number under %d in magnitude",
				path, row, e.IDs[row], col, e.Data[done+i], palate.MaxEmbeddingValue)
		}
		done += len(chunk) / 4
	}
	return nil
}

// bigExponent is the smallest biased float32 exponent of a value not under
// palate.MaxEmbeddingValue (2^20) in magnitude; NaN and infinities (255)
// are above it.
const bigExponent = 127 + 20

// decodeFloats converts little-endian float32s from src into dst and
// returns the index of the first value that palate.EmbeddingValueOK
// refuses (NaN, infinite, or 2^20 or more in magnitude), or -1. The loop is
// branch-free: it only notes whether some exponent reached bigExponent, and
// looks for which one when so.
func decodeFloats(dst []float32, src []byte) int {
	src = src[:4*len(dst)]
	var big uint32
	for i := range dst {
		s := src[4*i : 4*i+4]
		u := binary.LittleEndian.Uint32(s)
		dst[i] = math.Float32frombits(u)
		big |= u&0x7f800000 + (256-bigExponent)<<23 // carries into bit 31 from an exponent >= bigExponent
	}
	if big&0x80000000 == 0 {
		return -1
	}
	return firstOutOfRange(dst)
}

// firstOutOfRange returns the index of the first value in v that
// palate.EmbeddingValueOK refuses, or -1.
func firstOutOfRange(v []float32) int {
	for i, x := range v {
		if !palate.EmbeddingValueOK(x) {
			return i
		}
	}
	return -1
}

// EmbeddingWriter streams an embedding table to disk row by row. Rows go to
// a temporary file; Close writes the header and renames both into place, so
// a table appears complete or not at all. Not safe for concurrent use.
type EmbeddingWriter struct {
	dir, name, version string
	dim                int
	data               *pendingFile
	ids                []string
	seen               map[string]struct{}
	buf                []byte
	err                error // first write failure; sticky
	done               bool
}

// CreateEmbeddings starts writing the table named embedder (the embedder's
// name, which names the files) into dir/embeddings, creating it if needed.
// Returns EINVALID for a bad name or a dimension that is not positive.
func CreateEmbeddings(dir, embedder, version string, dim int) (*EmbeddingWriter, error) {
	if err := checkName(embedder); err != nil {
		return nil, err
	}
	if dim <= 0 {
		return nil, invalid("embeddings %q: dimension is %d; want a positive number", embedder, dim)
	}
	if err := mkdir(filepath.Join(dir, EmbeddingsDir)); err != nil {
		return nil, err
	}
	_, dpath := embeddingPaths(dir, embedder)
	p, err := createPending(dpath)
	if err != nil {
		return nil, err
	}
	return &EmbeddingWriter{
		dir: dir, name: embedder, version: version, dim: dim, data: p,
		seen: make(map[string]struct{}), buf: make([]byte, 4*dim),
	}, nil
}

// Add appends the row for image id. Returns EINVALID, writing nothing and
// leaving the writer usable, for an empty or repeated id, a vector of the
// wrong length, or a NaN or infinite value.
func (w *EmbeddingWriter) Add(id string, vec []float32) error {
	if w.done {
		return invalid("embedding writer for %q is closed", w.name)
	}
	if w.err != nil {
		return w.err
	}
	switch {
	case id == "":
		return invalid("embedding id is empty")
	case len(vec) != w.dim:
		return invalid("embedding %q has %d values; want %d", id, len(vec), w.dim)
	}
	if i := firstOutOfRange(vec); i >= 0 {
		return invalid("embedding %q value %d is %v; want a finite number under %d in magnitude", id, i, vec[i], palate.MaxEmbeddingValue)
	}
	if _, ok := w.seen[id]; ok {
		return invalid("embedding %q added twice", id)
	}
	for i, x := range vec {
		binary.LittleEndian.PutUint32(w.buf[4*i:], math.Float32bits(x))
	}
	if _, err := w.data.w.Write(w.buf); err != nil {
		w.err = palate.Errorf(palate.EINTERNAL, "%s: %w", w.data.final, err)
		return w.err
	}
	w.seen[id] = struct{}{}
	w.ids = append(w.ids, id)
	return nil
}

// Close writes the header and renames the data and then the header into
// place. Two files cannot be swapped at once: a reader racing a rewrite of
// the same table may, for an instant, see the new data with the old header,
// which fails its size check unless the row count is unchanged. After
// an earlier write failure it removes the temporary file and returns that
// error. Calling Close again returns nil.
func (w *EmbeddingWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.err != nil {
		w.data.abort()
		return w.err
	}
	ids := w.ids
	if ids == nil {
		ids = []string{}
	}
	hb, err := json.Marshal(struct {
		Embedder  string   `json:"embedder"`
		Version   string   `json:"version"`
		Dimension int      `json:"dimension"`
		Count     int      `json:"count"`
		IDs       []string `json:"ids"`
	}{w.name, w.version, w.dim, len(ids), ids})
	if err != nil {
		w.data.abort()
		return palate.Errorf(palate.EINTERNAL, "embeddings %q header: %w", w.name, err)
	}
	if err := w.data.commit(); err != nil {
		return err
	}
	hpath, _ := embeddingPaths(w.dir, w.name)
	return writeFileAtomic(hpath, append(hb, '\n'))
}

// Abort discards the rows written so far, leaving any old table as it was.
// It does nothing after Close.
func (w *EmbeddingWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.data.abort()
}

// WriteEmbeddings writes e into dir/embeddings under e.Embedder, replacing
// any table of that name. Returns EINVALID, writing nothing, when e breaks a
// rule of the format (see the package doc) or len(e.Data) is not
// len(e.IDs)×e.Dim.
func WriteEmbeddings(dir string, e *palate.Embeddings) error {
	if e == nil {
		return invalid("WriteEmbeddings: nil embeddings")
	}
	if e.Dim > 0 && len(e.Data) != len(e.IDs)*e.Dim {
		return invalid("embeddings %q: %d values for %d ids × dimension %d", e.Embedder, len(e.Data), len(e.IDs), e.Dim)
	}
	w, err := CreateEmbeddings(dir, e.Embedder, e.Version, e.Dim)
	if err != nil {
		return err
	}
	for i, id := range e.IDs {
		if err := w.Add(id, e.Row(i)); err != nil {
			w.Abort()
			return at(fmt.Sprintf("embeddings %q row %d", e.Embedder, i), err)
		}
	}
	return w.Close()
}
