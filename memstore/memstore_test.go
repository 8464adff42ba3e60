package memstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"palate"
)

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func seed(t *testing.T) *Store {
	t.Helper()
	s := New()
	ctx := context.Background()
	imgs := []palate.Image{{ID: "a", Prompt: "p"}, {ID: "b", Prompt: "p"}, {ID: "c", Prompt: "q"}}
	if w, err := s.PutImages(ctx, imgs); err != nil || w.Inserted != 3 {
		t.Fatalf("PutImages: %+v %v", w, err)
	}
	return s
}

func wantCode(t *testing.T, err error, code, mention string) {
	t.Helper()
	if palate.ErrorCode(err) != code {
		t.Fatalf("error %v (code %q); want code %q", err, palate.ErrorCode(err), code)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("error %q does not mention %q", err, mention)
	}
}

func TestImagesIdempotentAndConflict(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	w, err := s.PutImages(ctx, []palate.Image{{ID: "a", Prompt: "p"}, {ID: "d"}})
	if err != nil || w.Inserted != 1 || w.Duplicate != 1 {
		t.Fatalf("re-put: %+v %v", w, err)
	}
	_, err = s.PutImages(ctx, []palate.Image{{ID: "e"}, {ID: "a", Prompt: "other"}})
	wantCode(t, err, palate.ECONFLICT, "items[1]")
	if _, err := s.Images(ctx, []string{"e"}); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("conflicting batch wrote item 0: %v", err)
	}
	_, err = s.PutImages(ctx, []palate.Image{{ID: "f"}, {ID: ""}})
	wantCode(t, err, palate.EINVALID, "items[1].id")
	// The same id twice in one batch with different content conflicts.
	_, err = s.PutImages(ctx, []palate.Image{{ID: "g", Prompt: "1"}, {ID: "g", Prompt: "2"}})
	wantCode(t, err, palate.ECONFLICT, "items[1]")

	got, err := s.Images(ctx, []string{"c", "a"})
	if err != nil || got[0].ID != "c" || got[1].Prompt != "p" {
		t.Fatalf("Images: %+v %v", got, err)
	}
	_, err = s.Images(ctx, []string{"a", "zz"})
	wantCode(t, err, palate.ENOTFOUND, `"zz"`)

	page, err := s.ListImages(ctx, "a", 2)
	if err != nil || len(page) != 2 || page[0].ID != "b" || page[1].ID != "c" {
		t.Fatalf("ListImages: %+v %v", page, err)
	}
	page, _ = s.ListImages(ctx, "d", 10)
	if len(page) != 0 {
		t.Fatalf("ListImages past the end: %+v", page)
	}
	_, err = s.ListImages(ctx, "", 0)
	wantCode(t, err, palate.EINVALID, "limit")
}

