// Package jsonkeys finds, in a JSON value, what encoding/json would read
// without a word: a key given twice in one object (the last one wins), a
// key that names a struct field only when case is ignored ("User" for
// "user") and an escaped lone UTF-16 surrogate (read as U+FFFD, so an id
// other than the one sent); and where an unknown key is, which
// encoding/json does not say. The server's request bodies, the
// configuration files and a dataset's lines refuse all of them.
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
	Path string // the key's place, "items[2].user"
	Key  string // the key as written
	// Repeated: the key names what an earlier key of its object named,
	// written Prev the first time.
	Repeated bool
	Prev     string
	Want     string // a key in another case: the field's name
	// Unknown: the key names no field of its struct (encoding/json's
	// DisallowUnknownFields refuses it, naming neither its place nor its
	// path).
	Unknown bool
	Offset  int64 // the byte offset of the key's opening quote
}

// Check walks the JSON value data as decoding it into a value of type t
// would (nil: any value, so only keys repeated exactly are found) and
// returns the first problem, or nil. data must be valid JSON, as it is
// once encoding/json has decoded it or refused an unknown field (which
// also bounds its depth). A key of a struct names the field encoding/json
// gives it (the exact name first, else the first field equal under
// bytes.EqualFold); two keys naming one field are a repeat, a key naming a
// field only without case is a problem, and so is one naming no field. Keys of a
// map, or of a value that takes any JSON, must differ exactly. Values of a
// type with its own UnmarshalJSON (json.RawMessage among them) are checked
// for repeated keys only, but a slice of json.RawMessage is skipped: its
// caller checks each element when it decodes it. Paths start with path. The
// walk reads data in place, once: a value that can hold no object (a
// vector of numbers, a base64 string) is only stepped over.
func Check(data []byte, t reflect.Type, path string) *Problem {
	var stack [8]step
	w := walker{data: data, prefix: path, stack: stack[:0]}
	w.value(t)
	return w.found
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

type walker struct {
	data   []byte
	i      int
	prefix string
	stack  []step // the path below prefix, made into text only for a problem
	found  *Problem
}

// step is one step of a path: an object's key, or an array's index when
// idx >= 0.
type step struct {
	key string
	idx int
}

func (w *walker) path() string {
	var b strings.Builder
	b.WriteString(w.prefix)
	for _, s := range w.stack {
		switch {
		case s.idx >= 0:
			fmt.Fprintf(&b, "[%d]", s.idx)
		case b.Len() > 0:
			b.WriteString(".")
			fallthrough
		default:
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// peek is the next byte that is not white space, or 0 at the end.
func (w *walker) peek() byte {
	for w.i < len(w.data) {
		switch c := w.data[w.i]; c {
		case ' ', '\t', '\r', '\n':
			w.i++
		default:
			return c
		}
	}
	return 0
}

// skipString steps over the string starting at w.i.
func (w *walker) skipString() {
	for w.i++; w.i < len(w.data); w.i++ {
		switch w.data[w.i] {
		case '\\':
			w.i++
		case '"':
			w.i++
			return
		}
	}
}

// skip steps over one value.
func (w *walker) skip() {
	switch w.peek() {
	case '"':
		w.skipString()
	case '{', '[':
		depth := 0
		for w.i < len(w.data) {
			switch w.data[w.i] {
			case '"':
				w.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			w.i++
			if depth == 0 {
				return
			}
		}
	default: // a number, true, false or null
		for w.i < len(w.data) && strings.IndexByte(",]} \t\r\n", w.data[w.i]) < 0 {
			w.i++
		}
	}
}

// next consumes the byte after white space (a ',' ':' ']' or '}') and
// returns it, 0 at the end.
func (w *walker) next() byte {
	c := w.peek()
	if c != 0 {
		w.i++
	}
	return c
}

// value walks one value; it returns false once a problem is found or data
// ends early.
func (w *walker) value(t reflect.Type) bool {
	t, leaf := classify(t)
	if leaf {
		w.skip()
		return true
	}
	switch w.peek() {
	case '[':
		w.i++
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		if w.peek() == ']' {
			w.i++
			return true
		}
		for idx := 0; ; idx++ {
			w.stack = append(w.stack, step{idx: idx})
			if !w.value(elem) {
				return false
			}
			w.stack = w.stack[:len(w.stack)-1]
			if w.next() != ',' {
				return true
			}
		}
	case '{':
		w.i++
		return w.object(t)
	case 0:
		return false
	}
	w.skip()
	return true
}

// object walks an object's keys and values after its '{'.
func (w *walker) object(t reflect.Type) bool {
	var fs *fields
	if t != nil && t.Kind() == reflect.Struct {
		fs = structFields(t)
	}
	if w.peek() == '}' {
		w.i++
		return true
	}
	var buf [16]seenKey
	seen := buf[:0] // objects are small: a scan beats a map
	for {
		if w.peek() != '"' {
			return false
		}
		off := w.i
		w.skipString()
		raw := w.data[off:min(w.i, len(w.data))]
		var key string
		f, exact := field{}, false
		if bytes.IndexByte(raw, '\\') < 0 && len(raw) >= 2 {
			if fs != nil {
				f, exact = fs.exact[string(raw[1:len(raw)-1])] // no copy made
			}
			if exact {
				key = f.name
			} else {
				key = string(raw[1 : len(raw)-1])
			}
		} else if k, err := unquote(raw); err != nil {
			return false
		} else if key = k; fs != nil {
			f, exact = fs.exact[key]
		}
		if w.next() != ':' {
			return false
		}
		names, vt, want, unknown := key, reflect.Type(nil), "", false
		switch {
		case exact:
			names, vt = f.name, f.typ
		case fs != nil:
			if f, ok := fs.folded[foldKey(key)]; ok {
				names, vt, want = f.name, f.typ, f.name
			} else {
				unknown = true
			}
		case t != nil && t.Kind() == reflect.Map:
			vt = t.Elem()
		}
		w.stack = append(w.stack, step{key: key, idx: -1})
		for _, sk := range seen {
			if sk.names == names {
				w.found = &Problem{Path: w.path(), Key: key, Repeated: true, Prev: sk.key, Offset: int64(off)}
				return false
			}
		}
		if want != "" || unknown {
			w.found = &Problem{Path: w.path(), Key: key, Want: want, Unknown: unknown, Offset: int64(off)}
			return false
		}
		seen = append(seen, seenKey{names, key})
		if !w.value(vt) {
			return false
		}
		w.stack = w.stack[:len(w.stack)-1]
		if w.next() != ',' {
			return true
		}
	}
}

// unquote is the string a key with escapes stands for (kept apart so that
// only such keys cost a heap allocation).
func unquote(raw []byte) (string, error) {
	var k string
	err := json.Unmarshal(raw, &k)
	return k, err
}

// seenKey is a key of an object already read: what it names (a field's
// name, else the key) and how it was written.
type seenKey struct{ names, key string }

// classify is t as the walk reads it: pointers followed, nil for a type
// that takes any JSON or decodes itself (only repeats are looked for in
// it), and leaf when no object can be inside (the value is stepped over).
func classify(t reflect.Type) (reflect.Type, bool) {
	if t == nil {
		return nil, false
	}
	if c, ok := classCache.Load(t); ok {
		c := c.(class)
		return c.t, c.leaf
	}
	u := t
	for u.Kind() == reflect.Pointer {
		u = u.Elem()
	}
	var c class
	if !reflect.PointerTo(u).Implements(unmarshalerType) && u.Kind() != reflect.Interface {
		c = class{u, !holdsObjects(u)}
	}
	classCache.Store(t, c)
	return c.t, c.leaf
}

type class struct {
	t    reflect.Type
	leaf bool
}

var classCache sync.Map // reflect.Type → class

// field is a struct field as encoding/json names it.
type field struct {
	name string
	typ  reflect.Type
}

// fields are a struct type's fields by JSON name, and by folded name
// (foldKey) the first of those that fold alike.
type fields struct {
	exact, folded map[string]field
}

var fieldCache sync.Map // reflect.Type → *fields

// structFields lists the fields of the struct type t, fields of embedded
// structs included (the outer struct's own win).
func structFields(t reflect.Type) *fields {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fields)
	}
	var list []field
	addFields(t, &list)
	fs := &fields{exact: map[string]field{}, folded: map[string]field{}}
	for _, f := range list {
		if _, ok := fs.exact[f.name]; !ok {
			fs.exact[f.name] = f
		}
		if _, ok := fs.folded[foldKey(f.name)]; !ok {
			fs.folded[foldKey(f.name)] = f
		}
	}
	fieldCache.Store(t, fs)
	return fs
}

// addFields appends the fields of struct type t in encoding/json's order
// of precedence: its own, then those promoted from embedded structs. The
// embedded ones are taken depth-first, where encoding/json takes the
// shallowest of two same-named fields at different depths: no type palate
// decodes has such a pair (the one embedding, train's savedConfig, adds
// fields of its own beside model.Config's).
func addFields(t reflect.Type, list *[]field) {
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
		*list = append(*list, field{name, f.Type})
	}
	for _, et := range embedded {
		addFields(et, list)
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
