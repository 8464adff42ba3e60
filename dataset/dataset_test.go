package dataset

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"palate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	t0   = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ist  = time.FixedZone("", 5*3600+30*60)
	tIST = time.Date(2025, 3, 2, 9, 30, 15, 123456789, ist)
)

// sample is a small dataset that uses every feature of the format.
func sample() *Dataset {
	return &Dataset{
		Images: []palate.Image{
			{ID: "img-1", Prompt: "a red fox in snow", Path: "images/img-1.png"},
			{ID: "img-2", Prompt: "a red fox in snow", Path: "images/img-2.png"},
			{ID: "img-3", Prompt: "über \"quoted\" <tag> & line\nbreak \u2603"},
			{ID: "img-4"},
		},
		Comparisons: []palate.Comparison{
			{ID: "c-1", User: "u-1", Prompt: "a red fox in snow", Image0: "img-1", Image1: "img-2", Label0: 1, Time: t0},
			{ID: "c-2", User: "u-1", Image0: "img-2", Image1: "img-1", Label0: 0, Time: t0.Add(time.Hour)},
			{ID: "c-3", User: "u-2", Prompt: "tie", Image0: "img-3", Image1: "img-4", Label0: 0.5, Time: tIST},
		},
		Votes: []palate.Vote{
			{ID: "v-1", User: "u-2", Image: "img-1", Vote: palate.Like, Time: t0},
			{ID: "v-2", User: "u-3", Image: "img-4", Vote: palate.Dislike, Time: tIST},
		},
		Splits: &Splits{
			UnseenUsers:     []string{"u-3"},
			ValidationUsers: []string{"u-2"},
			Cutoff:          map[string]time.Time{"u-1": t0.Add(30 * time.Minute)},
		},
	}
}

// norm makes datasets comparable with reflect.DeepEqual: times in UTC, no
// Dir, empty and nil slices alike.
func norm(d *Dataset) *Dataset {
	out := &Dataset{Images: d.Images}
	for _, c := range d.Comparisons {
		c.Time = c.Time.UTC()
		out.Comparisons = append(out.Comparisons, c)
	}
	for _, v := range d.Votes {
		v.Time = v.Time.UTC()
		out.Votes = append(out.Votes, v)
	}
	if len(out.Images) == 0 {
		out.Images = nil
	}
	out.Splits = normSplits(d.Splits)
	return out
}

func normSplits(s *Splits) *Splits {
	if s == nil {
		return nil
	}
	out := &Splits{}
	out.UnseenUsers = append(out.UnseenUsers, s.UnseenUsers...)
	out.ValidationUsers = append(out.ValidationUsers, s.ValidationUsers...)
	if len(s.Cutoff) > 0 {
		out.Cutoff = make(map[string]time.Time)
		for u, c := range s.Cutoff {
			out.Cutoff[u] = c.UTC()
		}
	}
	return out
}

func assertEqual(t *testing.T, got, want *Dataset) {
	t.Helper()
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("datasets differ\ngot  %+v\nwant %+v", g, w)
	}
}

func TestRoundTrip(t *testing.T) {
	cases := map[string]*Dataset{
		"everything":  sample(),
		"images only": {Images: []palate.Image{{ID: "a"}, {ID: "b", Prompt: "p"}}},
		"empty":       {},
		"no splits":   func() *Dataset { d := sample(); d.Splits = nil; return d }(),
		"empty splits": func() *Dataset {
			d := sample()
			d.Splits = &Splits{}
			return d
		}(),
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new", "dir")
			if err := Write(dir, want); err != nil {
				t.Fatal(err)
			}
			got, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.Dir != dir {
				t.Errorf("Dir = %q; want %q", got.Dir, dir)
			}
			assertEqual(t, got, want)
			assertNoTemp(t, dir)
		})
	}
}

