package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"palate"
	"palate/dataset"
)

// EmbeddingsOptions says which vectors ImportEmbeddings brings into which
// dataset.
type EmbeddingsOptions struct {
	Dir  string // the dataset directory (its images.jsonl names the images)
	Name string // the table name: embeddings/Name.f32
	File string // a .npy (float32 or float16, 2-D) or .jsonl ({"id", "vector"}) file
	// IDs is a text file of image ids, one per line, naming the rows of a
	// .npy file; empty means the rows follow images.jsonl.
	IDs string
	// Version is stored in the table's header ("imported from FILE" when
	// empty).
	Version string
	// Replace lets the import overwrite a table of the same name already
	// in the dataset; without it that is an ECONFLICT error.
	Replace bool
}

// EmbeddingsResult describes an import.
type EmbeddingsResult struct {
	Rows, Dim int
	Format    string // "npy float32", "npy float16" or "jsonl"
}

// ImportEmbeddings writes the table o.Name into o.Dir from vectors computed
// elsewhere. Every image of images.jsonl must get exactly one finite vector
// of one dimension, and every id must be an image of the dataset; the first
// problem is an EINVALID error naming the file and line (or row) and the
// ids, and nothing is written: the table appears whole or not at all (any
// old table of that name is kept on failure). An existing table of that
// name is replaced only with o.Replace.
func ImportEmbeddings(ctx context.Context, o EmbeddingsOptions) (EmbeddingsResult, error) {
	if !o.Replace {
		names, err := dataset.EmbeddingNames(o.Dir)
		if err != nil {
			return EmbeddingsResult{}, err
		}
		if slices.Contains(names, o.Name) {
			return EmbeddingsResult{}, palate.Errorf(palate.ECONFLICT, "%s already holds embeddings %q: replace them explicitly (--replace), or choose another name", o.Dir, o.Name)
		}
	}
	images, index, err := imageOrder(o.Dir)
	if err != nil {
		return EmbeddingsResult{}, err
	}
	if o.Version == "" {
		o.Version = "imported from " + filepath.Base(o.File)
	}
	f, err := os.Open(o.File)
	if errors.Is(err, fs.ErrNotExist) {
		return EmbeddingsResult{}, palate.Errorf(palate.ENOTFOUND, "embeddings file %s does not exist", o.File)
	}
	if err != nil {
		return EmbeddingsResult{}, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	defer f.Close()
	switch ext := strings.ToLower(filepath.Ext(o.File)); ext {
	case ".npy":
		return importNPY(ctx, o, f, images, index)
	case ".jsonl":
		if o.IDs != "" {
			return EmbeddingsResult{}, palate.Errorf(palate.EINVALID, "--ids is for .npy files; a .jsonl file names each row's id")
		}
		return importJSONL(ctx, o, f, images, index)
	default:
		return EmbeddingsResult{}, palate.Errorf(palate.EINVALID, "embeddings file %s: extension %q; want .npy or .jsonl", o.File, ext)
	}
}

// imageOrder returns the dataset's image ids in file order and by id.
func imageOrder(dir string) ([]string, map[string]int, error) {
	var ids []string
	index := map[string]int{}
	err := dataset.ScanImages(filepath.Join(dir, dataset.ImagesFile), func(im palate.Image) error {
		index[im.ID] = len(ids)
		ids = append(ids, im.ID)
		return nil
	})
	return ids, index, err
}

// missingError names images that got no vector, or returns nil.
func missingError(file string, images []string, got []bool) error {
	var miss []string
	for i, ok := range got {
		if !ok {
			miss = append(miss, images[i])
		}
	}
	if len(miss) == 0 {
		return nil
	}
	show := miss[:min(5, len(miss))]
	return palate.Errorf(palate.EINVALID, "%s: %d images of %s have no vector, e.g. %q", file, len(miss), dataset.ImagesFile, show)
}

func importNPY(ctx context.Context, o EmbeddingsOptions, f io.Reader, images []string, index map[string]int) (EmbeddingsResult, error) {
	npy, err := OpenNPY(f, o.File)
	if err != nil {
		return EmbeddingsResult{}, err
	}
	ids, idsName := images, dataset.ImagesFile
	if o.IDs != "" {
		if ids, err = readIDs(o.IDs, index); err != nil {
			return EmbeddingsResult{}, err
		}
		idsName = o.IDs
	}
	if npy.Rows != len(ids) {
		return EmbeddingsResult{}, palate.Errorf(palate.EINVALID, "%s has %d rows but %s names %d images; row i must be the image on line i", o.File, npy.Rows, idsName, len(ids))
	}
	got := make([]bool, len(images))
	for _, id := range ids {
		got[index[id]] = true
	}
	if err := missingError(idsName, images, got); err != nil {
		return EmbeddingsResult{}, err
	}
	w, err := dataset.CreateEmbeddings(o.Dir, o.Name, o.Version, npy.Cols)
	if err != nil {
		return EmbeddingsResult{}, err
	}
	row := make([]float32, npy.Cols)
	for i, id := range ids {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				w.Abort()
				return EmbeddingsResult{}, err
			}
		}
		if err := npy.Next(row); err != nil {
			w.Abort()
			return EmbeddingsResult{}, err
		}
		if err := w.Add(id, row); err != nil {
			w.Abort()
			return EmbeddingsResult{}, palate.Errorf(palate.ErrorCode(err), "%s row %d (%s line %d): %v", o.File, i, idsName, i+1, err)
		}
	}
	format := "npy float32"
	if npy.DType == "<f2" {
		format = "npy float16"
	}
	return EmbeddingsResult{Rows: len(ids), Dim: npy.Cols, Format: format}, w.Close()
}

