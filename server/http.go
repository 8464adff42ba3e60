package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"palate"
	"palate/api"
	"palate/internal/jsonkeys"
	"palate/internal/storekit"
)

// access is what a route needs from the caller.
type access int

const (
	open  access = iota // no key (health, metrics, the OpenAPI document)
	read                // the read or the write key
	write               // the write key
)

// handlerFunc is a route's handler: it writes its answer and returns nil,
// or returns the error to answer with.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one registered route.
type route struct {
	pattern string
	access  access
	h       handlerFunc
}

func (s *Server) buildRoutes() (patterns []string, mux, probe *http.ServeMux) {
	rs := []route{
		{"POST /v1/comparisons", write, s.postComparisons},
		{"POST /v1/votes", write, s.postVotes},
		{"POST /v1/images", write, s.postImages},
		{"POST /v1/users/{user}/rank", read, s.rank},
		{"GET /v1/users/{user}/similar", read, s.similar},
		{"GET /v1/users/{user}/profile", read, s.profile},
		{"GET /v1/users", read, s.users},
		{"GET /v1/model", read, s.modelInfo},
		{"GET /v1/training", read, s.trainingInfo},
		{"GET /v1/images/{id}/file", read, s.imageFile},
		{"POST /v1/generate", write, s.generate},
		{"GET /v1/map", read, s.tasteMap},
		{"POST /v1/users/{user}/guide", write, s.guideUser},
		{"GET /v1/openapi.json", open, s.openAPI},
		{"GET /healthz", open, s.healthz},
		{"GET /readyz", open, s.readyz},
	}
	mux, probe = http.NewServeMux(), http.NewServeMux()
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, rt := range rs {
		mux.Handle(rt.pattern, s.wrap(rt))
		probe.Handle(rt.pattern, nop)
		patterns = append(patterns, rt.pattern)
	}
	metricsRoute := "GET /metrics"
	mux.Handle(metricsRoute, s.instrument(metricsRoute, s.metrics.handler()))
	probe.Handle(metricsRoute, nop)
	patterns = append(patterns, metricsRoute)
	// The web page (not part of the API; it calls the API like any client).
	page := s.pageHandler()
	mux.Handle("GET /{$}", s.instrument("GET /", page))
	mux.Handle("GET /ui/", s.instrument("GET /ui/", page))
	// Everything else: the JSON error shape for 404 and 405.
	mux.Handle("/", s.wrap(route{"", open, s.noRoute}))
	return patterns, mux, probe
}

// wrap adds to a route, outermost first: metrics, panic recovery, the
// request timeout, authentication, and the error answer.
func (s *Server) wrap(rt route) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "route", rt.pattern, "panic", p, "stack", string(debug.Stack()))
				s.writeError(w, r, palate.Errorf(palate.EINTERNAL, "internal error (a bug; the server logged it)"))
			}
		}()
		ctx, cancel := context.WithTimeout(r.Context(), s.lim.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		if err := s.authorize(r, rt.access); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := rt.h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
	label := rt.pattern
	if label == "" {
		label = "unmatched"
	}
	return s.instrument(label, h)
}

// authorize checks the bearer key against what the route needs.
func (s *Server) authorize(r *http.Request, need access) error {
	if need == open || (s.readKey == "" && s.writeKey == "") {
		return nil
	}
	auth := r.Header.Get("Authorization")
	// The scheme's name is case-insensitive (RFC 9110, 11.1).
	scheme, key, _ := strings.Cut(auth, " ")
	key = strings.TrimSpace(key)
	switch {
	case auth == "":
		return palate.Errorf(palate.EUNAUTHORIZED, "missing key: send the header \"Authorization: Bearer KEY\"")
	case !strings.EqualFold(scheme, "Bearer"):
		return palate.Errorf(palate.EUNAUTHORIZED, "the Authorization header's scheme is %q; send \"Authorization: Bearer KEY\"", scheme)
	case key == "":
		return palate.Errorf(palate.EUNAUTHORIZED, "the Authorization header has no key; send \"Authorization: Bearer KEY\"")
	}
	isWrite := equal(key, s.writeKey)
	isRead := s.readKey != "" && equal(key, s.readKey)
	switch {
	case !isWrite && !isRead:
		return palate.Errorf(palate.EUNAUTHORIZED, "unknown key")
	case need == write && !isWrite:
		return palate.Errorf(palate.EFORBIDDEN, "this route writes: it needs the write key, not the read key")
	}
	return nil
}

