package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"palate"
)

// DecodeFileObject decodes data, the whole of a JSON file named name (a
// config), into v strictly: one JSON object with no unknown keys, no key
// given twice in one object (encoding/json would keep the last silently)
// and nothing after it. Errors are EINVALID and name the file: with the
// line and column of a syntax error, of a repeated key, or of a value of
// the wrong type (at or just after the value, as encoding/json reports it,
// with the key); an unknown key is named without a position. An empty
// file, or one holding something other than an object (null included,
// which encoding/json would take as "no change"), says so.
func DecodeFileObject(name string, data []byte, v any) error {
	at := func(off int64) string { return name + ":" + lineCol(data, off) + ": " }
	start := int64(len(data) - len(bytes.TrimLeft(data, " \t\r\n")))
	switch {
	case start == int64(len(data)):
		return palate.Errorf(palate.EINVALID, "%s is empty; want a JSON object", name)
	case bytes.HasPrefix(data[start:], []byte("\xef\xbb\xbf")):
		return palate.Errorf(palate.EINVALID, "%sthe file starts with a byte-order mark; save it as UTF-8 without one", at(start))
	case data[start] != '{':
		return palate.Errorf(palate.EINVALID, "%swant a JSON object {...}", at(start))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			// Offset counts the bytes read, the offending one included.
			return palate.Errorf(palate.EINVALID, "%smalformed JSON: %v", at(syn.Offset-1), syn)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return palate.Errorf(palate.EINVALID, "%smalformed JSON: the object is not closed", at(int64(len(data))))
		}
		msg := jsonError(err).Error()
		if off := jsonOffset(err); off >= 0 {
			return palate.Errorf(palate.EINVALID, "%s%s", at(off), msg)
		}
		return palate.Errorf(palate.EINVALID, "%s: %s", name, msg)
	}
	if key, off, ok := repeatedKey(data); ok {
		return palate.Errorf(palate.EINVALID, "%skey %q is given twice in one object (which one is meant?)", at(off), key)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := data[end:]
		return palate.Errorf(palate.EINVALID, "%strailing data after the JSON object", at(end+int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))))
	}
	return nil
}

// repeatedKey finds the first key that appears twice in one object of the
// JSON value data (compared as encoding/json matches struct fields, without
// case), with the byte offset of its second appearance. data must be valid
// JSON; it reports nothing otherwise.
func repeatedKey(data []byte) (key string, off int64, ok bool) {
	type frame struct {
		keys    map[string]bool
		obj     bool // an object (else an array)
		wantKey bool // the next string is a key
	}
	var stack []*frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", 0, false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{keys: map[string]bool{}, obj: true, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if f := stack[len(stack)-1]; f.obj && f.wantKey {
				k := strings.ToLower(t)
				if f.keys[k] {
					// start is just past the previous token: step over the
					// separators to the key's opening quote.
					for start < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[start]) >= 0 {
						start++
					}
					return t, start, true
				}
				f.keys[k], f.wantKey = true, false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
		if len(stack) == 0 {
			return "", 0, false
		}
	}
}

// lineCol is "LINE:COL" (1-based) of byte offset off in data.
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return fmt.Sprintf("%d:%d", bytes.Count(before, []byte{'\n'})+1, len(before)-bytes.LastIndexByte(before, '\n'))
}
