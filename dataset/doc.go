// Package dataset reads and writes palate's on-disk dataset: a directory of
// plain JSON Lines files and raw float32 tables that any tool, in any
// language, can produce or consume without palate.
//
// # Layout
//
//	images.jsonl              required; one image per line
//	comparisons.jsonl         optional; one Pick-a-Pic style choice per line
//	votes.jsonl               optional; one like or dislike per line
//	splits.json               optional; which interactions are held out
//	embeddings/<name>.json    header of one embedding table
//	embeddings/<name>.f32     its rows: little-endian float32
//
// A missing optional file means "none". Every file is UTF-8. In the .jsonl
// files each line is one JSON object; blank lines are ignored, a line may end
// in "\n" or "\r\n", and no line may exceed 1 MiB (MaxLine). Every listed field
// is accepted and no other: an unknown field is an error, so a typo is never
// silently dropped. Times are RFC 3339 ("2025-03-01T12:00:00Z", fractional
// seconds and offsets allowed); the zero time 0001-01-01T00:00:00Z is
// rejected as a stand-in for a missing one.
//
// # Images: images.jsonl
//
// One image per line, for example
//
//	{"id": "img-1", "prompt": "a red fox in snow", "path": "images/img-1.png"}
//
// with fields
//
//   - id: required, non-empty, unique in the file.
//   - prompt: the text the image was generated from; may be empty or absent.
//   - path: the image file, relative to the dataset directory with "/"
//     separators; absent when only an embedding of the image exists. It may
//     not be absolute or climb out of the directory ("..").
//
// # Comparisons: comparisons.jsonl
//
// One comparison per line: a person saw two images made for the same prompt
// and picked one, as in Pick-a-Pic. For example (one line in the file)
//
//	{"id": "c-1", "user": "u-7", "prompt": "a red fox in snow",
//	 "image_0": "img-1", "image_1": "img-2", "label_0": 1,
//	 "time": "2025-03-01T12:00:00Z"}
//
// with fields
//
//   - id, user: required, non-empty; id unique in the file.
//   - prompt: may be empty or absent.
//   - image_0, image_1: required ids from images.jsonl, and different.
//   - label_0: required; 1 when image_0 was preferred, 0 when image_1 was,
//     0.5 for a tie. No other value is accepted.
//   - time: required, RFC 3339.
//
// # Votes: votes.jsonl
//
// One like or dislike of one image per line, for example (one line in the
// file)
//
//	{"id": "v-1", "user": "u-7", "image": "img-1", "vote": "like",
//	 "time": "2025-03-01T12:00:00Z"}
//
// with fields
//
//   - id, user: required, non-empty; id unique in the file.
//   - image: required id from images.jsonl.
//   - vote: "like" or "dislike".
//   - time: required, RFC 3339.
//
// # Splits: splits.json
//
// One JSON object saying which interactions a model may learn from, for
// example
//
//	{"unseen_users": ["u-3"], "validation_users": ["u-9"],
//	 "cutoff": {"u-7": "2025-03-10T00:00:00Z"}}
//
// with fields, all optional,
//
//   - unseen_users: people held out entirely; all their interactions are
//     test data and are never trained on.
//   - validation_users: people held out for early stopping and model choice.
//   - cutoff: for everyone else, interactions at or after the person's cutoff
//     time are test data (a time split) and earlier ones are training data.
//     A person without a cutoff is all training data.
//
// A person may not be both unseen and validation, nor be named twice in one
// list. Every person named anywhere in the file must have at least one
// comparison or vote. A cutoff given for an unseen or validation person is
// allowed and has no effect.
//
// # Embeddings
//
// An embedding table holds one fixed-length vector per image, made by one
// embedder. Its name is the embedder's name: letters, digits, '.', '_' and
// '-', not starting with '.'. The header embeddings/<name>.json is
//
//	{"embedder": "pixels-v3", "version": "1", "dimension": 128,
//	 "count": 2, "ids": ["img-1", "img-2"]}
//
// and embeddings/<name>.f32 is exactly count × dimension × 4 bytes: row i,
// the vector of ids[i], is dimension little-endian IEEE 754 float32 values,
// rows back to back with no header or padding. All five header fields are
// required (version may be empty); embedder must equal <name>; dimension must
// be positive; count must equal the number of ids; ids must be non-empty and
// unique; every value must be finite and under palate.MaxEmbeddingValue
// (2^20) in magnitude. Ids need not appear in
// images.jsonl, so one table can serve several datasets. In numpy:
//
//	hdr = json.load(open("embeddings/pixels-v3.json"))
//	x = np.fromfile("embeddings/pixels-v3.f32", dtype="<f4").reshape(hdr["count"], hdr["dimension"])
//
// # Errors
//
// Readers check everything above and return a *palate.Error with code
// palate.EINVALID whose message starts with the file and, for line-based
// files, the line ("comparisons.jsonl:17: label_0 is 0.3; want 0, 0.5 or 1").
// They never skip a bad record. A missing images.jsonl is EINVALID; an
// embedding table that is not there is ENOTFOUND; failures to read or write
// the disk are EINTERNAL.
//
// # Writing
//
// Every writer checks the same rules before it writes, so whatever palate
// writes it can read back. Files are written to a temporary name in the same
// directory and renamed into place when complete, so a reader never sees a
// half-written file and a failed write leaves the old file intact. Writer and
// EmbeddingWriter stream records to disk for datasets too large to hold in
// memory.
package dataset
