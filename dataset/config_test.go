package dataset

import (
	"strings"
	"testing"

	"palate"
)

func TestDecodeFileObject(t *testing.T) {
	type cfg struct {
		Users int    `json:"users"`
		Name  string `json:"name"`
	}
	for _, tc := range []struct{ in, want string }{
		{"", "c.json is empty"},
		{"  \n", "c.json is empty"},
		{"null", "c.json:1:1: want a JSON object"},
		{"\n  []", "c.json:2:3: want a JSON object"},
		{"{\"users\": 5,\n\"name\": \"a\",,}", "c.json:2:13: malformed JSON"},
		{"{\"users\": 5", "c.json:1:12: malformed JSON: the object is not closed"},
		{"{\"users\": 5,\n \"name\": 3}", "c.json:2:11: name is a JSON number; want a string"},
		{"{\"userz\": 5}", `c.json: unknown field "userz"`},
		{"{\"users\": 5}\n{}", "c.json:2:1: trailing data after the JSON object"},
	} {
		var c cfg
		err := DecodeFileObject("c.json", []byte(tc.in), &c)
		if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want EINVALID naming %q", tc.in, err, tc.want)
		}
	}
	var c cfg
	if err := DecodeFileObject("c.json", []byte("\n{\"users\": 5, \"name\": \"a\"}\n"), &c); err != nil || c.Users != 5 || c.Name != "a" {
		t.Errorf("a good object: %+v, %v", c, err)
	}
}