// readIDs reads an ids file: one id per line, every one an image of the
// dataset, none twice; a last empty line is allowed.
func readIDs(path string, index map[string]int) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, palate.Errorf(palate.ENOTFOUND, "ids file %s does not exist", path)
	}
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	lines := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
	seen := make(map[string]int, len(lines))
	for i, id := range lines {
		switch {
		case id == "":
			return nil, palate.Errorf(palate.EINVALID, "%s:%d: empty id", path, i+1)
		case strings.TrimSpace(id) != id:
			return nil, palate.Errorf(palate.EINVALID, "%s:%d: id %q has spaces around it", path, i+1, id)
		}
		if _, ok := index[id]; !ok {
			return nil, palate.Errorf(palate.EINVALID, "%s:%d: id %q is not an image of %s", path, i+1, id, dataset.ImagesFile)
		}
		if first, ok := seen[id]; ok {
			return nil, palate.Errorf(palate.EINVALID, "%s:%d: id %q repeats line %d", path, i+1, id, first)
		}
		seen[id] = i + 1
	}
	return lines, nil
}

// MaxJSONLLine bounds one line of a .jsonl embeddings file (a 16,384-float
// vector printed in full precision fits).
const MaxJSONLLine = 1 << 20

func importJSONL(ctx context.Context, o EmbeddingsOptions, f io.Reader, images []string, index map[string]int) (EmbeddingsResult, error) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), MaxJSONLLine)
	var w *dataset.EmbeddingWriter
	fail := func(err error) (EmbeddingsResult, error) {
		if w != nil {
			w.Abort()
		}
		return EmbeddingsResult{}, err
	}
	got := make([]bool, len(images))
	seen := map[string]int{}
	var row []float32
	rows, line := 0, 0
	for sc.Scan() {
		line++
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
		}
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		loc := fmt.Sprintf("%s:%d", o.File, line)
		var rec struct {
			ID     *string    `json:"id"`
			Vector *[]float64 `json:"vector"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return fail(palate.Errorf(palate.EINVALID, "%s: %v; want {\"id\": \"...\", \"vector\": [numbers]}", loc, err))
		}
		if dec.More() {
			return fail(palate.Errorf(palate.EINVALID, "%s: more than one JSON value on the line", loc))
		}
		switch {
		case rec.ID == nil:
			return fail(palate.Errorf(palate.EINVALID, "%s: field \"id\" is missing", loc))
		case rec.Vector == nil:
			return fail(palate.Errorf(palate.EINVALID, "%s: field \"vector\" is missing", loc))
		}
		id, vec := *rec.ID, *rec.Vector
		k, ok := index[id]
		if !ok {
			return fail(palate.Errorf(palate.EINVALID, "%s: id %q is not an image of %s", loc, id, dataset.ImagesFile))
		}
		if first, ok := seen[id]; ok {
			return fail(palate.Errorf(palate.EINVALID, "%s: id %q repeats line %d", loc, id, first))
		}
		if w == nil {
			if len(vec) == 0 {
				return fail(palate.Errorf(palate.EINVALID, "%s: vector is empty", loc))
			}
			var err error
			if w, err = dataset.CreateEmbeddings(o.Dir, o.Name, o.Version, len(vec)); err != nil {
				return fail(err)
			}
			row = make([]float32, len(vec))
		}
		if len(vec) != len(row) {
			return fail(palate.Errorf(palate.EINVALID, "%s: vector of %q has %d values; line %d set the dimension to %d", loc, id, len(vec), firstLine(seen), len(row)))
		}
		for j, x := range vec {
			row[j] = float32(x)
			if math.IsInf(float64(row[j]), 0) {
				return fail(palate.Errorf(palate.EINVALID, "%s: vector of %q value %d is %v, beyond float32", loc, id, j, x))
			}
		}
		if err := w.Add(id, row); err != nil {
			return fail(palate.Errorf(palate.ErrorCode(err), "%s: %v", loc, err))
		}
		seen[id], got[k] = line, true
		rows++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fail(palate.Errorf(palate.EINVALID, "%s:%d: line longer than %d bytes", o.File, line+1, MaxJSONLLine))
		}
		return fail(palate.Errorf(palate.EINTERNAL, "%s: %w", o.File, err))
	}
	if w == nil {
		return fail(palate.Errorf(palate.EINVALID, "%s holds no vectors", o.File))
	}
	if err := missingError(o.File, images, got); err != nil {
		return fail(err)
	}
	return EmbeddingsResult{Rows: rows, Dim: len(row), Format: "jsonl"}, w.Close()
}

// firstLine is the smallest line number in seen (the line that set the
// dimension).
func firstLine(seen map[string]int) int {
	first := 0
	for _, l := range seen {
		if first == 0 || l < first {
			first = l
		}
	}
	return first
}
