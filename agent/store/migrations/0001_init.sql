-- 0001: applications, their personal data and attachments, the outbox and
-- the hash-chained audit log.

-- Applications hold no personal data: procedure, state, delivery bookkeeping.
CREATE TABLE applications (
	id              INTEGER PRIMARY KEY,
	idempotency_key TEXT NOT NULL UNIQUE,
	procedure_id    TEXT NOT NULL,
	procedure_code  TEXT NOT NULL DEFAULT '',
	catalog_version TEXT NOT NULL,
	state           TEXT NOT NULL,
	file_code       TEXT,
	last_error      TEXT NOT NULL DEFAULT '',
	-- Count and total size of the attachments, so the queue lists them
	-- without a join and delivery can send small applications first.
	attachments     INTEGER NOT NULL DEFAULT 0,
	payload_bytes   INTEGER NOT NULL DEFAULT 0,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX applications_by_state ON applications (state, payload_bytes, id);
CREATE UNIQUE INDEX applications_by_file_code ON applications (file_code) WHERE file_code IS NOT NULL;

-- Personal data lives here and only here: the form (part 'form') and each
-- attachment's name and bytes (part 'attachment:<id>'). Sealing rewrites
-- name and data and records how in seal; purging deletes the rows.
CREATE TABLE personal_data (
	id             INTEGER PRIMARY KEY,
	application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	part           TEXT NOT NULL,
	seal           TEXT NOT NULL DEFAULT 'none',
	name           BLOB NOT NULL DEFAULT x'',
	data           BLOB NOT NULL,
	UNIQUE (application_id, part)
) STRICT;

-- Attachment metadata: what the evidence is, its size and its SHA-256.
CREATE TABLE attachments (
	id             INTEGER PRIMARY KEY,
	application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	ordinal        INTEGER NOT NULL,
	evidence_key   TEXT NOT NULL,
	media_type     TEXT NOT NULL,
	size           INTEGER NOT NULL CHECK (size >= 0),
	sha256         TEXT NOT NULL CHECK (length(sha256) = 64),
	UNIQUE (application_id, ordinal)
) STRICT;

-- The outbox: one row per state change, written in the same transaction.
-- A consumer (the uplink for 'queued', notifications for the others) takes
-- pending rows of its topic and marks them done.
CREATE TABLE outbox (
	id             INTEGER PRIMARY KEY,
	application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	topic          TEXT NOT NULL,
	created_at     TEXT NOT NULL,
	attempts       INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	done_at        TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (topic, id) WHERE done_at IS NULL;

-- The audit log: append-only, each event hashing the one before it. It
-- names applications by id only and outlives them (no foreign key).
CREATE TABLE audit_events (
	seq            INTEGER PRIMARY KEY,
	at             TEXT NOT NULL,
	application_id INTEGER NOT NULL DEFAULT 0,
	kind           TEXT NOT NULL,
	from_state     TEXT NOT NULL DEFAULT '',
	to_state       TEXT NOT NULL DEFAULT '',
	actor          TEXT NOT NULL,
	detail         TEXT NOT NULL DEFAULT '',
	prev_hash      BLOB NOT NULL,
	hash           BLOB NOT NULL
) STRICT;
CREATE INDEX audit_by_application ON audit_events (application_id, seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
