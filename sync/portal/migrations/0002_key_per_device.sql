-- An idempotency key is unique per device, not across the portal: another
-- device's key is another application. SQLite cannot change a table's
-- constraints, so submissions is rebuilt with the same ids, and with it the
-- two tables whose foreign keys name it (a rename carries those references
-- along, and foreign keys stay on during a migration). Event sequence
-- numbers are kept: devices' status cursors stay valid.
CREATE TABLE submissions_new (
	id              INTEGER PRIMARY KEY,
	device_id       TEXT NOT NULL REFERENCES devices (id),
	idempotency_key TEXT NOT NULL,
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
	form            BLOB NOT NULL,
	UNIQUE (device_id, idempotency_key)
) STRICT;
INSERT INTO submissions_new SELECT id, device_id, idempotency_key, file_code, procedure_code, procedure_id,
	catalog_version, captured_at, received_at, due_at, state, note, updated_at, form FROM submissions;

CREATE TABLE submission_attachments_new (
	submission_id   INTEGER NOT NULL REFERENCES submissions_new (id),
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
INSERT INTO submission_attachments_new SELECT submission_id, ordinal, evidence_key, name, media_type, size,
	sha256_declared, sha256_received, upload_id FROM submission_attachments;

-- Status events, pulled by devices after a cursor (seq).
CREATE TABLE events_new (
	seq           INTEGER PRIMARY KEY,
	submission_id INTEGER NOT NULL REFERENCES submissions_new (id),
	device_id     TEXT NOT NULL,
	state         TEXT NOT NULL,
	note          TEXT NOT NULL DEFAULT '',
	at            TEXT NOT NULL
) STRICT;
INSERT INTO events_new SELECT seq, submission_id, device_id, state, note, at FROM events;

DROP TABLE events;
DROP TABLE submission_attachments;
DROP TABLE submissions;
ALTER TABLE submissions_new RENAME TO submissions;
ALTER TABLE submission_attachments_new RENAME TO submission_attachments;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_device ON events (device_id, seq);
