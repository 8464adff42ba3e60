package dataset

import (
	"path/filepath"
	"time"

	"palate"
)

// The wire forms of the records. Pointer fields tell a missing field from an
// empty one; times stay strings so a bad one gets a clear message.

type imageLine struct {
	ID     *string `json:"id"`
	Prompt *string `json:"prompt"`
	Path   *string `json:"path"`
}

type comparisonLine struct {
	ID     *string  `json:"id"`
	User   *string  `json:"user"`
	Prompt *string  `json:"prompt"`
	Image0 *string  `json:"image_0"`
	Image1 *string  `json:"image_1"`
	Label0 *float64 `json:"label_0"`
	Time   *string  `json:"time"`
}

type voteLine struct {
	ID    *string `json:"id"`
	User  *string `json:"user"`
	Image *string `json:"image"`
	Vote  *string `json:"vote"`
	Time  *string `json:"time"`
}

// parseImage decodes and checks one images.jsonl line.
func parseImage(b []byte) (palate.Image, error) {
	var r imageLine
	if err := decodeObject(b, &r); err != nil {
		return palate.Image{}, err
	}
	if r.ID == nil {
		return palate.Image{}, invalid("missing id")
	}
	im := palate.Image{ID: *r.ID, Prompt: deref(r.Prompt), Path: deref(r.Path)}
	return im, checkImage(im)
}

// parseComparison decodes and checks one comparisons.jsonl line.
func parseComparison(b []byte) (palate.Comparison, error) {
	var r comparisonLine
	if err := decodeObject(b, &r); err != nil {
		return palate.Comparison{}, err
	}
	if err := required(
		"id", r.ID != nil, "user", r.User != nil,
		"image_0", r.Image0 != nil, "image_1", r.Image1 != nil,
		"label_0", r.Label0 != nil, "time", r.Time != nil,
	); err != nil {
		return palate.Comparison{}, err
	}
	t, err := parseTime("time", *r.Time)
	if err != nil {
		return palate.Comparison{}, err
	}
	c := palate.Comparison{
		ID: *r.ID, User: *r.User, Prompt: deref(r.Prompt),
		Image0: *r.Image0, Image1: *r.Image1, Label0: *r.Label0, Time: t,
	}
	return c, checkComparison(c)
}

// parseVote decodes and checks one votes.jsonl line.
func parseVote(b []byte) (palate.Vote, error) {
	var r voteLine
	if err := decodeObject(b, &r); err != nil {
		return palate.Vote{}, err
	}
	if err := required(
		"id", r.ID != nil, "user", r.User != nil, "image", r.Image != nil,
		"vote", r.Vote != nil, "time", r.Time != nil,
	); err != nil {
		return palate.Vote{}, err
	}
	t, err := parseTime("time", *r.Time)
	if err != nil {
		return palate.Vote{}, err
	}
	v := palate.Vote{ID: *r.ID, User: *r.User, Image: *r.Image, Vote: *r.Vote, Time: t}
	return v, checkVote(v)
}

// required takes (name, present) pairs and names the first absent field.
func required(pairs ...any) error {
	for i := 0; i < len(pairs); i += 2 {
		if !pairs[i+1].(bool) {
			return invalid("missing %s", pairs[i])
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid("%s %q is not an RFC 3339 time", field, s)
	}
	return t, nil
}

// The checks below hold for records however they were made: read from a
// file, passed to Write, or streamed to a Writer.

func checkImage(im palate.Image) error {
	if im.ID == "" {
		return invalid("id is empty")
	}
	if im.Path != "" && !filepath.IsLocal(filepath.FromSlash(im.Path)) {
		return invalid("image %q: path %q must be relative to the dataset directory and stay inside it", im.ID, im.Path)
	}
	return nil
}

func checkComparison(c palate.Comparison) error {
	switch {
	case c.ID == "":
		return invalid("id is empty")
	case c.User == "":
		return invalid("comparison %q: user is empty", c.ID)
	case c.Image0 == "":
		return invalid("comparison %q: image_0 is empty", c.ID)
	case c.Image1 == "":
		return invalid("comparison %q: image_1 is empty", c.ID)
	case c.Image0 == c.Image1:
		return invalid("comparison %q: image_0 and image_1 are both %q", c.ID, c.Image0)
	case c.Label0 != 0 && c.Label0 != 0.5 && c.Label0 != 1:
		return invalid("comparison %q: label_0 is %v; want 0, 0.5 or 1", c.ID, c.Label0)
	}
	return checkTime("comparison", c.ID, c.Time)
}

func checkVote(v palate.Vote) error {
	switch {
	case v.ID == "":
		return invalid("id is empty")
	case v.User == "":
		return invalid("vote %q: user is empty", v.ID)
	case v.Image == "":
		return invalid("vote %q: image is empty", v.ID)
	case v.Vote != palate.Like && v.Vote != palate.Dislike:
		return invalid("vote %q: vote is %q; want %q or %q", v.ID, v.Vote, palate.Like, palate.Dislike)
	}
	return checkTime("vote", v.ID, v.Time)
}

// checkTime rejects the zero time, which marks a time nobody set, and years
// RFC 3339 cannot write.
func checkTime(kind, id string, t time.Time) error {
	if t.IsZero() {
		return invalid("%s %q: time is missing (zero)", kind, id)
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return invalid("%s %q: time %v is outside years 0000-9999", kind, id, t)
	}
	return nil
}
