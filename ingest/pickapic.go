package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG for DecodeConfig
	_ "image/png"  // register PNG
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
	_ "golang.org/x/image/webp" // register WebP

	"palate"
	"palate/dataset"
)

// ImagesDir is where a Pick-a-Pic import writes image files, inside the
// dataset directory.
const ImagesDir = "images"

// PickAPicResult counts what an import read, wrote and skipped.
type PickAPicResult struct {
	Files, Rows int
	Comparisons int // written
	Ties        int // written with label_0 0.5
	Images      int // distinct image files written
	// Rows skipped, by reason.
	Unlabeled  int // has_label false, or label_0 null
	Identical  int // are_different false, or the same image uid twice
	Duplicates int // a ranking_id already imported
	BadImages  int // image bytes that are not a PNG, JPEG or WebP
	// FirstBadImage describes the first bad image, for the log.
	FirstBadImage string
}

// pickAPicColumns are the columns read. Optional ones may be absent.
var pickAPicColumns = []struct {
	name     string
	optional bool
}{
	{"caption", false}, {"user_id", false}, {"ranking_id", false},
	{"image_0_uid", false}, {"image_1_uid", false}, {"jpg_0", false}, {"jpg_1", false},
	{"label_0", false}, {"label_1", true}, {"created_at", false},
	{"has_label", true}, {"are_different", true},
}

// ImportPickAPic reads Pick-a-Pic v1/v2 parquet shards (the columns of
// yuvalkirstain/pickapic_v1 and _v2: caption, user_id, ranking_id,
// image_0_uid, image_1_uid, jpg_0, jpg_1, label_0, label_1, created_at,
// has_label, are_different, ...) into a new dataset in dir: each distinct
// image (by uid) becomes a file under images/ and a line of images.jsonl
// with its caption as prompt, and each labelled row a comparison of user
// "user_id" with id "ranking_id" (ties kept as label_0 0.5). Rows without a
// label, with identical images, repeating a ranking_id or with image bytes
// that are not a picture are skipped and counted.
//
// Shards are read one row group at a time and a few rows at once, so a
// shard of any size needs little memory. A missing column or one of the
// wrong type is an EINVALID error naming the file and column; a null or bad
// value names the file, row and column. On any error nothing is left in dir
// but what was there before (image files written so far are removed).
func ImportPickAPic(ctx context.Context, files []string, dir string) (PickAPicResult, error) {
	var res PickAPicResult
	if len(files) == 0 {
		return res, palate.Errorf(palate.EINVALID, "no Pick-a-Pic parquet files given")
	}
	if _, err := os.Stat(filepath.Join(dir, dataset.ImagesFile)); err == nil {
		return res, palate.Errorf(palate.EINVALID, "%s already holds a dataset (%s); import into a new directory", dir, dataset.ImagesFile)
	}
	_, statErr := os.Stat(dir)
	madeDir := errors.Is(statErr, fs.ErrNotExist)
	imgDir := filepath.Join(dir, ImagesDir)
	_, statErr = os.Stat(imgDir)
	madeImgDir := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		return res, palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	w, err := dataset.Create(dir)
	if err != nil {
		return res, err
	}
	imp := &papImporter{w: w, dir: dir, images: map[string]bool{}, rankings: map[string]bool{}, res: &res,
		madeDir: madeDir, madeImgDir: madeImgDir, imgDir: imgDir}
	for _, f := range files {
		if err := imp.file(ctx, f); err != nil {
			w.Abort()
			imp.removeImages()
			return res, err
		}
		res.Files++
	}
	if err := w.Close(); err != nil {
		imp.removeImages()
		return res, err
	}
	return res, nil
}

type papImporter struct {
	w        *dataset.Writer
	dir      string
	images   map[string]bool // uid -> written
	written  []string        // paths of files written, for cleanup
	rankings map[string]bool
	res      *PickAPicResult
	// madeDir and madeImgDir say whether the import created dir and its
	// images directory, which a failed import then removes too.
	madeDir, madeImgDir bool
	imgDir              string
}

