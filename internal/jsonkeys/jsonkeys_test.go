package jsonkeys

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type Inner struct {
	Deep int `json:"deep"`
}

type Embedded struct {
	Promoted int `json:"promoted"`
	Shadowed int `json:"name"`
}

type doc struct {
	Embedded
	Name   string            `json:"name"`
	Plain  int               // untagged: the Go name
	Skip   int               `json:"-"`
	Inner  Inner             `json:"inner"`
	List   []Inner           `json:"list"`
	Tags   map[string]int    `json:"tags"`
	Vec    []float32         `json:"vec"`
	When   time.Time         `json:"when"`
	Raws   []json.RawMessage `json:"raws"`
	Any    any               `json:"any"`
	hidden int
}

func TestCheck(t *testing.T) {
	typ := reflect.TypeFor[*doc]()
	for _, tc := range []struct {
		in   string
		want *Problem
	}{
		{`{"name": "a", "Plain": 1, "promoted": 2, "inner": {"deep": 3}, "list": [{"deep": 1}], "tags": {"a": 1, "A": 2}, "vec": [1, 2], "when": "2026-01-01T00:00:00Z", "raws": [{"x": 1, "x": 2}]}`, nil},
		{`{"name": "a", "name": "b"}`, &Problem{Path: "name", Key: "name", Repeated: true, Prev: "name", Offset: 14}},
		{`{"name": "a", "NAME": "b"}`, &Problem{Path: "NAME", Key: "NAME", Repeated: true, Prev: "name", Offset: 14}},
		{`{"Name": "a"}`, &Problem{Path: "Name", Key: "Name", Want: "name", Offset: 1}},
		{`{"plain": 1}`, &Problem{Path: "plain", Key: "plain", Want: "Plain", Offset: 1}},
		{`{"Promoted": 1}`, &Problem{Path: "Promoted", Key: "Promoted", Want: "promoted", Offset: 1}},
		{`{"inner": {"Deep": 1}}`, &Problem{Path: "inner.Deep", Key: "Deep", Want: "deep", Offset: 11}},
		{`{"list": [{"deep": 1}, {"deep": 1,` + "\n" + `"deep": 2}]}`, &Problem{Path: "list[1].deep", Key: "deep", Repeated: true, Prev: "deep", Offset: 35}},
		{`{"tags": {"": 1, "": 2}}`, &Problem{Path: "tags.", Key: "", Repeated: true, Prev: "", Offset: 17}},
		{`{"tags": {"a": 1, "a": 2}}`, &Problem{Path: "tags.a", Key: "a", Repeated: true, Prev: "a", Offset: 18}},
		// A key that names no field, "-" and unexported ones included.
		{`{"name": "a", "inner": {"deep": 1, "other": {"k": 1, "k": 2}}}`, &Problem{Path: "inner.other", Key: "other", Unknown: true, Offset: 35}},
		{`{"skip": 1}`, &Problem{Path: "skip", Key: "skip", Unknown: true, Offset: 1}},
		{`{"hidden": 1}`, &Problem{Path: "hidden", Key: "hidden", Unknown: true, Offset: 1}},
		{`{"tags": {"anything": 1}, "any": {"x": {"y": 1}}, "raws": [{"z": 1}]}`, nil},
		{`{"name": `, nil}, // malformed: left to the decoder
		// An array where an object was expected is walked untyped.
		{`[{"a": 1}, {"a": 1, "a": 2}]`, &Problem{Path: "[1].a", Key: "a", Repeated: true, Prev: "a", Offset: 20}},
	} {
		got := Check([]byte(tc.in), typ, "")
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
	// Without a type only exact repeats count, and the path has its prefix.
	got := Check([]byte(`[{"a": 1, "A": 2}, {"a": 1, "a": 2}]`), nil, "items")
	want := &Problem{Path: "items[1].a", Key: "a", Repeated: true, Prev: "a", Offset: 28}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("untyped: got %+v, want %+v", got, want)
	}
	// A key matches its exact field first: two fields may differ only in case.
	if got := Check([]byte(`{"a": 1, "A": 2}`), reflect.TypeFor[struct {
		Lower int `json:"a"`
		Upper int `json:"A"`
	}](), ""); got != nil {
		t.Errorf("fields a and A: got %+v, want nil", got)
	}
	// One pass, in place: 10,000 levels (the decoder's limit) and a long
	// vector take no time to speak of.
	deep := `{"any": ` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `, "vec": [` + strings.Repeat("1.5,", 1_000_000) + `1]}`
	start := time.Now()
	if got := Check([]byte(deep), typ, ""); got != nil {
		t.Errorf("deep and long: got %+v, want nil", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("deep and long: %v", d)
	}
	// Keys fold as bytes.EqualFold does: the long s (U+017F) is an s.
	if got := Check([]byte(`{"u`+"\u017f"+`": 1}`), reflect.TypeFor[struct {
		S int `json:"us"`
	}](), ""); got == nil || got.Want != "us" {
		t.Errorf("long s: got %+v, want the field \"us\"", got)
	}
}

func TestLoneSurrogate(t *testing.T) {
	for in, want := range map[string]int{
		`{"a": "x"}`:                  -1,
		`{"a": "\u00e9\ud83d\ude00"}`: -1, // é and an emoji as a pair
		`{"a": "\\udc00"}`:            -1, // an escaped backslash, then text
		`{"a": "\"\u0041"}`:           -1,
		`{"a": "\udc00"}`:             7,
		`{"a": "x\ud83d"}`:            8,
		`{"a": "\ud83d\u0041"}`:       7,
		`{"a": "\ud83d\ud83d"}`:       7,
		`{"a": "\\\ud83d"}`:           9,
		`{"a": "\ud83`:                -1, // malformed: the decoder says so
	} {
		if got := LoneSurrogate([]byte(in)); got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
	// What encoding/json does with one, which is why this exists.
	var s string
	if err := json.Unmarshal([]byte(`"\udc00"`), &s); err != nil || s != "\uFFFD" {
		t.Errorf("encoding/json read a lone surrogate as %q, %v", s, err)
	}
}