func TestEmbeddings(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	w, err := s.PutEmbeddings(ctx, "e1", []string{"a", "b"}, [][]float32{{1, 2}, {3, 4}})
	if err != nil || w.Inserted != 2 {
		t.Fatalf("put: %+v %v", w, err)
	}
	w, err = s.PutEmbeddings(ctx, "e1", []string{"a"}, [][]float32{{1, 2}})
	if err != nil || w.Duplicate != 1 {
		t.Fatalf("re-put: %+v %v", w, err)
	}
	tests := map[string]struct {
		ids  []string
		vecs [][]float32
		code string
		want string
	}{
		"conflict":      {[]string{"c", "a"}, [][]float32{{0, 0}, {9, 9}}, palate.ECONFLICT, "ids[1]"},
		"wrong dim":     {[]string{"c", "b"}, [][]float32{{1, 2}, {1, 2, 3}}, palate.EINVALID, "vectors[1]: has 3 values; embedder \"e1\" has dimension 2"},
		"unknown image": {[]string{"c", "zz"}, [][]float32{{1, 1}, {1, 1}}, palate.ENOTFOUND, "ids[1]"},
		"length":        {[]string{"c"}, nil, palate.EINVALID, "1 ids but 0 vectors"},
		"nan":           {[]string{"c"}, [][]float32{{1, float32(nan())}}, palate.EINVALID, "vectors[0][1]"},
		"repeat":        {[]string{"c", "c"}, [][]float32{{1, 1}, {2, 2}}, palate.ECONFLICT, "ids[1]"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := s.PutEmbeddings(ctx, "e1", tc.ids, tc.vecs)
			wantCode(t, err, tc.code, tc.want)
		})
	}
	if _, err := s.Embeddings(ctx, "e1", []string{"c"}); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("a rejected batch wrote c: %v", err)
	}
	got, err := s.Embeddings(ctx, "e1", []string{"b", "a"})
	if err != nil || got[0][0] != 3 || got[1][1] != 2 {
		t.Fatalf("Embeddings: %v %v", got, err)
	}
	got[0][0] = 99 // must not change the store
	again, _ := s.Embeddings(ctx, "e1", []string{"b"})
	if again[0][0] != 3 {
		t.Fatal("Embeddings returned the store's own slice")
	}
	_, err = s.Embeddings(ctx, "other", []string{"a"})
	wantCode(t, err, palate.ENOTFOUND, `"a"`)
	// Another embedder has its own dimension.
	if _, err := s.PutEmbeddings(ctx, "e2", []string{"a"}, [][]float32{{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
}

func nan() float64 { var z float64; return z / z }

func TestComparisonsVotesHistory(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	cs := []palate.Comparison{
		{ID: "c2", User: "u", Image0: "a", Image1: "b", Label0: 1, Time: t0.Add(time.Hour)},
		{ID: "c1", User: "u", Image0: "b", Image1: "c", Label0: 0, Time: t0},
		{ID: "c0", User: "v", Image0: "a", Image1: "c", Label0: 0.5, Time: t0},
	}
	if w, err := s.AddComparisons(ctx, cs); err != nil || w.Inserted != 3 {
		t.Fatalf("AddComparisons: %+v %v", w, err)
	}
	// Same content at the same instant in another time zone is a duplicate.
	dup := cs[1]
	dup.Time = dup.Time.In(time.FixedZone("x", 3600))
	if w, err := s.AddComparisons(ctx, []palate.Comparison{dup}); err != nil || w.Duplicate != 1 {
		t.Fatalf("duplicate: %+v %v", w, err)
	}
	bad := map[string]struct {
		c    palate.Comparison
		code string
		want string
	}{
		"conflict":  {palate.Comparison{ID: "c1", User: "u", Image0: "b", Image1: "c", Label0: 1, Time: t0}, palate.ECONFLICT, "items[1]"},
		"no image":  {palate.Comparison{ID: "x", User: "u", Image0: "a", Image1: "zz", Time: t0}, palate.ENOTFOUND, "items[1].image_1"},
		"label":     {palate.Comparison{ID: "x", User: "u", Image0: "a", Image1: "b", Label0: 0.3, Time: t0}, palate.EINVALID, "items[1].label_0"},
		"no user":   {palate.Comparison{ID: "x", Image0: "a", Image1: "b", Time: t0}, palate.EINVALID, "items[1].user"},
		"same":      {palate.Comparison{ID: "x", User: "u", Image0: "a", Image1: "a", Time: t0}, palate.EINVALID, "items[1].image_1"},
		"no id":     {palate.Comparison{User: "u", Image0: "a", Image1: "b", Time: t0}, palate.EINVALID, "items[1].id"},
		"no image0": {palate.Comparison{ID: "x", User: "u", Image1: "b", Time: t0}, palate.EINVALID, "items[1].image_0"},
		"no time":   {palate.Comparison{ID: "x", User: "u", Image0: "a", Image1: "b"}, palate.EINVALID, "items[1].time"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			ok := palate.Comparison{ID: "fresh", User: "w", Image0: "a", Image1: "b", Label0: 1, Time: t0}
			_, err := s.AddComparisons(ctx, []palate.Comparison{ok, tc.c})
			wantCode(t, err, tc.code, tc.want)
		})
	}
	vs := []palate.Vote{
		{ID: "v1", User: "u", Image: "c", Vote: palate.Like, Time: t0.Add(time.Minute)},
		{ID: "v0", User: "u", Image: "a", Vote: palate.Dislike, Time: t0.Add(time.Minute)},
	}
	if w, err := s.AddVotes(ctx, vs); err != nil || w.Inserted != 2 {
		t.Fatalf("AddVotes: %+v %v", w, err)
	}
	_, err := s.AddVotes(ctx, []palate.Vote{{ID: "v9", User: "w", Image: "a", Vote: "meh", Time: t0}})
	wantCode(t, err, palate.EINVALID, "items[0].vote")
	_, err = s.AddVotes(ctx, []palate.Vote{{ID: "v9", User: "w", Image: "a", Vote: "like", Time: t0}, {ID: "v1", User: "u", Image: "c", Vote: palate.Dislike, Time: t0.Add(time.Minute)}})
	wantCode(t, err, palate.ECONFLICT, "items[1]")

	h, err := s.History(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Comparisons) != 2 || h.Comparisons[0].ID != "c1" || h.Comparisons[1].ID != "c2" {
		t.Fatalf("comparisons not by time: %+v", h.Comparisons)
	}
	if len(h.Votes) != 2 || h.Votes[0].ID != "v0" || h.Votes[1].ID != "v1" {
		t.Fatalf("votes not by time then id: %+v", h.Votes)
	}
	h, err = s.History(ctx, "nobody")
	if err != nil || len(h.Comparisons)+len(h.Votes) != 0 {
		t.Fatalf("unknown user: %+v %v", h, err)
	}
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].User != "u" || users[0].Comparisons != 2 || users[0].Votes != 2 ||
		!users[0].Last.Equal(t0.Add(time.Hour)) || users[1].User != "v" {
		t.Fatalf("Users: %+v", users)
	}
	// No rejected batch left a trace: "w" has nothing, "fresh" is free.
	if h, _ := s.History(ctx, "w"); len(h.Comparisons)+len(h.Votes) != 0 {
		t.Fatalf("rejected batches wrote for w: %+v", h)
	}
}

