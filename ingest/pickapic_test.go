package ingest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"

	"palate"
	"palate/dataset"
	"palate/features"
)

// papRow is a Pick-a-Pic row with the columns of the published shards.
type papRow struct {
	AreDifferent bool      `parquet:"are_different"`
	BestImageUID string    `parquet:"best_image_uid"`
	Caption      string    `parquet:"caption"`
	CreatedAt    time.Time `parquet:"created_at,timestamp(nanosecond)"`
	HasLabel     bool      `parquet:"has_label"`
	Image0UID    string    `parquet:"image_0_uid"`
	Image0URL    string    `parquet:"image_0_url"`
	Image1UID    string    `parquet:"image_1_uid"`
	Image1URL    string    `parquet:"image_1_url"`
	Jpg0         []byte    `parquet:"jpg_0"`
	Jpg1         []byte    `parquet:"jpg_1"`
	Label0       float64   `parquet:"label_0"`
	Label1       float64   `parquet:"label_1"`
	Model0       string    `parquet:"model_0"`
	Model1       string    `parquet:"model_1"`
	RankingID    int64     `parquet:"ranking_id"`
	UserID       int64     `parquet:"user_id"`
	NumPerPrompt int64     `parquet:"num_example_per_prompt"`
	IndexLevel0  int64     `parquet:"__index_level_0__"`
}

func tinyJPEG(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 12, 10))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeParquet[T any](t *testing.T, path string, rows []T, rowsPerGroup int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, parquet.MaxRowsPerRowGroup(rowsPerGroup))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func pickRow(rid, user int64, uid0, uid1 string, j0, j1 []byte, label float64, at time.Time) papRow {
	return papRow{AreDifferent: true, Caption: "a cat " + uid0, CreatedAt: at, HasLabel: true,
		Image0UID: uid0, Image1UID: uid1, Jpg0: j0, Jpg1: j1, Label0: label, Label1: 1 - label,
		RankingID: rid, UserID: user, Model0: "sdxl", Model1: "sd2"}
}

func TestImportPickAPic(t *testing.T) {
	red, blue, green := tinyJPEG(t, color.RGBA{255, 0, 0, 255}), tinyJPEG(t, color.RGBA{0, 0, 255, 255}), tinyJPEG(t, color.RGBA{0, 200, 0, 255})
	t0 := time.Date(2023, 4, 1, 12, 0, 0, 123000000, time.UTC)
	rows := []papRow{
		pickRow(1, 7, "u-a", "u-b", red, blue, 1, t0),
		pickRow(2, 7, "u-a", "u-c", red, green, 0, t0.Add(time.Minute)),
		pickRow(3, 8, "u-b", "u-c", blue, green, 0.5, t0.Add(2*time.Minute)), // tie
		pickRow(4, 8, "u-d", "u-e", red, blue, 1, t0.Add(3*time.Minute)),     // no label
		pickRow(5, 9, "u-f", "u-f", red, red, 1, t0.Add(4*time.Minute)),      // identical
		pickRow(6, 9, "u-g", "u-h", red, []byte("not a jpeg"), 1, t0),        // bad image
	}
	rows[3].HasLabel = false
	rows[4].AreDifferent = false
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	writeParquet(t, a, rows, 2) // three row groups
	// The second shard repeats ranking 1 and adds one more.
	writeParquet(t, b, []papRow{rows[0], pickRow(7, 10, "u-c", "u-i", green, blue, 0, t0.Add(time.Hour))}, 10)

	out := filepath.Join(dir, "ds")
	res, err := ImportPickAPic(context.Background(), []string{a, b}, out)
	if err != nil {
		t.Fatal(err)
	}
	want := PickAPicResult{Files: 2, Rows: 8, Comparisons: 4, Ties: 1, Images: 4, Unlabeled: 1, Identical: 1, Duplicates: 1, BadImages: 1}
	got := res
	got.FirstBadImage = ""
	if got != want {
		t.Errorf("result %+v\nwant   %+v", got, want)
	}
	if !strings.Contains(res.FirstBadImage, `row 5, column "jpg_1"`) {
		t.Errorf("first bad image %q does not name row 5, jpg_1", res.FirstBadImage)
	}

	ds, err := dataset.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Comparisons) != 4 || len(ds.Images) != 4 {
		t.Fatalf("%d comparisons, %d images", len(ds.Comparisons), len(ds.Images))
	}
	c := ds.Comparisons[0]
	if c.ID != "1" || c.User != "7" || c.Image0 != "u-a" || c.Image1 != "u-b" || c.Label0 != 1 || !c.Time.Equal(t0) || c.Prompt != "a cat u-a" {
		t.Errorf("comparison 0 = %+v", c)
	}
	if ds.Comparisons[1].Label0 != 0 || ds.Comparisons[2].Label0 != 0.5 || ds.Comparisons[3].ID != "7" || ds.Comparisons[3].User != "10" {
		t.Errorf("comparisons = %+v", ds.Comparisons)
	}
	// Images: one file per uid, decodable, the right colour.
	colour := map[string]uint8{"u-a": 0, "u-b": 2, "u-c": 1, "u-i": 2} // channel that is high
	for _, im := range ds.Images {
		img, format, err := features.DecodeFile(filepath.Join(out, im.Path), features.DefaultLimits)
		if err != nil {
			t.Fatalf("image %s: %v", im.ID, err)
		}
		r, g, bl, _ := img.At(5, 5).RGBA()
		ch := []uint32{r, g, bl}
		if format != "jpeg" || ch[colour[im.ID]] < 0x9000 || im.Path != "images/"+im.ID+".jpg" {
			t.Errorf("image %s: %s at %s, pixel %v", im.ID, format, im.Path, ch)
		}
	}
	files, _ := os.ReadDir(filepath.Join(out, ImagesDir))
	if len(files) != 4 {
		t.Errorf("%d image files, want 4 (the bad row's good image is not kept)", len(files))
	}

	// A second import into the same directory is refused.
	if _, err := ImportPickAPic(context.Background(), []string{a}, out); palate.ErrorCode(err) != palate.EINVALID {
		t.Errorf("import into a dataset: %v", err)
	}
}

