// Package jsonkeys finds, in a JSON value, what encoding/json would read
// without a word: a key given twice in one object (the last one wins), a
// key that names a struct field only when case is ignored ("User" for
// "user") and an escaped lone UTF-16 surrogate (read as U+FFFD, so an id
// other than the one sent). The server's request bodies and the
// configuration files refuse all three.
package jsonkeys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
)

// Problem is the first such key.
type Problem struct {
	Path   string // the key's place, "items[2].user"
	Key    string // the key as written
	Prev   string // a repeated key: how it was written the first time
	Want   string // a key in another case: the field's name
	Offset int64  // the byte offset of the key's opening quote
}

// Check walks the JSON value data as decoding it into a value of type t
// would (nil: any value, so only keys repeated exactly are found) and
// returns the first problem, or nil. Keys of a struct are compared as
// encoding/json matches them to fields (bytes.EqualFold); keys of a map, or
// of a value that takes any JSON, exactly. Values of a type with its own
// UnmarshalJSON (json.RawMessage among them) are checked for repeated keys
// only, but a slice of json.RawMessage is skipped: its caller checks each
// element when it decodes it. Paths start with path. Malformed JSON gives nil: the decoder that
// reads it names the fault better.
func Check(data []byte, t reflect.Type, path string) *Problem {
	w := walker{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	w.value(t, path)
	return w.found
}

type walker struct {
	data  []byte
	dec   *json.Decoder
	found *Problem
	err   bool // malformed JSON: stop
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// value reads one value; it returns false once a problem or an error is
// found.
func (w *walker) value(t reflect.Type, path string) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(unmarshalerType) || t.Kind() == reflect.Interface) {
		t = nil
	}
	if t != nil && !holdsObjects(t) {
		var skip json.RawMessage // e.g. a vector of numbers: no keys, skipped fast
		if w.dec.Decode(&skip) != nil {
			w.err = true
		}
		return !w.err
	}
	tok, err := w.dec.Token()
	if err != nil {
		w.err = true
		return false
	}
	switch tok {
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if !w.value(elem, fmt.Sprintf("%s[%d]", path, i)) {
				return false
			}
		}
	case json.Delim('{'):
		if !w.object(t, path) {
			return false
		}
	default:
		return true // a string, number, true, false or null
	}
	if _, err := w.dec.Token(); err != nil { // the closing ] or }
		w.err = true
		return false
	}
	return true
}

// object reads the keys and values of an object whose '{' was read.
func (w *walker) object(t reflect.Type, path string) bool {
	var fields map[string]field
	if t != nil && t.Kind() == reflect.Struct {
		fields = structFields(t)
	}
	seen := map[string]string{}
	for w.dec.More() {
		off := w.dec.InputOffset()
		tok, err := w.dec.Token()
		if err != nil {
			w.err = true
			return false
		}
		// The offset was just past the previous token: step over the
		// separators to the key's opening quote.
		for off < int64(len(w.data)) && strings.IndexByte(" \t\r\n,", w.data[off]) >= 0 {
			off++
		}
		key, _ := tok.(string)
		name := key
		if path != "" {
			name = path + "." + key
		}
		same := key
		if fields != nil {
			same = foldKey(key)
		}
		if prev, dup := seen[same]; dup {
			w.found = &Problem{Path: name, Key: key, Prev: prev, Offset: off}
			return false
		}
		seen[same] = key
		var vt reflect.Type
		switch {
		case fields != nil:
			if f, ok := fields[same]; ok {
				if f.name != key {
					w.found = &Problem{Path: name, Key: key, Want: f.name, Offset: off}
					return false
				}
				vt = f.typ
			}
		case t != nil && t.Kind() == reflect.Map:
			vt = t.Elem()
		}
		if !w.value(vt, name) {
			return false
		}
	}
	return true
}

// field is a struct field as encoding/json names it.
type field struct {
	name string
	typ  reflect.Type
}

var fieldCache sync.Map // reflect.Type → map[string]field

// structFields maps the folded JSON name (foldKey) of each field of the
// struct type t, fields of embedded structs included, to the field.
func structFields(t reflect.Type) map[string]field {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]field)
	}
	m := map[string]field{}
	addFields(t, m)
	fieldCache.Store(t, m)
	return m
}

func addFields(t reflect.Type, m map[string]field) {
	var embedded []reflect.Type
	for f := range t.Fields() {
		tag, tagged := f.Tag.Lookup("json")
		name, _, _ := strings.Cut(tag, ",")
		if tagged && name == "-" && !strings.HasPrefix(tag, "-,") {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[foldKey(name)] = field{name, f.Type}
	}
	// The outer struct's own fields win over promoted ones.
	for _, et := range embedded {
		inner := map[string]field{}
		addFields(et, inner)
		for k, f := range inner {
			if _, ok := m[k]; !ok {
				m[k] = f
			}
		}
	}
}

// foldKey maps each rune of s to the least rune of its simple case-folding
// orbit, so that two keys fold alike exactly when bytes.EqualFold, which
// encoding/json matches field names with, says they are equal.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// holdsObjects reports whether a value of type t can hold a JSON object
// somewhere inside: a struct, a map, an interface or a type with its own
// decoding. A json.RawMessage (a slice of bytes) does not count: what it
// holds is checked when it is decoded.
func holdsObjects(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Interface:
		return true
	}
	return reflect.PointerTo(t).Implements(unmarshalerType)
}

// LoneSurrogate finds the first \u escape of a UTF-16 surrogate that is not
// half of a pair (a high one followed at once by an escaped low one), which
// encoding/json turns into U+FFFD without a word, and returns its byte
// offset, or -1. data is read as JSON text, where a backslash occurs only
// in a string's escapes.
func LoneSurrogate(data []byte) int {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(data) || data[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range data[i+2 : i+6] {
			switch {
			case '0' <= c && c <= '9':
				r = r<<4 | rune(c-'0')
			case 'a' <= c && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case 'A' <= c && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	for i := 0; i < len(data); i++ {
		j := bytes.IndexByte(data[i:], '\\')
		if j < 0 {
			break
		}
		i += j
		r, ok := hex4(i)
		switch {
		case !ok:
			i++ // another escape: step over the escaped byte
		case 0xDC00 <= r && r <= 0xDFFF:
			return i
		case 0xD800 <= r && r <= 0xDBFF:
			if lo, ok := hex4(i + 6); !ok || lo < 0xDC00 || lo > 0xDFFF {
				return i
			}
			i += 11
		default:
			i += 5
		}
	}
	return -1
}
