// Package api holds the JSON wire types of palate's HTTP service (package
// server) and a Go client whose methods mirror its routes. The CLI talks to
// a server through this same client.
//
// Every route is under /v1 except the operational ones (/healthz, /readyz,
// /metrics). Errors have one shape, ErrorResponse, whose code is a palate
// error code; the client returns them as *palate.Error with that code.
package api

import (
	"encoding/json"
	"time"
)

// Comparison records that a person saw two images made for one prompt and
// picked one (POST /v1/comparisons).
type Comparison struct {
	// ID is chosen by the client and unique among comparisons: sending the
	// same comparison again is a no-op, the same id with other content a
	// conflict.
	ID string `json:"id"`
	// User is the person's id.
	User string `json:"user"`
	// Prompt is the prompt both images were made for (optional).
	Prompt string `json:"prompt,omitempty"`
	// Image0 and Image1 are ids of stored images (POST /v1/images).
	Image0 string `json:"image_0"`
	Image1 string `json:"image_1"`
	// Label0 is 1 when image_0 was preferred, 0 when image_1 was and 0.5 for
	// a tie. Required.
	Label0 *float64 `json:"label_0"`
	// Time is when the choice was made; the server's clock when zero.
	Time time.Time `json:"time,omitzero"`
}

// Vote records one like or dislike of one image (POST /v1/votes).
type Vote struct {
	// ID is chosen by the client and unique among votes (see Comparison.ID).
	ID string `json:"id"`
	// User is the person's id.
	User string `json:"user"`
	// Image is the id of a stored image.
	Image string `json:"image"`
	// Vote is "like" or "dislike".
	Vote string `json:"vote"`
	// Time is when the vote was cast; the server's clock when zero.
	Time time.Time `json:"time,omitzero"`
}

// Image adds an image (POST /v1/images): its id and prompt, and either the
// picture itself or a vector computed elsewhere.
type Image struct {
	// ID is chosen by the client and unique among images.
	ID string `json:"id"`
	// Prompt is the prompt the image was generated from (optional).
	Prompt string `json:"prompt,omitempty"`
	// Image is a PNG, JPEG, WebP or GIF file (base64 in JSON). The server
	// decodes it within its size and pixel limits and embeds it with its
	// configured embedder.
	Image []byte `json:"image,omitempty"`
	// Embedding is the image's vector from the embedder named by Embedder;
	// give it instead of Image.
	Embedding []float32 `json:"embedding,omitempty"`
	// Embedder names the embedder that made Embedding (required with it).
	Embedder string `json:"embedder,omitempty"`
}

// Batch wraps several items of one kind: every write route takes either one
// item or {"items": [...]}. A batch is all-or-nothing: one bad item rejects
// it whole, and the error names the item ("items[2].image_0: ...").
type Batch[T any] struct {
	Items []T `json:"items"`
}

// WriteResult counts what a write did.
type WriteResult struct {
	// Inserted counts new records.
	Inserted int `json:"inserted"`
	// Duplicate counts records already stored with the same content.
	Duplicate int `json:"duplicate"`
}

// Candidate is one image to rank: a stored image by ID, an uploaded
// picture, or a vector; exactly one of the three.
type Candidate struct {
	// ID names a stored image; its stored prompt is used unless Prompt is
	// given.
	ID string `json:"id,omitempty"`
	// Image is a picture to embed with the server's embedder (base64 in
	// JSON).
	Image []byte `json:"image,omitempty"`
	// Embedding is the image's vector from the model's embedder.
	Embedding []float32 `json:"embedding,omitempty"`
	// Embedder, when given with Embedding, must name the model's embedder.
	Embedder string `json:"embedder,omitempty"`
	// Prompt is the prompt the image was made for (optional).
	Prompt string `json:"prompt,omitempty"`
}

// RankRequest asks how much a person will like each candidate
// (POST /v1/users/{user}/rank).
type RankRequest struct {
	Candidates []Candidate `json:"candidates"`
	// Personal false ranks against an empty history: the model's
	// non-personal (cold-start) score, for comparison. Default true.
	Personal *bool `json:"personal,omitempty"`
}

// RankResult is one candidate's verdict.
type RankResult struct {
	// Index is the candidate's position in the request.
	Index int `json:"index"`
	// ID repeats the candidate's image id, if it had one.
	ID string `json:"id,omitempty"`
	// Score is the model's s+ - s-: higher means more likely liked.
	Score float32 `json:"score"`
	// PLike is the model's probability of a like, σ(score).
	PLike float64 `json:"p_like"`
	// Rank is 1 for the best candidate.
	Rank int `json:"rank"`
}

// RankResponse answers a RankRequest.
type RankResponse struct {
	User string `json:"user"`
	// Model is the version of the model that scored.
	Model string `json:"model"`
	// ColdStart is true when the person has no usable history: the scores
	// are then the model's population-wide preference, not personal.
	ColdStart bool `json:"cold_start"`
	// HistoryItems is how many history items the scores were read against
	// (a decided comparison gives two, a vote one; the most recent ones up
	// to the model's limit).
	HistoryItems int `json:"history_items"`
	// HistorySkipped counts history images left out because they have no
	// vector from the model's embedder.
	HistorySkipped int `json:"history_skipped,omitempty"`
	// Results are in candidate order.
	Results []RankResult `json:"results"`
	// Order lists candidate indexes, best first.
	Order []int `json:"order"`
}