func equal(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return palate.Errorf(palate.EINTERNAL, "encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
	return nil
}

// writeError answers with the error's code and message; a deadline is
// EUNAVAILABLE. Internal errors are logged with their cause and answered
// with the message only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		err = palate.Errorf(palate.EUNAVAILABLE, "request took longer than the limit of %s", s.lim.RequestTimeout)
	case errors.Is(err, context.Canceled):
		err = palate.Errorf(palate.EUNAVAILABLE, "request canceled")
	}
	code := palate.ErrorCode(err)
	msg := err.Error()
	var pe *palate.Error
	if code == palate.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		if !errors.As(err, &pe) {
			msg = "internal error: " + msg
		}
	}
	switch code {
	case palate.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
	case palate.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="palate"`)
	}
	_ = writeJSON(w, api.Status(code), api.ErrorResponse{Error: api.ErrorBody{Code: code, Message: msg}})
}

// noRoute answers paths no route matches with 404, and known paths asked
// with the wrong method with 405 and an Allow header.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) error {
	rec := &recorder{header: http.Header{}}
	s.probe.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		return writeJSON(w, http.StatusMethodNotAllowed, api.ErrorResponse{Error: api.ErrorBody{
			Code: palate.EMETHOD, Message: fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow"))}})
	}
	return palate.Errorf(palate.ENOTFOUND, "no route %s %s (see /v1/openapi.json)", r.Method, r.URL.Path)
}

// cleanPaths answers a path with "//", "." or ".." segments with the JSON
// 404 of a path no route has, naming the path meant: http.ServeMux would
// answer with a redirect (307 for a POST), which a client may not follow
// and which is not the API's error shape.
func cleanPaths(s *Server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The mux reads the path as sent, escapes and all: an id holding
		// "/" or "." arrives escaped and is no segment of its own.
		p := r.URL.EscapedPath()
		clean := path.Clean("/" + p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if clean != p {
			s.writeError(w, r, palate.Errorf(palate.ENOTFOUND, "no route %s %s: paths are not cleaned; did you mean %s?", r.Method, p, clean))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recorder is the least ResponseWriter: it keeps the status and header.
type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}
func (r *recorder) WriteHeader(status int) { r.status = status }

// pathID is the path segment name of r, refused with EINVALID naming it
// when no store could hold it as an id (storekit.CheckID), so that reads
// answer the same as writes.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if err := storekit.CheckID(id); err != nil {
		return "", palate.Errorf(palate.EINVALID, "%s in the path %v", name, err)
	}
	return id, nil
}

// readBody reads the request body within MaxBodyBytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.lim.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, palate.Errorf(palate.ETOOLARGE, "body: over the limit of %d bytes", s.lim.MaxBodyBytes)
		}
		return nil, palate.Errorf(palate.EINVALID, "body: %v", err)
	}
	// encoding/json would quietly turn bytes that are not UTF-8 into
	// U+FFFD, storing ids and prompts other than the ones sent.
	if !utf8.Valid(data) {
		n := 0
		for n < len(data) {
			r, size := utf8.DecodeRune(data[n:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			n += size
		}
		return nil, palate.Errorf(palate.EINVALID, "body: not valid UTF-8 at byte %d", n)
	}
	if off := jsonkeys.LoneSurrogate(data); off >= 0 {
		return nil, palate.Errorf(palate.EINVALID, "body: %s at byte %d is half of a UTF-16 surrogate pair, not a character", data[off:off+6], off)
	}
	return data, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields, keys
// given twice or in another case than the field's (checkKeys) and trailing
// data; errors name the field, prefixed by where (e.g.
// "items[2]").
func decodeStrict(data []byte, v any, where string) error {
	at := func(field string) string {
		switch {
		case where == "":
			return field
		case field == "":
			return where
		}
		return where + "." + field
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return palate.Errorf(palate.EINVALID, "%s: unexpected data after the JSON value", at("body"))
		}
		// After the decoder, which has checked the JSON and bounded its depth.
		return checkKeys(data, reflect.TypeOf(v), where)
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var be base64.CorruptInputError
	switch {
	case errors.Is(err, io.EOF):
		return palate.Errorf(palate.EINVALID, "%s: empty; want a JSON object", at("body"))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return palate.Errorf(palate.EINVALID, "%s: truncated JSON", at("body"))
	case errors.As(err, &se):
		return palate.Errorf(palate.EINVALID, "%s: invalid JSON at byte %d: %v", at("body"), se.Offset, se)
	case errors.As(err, &te):
		if te.Field == "" {
			return palate.Errorf(palate.EINVALID, "%s: got a JSON %s, want %s", at("body"), te.Value, jsonKind(te.Type.String()))
		}
		kind := jsonKind(te.Type.String())
		if numberOutOfRange(te.Value, kind) {
			return palate.Errorf(palate.EINVALID, "%s: %s is out of range for %s (%s)", at(te.Field), te.Value, kind, te.Type)
		}
		return palate.Errorf(palate.EINVALID, "%s: got a JSON %s, want %s", at(te.Field), te.Value, kind)
	case errors.As(err, &be):
		return palate.Errorf(palate.EINVALID, "%s: not valid base64 (at byte %d)", at("image"), int64(be))
	}
	// Every time field of the API is called "time"; encoding/json names
	// neither the field nor the offset of a time.Time's own errors.
	var tpe *time.ParseError
	if errors.As(err, &tpe) || strings.HasPrefix(err.Error(), "Time.UnmarshalJSON") {
		return palate.Errorf(palate.EINVALID, "%s: want an RFC 3339 time such as \"2026-01-02T15:04:05Z\" (%v)", at("time"), err)
	}
	// An unknown field, which encoding/json names without its path.
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		if kerr := checkKeys(data, reflect.TypeOf(v), where); kerr != nil {
			return kerr
		}
	}
	return palate.Errorf(palate.EINVALID, "%s: %v", at("body"), err)
}

// numberOutOfRange reports whether a JSON value (a type error's "number
// 1e39") is a number that a field of kind (jsonKind's name) holds, but not
// at that size: any number for a float, a whole one for an integer, a
// whole non-negative one for an unsigned integer.
func numberOutOfRange(value, kind string) bool {
	v, ok := strings.CutPrefix(value, "number ")
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return false
	}
	switch kind {
	case "a number":
		return true
	case "a whole number":
		return f == math.Trunc(f)
	case "a whole number >= 0":
		return f == math.Trunc(f) && f >= 0
	}
	return false
}

// jsonKind names a Go type as a JSON reader would.
func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]uint8"):
		return "a base64 string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "*uint"):
		return "a whole number >= 0"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "*int"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "*float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case strings.Contains(goType, "time.Time"):
		return "an RFC 3339 time"
	}
	return "an object"
}

// decodeItems decodes a single object or {"items": [...]} into items of T,
// each strictly; errors name the item ("items[2].user: ...").
func decodeItems[T any](data []byte, maxBatch int) ([]T, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, decodeStrict(data, new(T), "")
	}
	raw, isBatch := probe["items"]
	if isBatch {
		// The wrapper's own keys, the first wrong one in the body: another
		// key, or "items" again (in any case). The items are checked one
		// by one as they are decoded.
		if p := jsonkeys.Check(data, reflect.TypeFor[struct {
			Items []json.RawMessage `json:"items"`
		}](), ""); p != nil {
			if p.Unknown {
				return nil, palate.Errorf(palate.EINVALID, "%s: unknown field (a batch holds only \"items\")", p.Path)
			}
			return nil, keyError(p)
		}
	} else {
		var one T
		if err := decodeStrict(data, &one, ""); err != nil {
			return nil, err
		}
		return []T{one}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, palate.Errorf(palate.EINVALID, "items: want an array of objects")
	}
	if len(list) == 0 {
		return nil, palate.Errorf(palate.EINVALID, "items: empty")
	}
	if len(list) > maxBatch {
		return nil, palate.Errorf(palate.ETOOLARGE, "items: %d items, over the limit of %d", len(list), maxBatch)
	}
	out := make([]T, len(list))
	for i, r := range list {
		if err := decodeStrict(r, &out[i], fmt.Sprintf("items[%d]", i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// intParam reads a positive integer query parameter, def when absent.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, palate.Errorf(palate.EINVALID, "%s: %q, want a whole number >= 1", name, v)
	}
	if n > max {
		return 0, palate.Errorf(palate.ETOOLARGE, "%s: %d, over the limit of %d", name, n, max)
	}
	return n, nil
}

// checkKeys refuses a key given twice in one object and a key in another
// case than its field's (jsonkeys.Check), which encoding/json would read
// without a word; t is the type data decodes into, where prefixes the names
// as in decodeStrict.
func checkKeys(data []byte, t reflect.Type, where string) error {
	if p := jsonkeys.Check(data, t, where); p != nil {
		return keyError(p)
	}
	return nil
}

// keyError is the EINVALID error for a key jsonkeys.Check found.
func keyError(p *jsonkeys.Problem) error {
	switch {
	case p.Unknown:
		return palate.Errorf(palate.EINVALID, "%s: unknown field", p.Path)
	case p.Want != "":
		return palate.Errorf(palate.EINVALID, "%s: unknown field (field names are case-sensitive: want %q)", p.Path, p.Want)
	case p.Prev != p.Key:
		return palate.Errorf(palate.EINVALID, "%s: given twice (as %q and %q)", p.Path, p.Prev, p.Key)
	}
	return palate.Errorf(palate.EINVALID, "%s: given twice", p.Path)
}