func TestModels(t *testing.T) {
	s := New()
	ctx := context.Background()
	_, err := s.LatestModel(ctx)
	wantCode(t, err, palate.ENOTFOUND, "no model")
	clock := t0.Add(1500 * time.Nanosecond).In(time.FixedZone("x", 3600))
	s.db.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	m1 := &palate.ModelRecord{Version: "v1", Embedder: "e", Created: t0, Archive: []byte("one")}
	m2 := &palate.ModelRecord{Version: "v2", Embedder: "e", Created: t0, Archive: []byte("two")}
	for _, m := range []*palate.ModelRecord{m1, m2} {
		if err := s.PublishModel(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Published comes from the clock, in UTC to the microsecond.
	if want := t0.Add(time.Second + time.Microsecond); !m1.Published.Equal(want) || m1.Published.Location() != time.UTC {
		t.Fatalf("v1 published %v; want %v in UTC", m1.Published, want)
	}
	// Republishing the same record is a no-op that reports the first time.
	again := *m1
	again.Published = time.Time{}
	if err := s.PublishModel(ctx, &again); err != nil || !again.Published.Equal(m1.Published) {
		t.Fatalf("republishing the same bytes: published %v, %v; want %v", again.Published, err, m1.Published)
	}
	err = s.PublishModel(ctx, &palate.ModelRecord{Version: "v1", Embedder: "e", Created: t0, Archive: []byte("other")})
	wantCode(t, err, palate.ECONFLICT, `"v1"`)
	wantCode(t, s.PublishModel(ctx, &palate.ModelRecord{}), palate.EINVALID, "version")
	got, err := s.LatestModel(ctx)
	if err != nil || got.Version != "v2" || string(got.Archive) != "two" || !got.Published.Equal(m2.Published) {
		t.Fatalf("LatestModel: %+v %v", got, err)
	}
}

func next(t *testing.T, ch <-chan palate.Event) palate.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return palate.Event{}
}

func TestSubscribe(t *testing.T) {
	s := seed(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddVotes(ctx, []palate.Vote{{ID: "v", User: "u", Image: "a", Vote: palate.Like, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	// A duplicate write changes no history and sends nothing; the model does.
	if _, err := s.AddVotes(ctx, []palate.Vote{{ID: "v", User: "u", Image: "a", Vote: palate.Like, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishModel(ctx, &palate.ModelRecord{Version: "m", Embedder: "e", Created: t0, Archive: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan palate.Event{a, b} {
		if e := next(t, ch); e != (palate.Event{Kind: palate.EventUser, User: "u"}) {
			t.Fatalf("first event %+v", e)
		}
		if e := next(t, ch); e != (palate.Event{Kind: palate.EventModel, Version: "m"}) {
			t.Fatalf("second event %+v", e)
		}
	}
	cancel()
	for _, ch := range []<-chan palate.Event{a, b} {
		select {
		case _, ok := <-ch:
			if ok {
				t.Fatal("event after cancel")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("channel not closed after ctx ended")
		}
	}
}

// A subscriber that does not read loses events but learns that it did.
func TestSubscribeLost(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range maxPending + 10 {
		s.db.mu.Lock()
		s.db.notify(palate.Event{Kind: palate.EventUser, User: "x"})
		s.db.mu.Unlock()
	}
	sawLost := false
	for range 20 {
		if e := next(t, ch); e.Kind == palate.EventLost {
			sawLost = true
			break
		}
	}
	if !sawLost {
		t.Fatal("no EventLost after overflowing the queue")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch { // drains and ends: Close closes the channel
	}
	wantCode(t, s.Ping(ctx), palate.EUNAVAILABLE, "closed")
	_, err = s.History(ctx, "u")
	wantCode(t, err, palate.EUNAVAILABLE, "closed")
}

// Handles from Open share the data and the events; closing one ends only its
// own calls and subscriptions.
func TestOpenHandles(t *testing.T) {
	a := seed(t)
	b := a.Open()
	ctx := context.Background()
	chB, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chA, err := a.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddVotes(ctx, []palate.Vote{{ID: "v", User: "u", Image: "a", Vote: palate.Like, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, chB); e != (palate.Event{Kind: palate.EventUser, User: "u"}) {
		t.Fatalf("b's subscriber got %+v", e)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for range chA { // Close ends a's subscription
	}
	_, err = a.Images(ctx, []string{"a"})
	wantCode(t, err, palate.EUNAVAILABLE, "closed")
	// b still reads, writes and hears its own writes; a reopened handle
	// sees them.
	if _, err := b.AddVotes(ctx, []palate.Vote{{ID: "w", User: "x", Image: "b", Vote: palate.Dislike, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, chB); e != (palate.Event{Kind: palate.EventUser, User: "x"}) {
		t.Fatalf("b's subscriber after a closed got %+v", e)
	}
	c := a.Open()
	defer c.Close()
	users, err := c.Users(ctx)
	if err != nil || len(users) != 2 || users[0].User != "u" || users[1].User != "x" {
		t.Fatalf("a handle opened after Close sees users %+v, %v", users, err)
	}
	b.Close()
	if _, ok := <-chB; ok {
		t.Fatal("b's subscription still open after b closed")
	}
}
