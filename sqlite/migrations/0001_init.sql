-- palate's first schema. Times are Unix microseconds (UTC); vectors are
-- little-endian float32 blobs.
CREATE TABLE images (
	id     TEXT PRIMARY KEY,
	prompt TEXT NOT NULL,
	path   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE embedders (
	name TEXT PRIMARY KEY,
	dim  INTEGER NOT NULL CHECK (dim > 0)
) WITHOUT ROWID;

CREATE TABLE embeddings (
	embedder TEXT NOT NULL REFERENCES embedders (name),
	image    TEXT NOT NULL REFERENCES images (id),
	vector   BLOB NOT NULL,
	PRIMARY KEY (embedder, image)
) WITHOUT ROWID;

CREATE TABLE comparisons (
	id      TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	prompt  TEXT NOT NULL,
	image_0 TEXT NOT NULL REFERENCES images (id),
	image_1 TEXT NOT NULL REFERENCES images (id),
	label_0 REAL NOT NULL,
	time    INTEGER NOT NULL
);
CREATE INDEX comparisons_user ON comparisons (user_id, time, id);

CREATE TABLE votes (
	id      TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	image   TEXT NOT NULL REFERENCES images (id),
	vote    TEXT NOT NULL CHECK (vote IN ('like', 'dislike')),
	time    INTEGER NOT NULL
);
CREATE INDEX votes_user ON votes (user_id, time, id);

-- One row per person, kept up to date by every write of comparisons and votes.
CREATE TABLE users (
	user_id     TEXT PRIMARY KEY,
	comparisons INTEGER NOT NULL,
	votes       INTEGER NOT NULL,
	last        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE models (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	version   TEXT NOT NULL UNIQUE,
	embedder  TEXT NOT NULL,
	created   INTEGER NOT NULL,
	summary   BLOB NOT NULL,
	archive   BLOB NOT NULL,
	published INTEGER NOT NULL
);

-- The change log other processes poll; trimmed to the newest rows.
CREATE TABLE events (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	kind    TEXT NOT NULL,
	user_id TEXT NOT NULL DEFAULT '',
	version TEXT NOT NULL DEFAULT ''
);
