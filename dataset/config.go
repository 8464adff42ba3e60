package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

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
		// An unknown field, which encoding/json names without its place.
		if p := jsonkeys.Check(data, reflect.TypeOf(v), ""); p != nil {
			return keyProblem(p, at)
		}
		return palate.Errorf(palate.EINVALID, "%s: %s", name, msg)
	}
	if p := jsonkeys.Check(data, reflect.TypeOf(v), ""); p != nil {
		return keyProblem(p, at)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := data[end:]
		return palate.Errorf(palate.EINVALID, "%strailing data after the JSON object", at(end+int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))))
	}
	return nil
}

// keyProblem is the error for a key jsonkeys.Check found, at its place.
func keyProblem(p *jsonkeys.Problem, at func(int64) string) error {
	switch {
	case p.Unknown:
		return palate.Errorf(palate.EINVALID, "%sunknown field %q", at(p.Offset), p.Path)
	case p.Want != "":
		return palate.Errorf(palate.EINVALID, "%sunknown field %q (field names are case-sensitive: want %q)", at(p.Offset), p.Path, p.Want)
	}
	return palate.Errorf(palate.EINVALID, "%skey %q is given twice in one object (which one is meant?)", at(p.Offset), p.Key)
}

// lineCol is "LINE:COL" (1-based) of byte offset off in data.
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return fmt.Sprintf("%d:%d", bytes.Count(before, []byte{'\n'})+1, len(before)-bytes.LastIndexByte(before, '\n'))
}