// removeImages undoes a failed import: the image files it wrote, and the
// directories it created (each only if empty).
func (p *papImporter) removeImages() {
	for _, f := range p.written {
		os.Remove(f)
	}
	if p.madeImgDir {
		os.Remove(p.imgDir)
	}
	if p.madeDir {
		os.Remove(p.dir)
	}
}

// column is one column of a shard: its index in a row and how to read it.
type column struct {
	name  string
	index int
	kind  parquet.Kind
	unit  time.Duration // for int64 timestamps
	ok    bool
}

func (p *papImporter) file(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return palate.Errorf(palate.ENOTFOUND, "Pick-a-Pic file %s does not exist", path)
	}
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return palate.Errorf(palate.EINVALID, "%s is not a readable parquet file: %v", path, err)
	}
	cols, err := papColumns(path, pf.Schema())
	if err != nil {
		return err
	}
	base := 0
	buf := make([]parquet.Row, 16)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		i := 0
		for {
			if err := ctx.Err(); err != nil {
				rows.Close()
				return err
			}
			n, rerr := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				if err := p.row(path, base+i, row, cols); err != nil {
					rows.Close()
					return err
				}
				i++
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rows.Close()
				return palate.Errorf(palate.EINVALID, "%s: row group at row %d: %v", path, base+i, rerr)
			}
		}
		rows.Close()
		base += int(rg.NumRows())
	}
	p.res.Rows += base
	return nil
}

// papColumns finds the columns and checks their types.
func papColumns(path string, schema *parquet.Schema) (map[string]*column, error) {
	cols := map[string]*column{}
	for _, c := range pickAPicColumns {
		leaf, ok := schema.Lookup(c.name)
		if !ok {
			if c.optional {
				cols[c.name] = &column{name: c.name}
				continue
			}
			return nil, palate.Errorf(palate.EINVALID, "%s: column %q is missing; is this a Pick-a-Pic shard?", path, c.name)
		}
		if leaf.MaxRepetitionLevel > 0 {
			return nil, palate.Errorf(palate.EINVALID, "%s: column %q is a list; want one value per row", path, c.name)
		}
		col := &column{name: c.name, index: leaf.ColumnIndex, kind: leaf.Node.Type().Kind(), ok: true}
		want := ""
		switch c.name {
		case "caption", "image_0_uid", "image_1_uid", "jpg_0", "jpg_1":
			if col.kind != parquet.ByteArray {
				want = "a string or binary (BYTE_ARRAY)"
			}
		case "user_id", "ranking_id":
			if col.kind != parquet.Int64 && col.kind != parquet.Int32 && col.kind != parquet.ByteArray {
				want = "an integer or string"
			}
		case "label_0", "label_1":
			if col.kind != parquet.Double && col.kind != parquet.Float {
				want = "a float (DOUBLE or FLOAT)"
			}
		case "has_label", "are_different":
			if col.kind != parquet.Boolean {
				want = "a BOOLEAN"
			}
		case "created_at":
			switch col.kind {
			case parquet.Int96, parquet.ByteArray:
			case parquet.Int64:
				col.unit = timestampUnit(leaf.Node.Type())
				if col.unit == 0 {
					want = "a timestamp (INT64 with a TIMESTAMP type, INT96 or an RFC 3339 string)"
				}
			default:
				want = "a timestamp (INT64 with a TIMESTAMP type, INT96 or an RFC 3339 string)"
			}
		}
		if want != "" {
			return nil, palate.Errorf(palate.EINVALID, "%s: column %q is %s; want %s", path, c.name, col.kind, want)
		}
		cols[c.name] = col
	}
	return cols, nil
}

