package palate

import (
	"context"
	"time"
)

// Store keeps what palate serves from: images and their embeddings, every
// person's comparisons and votes, and published models. Two backends
// implement it (packages sqlite and postgres); package storetest holds the
// conformance suite both pass. Implementations are safe for concurrent use.
//
// Writes are idempotent by client-supplied id: adding a record whose id is
// already stored with the same content is a no-op, and with different content
// is an ECONFLICT error. A batch is all-or-nothing: if any item is invalid or
// conflicts, nothing of the batch is written and the error names the item by
// its index ("items[3].image_0: ..."). A write that returned nil is durable.
// Times are kept to the microsecond and read back in UTC; ids are at most
// 1024 bytes of UTF-8 text without NUL bytes.
type Store interface {
	// PutImages stores images (idempotent by ID).
	PutImages(ctx context.Context, images []Image) (Written, error)
	// Images returns the images with the given ids, in order; an unknown id is
	// an ENOTFOUND error naming it.
	Images(ctx context.Context, ids []string) ([]Image, error)
	// ListImages returns up to limit images with ID > after, ordered by ID
	// (byte order; keyset pagination; after "" starts at the beginning). A
	// limit below 1 is EINVALID.
	ListImages(ctx context.Context, after string, limit int) ([]Image, error)

	// PutEmbeddings stores one vector per id for the named embedder. Every
	// id must name a stored image (ENOTFOUND otherwise) and every vector must
	// have the embedder's dimension, fixed by its first write (EINVALID
	// otherwise). Writing a different vector for a stored (embedder, id) is an
	// ECONFLICT.
	PutEmbeddings(ctx context.Context, embedder string, ids []string, vectors [][]float32) (Written, error)
	// Embeddings returns the vectors of ids for the embedder, in order; an id
	// without a vector is an ENOTFOUND error naming it.
	Embeddings(ctx context.Context, embedder string, ids []string) ([][]float32, error)

	// AddComparisons stores comparisons (idempotent by ID). Both images must
	// be stored (ENOTFOUND otherwise).
	AddComparisons(ctx context.Context, cs []Comparison) (Written, error)
	// AddVotes stores votes (idempotent by ID). The image must be stored.
	AddVotes(ctx context.Context, vs []Vote) (Written, error)
	// History returns a person's comparisons and votes ordered by time, then
	// id; an unknown user has an empty history (not an error).
	History(ctx context.Context, user string) (*UserHistory, error)
	// Users returns every user with at least one comparison or vote, with
	// counts, ordered by user id.
	Users(ctx context.Context) ([]UserSummary, error)

	// PublishModel stores a trained model; versions are unique (ECONFLICT
	// for a version already published with different bytes). On success it
	// sets m.Published to when the version was first published.
	PublishModel(ctx context.Context, m *ModelRecord) error
	// LatestModel returns the most recently published model, ENOTFOUND when
	// none is.
	LatestModel(ctx context.Context) (*ModelRecord, error)

	// Subscribe delivers changes made by any process sharing the store: a
	// user's history grew, or a model was published. The channel closes when
	// ctx ends. Delivery is best effort and may repeat an event; a consumer
	// that gets an EventLost event must treat every cache as stale.
	Subscribe(ctx context.Context) (<-chan Event, error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Written counts what a batch write did: new records, and records already
// stored with the same content.
type Written struct {
	Inserted  int `json:"inserted"`
	Duplicate int `json:"duplicate"`
}

// UserHistory is everything a person recorded, ordered by time then id.
type UserHistory struct {
	User        string       `json:"user"`
	Comparisons []Comparison `json:"comparisons"`
	Votes       []Vote       `json:"votes"`
}

// UserSummary counts one person's interactions.
type UserSummary struct {
	User        string    `json:"user"`
	Comparisons int       `json:"comparisons"`
	Votes       int       `json:"votes"`
	Last        time.Time `json:"last"`
}

// ModelRecord is a published model: a checkpoint directory packed as a tar
// archive, with the fields a server needs before unpacking it.
type ModelRecord struct {
	Version   string    `json:"version"`  // unique, e.g. "20261127T0803-3f2a"
	Embedder  string    `json:"embedder"` // the image embedder it was trained on
	Created   time.Time `json:"created"`
	Summary   []byte    `json:"summary,omitempty"` // JSON training summary
	Archive   []byte    `json:"-"`                 // tar of the checkpoint directory
	Published time.Time `json:"published"`         // set by the store
}

// Event kinds.
const (
	EventUser  = "user"  // Event.User's history changed
	EventModel = "model" // Event.Version was published
	EventLost  = "lost"  // events may have been missed: drop every cache
)

// Event is one change a Store subscriber sees.
type Event struct {
	Kind    string `json:"kind"`
	User    string `json:"user,omitempty"`
	Version string `json:"version,omitempty"`
}
