package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"palate"
)

// DecodeFileObject decodes data, the whole of a JSON file named name (a
// config), into v strictly: one JSON object with no unknown keys and
// nothing after it. Errors are EINVALID and name the file with the line
// and column of the fault, the key of a wrong type, or say that the file is
// empty or holds something other than an object (null included, which
// encoding/json would take as "no change").
func DecodeFileObject(name string, data []byte, v any) error {
	at := func(off int64) string { return name + ":" + lineCol(data, off) + ": " }
	start := int64(len(data) - len(bytes.TrimLeft(data, " \t\r\n")))
	switch {
	case start == int64(len(data)):
		return palate.Errorf(palate.EINVALID, "%s is empty; want a JSON object", name)
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
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := data[end:]
		return palate.Errorf(palate.EINVALID, "%strailing data after the JSON object", at(end+int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))))
	}
	return nil
}

// lineCol is "LINE:COL" (1-based) of byte offset off in data.
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return fmt.Sprintf("%d:%d", bytes.Count(before, []byte{'\n'})+1, len(before)-bytes.LastIndexByte(before, '\n'))
}
