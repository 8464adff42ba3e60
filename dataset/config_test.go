package dataset

import (
	"encoding/json"
	"strings"
	"testing"

	"palate"
)

func TestDecodeFileObject(t *testing.T) {
	type sub struct {
		X int `json:"x"`
	}
	type cfg struct {
		Users int             `json:"users"`
		Name  string          `json:"name"`
		A     sub             `json:"a"`
		B     sub             `json:"b"`
		Any   any             `json:"any"`
		Raw   json.RawMessage `json:"raw"`
		Dash  int             `json:"-,"`
	}
	for _, tc := range []struct{ in, want string }{
		{"", "c.json is empty"},
		{"  \n", "c.json is empty"},
		{"null", "c.json:1:1: want a JSON object"},
		{"\xef\xbb\xbf{}", "c.json:1:1: the file starts with a byte-order mark"},
		{"\n  []", "c.json:2:3: want a JSON object"},
		{"{\"users\": 5,\n\"name\": \"a\",,}", "c.json:2:13: malformed JSON"},
		{"{\"users\": 5", "c.json:1:12: malformed JSON: the object is not closed"},
		{"{\"users\": 5,\n \"name\": 3}", "c.json:2:11: name is a JSON number; want a string"},
		{"{\"userz\": 5}", `c.json:1:2: unknown field "userz"`},
		{"{\"users\": 5,\n \"b\": {\"x\": 1, \"y\": 2}}", `c.json:2:16: unknown field "b.y"`},
		{"{\"a\": {\"x\": 1, \"a\": [1, {\"q\": 0}]}}", `c.json:1:16: unknown field "a.a"`},
		// Values that take any keys are passed over; "-," names a field "-".
		{"{\"any\": {\"y\": 1}, \"raw\": {\"y\": 1}, \"-\": 3, \"b\": {\"y\": 2}}", `c.json:1:50: unknown field "b.y"`},
		{"{\"users\": 5}\n{}", "c.json:2:1: trailing data after the JSON object"},
		{"{\"users\": 5,\n \"users\": 6}", `c.json:2:2: key "users" is given twice`},
		{"{\"users\": 5, \"Users\": 6}", `c.json:1:14: key "Users" is given twice`},
		{"{\"a\": {\"x\": 1, \"x\": 2}}", `c.json:1:16: key "x" is given twice`},
		{"{\"name\": \"a\\ud800\"}", `c.json:1:12: \ud800 is half of a UTF-16 surrogate pair`},
		{"{\"Users\": 5}", `c.json:1:2: unknown field "Users" (field names are case-sensitive: want "users")`},
		{"{\"a\": {\"X\": 1}}", `c.json:1:8: unknown field "a.X" (field names are case-sensitive: want "x")`},
		{"{\"any\": {\"y\": 1, \"y\": 2}}", `c.json:1:18: key "y" is given twice`},
	} {
		var c cfg
		err := DecodeFileObject("c.json", []byte(tc.in), &c)
		if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want EINVALID naming %q", tc.in, err, tc.want)
		}
	}
	var c cfg
	// Keys of a value that takes any JSON are case-sensitive: "y" and "Y" differ.
	if err := DecodeFileObject("c.json", []byte(`{"any": {"y": 1, "Y": 2}, "raw": {"y": 1, "Y": 2}}`), &c); err != nil {
		t.Errorf("keys in two cases inside any: %v", err)
	}
	// The same key in two objects is fine.
	if err := DecodeFileObject("c.json", []byte("\n{\"users\": 5, \"name\": \"a\", \"a\": {\"x\": 1}, \"b\": {\"x\": 2}}\n"), &c); err != nil || c.Users != 5 || c.Name != "a" || c.B.X != 2 {
		t.Errorf("a good object: %+v, %v", c, err)
	}
}
