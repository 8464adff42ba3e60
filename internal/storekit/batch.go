package storekit

import (
	"bytes"
	"encoding/binary"
	"math"

	"palate"
)

// Dedup finds repeated ids inside one batch. It returns the indexes of the
// first occurrence of each id, in batch order, and how many items repeated an
// earlier one with the same content. An id repeated with different content
// is an ECONFLICT naming the later item as list[i] ("items[4]").
func Dedup[T any](list string, items []T, id func(T) string, same func(a, b T) bool) (first []int, dup int, err error) {
	seen := make(map[string]int, len(items))
	first = make([]int, 0, len(items))
	for i, it := range items {
		k := id(it)
		if j, ok := seen[k]; ok {
			if !same(items[j], it) {
				return nil, 0, palate.Errorf(palate.ECONFLICT, "%s[%d]: id %q repeats %s[%d] with different content", list, i, k, list, j)
			}
			dup++
			continue
		}
		seen[k] = i
		first = append(first, i)
	}
	return first, dup, nil
}

// SameComparison reports whether two normalised comparisons hold the same content.
func SameComparison(a, b palate.Comparison) bool {
	return a.ID == b.ID && a.User == b.User && a.Prompt == b.Prompt && a.Image0 == b.Image0 &&
		a.Image1 == b.Image1 && a.Label0 == b.Label0 && a.Time.Equal(b.Time)
}

// SameVote reports whether two normalised votes hold the same content.
func SameVote(a, b palate.Vote) bool {
	return a.ID == b.ID && a.User == b.User && a.Image == b.Image && a.Vote == b.Vote && a.Time.Equal(b.Time)
}

// SameVector reports whether two vectors are bit-for-bit equal.
func SameVector(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// SameModel reports whether two normalised model records hold the same
// content (the publication time aside).
func SameModel(a, b palate.ModelRecord) bool {
	return a.Version == b.Version && a.Embedder == b.Embedder && a.Created.Equal(b.Created) &&
		bytes.Equal(a.Summary, b.Summary) && bytes.Equal(a.Archive, b.Archive)
}

// EncodeVector returns v as little-endian float32 bytes.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeVector reads little-endian float32 bytes; an odd length is EINTERNAL
// (the store wrote it, so it is corrupt).
func DecodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, palate.Errorf(palate.EINTERNAL, "stored vector has %d bytes, not a multiple of 4", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// UserDelta is what one write added to a person's counts.
type UserDelta struct {
	User        string
	Comparisons int
	Votes       int
	Last        int64 // the latest time among the new records, Unix microseconds
}

// Deltas accumulates per-user count changes in first-seen order.
type Deltas struct {
	order []string
	m     map[string]*UserDelta
}

// Add records one new comparison (vote false) or vote of user at time t (Unix µs).
func (d *Deltas) Add(user string, vote bool, t int64) {
	if d.m == nil {
		d.m = make(map[string]*UserDelta)
	}
	u, ok := d.m[user]
	if !ok {
		u = &UserDelta{User: user, Last: t}
		d.m[user] = u
		d.order = append(d.order, user)
	}
	if vote {
		u.Votes++
	} else {
		u.Comparisons++
	}
	u.Last = max(u.Last, t)
}

// List returns the deltas sorted by user, so concurrent writers take row
// locks in one order.
func (d *Deltas) List() []UserDelta {
	out := make([]UserDelta, 0, len(d.order))
	for _, u := range d.order {
		out = append(out, *d.m[u])
	}
	sortBy(out, func(x UserDelta) string { return x.User })
	return out
}

// Events returns one EventUser per user whose history grew.
func (d *Deltas) Events() []palate.Event {
	l := d.List()
	ev := make([]palate.Event, len(l))
	for i, u := range l {
		ev[i] = palate.Event{Kind: palate.EventUser, User: u.User}
	}
	return ev
}