// timestampUnit is the unit of an INT64 timestamp column, or 0.
func timestampUnit(t parquet.Type) time.Duration {
	if lt := t.LogicalType(); lt != nil {
		if ts, ok := lt.Value.(*format.TimestampType); ok {
			switch ts.Unit.Value.(type) {
			case *format.MilliSeconds:
				return time.Millisecond
			case *format.MicroSeconds:
				return time.Microsecond
			case *format.NanoSeconds:
				return time.Nanosecond
			}
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.TimestampMillis:
			return time.Millisecond
		case deprecated.TimestampMicros:
			return time.Microsecond
		}
	}
	return 0
}

// rowError names the file, row and column of a bad value.
func rowError(path string, row int, col, format string, args ...any) error {
	return palate.Errorf(palate.EINVALID, "%s: row %d, column %q: %s", path, row, col, fmt.Sprintf(format, args...))
}

func (p *papImporter) row(path string, i int, row parquet.Row, cols map[string]*column) error {
	val := func(name string) (parquet.Value, bool, error) {
		c := cols[name]
		if !c.ok {
			return parquet.Value{}, false, nil
		}
		if c.index >= len(row) {
			return parquet.Value{}, false, rowError(path, i, name, "row has %d values", len(row))
		}
		v := row[c.index]
		return v, !v.IsNull(), nil
	}
	str := func(name string, required bool) (string, error) {
		v, ok, err := val(name)
		if err != nil {
			return "", err
		}
		if !ok {
			if required {
				return "", rowError(path, i, name, "value is null")
			}
			return "", nil
		}
		switch cols[name].kind {
		case parquet.Int64:
			return strconv.FormatInt(v.Int64(), 10), nil
		case parquet.Int32:
			return strconv.FormatInt(int64(v.Int32()), 10), nil
		}
		return string(v.ByteArray()), nil
	}
	boolean := func(name string) (value, present bool, err error) {
		v, ok, err := val(name)
		return ok && v.Boolean(), ok, err
	}

	if has, present, err := boolean("has_label"); err != nil {
		return err
	} else if present && !has {
		p.res.Unlabeled++
		return nil
	}
	lv, ok, err := val("label_0")
	if err != nil {
		return err
	}
	if !ok {
		p.res.Unlabeled++
		return nil
	}
	label := lv.Double()
	if cols["label_0"].kind == parquet.Float {
		label = float64(lv.Float())
	}
	if label != 0 && label != 0.5 && label != 1 {
		return rowError(path, i, "label_0", "value is %v; want 0, 0.5 or 1", label)
	}
	if l1, ok, err := val("label_1"); err != nil {
		return err
	} else if ok {
		other := l1.Double()
		if cols["label_1"].kind == parquet.Float {
			other = float64(l1.Float())
		}
		if label+other != 1 {
			return rowError(path, i, "label_1", "value is %v but label_0 is %v; want them to sum to 1", other, label)
		}
	}
	uid0, err := str("image_0_uid", true)
	if err != nil {
		return err
	}
	uid1, err := str("image_1_uid", true)
	if err != nil {
		return err
	}
	for k, u := range []string{uid0, uid1} {
		if err := checkUID(u); err != nil {
			return rowError(path, i, fmt.Sprintf("image_%d_uid", k), "%v", err)
		}
	}
	if diff, present, err := boolean("are_different"); err != nil {
		return err
	} else if (present && !diff) || uid0 == uid1 {
		p.res.Identical++
		return nil
	}
	rid, err := str("ranking_id", true)
	if err != nil {
		return err
	}
	if p.rankings[rid] {
		p.res.Duplicates++
		return nil
	}
	user, err := str("user_id", true)
	if err != nil {
		return err
	}
	if user == "" {
		return rowError(path, i, "user_id", "value is empty")
	}
	caption, err := str("caption", false)
	if err != nil {
		return err
	}
	when, err := p.time(path, i, row, cols["created_at"])
	if err != nil {
		return err
	}
	// Check both new images before writing either, so a row with one bad
	// image leaves no file behind.
	type pending struct {
		uid, format, where string
		data               []byte
	}
	var todo []pending
	for k, uid := range []string{uid0, uid1} {
		if p.images[uid] {
			continue
		}
		col := fmt.Sprintf("jpg_%d", k)
		v, ok, err := val(col)
		if err != nil {
			return err
		}
		if !ok {
			return rowError(path, i, col, "value is null")
		}
		where := fmt.Sprintf("%s: row %d, column %q", path, i, col)
		data := v.ByteArray()
		_, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			p.res.BadImages++
			if p.res.FirstBadImage == "" {
				p.res.FirstBadImage = fmt.Sprintf("%s: %d bytes that are not a PNG, JPEG or WebP (%v)", where, len(data), err)
			}
			return nil
		}
		todo = append(todo, pending{uid, format, where, data})
	}
	for _, im := range todo {
		if err := p.image(im.uid, caption, im.format, im.data, im.where); err != nil {
			return err
		}
	}
	c := palate.Comparison{ID: rid, User: user, Prompt: caption, Image0: uid0, Image1: uid1, Label0: label, Time: when}
	if err := p.w.Comparison(c); err != nil {
		return palate.Errorf(palate.ErrorCode(err), "%s: row %d: %v", path, i, err)
	}
	p.rankings[rid] = true
	p.res.Comparisons++
	if label == 0.5 {
		p.res.Ties++
	}
	return nil
}