// TestWriterRoundTrip streams records in an order Write never uses (images
// last) and reads them back.
func TestWriterRoundTrip(t *testing.T) {
	want := sample()
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range want.Votes {
		if err := w.Vote(v); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range want.Comparisons {
		if err := w.Comparison(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, im := range want.Images {
		if err := w.Image(im); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := WriteSplits(dir, want.Splits); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, want)
	assertNoTemp(t, dir)
}

func TestWriterRejects(t *testing.T) {
	tests := map[string]struct {
		write func(w *Writer) error
		want  string
	}{
		"empty image id":  {func(w *Writer) error { return w.Image(palate.Image{}) }, "id is empty"},
		"escaping path":   {func(w *Writer) error { return w.Image(palate.Image{ID: "x", Path: "../x.png"}) }, `path "../x.png"`},
		"duplicate image": {func(w *Writer) error { return w.Image(palate.Image{ID: "img-1"}) }, `images.jsonl: duplicate id "img-1"`},
		"bad label": {func(w *Writer) error {
			return w.Comparison(palate.Comparison{ID: "c", User: "u", Image0: "img-1", Image1: "img-2", Label0: 0.3, Time: t0})
		}, "label_0 is 0.3; want 0, 0.5 or 1"},
		"same images": {func(w *Writer) error {
			return w.Comparison(palate.Comparison{ID: "c", User: "u", Image0: "img-1", Image1: "img-1", Label0: 1, Time: t0})
		}, `image_0 and image_1 are both "img-1"`},
		"zero time": {func(w *Writer) error {
			return w.Comparison(palate.Comparison{ID: "c", User: "u", Image0: "img-1", Image1: "img-2", Label0: 1})
		}, "time is missing"},
		"bad vote": {func(w *Writer) error {
			return w.Vote(palate.Vote{ID: "v", User: "u", Image: "img-1", Vote: "meh", Time: t0})
		}, `vote is "meh"`},
		"vote without user": {func(w *Writer) error {
			return w.Vote(palate.Vote{ID: "v", Image: "img-1", Vote: palate.Like, Time: t0})
		}, "user is empty"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Create(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			for _, im := range sample().Images {
				if err := w.Image(im); err != nil {
					t.Fatal(err)
				}
			}
			err = tt.write(w)
			assertError(t, err, palate.EINVALID, tt.want)
			// The writer stays usable and the bad record is not written.
			if err := w.Close(); err != nil {
				t.Fatalf("Close after a rejected record: %v", err)
			}
			d, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Images) != 4 || len(d.Comparisons) != 0 || len(d.Votes) != 0 {
				t.Errorf("read %d images, %d comparisons, %d votes; want 4, 0, 0", len(d.Images), len(d.Comparisons), len(d.Votes))
			}
		})
	}
}

// TestWriterMissingImage checks that a failed Close leaves the old dataset
// in place and no temporary files.
func TestWriterMissingImage(t *testing.T) {
	dir := t.TempDir()
	old := sample()
	if err := Write(dir, old); err != nil {
		t.Fatal(err)
	}
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Image(palate.Image{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Comparison(palate.Comparison{ID: "c", User: "u-1", Image0: "a", Image1: "ghost", Label0: 1, Time: t0}); err != nil {
		t.Fatal(err)
	}
	assertError(t, w.Close(), palate.EINVALID, `comparison "c" image_1 "ghost" was never written`)
	if err := w.Image(palate.Image{ID: "b"}); palate.ErrorCode(err) != palate.EINVALID {
		t.Errorf("Image after Close: %v; want EINVALID", err)
	}
	assertNoTemp(t, dir)
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, old)
}

func TestWriterAbort(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Image(palate.Image{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort()
	if err := w.Close(); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("dir holds %v after Abort; want nothing", entries)
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	tests := map[string]struct {
		edit func(d *Dataset)
		want string
	}{
		"duplicate image": {func(d *Dataset) { d.Images[1].ID = "img-1" }, `images[1]: duplicate id "img-1" (first seen at index 0)`},
		"unknown image":   {func(d *Dataset) { d.Comparisons[2].Image1 = "nope" }, `comparisons[2]: image_1 "nope" is not among the images`},
		"bad label":       {func(d *Dataset) { d.Comparisons[0].Label0 = 2 }, "comparisons[0]: comparison \"c-1\": label_0 is 2"},
		"vote image":      {func(d *Dataset) { d.Votes[1].Image = "" }, `votes[1]: vote "v-2": image is empty`},
		"splits overlap":  {func(d *Dataset) { d.Splits.ValidationUsers = []string{"u-3"} }, `splits: user "u-3" is in both`},
		"splits stranger": {func(d *Dataset) { d.Splits.Cutoff["u-9"] = t0 }, `splits: cutoff names user "u-9", who has no comparisons or votes`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := sample()
			tt.edit(d)
			dir := filepath.Join(t.TempDir(), "ds")
			assertError(t, Write(dir, d), palate.EINVALID, tt.want)
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("Write created %s for an invalid dataset", dir)
			}
		})
	}
}

func TestWriteRemovesStaleSplits(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, sample()); err != nil {
		t.Fatal(err)
	}
	d := sample()
	d.Splits = nil
	if err := Write(dir, d); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Splits != nil {
		t.Errorf("Splits = %+v; want nil", got.Splits)
	}
}

func TestReadOptionalFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{ImagesFile: `{"id":"a"}` + "\r\n\r\n" + `{"id":"b","prompt":"x"}`})
	d, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{Images: []palate.Image{{ID: "a"}, {ID: "b", Prompt: "x"}}}
	assertEqual(t, d, want)
	if d.Splits != nil {
		t.Errorf("Splits = %+v; want nil", d.Splits)
	}
	if s, err := ReadSplits(dir); s != nil || err != nil {
		t.Errorf("ReadSplits = %v, %v; want nil, nil", s, err)
	}
}

