// Package storetest is the conformance suite every palate.Store backend
// passes: Run it from the backend's tests with a function that opens stores.
package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"palate"
)

// Opener returns a Store on the database of test t: a fresh, empty database
// the first time it is called for t, and a new Store on that same database
// (as a second process would open it) on each later call with the same t. It
// closes what it opens when t ends, and fails t if it cannot open.
type Opener func(t *testing.T) palate.Store

// Run runs the whole suite, each part as a subtest on its own database.
func Run(t *testing.T, open Opener) {
	parts := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Images", testImages},
		{"Idempotent", testIdempotent},
		{"AllOrNothing", testAllOrNothing},
		{"Embeddings", testEmbeddings},
		{"History", testHistory},
		{"Users", testUsers},
		{"Models", testModels},
		{"Subscribe", testSubscribe},
		{"Concurrent", testConcurrent},
		{"Close", testClose},
	}
	for _, p := range parts {
		t.Run(p.name, func(t *testing.T) { p.fn(t, open) })
	}
}

// T0 is the time the suite's records start at.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// Images returns n images img-000... with prompts.
func Images(n int) []palate.Image {
	ims := make([]palate.Image, n)
	for i := range ims {
		ims[i] = palate.Image{ID: fmt.Sprintf("img-%03d", i), Prompt: fmt.Sprintf("prompt %d", i), Path: fmt.Sprintf("images/%03d.png", i)}
	}
	return ims
}

// Vote returns a vote by user on image at T0 plus minutes.
func Vote(id, user, image string, minutes int) palate.Vote {
	return palate.Vote{ID: id, User: user, Image: image, Vote: palate.Like, Time: T0.Add(time.Duration(minutes) * time.Minute)}
}

// Comparison returns a comparison by user at T0 plus minutes, image0 preferred.
func Comparison(id, user, image0, image1 string, minutes int) palate.Comparison {
	return palate.Comparison{ID: id, User: user, Prompt: "p", Image0: image0, Image1: image1, Label0: 1,
		Time: T0.Add(time.Duration(minutes) * time.Minute)}
}

func mustWrite(t *testing.T, w palate.Written, err error, want palate.Written) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if w != want {
		t.Fatalf("wrote %+v; want %+v", w, want)
	}
}

// wantErr fails t unless err has code and its message contains every part.
func wantErr(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s naming %q", code, parts)
	}
	if got := palate.ErrorCode(err); got != code {
		t.Fatalf("error %q has code %s; want %s", err, got, code)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not name %q", err, p)
		}
	}
}

