package storekit

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"palate"
)

func TestHubLostWhenBehind(t *testing.T) {
	var h Hub
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := h.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < SubscriberBuffer+10; i++ {
		h.Publish(palate.Event{Kind: palate.EventUser, User: "u"})
	}
	for i := 0; i < SubscriberBuffer; i++ {
		if e := <-ch; e.Kind != palate.EventUser {
			t.Fatalf("event %d is %+v", i, e)
		}
	}
	h.Publish(palate.Event{Kind: palate.EventModel, Version: "v"})
	if e := <-ch; e.Kind != palate.EventLost {
		t.Fatalf("after overflow got %+v; want lost", e)
	}
	if e := <-ch; e.Kind != palate.EventModel {
		t.Fatalf("after lost got %+v; want the model event", e)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("channel delivered after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
	if h.Len() != 0 {
		t.Fatalf("%d subscribers left", h.Len())
	}
	h.Close()
	if _, err := h.Subscribe(context.Background()); palate.ErrorCode(err) != palate.EUNAVAILABLE {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

func TestDedup(t *testing.T) {
	vs := []palate.Vote{{ID: "a", Vote: "like"}, {ID: "b"}, {ID: "a", Vote: "like"}}
	first, dup, err := Dedup("items", vs, func(v palate.Vote) string { return v.ID }, SameVote)
	if err != nil || dup != 1 || len(first) != 2 || first[1] != 1 {
		t.Fatalf("first %v dup %d err %v", first, dup, err)
	}
	vs = append(vs, palate.Vote{ID: "b", Vote: "dislike"})
	_, _, err = Dedup("items", vs, func(v palate.Vote) string { return v.ID }, SameVote)
	if palate.ErrorCode(err) != palate.ECONFLICT || !strings.Contains(err.Error(), "items[3]") {
		t.Fatalf("conflict: %v", err)
	}
}

func TestVectorRoundTrip(t *testing.T) {
	v := []float32{0, -1.5, math.MaxFloat32, float32(math.SmallestNonzeroFloat32)}
	b := EncodeVector(v)
	if len(b) != 16 || b[4] != 0 || b[7] != 0xbf { // -1.5 = 0xbfc00000, little-endian
		t.Fatalf("encoding % x", b)
	}
	w, err := DecodeVector(b)
	if err != nil || !SameVector(v, w) {
		t.Fatalf("round trip %v %v", w, err)
	}
	if _, err := DecodeVector(b[:3]); err == nil {
		t.Fatal("3 bytes decoded")
	}
}

func TestChecks(t *testing.T) {
	now := time.Now()
	tests := map[string]struct {
		err  error
		want string
	}{
		"empty id":     {second(Votes([]palate.Vote{{User: "u", Image: "i", Vote: "like", Time: now}})), "items[0].id: is empty"},
		"bad vote":     {second(Votes([]palate.Vote{{ID: "v", User: "u", Image: "i", Vote: "meh", Time: now}})), "items[0].vote"},
		"zero time":    {second(Votes([]palate.Vote{{ID: "v", User: "u", Image: "i", Vote: "like"}})), "items[0].time"},
		"long user":    {second(Votes([]palate.Vote{{ID: "v", User: strings.Repeat("u", MaxID+1), Image: "i", Vote: "like", Time: now}})), "items[0].user: is 1025 bytes"},
		"nul":          {second(Images([]palate.Image{{ID: "a"}, {ID: "b\x00"}})), "items[1].id: contains a NUL"},
		"bad utf8":     {second(Images([]palate.Image{{ID: "a", Prompt: "\xff"}})), "items[0].prompt: is not valid UTF-8"},
		"long prompt":  {second(Images([]palate.Image{{ID: "a", Prompt: strings.Repeat("a", MaxText+1)}})), "items[0].prompt: is 16385 bytes long; at most 16384"},
		"climbs":       {second(Images([]palate.Image{{ID: "a", Path: "../x.png"}})), "items[0].path"},
		"label":        {second(Comparisons([]palate.Comparison{{ID: "c", User: "u", Image0: "a", Image1: "b", Label0: 0.3, Time: now}})), "items[0].label_0"},
		"same images":  {second(Comparisons([]palate.Comparison{{ID: "c", User: "u", Image0: "a", Image1: "a", Label0: 1, Time: now}})), "items[0].image_1"},
		"nan":          {second(Embeddings("e", []string{"a"}, [][]float32{{float32(math.NaN())}}, 0)), "vectors[0][0]"},
		"dim":          {second(Embeddings("e", []string{"a", "b"}, [][]float32{{1, 2}, {1}}, 0)), "vectors[1]: has 1 values"},
		"stored dim":   {second(Embeddings("e", []string{"a"}, [][]float32{{1, 2}}, 3)), "dimension 3"},
		"count":        {second(Embeddings("e", []string{"a"}, nil, 0)), "1 ids but 0 vectors"},
		"bad embedder": {second(Embeddings("a b", nil, nil, 0)), "embedder \"a b\""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if palate.ErrorCode(tc.err) != palate.EINVALID || !strings.Contains(tc.err.Error(), tc.want) {
				t.Fatalf("got %v; want EINVALID naming %q", tc.err, tc.want)
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }
