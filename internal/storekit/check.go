package storekit

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"palate"
)

// Time returns t as a store keeps it: in UTC, to the microsecond (what
// PostgreSQL's timestamptz holds), so a record read back equals the one
// written whichever backend keeps it.
func Time(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// Item returns an EINVALID (or other code) error naming item i of a batch and
// its field: "items[2].image_0: ...". An empty field names the whole item.
func Item(code string, i int, field, format string, args ...any) error {
	where := fmt.Sprintf("items[%d]", i)
	if field != "" {
		where += "." + field
	}
	return palate.Errorf(code, "%s: %s", where, fmt.Sprintf(format, args...))
}

// MaxText is the longest text a store accepts in a field that is not an id
// (a prompt, a picture's path), in bytes: far more than any prompt an image
// generator takes, little enough that no one fills a store with it.
const MaxText = 16 << 10

// text checks that s can be stored as text by every backend: valid UTF-8
// without NUL bytes (PostgreSQL refuses both), at most MaxText bytes.
func text(s string) error {
	if len(s) > MaxText {
		return fmt.Errorf("is %d bytes long; at most %d", len(s), MaxText)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("contains a NUL byte")
	}
	return nil
}

// MaxID is the longest id (of an image, record or person) a store accepts,
// in bytes.
const MaxID = 1024

// Storable reports whether s could be a stored id: text every backend can
// hold, at most MaxID bytes. Lookups of other strings find nothing.
func Storable(s string) bool { return CheckID(s) == nil }

// CheckID says why s cannot be a stored id (empty, longer than MaxID bytes,
// not UTF-8, a NUL byte), or returns nil.
func CheckID(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is empty")
	case len(s) > MaxID:
		return fmt.Errorf("is %d bytes long; at most %d", len(s), MaxID)
	}
	return text(s)
}

type field struct {
	name     string
	value    string
	required bool // an id: non-empty and at most MaxID bytes
}

func checkFields(i int, fs ...field) error {
	for _, f := range fs {
		check := text
		if f.required {
			check = CheckID
		}
		if err := check(f.value); err != nil {
			return Item(palate.EINVALID, i, f.name, "%v", err)
		}
	}
	return nil
}

func checkTime(i int, t time.Time) error {
	if t.IsZero() {
		return Item(palate.EINVALID, i, "time", "is missing (zero)")
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return Item(palate.EINVALID, i, "time", "%v is outside years 0000-9999", t)
	}
	return nil
}

// Images checks a batch of images and returns them normalised.
func Images(ims []palate.Image) ([]palate.Image, error) {
	out := make([]palate.Image, len(ims))
	for i, im := range ims {
		if err := checkFields(i, field{"id", im.ID, true}, field{"prompt", im.Prompt, false}, field{"path", im.Path, false}); err != nil {
			return nil, err
		}
		if im.Path != "" && !filepath.IsLocal(filepath.FromSlash(im.Path)) {
			return nil, Item(palate.EINVALID, i, "path", "%q must be relative and stay inside the dataset directory", im.Path)
		}
		out[i] = im
	}
	return out, nil
}

// Comparisons checks a batch of comparisons and returns them normalised.
func Comparisons(cs []palate.Comparison) ([]palate.Comparison, error) {
	out := make([]palate.Comparison, len(cs))
	for i, c := range cs {
		err := checkFields(i, field{"id", c.ID, true}, field{"user", c.User, true}, field{"prompt", c.Prompt, false},
			field{"image_0", c.Image0, true}, field{"image_1", c.Image1, true})
		if err != nil {
			return nil, err
		}
		if c.Image0 == c.Image1 {
			return nil, Item(palate.EINVALID, i, "image_1", "is %q, the same as image_0", c.Image1)
		}
		if c.Label0 != 0 && c.Label0 != 0.5 && c.Label0 != 1 {
			return nil, Item(palate.EINVALID, i, "label_0", "is %v; want 0, 0.5 or 1", c.Label0)
		}
		if err := checkTime(i, c.Time); err != nil {
			return nil, err
		}
		c.Time = Time(c.Time)
		out[i] = c
	}
	return out, nil
}