func TestReadMissingImages(t *testing.T) {
	dir := t.TempDir()
	_, err := Read(dir)
	assertError(t, err, palate.EINVALID, filepath.Join(dir, ImagesFile)+": file does not exist")
}

// Lines of the files in a small valid dataset; readErrorTests replace one
// file at a time.
const (
	goodImages = `{"id":"a","prompt":"p","path":"a.png"}
{"id":"b","prompt":"p"}
{"id":"c"}
`
	goodComparisons = `{"id":"c1","user":"u1","prompt":"p","image_0":"a","image_1":"b","label_0":1,"time":"2025-03-01T12:00:00Z"}
{"id":"c2","user":"u1","image_0":"b","image_1":"c","label_0":0.5,"time":"2025-03-01T13:00:00.5+02:00"}
`
	goodVotes = `{"id":"v1","user":"u2","image":"a","vote":"like","time":"2025-03-01T12:00:00Z"}
{"id":"v2","user":"u3","image":"c","vote":"dislike","time":"2025-03-01T12:00:00Z"}
`
	goodSplits = `{"unseen_users": ["u3"], "validation_users": ["u2"],
 "cutoff": {"u1": "2025-03-01T12:30:00Z"}}
`
)

func TestReadErrors(t *testing.T) {
	cmp := func(fields string) string {
		return goodComparisons + `{"id":"c3",` + fields + "}\n"
	}
	tests := map[string]struct {
		file, content string
		wantLoc       string // file[:line] that must start the message
		want          string // and what must follow
	}{
		// images.jsonl
		"malformed json":      {ImagesFile, `{"id":"a"}` + "\n" + `{"id":"b",`, "images.jsonl:2", "malformed JSON"},
		"not an object":       {ImagesFile, `["a"]`, "images.jsonl:1", "want a JSON object"},
		"unknown field":       {ImagesFile, `{"id":"a","url":"x"}`, "images.jsonl:1", `unknown field "url"`},
		"trailing data":       {ImagesFile, `{"id":"a"} {"id":"b"}`, "images.jsonl:1", "unexpected data after the JSON object"},
		"missing id":          {ImagesFile, `{"prompt":"p"}`, "images.jsonl:1", "missing id"},
		"null id":             {ImagesFile, `{"id":null}`, "images.jsonl:1", "missing id"},
		"empty id":            {ImagesFile, `{"id":""}`, "images.jsonl:1", "id is empty"},
		"wrong type":          {ImagesFile, `{"id":5}`, "images.jsonl:1", "id is a JSON number; want a string"},
		"duplicate image":     {ImagesFile, goodImages + `{"id":"b"}`, "images.jsonl:4", `duplicate id "b" (first seen at line 2)`},
		"absolute path":       {ImagesFile, `{"id":"a","path":"/etc/passwd"}`, "images.jsonl:1", `path "/etc/passwd" must be relative`},
		"escaping path":       {ImagesFile, `{"id":"a","path":"x/../../y.png"}`, "images.jsonl:1", `path "x/../../y.png" must be relative`},
		"invalid utf-8":       {ImagesFile, "{\"id\":\"a\xff\"}", "images.jsonl:1", "not valid UTF-8"},
		"key given twice":     {ImagesFile, `{"id":"a","prompt":"p","prompt":"q"}`, "images.jsonl:1", `key "prompt" is given twice`},
		"key in another case": {ImagesFile, `{"ID":"a"}`, "images.jsonl:1", `unknown field "ID" (field names are case-sensitive: want "id")`},
		"lone surrogate":      {ImagesFile, `{"id":"a\ud800"}`, "images.jsonl:1", `\ud800 at byte 8 is half of a UTF-16 surrogate pair`},
		"blank lines counted": {ImagesFile, "\n  \n" + `{"id":""}`, "images.jsonl:3", "id is empty"},

		// comparisons.jsonl
		"missing user":      {ComparisonsFile, cmp(`"image_0":"a","image_1":"b","label_0":1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", "missing user"},
		"missing image_0":   {ComparisonsFile, cmp(`"user":"u","image_1":"b","label_0":1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", "missing image_0"},
		"missing label":     {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", "missing label_0"},
		"missing time":      {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","label_0":1`), "comparisons.jsonl:3", "missing time"},
		"empty user":        {ComparisonsFile, cmp(`"user":"","image_0":"a","image_1":"b","label_0":1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", `comparison "c3": user is empty`},
		"empty image_1":     {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"","label_0":1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", `image_1 is empty`},
		"same images":       {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"a","label_0":1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", `image_0 and image_1 are both "a"`},
		"unknown image":     {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"zz","label_0":1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", `image_1 "zz" is not in images.jsonl`},
		"label 0.3":         {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","label_0":0.3,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", "label_0 is 0.3; want 0, 0.5 or 1"},
		"label -1":          {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","label_0":-1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", "label_0 is -1; want 0, 0.5 or 1"},
		"label string":      {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","label_0":"1","time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", "label_0 is a JSON string; want a number"},
		"bad time":          {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","label_0":1,"time":"yesterday"`), "comparisons.jsonl:3", `time "yesterday" is not an RFC 3339 time`},
		"time without zone": {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","label_0":1,"time":"2025-03-01T12:00:00"`), "comparisons.jsonl:3", "is not an RFC 3339 time"},
		"zero time":         {ComparisonsFile, cmp(`"user":"u","image_0":"a","image_1":"b","label_0":1,"time":"0001-01-01T00:00:00Z"`), "comparisons.jsonl:3", "time is missing (zero)"},
		"duplicate comparison": {ComparisonsFile, goodComparisons + goodComparisons, "comparisons.jsonl:3",
			`duplicate id "c1" (first seen at line 1)`},
		"comparison unknown field": {ComparisonsFile, cmp(`"user":"u","image0":"a","image_1":"b","label_0":1,"time":"2025-03-01T12:00:00Z"`), "comparisons.jsonl:3", `unknown field "image0"`},

		// votes.jsonl
		"bad vote":       {VotesFile, `{"id":"v","user":"u","image":"a","vote":"love","time":"2025-03-01T12:00:00Z"}`, "votes.jsonl:1", `vote is "love"; want "like" or "dislike"`},
		"vote image":     {VotesFile, `{"id":"v","user":"u","image":"zz","vote":"like","time":"2025-03-01T12:00:00Z"}`, "votes.jsonl:1", `image "zz" is not in images.jsonl`},
		"vote no time":   {VotesFile, `{"id":"v","user":"u","image":"a","vote":"like"}`, "votes.jsonl:1", "missing time"},
		"vote bad time":  {VotesFile, `{"id":"v","user":"u","image":"a","vote":"like","time":"2025-13-01T00:00:00Z"}`, "votes.jsonl:1", "is not an RFC 3339 time"},
		"vote no user":   {VotesFile, `{"id":"v","image":"a","vote":"like","time":"2025-03-01T12:00:00Z"}`, "votes.jsonl:1", "missing user"},
		"vote empty id":  {VotesFile, `{"id":"","user":"u","image":"a","vote":"like","time":"2025-03-01T12:00:00Z"}`, "votes.jsonl:1", "id is empty"},
		"duplicate vote": {VotesFile, goodVotes + goodVotes, "votes.jsonl:3", `duplicate id "v1"`},

		// splits.json
		"splits malformed": {SplitsFile, "{\n\"unseen_users\": [\"u3\",]}", "splits.json:2", "malformed JSON"},
		"splits type":      {SplitsFile, "{\n\"unseen_users\": \"u3\"}", "splits.json:2", "unseen_users is a JSON string; want an array"},
		"splits unknown":   {SplitsFile, `{"test_users": ["u3"]}`, "splits.json", `unknown field "test_users"`},
		"splits stranger":  {SplitsFile, `{"unseen_users": ["ghost"]}`, "splits.json", `unseen_users names user "ghost", who has no comparisons or votes`},
		"cutoff stranger":  {SplitsFile, `{"cutoff": {"ghost": "2025-03-01T12:00:00Z"}}`, "splits.json", `cutoff names user "ghost"`},
		"splits overlap":   {SplitsFile, `{"unseen_users": ["u3"], "validation_users": ["u3"]}`, "splits.json", `user "u3" is in both unseen_users and validation_users`},
		"splits twice":     {SplitsFile, `{"validation_users": ["u2", "u2"]}`, "splits.json", `validation_users names user "u2" twice`},
		"splits empty":     {SplitsFile, `{"unseen_users": [""]}`, "splits.json", "unseen_users has an empty user"},
		"cutoff bad time":  {SplitsFile, `{"cutoff": {"u1": "soon"}}`, "splits.json", `cutoff for user "u1" "soon" is not an RFC 3339 time`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{
				ImagesFile: goodImages, ComparisonsFile: goodComparisons,
				VotesFile: goodVotes, SplitsFile: goodSplits,
			}
			files[tt.file] = tt.content
			writeFiles(t, dir, files)
			_, err := Read(dir)
			assertError(t, err, palate.EINVALID, filepath.Join(dir, tt.wantLoc)+": ")
			assertError(t, err, palate.EINVALID, tt.want)
		})
	}
}

// TestReadGood checks the fixture readErrorTests starts from is valid.
func TestReadGood(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		ImagesFile: goodImages, ComparisonsFile: goodComparisons,
		VotesFile: goodVotes, SplitsFile: goodSplits,
	})
	d, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Images) != 3 || len(d.Comparisons) != 2 || len(d.Votes) != 2 || d.Splits == nil {
		t.Fatalf("read %+v", d)
	}
	if got := d.Comparisons[1].Time; !got.Equal(time.Date(2025, 3, 1, 11, 0, 0, 5e8, time.UTC)) {
		t.Errorf("time = %v", got)
	}
}

func TestLongLines(t *testing.T) {
	tests := map[string]struct {
		prompt  int  // bytes of prompt on line 2
		newline bool // whether line 2 ends in a newline
		wantErr bool
	}{
		"long":             {prompt: MaxLine - 100, newline: true},
		"long at EOF":      {prompt: MaxLine - 100},
		"too long":         {prompt: MaxLine + 1, newline: true, wantErr: true},
		"too long at EOF":  {prompt: MaxLine + 1, wantErr: true},
		"far too long":     {prompt: 5 * MaxLine, newline: true, wantErr: true},
		"just past buffer": {prompt: 64<<10 + 3, newline: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			content := `{"id":"a"}` + "\n" + `{"id":"b","prompt":"` + strings.Repeat("x", tt.prompt) + `"}`
			if tt.newline {
				content += "\n" + `{"id":"c"}` + "\n"
			}
			writeFiles(t, dir, map[string]string{ImagesFile: content})
			d, err := Read(dir)
			if tt.wantErr {
				assertError(t, err, palate.EINVALID, filepath.Join(dir, ImagesFile)+":2: line is longer than 1048576 bytes")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Images[1].Prompt) != tt.prompt {
				t.Errorf("prompt has %d bytes; want %d", len(d.Images[1].Prompt), tt.prompt)
			}
		})
	}
}