// image writes one image file and its images.jsonl line.
func (p *papImporter) image(uid, caption, format string, data []byte, where string) error {
	ext := map[string]string{"jpeg": ".jpg", "png": ".png", "webp": ".webp"}[format]
	rel := ImagesDir + "/" + uid + ext
	full := filepath.Join(p.dir, filepath.FromSlash(rel))
	if err := os.WriteFile(full, data, 0o644); err != nil {
		return palate.Errorf(palate.EINTERNAL, "%w", err)
	}
	p.written = append(p.written, full)
	if err := p.w.Image(palate.Image{ID: uid, Prompt: caption, Path: rel}); err != nil {
		return palate.Errorf(palate.ErrorCode(err), "%s: %v", where, err)
	}
	p.images[uid] = true
	p.res.Images++
	return nil
}

// checkUID accepts ids that are safe as file names: Pick-a-Pic's are UUIDs.
func checkUID(u string) error {
	if u == "" {
		return errors.New("value is empty")
	}
	if len(u) > 200 || u[0] == '.' {
		return fmt.Errorf("value %q is not a usable image id", u)
	}
	for _, r := range u {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("value %q has %q; want letters, digits, '.', '_' and '-'", u, r)
		}
	}
	return nil
}

// time reads created_at.
func (p *papImporter) time(path string, i int, row parquet.Row, c *column) (time.Time, error) {
	v := row[c.index]
	if v.IsNull() {
		return time.Time{}, rowError(path, i, c.name, "value is null")
	}
	var t time.Time
	switch c.kind {
	case parquet.Int64:
		per := int64(time.Second / c.unit) // units per second
		t = time.Unix(v.Int64()/per, v.Int64()%per*int64(c.unit))
	case parquet.Int96:
		t = int96Time(v.Int96())
	case parquet.ByteArray:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, string(v.ByteArray())); err != nil {
			return time.Time{}, rowError(path, i, c.name, "value %q is not an RFC 3339 time", v.ByteArray())
		}
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, rowError(path, i, c.name, "value %s is not a plausible time", t.Format(time.RFC3339))
	}
	return t.UTC(), nil
}

// int96Time decodes the legacy INT96 timestamp: nanoseconds of the day in
// the low 8 bytes, the Julian day in the high 4.
func int96Time(v deprecated.Int96) time.Time {
	nanos := int64(uint64(v[1])<<32 | uint64(v[0]))
	days := int64(v[2]) - 2440588 // Julian day of 1970-01-01
	return time.Unix(days*86400, nanos)
}
