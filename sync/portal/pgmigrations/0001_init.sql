-- The reference portal's records, on PostgreSQL: migrations/0001_init.sql
-- translated. Times stay RFC 3339 text, as on SQLite, so that the same code
-- reads both. Ids come from sequences: a submission's id is drawn before
-- its row is written (its form is sealed to it), and an event's seq is
-- drawn while the filing holds its device's row, so that a device's events
-- commit in the order of their seq and a status cursor never skips one.
CREATE TABLE devices (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	site       TEXT NOT NULL DEFAULT '',
	-- Compared by range (tokenDevice): bytewise, whatever the database's
	-- collation.
	token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);

CREATE TABLE submissions (
	id              BIGSERIAL PRIMARY KEY,
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
	form            BYTEA NOT NULL
);

CREATE TABLE submission_attachments (
	submission_id   BIGINT NOT NULL REFERENCES submissions (id),
	ordinal         INTEGER NOT NULL,
	evidence_key    TEXT NOT NULL,
	name            TEXT NOT NULL,
	media_type      TEXT NOT NULL,
	size            BIGINT NOT NULL,
	sha256_declared TEXT NOT NULL,
	-- The SHA-256 the portal computed over the bytes it received.
	sha256_received TEXT NOT NULL,
	upload_id       TEXT NOT NULL,
	PRIMARY KEY (submission_id, ordinal)
);
-- PostgreSQL only: at a province's scale the expiry sweeper's question
-- "is this upload filed?" must not read every attachment.
CREATE INDEX submission_attachments_by_upload ON submission_attachments (upload_id);

-- Status events, pulled by devices after a cursor (seq).
CREATE TABLE events (
	seq           BIGSERIAL PRIMARY KEY,
	submission_id BIGINT NOT NULL REFERENCES submissions (id),
	device_id     TEXT NOT NULL,
	state         TEXT NOT NULL,
	note          TEXT NOT NULL DEFAULT '',
	at            TEXT NOT NULL
);
CREATE INDEX events_by_device ON events (device_id, seq);
-- PostgreSQL only: a receipt and the tracking page read a submission's
-- events.
CREATE INDEX events_by_submission ON events (submission_id, seq);

-- The last file-code sequence number issued per agency per day.
CREATE TABLE day_counters (
	agency TEXT NOT NULL,
	day    TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	PRIMARY KEY (agency, day)
);
