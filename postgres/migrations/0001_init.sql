-- palate's first schema. Ids sort by bytes (COLLATE "C"), as in SQLite;
-- vectors are little-endian float32 bytes.
CREATE TABLE images (
	id     text COLLATE "C" PRIMARY KEY,
	prompt text NOT NULL,
	path   text NOT NULL
);

CREATE TABLE embedders (
	name text COLLATE "C" PRIMARY KEY,
	dim  integer NOT NULL CHECK (dim > 0)
);

CREATE TABLE embeddings (
	embedder text COLLATE "C" NOT NULL REFERENCES embedders (name),
	image    text COLLATE "C" NOT NULL REFERENCES images (id),
	vector   bytea NOT NULL,
	PRIMARY KEY (embedder, image)
);

CREATE TABLE comparisons (
	id      text COLLATE "C" PRIMARY KEY,
	user_id text COLLATE "C" NOT NULL,
	prompt  text NOT NULL,
	image_0 text COLLATE "C" NOT NULL REFERENCES images (id),
	image_1 text COLLATE "C" NOT NULL REFERENCES images (id),
	label_0 double precision NOT NULL,
	time    timestamptz NOT NULL
);
CREATE INDEX comparisons_user ON comparisons (user_id, time, id);

CREATE TABLE votes (
	id      text COLLATE "C" PRIMARY KEY,
	user_id text COLLATE "C" NOT NULL,
	image   text COLLATE "C" NOT NULL REFERENCES images (id),
	vote    text NOT NULL CHECK (vote IN ('like', 'dislike')),
	time    timestamptz NOT NULL
);
CREATE INDEX votes_user ON votes (user_id, time, id);

-- One row per person, kept up to date by every write of comparisons and votes.
CREATE TABLE users (
	user_id     text COLLATE "C" PRIMARY KEY,
	comparisons bigint NOT NULL,
	votes       bigint NOT NULL,
	last        timestamptz NOT NULL
);

CREATE TABLE models (
	seq       bigserial PRIMARY KEY,
	version   text COLLATE "C" NOT NULL UNIQUE,
	embedder  text NOT NULL,
	created   timestamptz NOT NULL,
	summary   bytea NOT NULL,
	archive   bytea NOT NULL,
	published timestamptz NOT NULL
);