// Votes checks a batch of votes and returns them normalised.
func Votes(vs []palate.Vote) ([]palate.Vote, error) {
	out := make([]palate.Vote, len(vs))
	for i, v := range vs {
		if err := checkFields(i, field{"id", v.ID, true}, field{"user", v.User, true}, field{"image", v.Image, true}); err != nil {
			return nil, err
		}
		if v.Vote != palate.Like && v.Vote != palate.Dislike {
			return nil, Item(palate.EINVALID, i, "vote", "is %q; want %q or %q", v.Vote, palate.Like, palate.Dislike)
		}
		if err := checkTime(i, v.Time); err != nil {
			return nil, err
		}
		v.Time = Time(v.Time)
		out[i] = v
	}
	return out, nil
}

// Name checks an embedder name or model version: letters, digits, '.', '_'
// and '-', not starting with '.', at most 200 bytes.
func Name(what, name string) error {
	switch {
	case name == "":
		return palate.Errorf(palate.EINVALID, "%s is empty", what)
	case len(name) > 200:
		return palate.Errorf(palate.EINVALID, "%s is %d bytes long; at most 200", what, len(name))
	case name[0] == '.':
		return palate.Errorf(palate.EINVALID, "%s %q starts with '.'", what, name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return palate.Errorf(palate.EINVALID, "%s %q has %q; use letters, digits, '.', '_' and '-'", what, name, r)
		}
	}
	return nil
}

// Embeddings checks a PutEmbeddings call: the name, as many ids as vectors,
// non-empty ids, vectors of one length (dim when dim > 0) holding no NaN or
// infinity. It returns the batch's dimension. Errors name ids[i] or
// vectors[i].
func Embeddings(embedder string, ids []string, vectors [][]float32, dim int) (int, error) {
	if err := Name("embedder", embedder); err != nil {
		return 0, err
	}
	if len(ids) != len(vectors) {
		return 0, palate.Errorf(palate.EINVALID, "%d ids but %d vectors", len(ids), len(vectors))
	}
	for i, id := range ids {
		if id == "" {
			return 0, palate.Errorf(palate.EINVALID, "ids[%d]: is empty", i)
		}
		if len(id) > MaxID {
			return 0, palate.Errorf(palate.EINVALID, "ids[%d]: is %d bytes long; at most %d", i, len(id), MaxID)
		}
		if err := text(id); err != nil {
			return 0, palate.Errorf(palate.EINVALID, "ids[%d]: %v", i, err)
		}
		v := vectors[i]
		if len(v) == 0 {
			return 0, palate.Errorf(palate.EINVALID, "vectors[%d]: is empty", i)
		}
		if dim == 0 {
			dim = len(v)
		}
		if len(v) != dim {
			return 0, palate.Errorf(palate.EINVALID, "vectors[%d]: has %d values; embedder %q has dimension %d", i, len(v), embedder, dim)
		}
		for j, x := range v {
			if !palate.EmbeddingValueOK(x) {
				return 0, palate.Errorf(palate.EINVALID, "vectors[%d][%d]: is %v; want a finite number under %d in magnitude", i, j, x, palate.MaxEmbeddingValue)
			}
		}
	}
	return dim, nil
}

// Model checks a model record before it is published and returns it with its
// time normalised.
func Model(m *palate.ModelRecord) (palate.ModelRecord, error) {
	if m == nil {
		return palate.ModelRecord{}, palate.Errorf(palate.EINVALID, "model is nil")
	}
	if err := Name("version", m.Version); err != nil {
		return palate.ModelRecord{}, err
	}
	if err := Name("embedder", m.Embedder); err != nil {
		return palate.ModelRecord{}, err
	}
	if m.Created.IsZero() {
		return palate.ModelRecord{}, palate.Errorf(palate.EINVALID, "model %q: created is missing (zero)", m.Version)
	}
	if len(m.Archive) == 0 {
		return palate.ModelRecord{}, palate.Errorf(palate.EINVALID, "model %q: archive is empty", m.Version)
	}
	r := *m
	r.Created = Time(m.Created)
	return r, nil
}
