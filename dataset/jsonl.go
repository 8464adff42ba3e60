package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"unicode/utf8"

	"palate"
	"palate/internal/jsonkeys"
)

// MaxLine is the longest line, in bytes without its line ending, that the
// .jsonl readers accept. It bounds memory on a corrupt file (one with no
// newlines) while leaving room for very long prompts.
const MaxLine = 1 << 20

// lineReader yields the lines of a file one at a time, supporting lines far
// longer than its buffer up to MaxLine.
type lineReader struct {
	r    *bufio.Reader
	buf  []byte
	line int // number of the line last returned, from 1
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its line ending; the slice is valid
// until the following call. It returns io.EOF after the last line, and an
// EINVALID error (without a location) for a line longer than MaxLine.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(l.buf) == 0 && err == nil {
			// The common case: the whole line is in the buffer.
			l.line++
			return trimLine(chunk, true)
		}
		l.buf = append(l.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			if len(l.buf) > MaxLine+2 { // room for "\r\n"
				l.line++
				return nil, palate.Errorf(palate.EINVALID, "line is longer than %d bytes", MaxLine)
			}
			continue
		case err == io.EOF:
			if len(l.buf) == 0 {
				return nil, io.EOF
			}
			l.line++
			return trimLine(l.buf, false)
		case err != nil:
			return nil, err
		}
		l.line++
		return trimLine(l.buf, true)
	}
}

// trimLine drops the line ending from b and checks its length.
func trimLine(b []byte, newline bool) ([]byte, error) {
	if newline {
		b = b[:len(b)-1]
	}
	b = bytes.TrimSuffix(b, []byte{'\r'})
	if len(b) > MaxLine {
		return nil, palate.Errorf(palate.EINVALID, "line is longer than %d bytes", MaxLine)
	}
	return b, nil
}

// at prefixes err's message with a location such as "dir/votes.jsonl:12",
// keeping its code (EINTERNAL for errors that are not *palate.Error) and its
// chain, so a caller's own sentinel still matches errors.Is.
func at(loc string, err error) error {
	return &palate.Error{Code: palate.ErrorCode(err), Message: loc + ": " + err.Error(), Err: err}
}

func invalid(format string, args ...any) error {
	return palate.Errorf(palate.EINVALID, format, args...)
}

// scanReader calls fn for every non-blank line of r with the line's number,
// from 1, and prefixes any error with "name:line". fn must not keep the
// slice.
func scanReader(name string, r io.Reader, fn func(line int, b []byte) error) error {
	lr := newLineReader(r)
	for {
		b, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if palate.ErrorCode(err) == palate.EINVALID {
				return at(fmt.Sprintf("%s:%d", name, lr.line), err)
			}
			return palate.Errorf(palate.EINTERNAL, "%s: %w", name, err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if err := fn(lr.line, b); err != nil {
			return at(fmt.Sprintf("%s:%d", name, lr.line), err)
		}
	}
}

// newEncoder returns the JSON encoder every writer uses: one object per
// line, with <, > and & left readable.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

func openError(path string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return palate.Errorf(palate.EINVALID, "%s: file does not exist", path)
	}
	return palate.Errorf(palate.EINTERNAL, "%s: %w", path, err)
}

// decodeObject decodes one JSON object from b into v, rejecting unknown
// fields, keys given twice or in another case than their field's
// (jsonkeys.Check), lone surrogates, trailing data and non-objects, with
// messages free of Go type names.
func decodeObject(b []byte, v any) error {
	if !utf8.Valid(b) {
		return invalid("not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("want a JSON object")
	}
	if off := jsonkeys.LoneSurrogate(b); off >= 0 {
		return invalid("%s at byte %d is half of a UTF-16 surrogate pair, not a character", b[off:off+6], off)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("unexpected data after the JSON object")
	}
	if p := jsonkeys.Check(b, reflect.TypeOf(v), ""); p != nil {
		return keyProblem(p, func(int64) string { return "" })
	}
	return nil
}

// jsonError rewrites an encoding/json error for people who write JSON, not Go.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return palate.Errorf(palate.EINVALID, "malformed JSON at byte %d: %w", syn.Offset, syn)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return invalid("got a JSON %s; want an object", typ.Value)
		}
		msg := fmt.Sprintf("%s is a JSON %s; want %s", typ.Field, typ.Value, jsonKind(typ.Type.Kind().String()))
		return &palate.Error{Code: palate.EINVALID, Message: msg, Err: typ}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid("malformed JSON: unexpected end of line")
	}
	return invalid("%s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonOffset returns the byte offset of a decodeObject error from a JSON
// syntax or type error, or -1.
func jsonOffset(err error) int64 {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return syn.Offset
	case errors.As(err, &typ):
		return typ.Offset
	}
	return -1
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "float64", "float32":
		return "a number"
	case "int", "int64":
		return "an integer"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return goKind
}
