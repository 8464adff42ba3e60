package dataset

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"palate"
)

// The fuzz tests feed arbitrary bytes to the same code Read runs on a file
// and check two things: a rejection is a located EINVALID, never a panic or
// another code; and whatever is accepted, written back the way Writer writes
// it, reads back the same.

func FuzzReadImages(f *testing.F) {
	for _, s := range []string{
		goodImages,
		`{"id":"a","path":"a/b/../c.png"}`,
		`{"id":"a","prompt":"\u00e9\ud83d\ude00 \"q\" \\ \n"}` + "\r\n",
		`{"id":"a"} x`, `{"id":"a"}` + "\n" + `{"id":"a"}`, `[]`, `null`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := fuzzRoundTrip(t, ImagesFile, data, parseImage, func(im palate.Image) string { return im.ID },
			func(a, b palate.Image) bool { return a == b })
		if got != nil {
			if err := (&Dataset{Images: got}).Validate(); err != nil {
				t.Fatalf("read accepted what Validate rejects: %v", err)
			}
		}
	})
}

func FuzzReadComparisons(f *testing.F) {
	for _, s := range []string{
		goodComparisons,
		`{"id":"c","user":"u","image_0":"a","image_1":"b","label_0":1.0,"time":"2025-03-01T12:00:00.000000001-23:59"}`,
		`{"id":"c","user":"u","image_0":"a","image_1":"b","label_0":5e-1,"time":"9999-12-31T23:59:59Z"}`,
		`{"id":"c","user":"u","image_0":"a","image_1":"a","label_0":1,"time":"2025-03-01T12:00:00Z"}`,
		`{"id":"c","user":"u","image_0":"a","image_1":"b","label_0":0.3,"time":"2025-03-01T12:00:00Z"}`,
		`{"id":"c","user":"u","image_0":"a","image_1":"b","label_0":1,"time":"0000-01-01T00:00:00Z"}`,
		`{"id":"c","user":"u","image_0":"a","image_1":"b","label_0":1e999,"time":"2025-03-01T12:00:00Z"}`,
		`{"id":"c","user":"u","image_0":"a","image_1":"b","label_0":-0,"time":"2025-03-01T12:00:00z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := fuzzRoundTrip(t, ComparisonsFile, data, parseComparison, func(c palate.Comparison) string { return c.ID },
			func(a, b palate.Comparison) bool {
				return sameTime(a.Time, b.Time) && a.Label0 == b.Label0 &&
					a.ID == b.ID && a.User == b.User && a.Prompt == b.Prompt && a.Image0 == b.Image0 && a.Image1 == b.Image1
			})
		if got == nil {
			return
		}
		d := &Dataset{Comparisons: got}
		images := map[string]bool{}
		for _, c := range got {
			for _, id := range []string{c.Image0, c.Image1} {
				if !images[id] {
					images[id] = true
					d.Images = append(d.Images, palate.Image{ID: id})
				}
			}
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("read accepted what Validate rejects: %v", err)
		}
	})
}

func FuzzReadVotes(f *testing.F) {
	for _, s := range []string{
		goodVotes,
		`{"id":"v","user":"u","image":"a","vote":"Like","time":"2025-03-01T12:00:00Z"}`,
		`{"id":"v","user":"u","image":"a","vote":"like","time":"2025-03-01T12:00:00+00:00","extra":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, VotesFile, data, parseVote, func(v palate.Vote) string { return v.ID },
			func(a, b palate.Vote) bool {
				return sameTime(a.Time, b.Time) && a.ID == b.ID && a.User == b.User && a.Image == b.Image && a.Vote == b.Vote
			})
	})
}