// TestScanStops checks a callback's error stops the scan and comes back
// located, with its code and identity.
func TestScanStops(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{ComparisonsFile: goodComparisons})
	stop := palate.Errorf(palate.ECONFLICT, "stop here")
	n := 0
	err := ScanComparisons(filepath.Join(dir, ComparisonsFile), func(palate.Comparison) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	assertError(t, err, palate.ECONFLICT, ComparisonsFile+":2: stop here")
	if n != 2 {
		t.Errorf("fn called %d times; want 2", n)
	}
	if !errors.Is(err, stop) {
		t.Errorf("error chain lost the callback's error")
	}
}

func TestReadFileFunctions(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{ImagesFile: goodImages, ComparisonsFile: goodComparisons, VotesFile: goodVotes})
	ims, err := ReadImages(filepath.Join(dir, ImagesFile))
	if err != nil || len(ims) != 3 {
		t.Errorf("ReadImages = %d, %v", len(ims), err)
	}
	cs, err := ReadComparisons(filepath.Join(dir, ComparisonsFile))
	if err != nil || len(cs) != 2 {
		t.Errorf("ReadComparisons = %d, %v", len(cs), err)
	}
	vs, err := ReadVotes(filepath.Join(dir, VotesFile))
	if err != nil || len(vs) != 2 {
		t.Errorf("ReadVotes = %d, %v", len(vs), err)
	}
	_, err = ReadVotes(filepath.Join(dir, "nope.jsonl"))
	assertError(t, err, palate.EINVALID, "nope.jsonl: file does not exist")
}