// Shards of a different layout: the column is missing, of the wrong type,
// or null, or a label is not 0, 0.5 or 1.
func TestImportPickAPicErrors(t *testing.T) {
	dir := t.TempDir()
	red := tinyJPEG(t, color.RGBA{255, 0, 0, 255})
	t0 := time.Date(2023, 4, 1, 12, 0, 0, 0, time.UTC)

	type noLabel struct {
		Caption   string    `parquet:"caption"`
		UserID    int64     `parquet:"user_id"`
		RankingID int64     `parquet:"ranking_id"`
		Image0UID string    `parquet:"image_0_uid"`
		Image1UID string    `parquet:"image_1_uid"`
		Jpg0      []byte    `parquet:"jpg_0"`
		Jpg1      []byte    `parquet:"jpg_1"`
		CreatedAt time.Time `parquet:"created_at,timestamp(millisecond)"`
	}
	missing := filepath.Join(dir, "missing.parquet")
	writeParquet(t, missing, []noLabel{{"c", 1, 1, "a", "b", red, red, t0}}, 10)

	type stringLabel struct {
		Caption   string    `parquet:"caption"`
		UserID    int64     `parquet:"user_id"`
		RankingID int64     `parquet:"ranking_id"`
		Image0UID string    `parquet:"image_0_uid"`
		Image1UID string    `parquet:"image_1_uid"`
		Jpg0      []byte    `parquet:"jpg_0"`
		Jpg1      []byte    `parquet:"jpg_1"`
		Label0    string    `parquet:"label_0"`
		CreatedAt time.Time `parquet:"created_at,timestamp(millisecond)"`
	}
	wrongType := filepath.Join(dir, "wrongtype.parquet")
	writeParquet(t, wrongType, []stringLabel{{"c", 1, 1, "a", "b", red, red, "1", t0}}, 10)

	type nullable struct {
		Caption   string    `parquet:"caption"`
		UserID    int64     `parquet:"user_id"`
		RankingID int64     `parquet:"ranking_id"`
		Image0UID *string   `parquet:"image_0_uid,optional"`
		Image1UID string    `parquet:"image_1_uid"`
		Jpg0      []byte    `parquet:"jpg_0"`
		Jpg1      []byte    `parquet:"jpg_1"`
		Label0    float64   `parquet:"label_0"`
		CreatedAt time.Time `parquet:"created_at,timestamp(microsecond)"`
	}
	a := "a"
	null := filepath.Join(dir, "null.parquet")
	writeParquet(t, null, []nullable{{"c", 1, 1, &a, "b", red, red, 1, t0}, {"c", 1, 2, nil, "b", red, red, 1, t0}}, 10)

	badLabel := filepath.Join(dir, "badlabel.parquet")
	r := pickRow(1, 7, "u-a", "u-b", red, red, 0.3, t0)
	r.Label1 = 0.7
	writeParquet(t, badLabel, []papRow{pickRow(2, 7, "u-a", "u-b", red, red, 1, t0), r}, 10)

	badUID := filepath.Join(dir, "baduid.parquet")
	writeParquet(t, badUID, []papRow{pickRow(2, 7, "../etc", "u-b", red, red, 1, t0)}, 10)

	notParquet := filepath.Join(dir, "not.parquet")
	os.WriteFile(notParquet, []byte("hello"), 0o644)

	tests := map[string]struct {
		file, code, want string
	}{
		"missing column": {missing, palate.EINVALID, `missing.parquet: column "label_0" is missing`},
		"wrong type":     {wrongType, palate.EINVALID, `column "label_0" is BYTE_ARRAY; want a float`},
		"null value":     {null, palate.EINVALID, `null.parquet: row 1, column "image_0_uid": value is null`},
		"bad label":      {badLabel, palate.EINVALID, `row 1, column "label_0": value is 0.3`},
		"unsafe uid":     {badUID, palate.EINVALID, `row 0, column "image_0_uid": value "../etc" is not a usable image id`},
		"not parquet":    {notParquet, palate.EINVALID, "not a readable parquet file"},
		"no file":        {filepath.Join(dir, "none.parquet"), palate.ENOTFOUND, "does not exist"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ds")
			_, err := ImportPickAPic(context.Background(), []string{tc.file}, out)
			if err == nil {
				t.Fatal("no error")
			}
			if palate.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q (%s); want %s containing %q", err, palate.ErrorCode(err), tc.code, tc.want)
			}
			// Nothing is left behind.
			if _, err := os.Stat(filepath.Join(out, dataset.ImagesFile)); err == nil {
				t.Error("images.jsonl was written")
			}
			if files, _ := os.ReadDir(filepath.Join(out, ImagesDir)); len(files) > 0 {
				t.Errorf("%d image files left", len(files))
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("the new dataset directory was left behind")
			}
		})
	}
}

