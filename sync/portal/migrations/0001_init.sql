-- The reference portal's records.
CREATE TABLE devices (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	site       TEXT NOT NULL DEFAULT '',
	token_hash TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
) STRICT;

CREATE TABLE submissions (
	id              INTEGER PRIMARY KEY,
	device_id       TEXT NOT NULL REFERENCES devices (id),
	idempotency_key TEXT NOT NULL UNIQUE,
	file_code       TEXT NOT NULL UNIQUE,
	procedure_code  TEXT NOT NULL DEFAULT '',
	procedure_id    TEXT NOT NULL,
	catalog_version TEXT NOT NULL,
	captured_at     TEXT NOT NULL,
	received_at     TEXT NOT NULL,
	due_at          TEXT NOT NULL DEFAULT '',
	state           TEXT NOT NULL,
	note            TEXT NOT NULL DEFAULT '',
	updated_at      TEXT NOT NULL,
	form            BLOB NOT NULL
) STRICT;

CREATE TABLE submission_attachments (
	submission_id   INTEGER NOT NULL REFERENCES submissions (id),
	ordinal         INTEGER NOT NULL,
	evidence_key    TEXT NOT NULL,
	name            TEXT NOT NULL,
	media_type      TEXT NOT NULL,
	size            INTEGER NOT NULL,
	sha256_declared TEXT NOT NULL,
	-- The SHA-256 the portal computed over the bytes it received.
	sha256_received TEXT NOT NULL,
	upload_id       TEXT NOT NULL,
	PRIMARY KEY (submission_id, ordinal)
) STRICT;

-- Status events, pulled by devices after a cursor (seq).
CREATE TABLE events (
	seq           INTEGER PRIMARY KEY,
	submission_id INTEGER NOT NULL REFERENCES submissions (id),
	device_id     TEXT NOT NULL,
	state         TEXT NOT NULL,
	note          TEXT NOT NULL DEFAULT '',
	at            TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_device ON events (device_id, seq);

-- The last file-code sequence number issued per agency per day.
CREATE TABLE day_counters (
	agency TEXT NOT NULL,
	day    TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	PRIMARY KEY (agency, day)
) STRICT;