// SimilarUser is one neighbour.
type SimilarUser struct {
	User string `json:"user"`
	// Similarity is the cosine of the two people's centred taste
	// descriptors, in [-1, 1].
	Similarity float64 `json:"similarity"`
}

// SimilarResponse lists the people whose taste is most like User's
// (GET /v1/users/{user}/similar?n=).
type SimilarResponse struct {
	User  string        `json:"user"`
	Model string        `json:"model"`
	Users []SimilarUser `json:"users"`
}

// ImageScore is a stored image with the model's score for one person.
type ImageScore struct {
	ID    string  `json:"id"`
	Score float32 `json:"score"`
	PLike float64 `json:"p_like"`
}

// Profile describes one person (GET /v1/users/{user}/profile?n=).
type Profile struct {
	User  string `json:"user"`
	Model string `json:"model"`
	// Comparisons and Votes count what the person recorded.
	Comparisons int `json:"comparisons"`
	Votes       int `json:"votes"`
	// ColdStart, HistoryItems and HistorySkipped are as in RankResponse.
	ColdStart      bool `json:"cold_start"`
	HistoryItems   int  `json:"history_items"`
	HistorySkipped int  `json:"history_skipped,omitempty"`
	// Descriptor is the person's taste descriptor: how their history
	// attends to the model's preference tokens (the mean encoded history
	// for a model without them). Empty for a cold start.
	Descriptor []float32 `json:"descriptor"`
	// TopLiked are images the person liked, highest model score first;
	// TopDisliked images they disliked, lowest score first (n of each).
	TopLiked    []ImageScore `json:"top_liked"`
	TopDisliked []ImageScore `json:"top_disliked"`
	// Truth is the person's true taste when the server's data is a taste
	// world that knows them; absent otherwise.
	Truth *TrueTaste `json:"truth,omitempty"`
}

// UserSummary counts one person's records.
type UserSummary struct {
	User        string    `json:"user"`
	Comparisons int       `json:"comparisons"`
	Votes       int       `json:"votes"`
	Last        time.Time `json:"last"`
}

// UsersResponse lists every person with at least one record (GET /v1/users).
type UsersResponse struct {
	Users []UserSummary `json:"users"`
}

// ModelInfo describes the model being served (GET /v1/model).
type ModelInfo struct {
	// Version is the published version, or "dir-" and a hash of the
	// checkpoint's manifest for a model loaded from a directory.
	Version string `json:"version"`
	// Source is "store" or the directory it was loaded from.
	Source string `json:"source"`
	// Embedder and EmbedderDim name the image embedder the model reads.
	Embedder    string `json:"embedder"`
	EmbedderDim int    `json:"embedder_dim"`
	// TextEmbedder and TextEmbedderDim name the prompt embedder.
	TextEmbedder    string `json:"text_embedder"`
	TextEmbedderDim int    `json:"text_embedder_dim"`
	// Loaded is when this server loaded the model.
	Loaded time.Time `json:"loaded"`
	// Config holds the model's hyperparameters; Summary the training
	// summary, as saved in the checkpoint.
	Config  json.RawMessage `json:"config"`
	Summary json.RawMessage `json:"summary,omitempty"`
	// Bench is the accuracy table of the bench report the server was
	// started with (--bench), if any.
	Bench []BenchRow `json:"bench,omitempty"`
}

// Health answers /healthz and /readyz.
type Health struct {
	// Status is "ok" (healthz) or "ready" (readyz).
	Status string `json:"status"`
	// Model is the version served, if any.
	Model string `json:"model,omitempty"`
}

// ErrorResponse is the body of every error.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is a palate error on the wire.
type ErrorBody struct {
	// Code is a palate error code ("invalid", "not_found", ...).
	Code string `json:"code"`
	// Message says what is wrong, naming the field or item.
	Message string `json:"message"`
}

// Float returns a pointer to x, for Comparison.Label0.
func Float(x float64) *float64 { return &x }

// Training states of Training.State.
const (
	TrainingNone    = "none"     // this server knows of no training run
	TrainingRunning = "training" // a run is going on
	TrainingDone    = "done"     // the run ended and its model is served
	TrainingFailed  = "failed"   // the run ended with Error
)

// Training is the progress of the training run a server reports on
// (GET /v1/training): `palate demo` trains in the background while it
// serves.
type Training struct {
	// State is "none", "training", "done" or "failed".
	State string `json:"state"`
	// Stage is the training stage ("joint", "stage1" or "stage2").
	Stage string `json:"stage,omitempty"`
	// Step counts the steps done, of TotalSteps planned.
	Step       int `json:"step"`
	TotalSteps int `json:"total_steps"`
	// Loss and Accuracy are moving averages of the training loss and
	// pairwise accuracy.
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	// ValAccuracy is the last validation's pairwise accuracy, if any.
	ValAccuracy *float64 `json:"val_accuracy,omitempty"`
	// EpisodesPerSecond is the mean throughput since the start.
	EpisodesPerSecond float64 `json:"episodes_per_second"`
	// Error says why a failed run failed.
	Error string `json:"error,omitempty"`
	// Started is when the run began; Updated when this report was made.
	Started time.Time `json:"started,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
}