// created_at may be an RFC 3339 string or a legacy INT96 timestamp, and
// user_id a string.
func TestImportPickAPicTimeColumns(t *testing.T) {
	dir := t.TempDir()
	red, blue := tinyJPEG(t, color.RGBA{255, 0, 0, 255}), tinyJPEG(t, color.RGBA{0, 0, 255, 255})
	type strTime struct {
		Caption   string  `parquet:"caption"`
		UserID    string  `parquet:"user_id"`
		RankingID int64   `parquet:"ranking_id"`
		Image0UID string  `parquet:"image_0_uid"`
		Image1UID string  `parquet:"image_1_uid"`
		Jpg0      []byte  `parquet:"jpg_0"`
		Jpg1      []byte  `parquet:"jpg_1"`
		Label0    float32 `parquet:"label_0"`
		CreatedAt string  `parquet:"created_at"`
	}
	a := filepath.Join(dir, "s.parquet")
	writeParquet(t, a, []strTime{{"c", "alice", 1, "x", "y", red, blue, 0, "2023-05-06T07:08:09Z"}}, 10)
	type int96Time struct {
		Caption   string           `parquet:"caption"`
		UserID    int32            `parquet:"user_id"`
		RankingID string           `parquet:"ranking_id"`
		Image0UID string           `parquet:"image_0_uid"`
		Image1UID string           `parquet:"image_1_uid"`
		Jpg0      []byte           `parquet:"jpg_0"`
		Jpg1      []byte           `parquet:"jpg_1"`
		Label0    float64          `parquet:"label_0"`
		CreatedAt deprecated.Int96 `parquet:"created_at"`
	}
	// 2023-05-06 is Julian day 2460071; 07:08:09 is 25689 s into it.
	nanos := uint64(25689) * 1e9
	b := filepath.Join(dir, "i.parquet")
	writeParquet(t, b, []int96Time{{"c", 42, "r-2", "x", "z", red, blue, 1, deprecated.Int96{uint32(nanos), uint32(nanos >> 32), 2460071}}}, 10)
	out := filepath.Join(dir, "ds")
	if _, err := ImportPickAPic(context.Background(), []string{a, b}, out); err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	c0, c1 := ds.Comparisons[0], ds.Comparisons[1]
	if !c0.Time.Equal(want) || c0.User != "alice" || c0.Label0 != 0 {
		t.Errorf("string time row: %+v", c0)
	}
	if !c1.Time.Equal(want) || c1.User != "42" || c1.ID != "r-2" || c1.Label0 != 1 {
		t.Errorf("int96 time row: %+v", c1)
	}
}