// TestGolden pins the bytes Write produces, so a change to the format shows
// in review; testdata/example doubles as an example dataset for other tools.
// Run with -update to rewrite it.
func TestGolden(t *testing.T) {
	golden := filepath.Join("testdata", "example")
	dir := t.TempDir()
	if err := Write(dir, sample()); err != nil {
		t.Fatal(err)
	}
	if err := WriteEmbeddings(dir, sampleEmbeddings()); err != nil {
		t.Fatal(err)
	}
	files := []string{ImagesFile, ComparisonsFile, VotesFile, SplitsFile,
		filepath.Join(EmbeddingsDir, "toy-v1.json"), filepath.Join(EmbeddingsDir, "toy-v1.f32")}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(golden, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(golden, f), got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(filepath.Join(golden, f))
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from golden:\ngot:\n%s\nwant:\n%s", f, got, want)
		}
	}
	d, err := Read(golden)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, d, sample())
	names, err := EmbeddingNames(golden)
	if err != nil || !reflect.DeepEqual(names, []string{"toy-v1"}) {
		t.Errorf("EmbeddingNames = %q, %v", names, err)
	}
}

// assertError checks err has code and contains want.
func assertError(t *testing.T, err error, code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s containing %q", code, want)
	}
	if got := palate.ErrorCode(err); got != code {
		t.Errorf("code %q; want %q (error: %v)", got, code, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\ndoes not contain %q", err, want)
	}
}

// assertNoTemp fails if dir (recursively) holds a temporary file.
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	var left []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, _ error) error {
		if strings.HasSuffix(p, ".tmp") {
			left = append(left, p)
		}
		return nil
	})
	sort.Strings(left)
	if len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteNil(t *testing.T) {
	assertError(t, Write(t.TempDir(), nil), palate.EINVALID, "nil dataset")
	assertError(t, WriteEmbeddings(t.TempDir(), nil), palate.EINVALID, "nil embeddings")
}