func FuzzReadSplits(f *testing.F) {
	for _, s := range []string{
		goodSplits, `{}`, `null`, `{"cutoff":{"a":"2025-03-01T12:00:00.5-01:00"}}`,
		`{"unseen_users":["a","a"]}`, `{"unseen_users":["a"],"validation_users":["a"]}`,
		`{"unseen_users":null,"cutoff":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSplits(SplitsFile, data)
		if err != nil {
			checkRejection(t, err, SplitsFile)
			return
		}
		s.Part("a", time.Now())
		b, err := encodeSplits(s)
		if err != nil {
			t.Fatalf("accepted splits do not encode: %v", err)
		}
		again, err := parseSplits(SplitsFile, b)
		if err != nil {
			t.Fatalf("re-encoded splits rejected: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(nonNil(s.UnseenUsers), nonNil(again.UnseenUsers)) ||
			!reflect.DeepEqual(nonNil(s.ValidationUsers), nonNil(again.ValidationUsers)) ||
			len(s.Cutoff) != len(again.Cutoff) {
			t.Fatalf("round trip changed splits: %+v -> %+v", s, again)
		}
		for u, c := range s.Cutoff {
			if !sameTime(c, again.Cutoff[u]) {
				t.Fatalf("cutoff for %q: %v -> %v", u, c, again.Cutoff[u])
			}
		}
	})
}

func FuzzReadEmbeddings(f *testing.F) {
	f.Add([]byte(`{"embedder":"toy","version":"1","dimension":2,"count":2,"ids":["a","b"]}`), []byte("\x00\x00\x80\x3f\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00"))
	f.Add([]byte(`{"embedder":"toy","version":"","dimension":1,"count":1,"ids":["a"]}`), []byte("\x00\x00\xc0\x7f"))
	f.Add([]byte(`{"embedder":"toy","version":"","dimension":1,"count":0,"ids":[]}`), []byte{})
	f.Fuzz(func(t *testing.T, header, data []byte) {
		e, err := parseHeader(header, "toy")
		if err != nil {
			checkRejection(t, err, "")
			return
		}
		n := len(e.IDs) * e.Dim
		if e.Dim > 1<<20 || n > 1<<18 {
			return // readRows's size check stands between such a header and any data
		}
		rows := make([]byte, 4*n) // data cut or zero-padded to the header's size
		copy(rows, data)
		data = rows
		if err := decodeRows("toy.f32", bytes.NewReader(data), e); err != nil {
			checkRejection(t, err, "toy.f32")
			return
		}
		var out []byte
		for _, x := range e.Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("rows do not round-trip bit-exact")
		}
	})
}

// fuzzRoundTrip scans data as the file name; if it is accepted, encodes the
// records as Writer does, scans them again and checks they are equal. It
// returns the accepted records, or nil.
func fuzzRoundTrip[T any](t *testing.T, name string, data []byte, parse func([]byte) (T, error), id func(T) string, equal func(a, b T) bool) []T {
	t.Helper()
	got, err := scanAll(name, data, parse, id)
	if err != nil {
		checkRejection(t, err, name+":")
		return nil
	}
	var buf bytes.Buffer
	enc := newEncoder(&buf)
	for _, r := range got {
		if err := enc.Encode(r); err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
	}
	again, err := scanAll(name, buf.Bytes(), parse, id)
	if err != nil {
		t.Fatalf("re-encoded records rejected: %v\n%s", err, buf.Bytes())
	}
	if len(again) != len(got) {
		t.Fatalf("%d records became %d", len(got), len(again))
	}
	for i := range got {
		if !equal(got[i], again[i]) {
			t.Fatalf("record %d changed:\n%+v\n%+v", i, got[i], again[i])
		}
	}
	return got
}

func scanAll[T any](name string, data []byte, parse func([]byte) (T, error), id func(T) string) ([]T, error) {
	out := []T{}
	err := scanRecords(name, bytes.NewReader(data), parse, id, func(r T) error { out = append(out, r); return nil })
	return out, err
}

// checkRejection fails unless err is EINVALID and its message starts with
// prefix.
func checkRejection(t *testing.T, err error, prefix string) {
	t.Helper()
	if palate.ErrorCode(err) != palate.EINVALID {
		t.Fatalf("code %q; want EINVALID: %v", palate.ErrorCode(err), err)
	}
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("error %q does not start with %q", err, prefix)
	}
}

// sameTime reports whether a and b are the same instant written the same way.
func sameTime(a, b time.Time) bool {
	return a.Equal(b) && a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano)
}
