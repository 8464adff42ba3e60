package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"palate"
	"palate/internal/jsonkeys"
)

// DecodeFileObject decodes data, the whole of a JSON file named name (a
// config), into v strictly: one JSON object with no unknown keys, no key
// given twice in one object (encoding/json would keep the last silently),
// no key in another case than its field's (which encoding/json would take)
// and nothing after it. Errors are EINVALID and name the file: with the
// line and column of a syntax error, of a repeated key, or of a value of
// the wrong type (at or just after the value, as encoding/json reports it,
// with the key), and of an unknown key with its path. An empty
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
	if off := jsonkeys.LoneSurrogate(data); off >= 0 {
		return palate.Errorf(palate.EINVALID, "%s%s is half of a UTF-16 surrogate pair, not a character", at(int64(off)), data[off:off+6])
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
		// An unknown field is named without its place: find it.
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			if name, uerr := strconv.Unquote(f); uerr == nil {
				if path, off, ok := unknownKey(data, name, v); ok {
					return palate.Errorf(palate.EINVALID, "%sunknown field %q", at(off), path)
				}
			}
		}
		return palate.Errorf(palate.EINVALID, "%s: %s", name, msg)
	}
	if p := jsonkeys.Check(data, reflect.TypeOf(v), ""); p != nil {
		if p.Want != "" {
			return palate.Errorf(palate.EINVALID, "%sunknown field %q (field names are case-sensitive: want %q)", at(p.Offset), p.Path, p.Want)
		}
		return palate.Errorf(palate.EINVALID, "%skey %q is given twice in one object (which one is meant?)", at(p.Offset), p.Key)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := data[end:]
		return palate.Errorf(palate.EINVALID, "%strailing data after the JSON object", at(end+int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))))
	}
	return nil
}

// unknownKey finds the first key of the JSON value data that is name and
// that v's type has no field for at its place, with the keys of the objects
// around it (the field's path, "model.d_model") and its byte offset: the
// place of an unknown field, which encoding/json reports by name alone.
func unknownKey(data []byte, name string, v any) (path string, off int64, ok bool) {
	walkKeys(data, func(parents []string, _ int, k string, at int64) bool {
		if k == name && !hasField(reflect.TypeOf(v), append(parents, k)) {
			path, off, ok = strings.Join(append(parents, k), "."), at, true
		}
		return !ok
	})
	return path, off, ok
}

// hasField reports whether decoding into t accepts the keys of path, one
// object inside another, matching keys to fields as encoding/json does
// (the json tag's name or the field's, without case; maps take any key).
func hasField(t reflect.Type, path []string) bool {
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	for _, key := range path {
		for {
			// Values that decode themselves, or into anything, take any key.
			if t.Kind() == reflect.Interface || t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
				return true
			}
			if t.Kind() != reflect.Pointer && t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				break
			}
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
		default:
			return false
		}
		f, ok := structField(t, key)
		if !ok {
			return false
		}
		t = f
	}
	return true
}

// structField is the type of struct t's field that JSON key takes,
// promoted fields of embedded structs included.
func structField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if ft, ok := structField(et, key); ok {
					return ft, true
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f.Type, true
		}
	}
	return nil, false
}

// walkKeys calls visit for each key of each object in the JSON value data,
// in order, with the keys leading to its object (array positions leave no
// key), a number that tells objects apart and the byte offset of the key's
// opening quote, until visit returns false. It stops at the first error:
// data must be valid JSON.
func walkKeys(data []byte, visit func(parents []string, obj int, key string, off int64) bool) {
	type frame struct {
		id      int
		obj     bool   // an object (else an array)
		wantKey bool   // the next string is a key
		key     string // the key whose value is being read
	}
	var stack []*frame
	objects := 0
	path := func() []string {
		var p []string
		for _, f := range stack[:len(stack)-1] {
			if f.obj {
				p = append(p, f.key)
			}
		}
		return p
	}
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
			return
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				objects++
				stack = append(stack, &frame{id: objects, obj: true, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if f := stack[len(stack)-1]; f.obj && f.wantKey {
				// start is just past the previous token: step over the
				// separators to the key's opening quote.
				for start < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[start]) >= 0 {
					start++
				}
				f.key, f.wantKey = t, false
				if !visit(path(), f.id, t, start) {
					return
				}
				continue
			}
			valueDone()
		default:
			valueDone()
		}
		if len(stack) == 0 {
			return
		}
	}
}

// lineCol is "LINE:COL" (1-based) of byte offset off in data.
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return fmt.Sprintf("%d:%d", bytes.Count(before, []byte{'\n'})+1, len(before)-bytes.LastIndexByte(before, '\n'))
}