func testImages(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	ims := Images(25)
	// Ids whose byte order differs from a natural or case-folding order.
	ims = append(ims, palate.Image{ID: "Z"}, palate.Image{ID: "a"}, palate.Image{ID: "é", Prompt: "ünïcode"})
	w, err := s.PutImages(c, ims)
	mustWrite(t, w, err, palate.Written{Inserted: 28})

	got, err := s.Images(c, []string{"img-007", "img-003", "img-007", "é"})
	if err != nil {
		t.Fatal(err)
	}
	want := []palate.Image{ims[7], ims[3], ims[7], ims[27]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Images = %v; want %v", got, want)
	}
	_, err = s.Images(c, []string{"img-001", "nope"})
	wantErr(t, err, palate.ENOTFOUND, "ids[1]", `"nope"`)
	// Ids no store could hold are simply not found.
	_, err = s.Images(c, []string{"img-001", "nul\x00", "\xff"})
	wantErr(t, err, palate.ENOTFOUND, "ids[1]")
	_, err = s.Embeddings(c, "e", []string{"\xff"})
	wantErr(t, err, palate.ENOTFOUND, "ids[0]")

	// Keyset pagination walks every image once, in byte order of id.
	var all []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := s.ListImages(c, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 10 || pages > 5 {
			t.Fatalf("page %d has %d images", pages, len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, im := range page {
			all = append(all, im.ID)
		}
		after = page[len(page)-1].ID
	}
	if len(all) != 28 || all[0] != "Z" || all[1] != "a" || all[2] != "img-000" || all[27] != "é" {
		t.Fatalf("listed %d images: %v", len(all), all)
	}
	page, err := s.ListImages(c, "img-020", 100)
	if err != nil || len(page) != 5 || page[0].ID != "img-021" || page[0] != ims[21] {
		t.Fatalf("after img-020: %v, %v", page, err)
	}
	_, err = s.ListImages(c, "", 0)
	wantErr(t, err, palate.EINVALID, "limit")
	if err := s.Ping(c); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testIdempotent(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	ims := Images(3)
	w, err := s.PutImages(c, ims)
	mustWrite(t, w, err, palate.Written{Inserted: 3})
	w, err = s.PutImages(c, append(Images(4), ims[0]))
	mustWrite(t, w, err, palate.Written{Inserted: 1, Duplicate: 4})

	changed := ims[1]
	changed.Prompt = "another prompt"
	_, err = s.PutImages(c, []palate.Image{{ID: "img-new"}, changed})
	wantErr(t, err, palate.ECONFLICT, "items[1]", "img-001")
	if _, err := s.Images(c, []string{"img-new"}); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("the batch with a conflict was partly written: %v", err)
	}
	// The same id twice in one batch with different content.
	_, err = s.PutImages(c, []palate.Image{{ID: "x", Prompt: "1"}, {ID: "x", Prompt: "2"}})
	wantErr(t, err, palate.ECONFLICT, "items[1]")

	// Votes and comparisons: stored once however often they are sent.
	v := Vote("v1", "u1", "img-000", 0)
	w, err = s.AddVotes(c, []palate.Vote{v, v})
	mustWrite(t, w, err, palate.Written{Inserted: 1, Duplicate: 1})
	w, err = s.AddVotes(c, []palate.Vote{v})
	mustWrite(t, w, err, palate.Written{Duplicate: 1})
	// The same instant in another zone, and with nanoseconds the store does
	// not keep, is the same vote.
	v2 := v
	v2.Time = v.Time.In(time.FixedZone("X", 3600)).Add(300 * time.Nanosecond)
	w, err = s.AddVotes(c, []palate.Vote{v2})
	mustWrite(t, w, err, palate.Written{Duplicate: 1})
	v2.Vote = palate.Dislike
	_, err = s.AddVotes(c, []palate.Vote{Vote("v2", "u1", "img-000", 1), v2})
	wantErr(t, err, palate.ECONFLICT, "items[1]", "v1")

	cmp := Comparison("c1", "u1", "img-000", "img-001", 2)
	w, err = s.AddComparisons(c, []palate.Comparison{cmp})
	mustWrite(t, w, err, palate.Written{Inserted: 1})
	w, err = s.AddComparisons(c, []palate.Comparison{cmp, Comparison("c2", "u1", "img-001", "img-002", 3)})
	mustWrite(t, w, err, palate.Written{Inserted: 1, Duplicate: 1})
	cmp.Label0 = 0.5
	_, err = s.AddComparisons(c, []palate.Comparison{cmp})
	wantErr(t, err, palate.ECONFLICT, "items[0]", "c1")

	h, err := s.History(c, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Votes) != 1 || len(h.Comparisons) != 2 || h.Votes[0].Vote != palate.Like || h.Comparisons[0].Label0 != 1 {
		t.Fatalf("history after repeats: %+v", h)
	}
}

func testAllOrNothing(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	if _, err := s.PutImages(c, Images(3)); err != nil {
		t.Fatal(err)
	}
	cs := []palate.Comparison{
		Comparison("c0", "u", "img-000", "img-001", 0),
		Comparison("c1", "u", "img-001", "img-002", 1),
		Comparison("c2", "u", "img-404", "img-002", 2),
	}
	_, err := s.AddComparisons(c, cs)
	wantErr(t, err, palate.ENOTFOUND, "items[2].image_0", "img-404")
	cs[2] = Comparison("c2", "u", "img-000", "img-405", 2)
	_, err = s.AddComparisons(c, cs)
	wantErr(t, err, palate.ENOTFOUND, "items[2].image_1", "img-405")
	cs[2] = Comparison("c2", "u", "img-000", "img-002", 2)
	cs[1].Label0 = 0.7
	_, err = s.AddComparisons(c, cs)
	wantErr(t, err, palate.EINVALID, "items[1].label_0")

	vs := []palate.Vote{Vote("v0", "u", "img-000", 0), Vote("v1", "u", "img-999", 1)}
	_, err = s.AddVotes(c, vs)
	wantErr(t, err, palate.ENOTFOUND, "items[1].image", "img-999")
	vs[1] = Vote("v1", "", "img-001", 1)
	_, err = s.AddVotes(c, vs)
	wantErr(t, err, palate.EINVALID, "items[1].user")
	vs[1] = Vote("v1", "u", "img-001", 1)
	vs[1].Vote = "love"
	_, err = s.AddVotes(c, vs)
	wantErr(t, err, palate.EINVALID, "items[1].vote")

	_, err = s.PutImages(c, []palate.Image{{ID: "ok"}, {ID: ""}})
	wantErr(t, err, palate.EINVALID, "items[1].id")

	h, err := s.History(c, "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Comparisons)+len(h.Votes) != 0 {
		t.Fatalf("failed batches left %d comparisons and %d votes", len(h.Comparisons), len(h.Votes))
	}
	if _, err := s.Images(c, []string{"ok"}); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("failed image batch was partly written: %v", err)
	}
	users, err := s.Users(c)
	if err != nil || len(users) != 0 {
		t.Fatalf("failed batches left users %v (%v)", users, err)
	}
	// Empty batches are fine and write nothing.
	w, err := s.AddVotes(c, nil)
	mustWrite(t, w, err, palate.Written{})
}

func testEmbeddings(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	if _, err := s.PutImages(c, Images(4)); err != nil {
		t.Fatal(err)
	}
	ids := []string{"img-000", "img-001", "img-002"}
	vecs := [][]float32{{1, -2, 3.5, 0}, {1e-38, 1048575.9, -0.25, 7}, {0, 0, 0, 1}}
	w, err := s.PutEmbeddings(c, "e1", ids, vecs)
	mustWrite(t, w, err, palate.Written{Inserted: 3})
	got, err := s.Embeddings(c, "e1", []string{"img-002", "img-000"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint([][]float32{vecs[2], vecs[0]}) {
		t.Fatalf("Embeddings = %v", got)
	}
	got, _ = s.Embeddings(c, "e1", []string{"img-001"})
	if got[0][0] != 1e-38 || got[0][1] != 1048575.9 {
		t.Fatalf("float32 values changed: %v", got[0])
	}

	w, err = s.PutEmbeddings(c, "e1", ids[:1], vecs[:1])
	mustWrite(t, w, err, palate.Written{Duplicate: 1})
	_, err = s.PutEmbeddings(c, "e1", []string{"img-003", "img-000"}, [][]float32{{1, 1, 1, 1}, {9, 9, 9, 9}})
	wantErr(t, err, palate.ECONFLICT, "ids[1]", "img-000")
	_, err = s.PutEmbeddings(c, "e1", []string{"img-003"}, [][]float32{{1, 2, 3}})
	wantErr(t, err, palate.EINVALID, "vectors[0]", "dimension 4")
	nan := float32(0)
	nan /= nan
	_, err = s.PutEmbeddings(c, "e1", []string{"img-003"}, [][]float32{{1, nan, 3, 4}})
	wantErr(t, err, palate.EINVALID, "vectors[0][1]")
	inf := float32(1e38)
	inf *= 10
	_, err = s.PutEmbeddings(c, "e1", []string{"img-003"}, [][]float32{{inf, 0, 3, 4}})
	wantErr(t, err, palate.EINVALID, "vectors[0][0]")
	_, err = s.PutEmbeddings(c, "e1", []string{"img-003"}, [][]float32{{1, 2, -palate.MaxEmbeddingValue, 4}}) // finite, but too large
	wantErr(t, err, palate.EINVALID, "vectors[0][2]", "under 1048576")
	_, err = s.PutEmbeddings(c, "e1", []string{"img-003", "img-404"}, [][]float32{{1, 2, 3, 4}, {1, 2, 3, 4}})
	wantErr(t, err, palate.ENOTFOUND, "ids[1]", "img-404")
	_, err = s.PutEmbeddings(c, "e1", []string{"img-003"}, nil)
	wantErr(t, err, palate.EINVALID, "vectors")
	_, err = s.PutEmbeddings(c, "bad name", ids[:1], vecs[:1])
	wantErr(t, err, palate.EINVALID, "embedder")
	// None of the failed batches wrote img-003.
	_, err = s.Embeddings(c, "e1", []string{"img-000", "img-003"})
	wantErr(t, err, palate.ENOTFOUND, "img-003")
	_, err = s.Embeddings(c, "e2", []string{"img-000"})
	wantErr(t, err, palate.ENOTFOUND, "img-000")

	// Another embedder has its own dimension, fixed by its first write.
	w, err = s.PutEmbeddings(c, "e2", []string{"img-000"}, [][]float32{{5, 6}})
	mustWrite(t, w, err, palate.Written{Inserted: 1})
	_, err = s.PutEmbeddings(c, "e2", []string{"img-001"}, [][]float32{{5, 6, 7, 8}})
	wantErr(t, err, palate.EINVALID, "dimension 2")
	// A first write whose vectors disagree fixes nothing.
	_, err = s.PutEmbeddings(c, "e3", []string{"img-000", "img-001"}, [][]float32{{1}, {1, 2}})
	wantErr(t, err, palate.EINVALID, "vectors[1]")
	w, err = s.PutEmbeddings(c, "e3", []string{"img-001"}, [][]float32{{1, 2, 3}})
	mustWrite(t, w, err, palate.Written{Inserted: 1})
}

func testHistory(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	if _, err := s.PutImages(c, Images(4)); err != nil {
		t.Fatal(err)
	}
	// Written out of order, with ties in time broken by id.
	cs := []palate.Comparison{
		Comparison("c-b", "u", "img-000", "img-001", 5),
		Comparison("c-a", "u", "img-002", "img-003", 5),
		Comparison("c-z", "u", "img-000", "img-002", 1),
		Comparison("other", "w", "img-000", "img-002", 0),
	}
	cs[1].Label0 = 0.5
	cs[1].Prompt = "two ünïcode things"
	vs := []palate.Vote{Vote("v-2", "u", "img-001", 9), Vote("v-1", "u", "img-002", 9), Vote("v-0", "u", "img-003", 30)}
	vs[2].Vote = palate.Dislike
	vs[0].Time = vs[0].Time.Add(1500 * time.Nanosecond) // kept to the microsecond
	if _, err := s.AddComparisons(c, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddVotes(c, vs); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(c, "u")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, x := range h.Comparisons {
		order = append(order, x.ID)
	}
	for _, x := range h.Votes {
		order = append(order, x.ID)
	}
	if h.User != "u" || strings.Join(order, " ") != "c-z c-a c-b v-1 v-2 v-0" {
		t.Fatalf("history of %q in order %v", h.User, order)
	}
	a := h.Comparisons[1]
	if a.Label0 != 0.5 || a.Prompt != cs[1].Prompt || a.Image0 != "img-002" || a.Image1 != "img-003" || a.User != "u" ||
		!a.Time.Equal(cs[1].Time) || a.Time.Location() != time.UTC {
		t.Fatalf("comparison read back as %+v; wrote %+v", a, cs[1])
	}
	v := h.Votes[1]
	if v.Image != "img-001" || v.Vote != palate.Like || !v.Time.Equal(T0.Add(9*time.Minute+time.Microsecond)) {
		t.Fatalf("vote read back as %+v (time kept to the microsecond)", v)
	}
	if h.Votes[2].Vote != palate.Dislike {
		t.Fatalf("dislike read back as %q", h.Votes[2].Vote)
	}
	for _, nobody := range []string{"nobody", "\xff\x00"} {
		h, err = s.History(c, nobody)
		if err != nil || h.User != nobody || len(h.Comparisons) != 0 || len(h.Votes) != 0 || h.Votes == nil || h.Comparisons == nil {
			t.Fatalf("unknown user %q's history %+v, %v; want empty, non-nil lists", nobody, h, err)
		}
	}
}

func testUsers(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	if _, err := s.PutImages(c, Images(3)); err != nil {
		t.Fatal(err)
	}
	users, err := s.Users(c)
	if err != nil || len(users) != 0 {
		t.Fatalf("empty store has users %v (%v)", users, err)
	}
	if _, err := s.AddVotes(c, []palate.Vote{Vote("v1", "bob", "img-000", 3), Vote("v2", "Ann", "img-000", 7), Vote("v3", "bob", "img-001", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddComparisons(c, []palate.Comparison{Comparison("c1", "bob", "img-000", "img-001", 10), Comparison("c2", "cy", "img-000", "img-002", 2)}); err != nil {
		t.Fatal(err)
	}
	// Repeats change no count.
	if _, err := s.AddVotes(c, []palate.Vote{Vote("v1", "bob", "img-000", 3)}); err != nil {
		t.Fatal(err)
	}
	users, err = s.Users(c)
	if err != nil {
		t.Fatal(err)
	}
	want := []palate.UserSummary{
		{User: "Ann", Votes: 1, Last: T0.Add(7 * time.Minute)},
		{User: "bob", Comparisons: 1, Votes: 2, Last: T0.Add(10 * time.Minute)},
		{User: "cy", Comparisons: 1, Last: T0.Add(2 * time.Minute)},
	}
	if len(users) != len(want) {
		t.Fatalf("Users = %+v; want %+v", users, want)
	}
	for i := range want {
		u, w := users[i], want[i]
		if u.User != w.User || u.Comparisons != w.Comparisons || u.Votes != w.Votes || !u.Last.Equal(w.Last) {
			t.Fatalf("Users[%d] = %+v; want %+v", i, u, w)
		}
	}
}

func testModels(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	_, err := s.LatestModel(c)
	wantErr(t, err, palate.ENOTFOUND)
	m1 := &palate.ModelRecord{Version: "v1", Embedder: "pixels-v2", Created: T0, Summary: []byte(`{"steps":1}`), Archive: []byte("tar one")}
	m2 := &palate.ModelRecord{Version: "v2", Embedder: "pixels-v2", Created: T0.Add(time.Hour), Archive: []byte("tar two")}
	for _, m := range []*palate.ModelRecord{m1, m2} {
		if err := s.PublishModel(c, m); err != nil {
			t.Fatal(err)
		}
		if m.Published.IsZero() {
			t.Fatalf("%s: Published not set", m.Version)
		}
	}
	got, err := s.LatestModel(c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "v2" || string(got.Archive) != "tar two" || got.Embedder != "pixels-v2" || !got.Created.Equal(m2.Created) ||
		len(got.Summary) != 0 || !got.Published.Equal(m2.Published) {
		t.Fatalf("LatestModel = %+v", got)
	}
	// Publishing v1 again with the same bytes is a no-op; it stays older.
	again := *m1
	if err := s.PublishModel(c, &again); err != nil {
		t.Fatalf("republishing the same model: %v", err)
	}
	again.Archive = []byte("tar one, changed")
	wantErr(t, s.PublishModel(c, &again), palate.ECONFLICT, "v1")
	again = *m1
	again.Summary = []byte(`{"steps":2}`)
	wantErr(t, s.PublishModel(c, &again), palate.ECONFLICT, "v1")
	if got, _ := s.LatestModel(c); got == nil || got.Version != "v2" {
		t.Fatalf("latest after republishing v1: %+v", got)
	}
	wantErr(t, s.PublishModel(c, &palate.ModelRecord{Embedder: "e", Created: T0, Archive: []byte("x")}), palate.EINVALID, "version")
	wantErr(t, s.PublishModel(c, &palate.ModelRecord{Version: "v3", Embedder: "e", Created: T0}), palate.EINVALID, "archive")
	// A second Store on the database sees it too.
	got, err = open(t).LatestModel(c)
	if err != nil || got.Version != "v2" || string(got.Summary) != "" {
		t.Fatalf("second store's LatestModel = %+v, %v", got, err)
	}
}

// next waits for an event that match accepts, skipping others; an EventLost
// fails the test, as nothing here should be lost.
func next(t *testing.T, ch <-chan palate.Event, what string, match func(palate.Event) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed waiting for %s", what)
			}
			if e.Kind == palate.EventLost {
				t.Fatalf("EventLost waiting for %s", what)
			}
			if match(e) {
				return
			}
		case <-timeout:
			t.Fatalf("no %s within 10s", what)
		}
	}
}

func testSubscribe(t *testing.T, open Opener) {
	s1, c := open(t), ctx(t)
	s2 := open(t) // another Store on the same database, as another process
	sub := func(s palate.Store) (<-chan palate.Event, context.CancelFunc) {
		cc, cancel := context.WithCancel(c)
		ch, err := s.Subscribe(cc)
		if err != nil {
			t.Fatal(err)
		}
		return ch, cancel
	}
	ch1, cancel1 := sub(s1)
	ch2, cancel2 := sub(s2)
	defer cancel2()
	if _, err := s1.PutImages(c, Images(3)); err != nil {
		t.Fatal(err)
	}
	user := func(u string) func(palate.Event) bool {
		return func(e palate.Event) bool { return e.Kind == palate.EventUser && e.User == u }
	}
	if _, err := s1.AddVotes(c, []palate.Vote{Vote("v1", "ann", "img-000", 0)}); err != nil {
		t.Fatal(err)
	}
	next(t, ch1, "ann's event on the writing store", user("ann"))
	next(t, ch2, "ann's event on the second store", user("ann"))

	if _, err := s2.AddComparisons(c, []palate.Comparison{Comparison("c1", "bob", "img-000", "img-001", 0)}); err != nil {
		t.Fatal(err)
	}
	next(t, ch1, "bob's event written by the other store", user("bob"))
	next(t, ch2, "bob's event on the writing store", user("bob"))

	if err := s2.PublishModel(c, &palate.ModelRecord{Version: "m1", Embedder: "e", Created: T0, Archive: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	model := func(e palate.Event) bool { return e.Kind == palate.EventModel && e.Version == "m1" }
	next(t, ch1, "model event from the other store", model)
	next(t, ch2, "model event", model)

	// Repeated writes change nothing and need not be announced; the next
	// real change still arrives.
	if _, err := s1.AddVotes(c, []palate.Vote{Vote("v1", "ann", "img-000", 0), Vote("v2", "cy", "img-001", 0)}); err != nil {
		t.Fatal(err)
	}
	next(t, ch2, "cy's event", user("cy"))

	cancel1()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch1:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("channel still open 10s after its context ended")
		}
	}
}

func testConcurrent(t *testing.T, open Opener) {
	s1, c := open(t), ctx(t)
	s2 := open(t)
	if _, err := s1.PutImages(c, Images(10)); err != nil {
		t.Fatal(err)
	}
	// 8 writers on two stores send overlapping batches: each vote is
	// inserted once, and every other send of it is a duplicate.
	const writers, batches, size = 8, 10, 20
	type result struct {
		w   palate.Written
		err error
	}
	results := make(chan result, writers*batches)
	for g := range writers {
		s := s1
		if g%2 == 1 {
			s = s2
		}
		go func() {
			for b := range batches {
				vs := make([]palate.Vote, size)
				for i := range vs {
					n := (g*batches*size/2 + b*size + i) % (writers * batches * size / 2)
					vs[i] = Vote(fmt.Sprintf("v%04d", n), fmt.Sprintf("u%d", n%7), fmt.Sprintf("img-%03d", n%10), n)
				}
				w, err := s.AddVotes(c, vs)
				results <- result{w, err}
			}
		}()
	}
	var total palate.Written
	for range writers * batches {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		total.Inserted += r.w.Inserted
		total.Duplicate += r.w.Duplicate
	}
	distinct := writers * batches * size / 2
	if total.Inserted != distinct || total.Duplicate != writers*batches*size-distinct {
		t.Fatalf("wrote %+v; want %d inserted", total, distinct)
	}
	users, err := s2.Users(c)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range users {
		n += u.Votes
		h, err := s1.History(c, u.User)
		if err != nil || len(h.Votes) != u.Votes {
			t.Fatalf("%s: Users counts %d votes, history has %d (%v)", u.User, u.Votes, len(h.Votes), err)
		}
	}
	if n != distinct || len(users) != 7 {
		t.Fatalf("Users counts %d votes of %d people; want %d of 7", n, len(users), distinct)
	}
}

func testClose(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	ch, err := s.Subscribe(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutImages(c, Images(2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(c); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Ping(c); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
	if _, err := s.PutImages(c, Images(1)); err == nil {
		t.Fatal("PutImages after Close succeeded")
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Subscribe channel still open after Close")
	}
	if _, err := s.Subscribe(c); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
	// What was written before is there for the next Store.
	if ims, err := open(t).Images(c, []string{"img-001"}); err != nil || ims[0].Prompt != "prompt 1" {
		t.Fatalf("after Close, a new Store reads %v, %v", ims, err)
	}
}
