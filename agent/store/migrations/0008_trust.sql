-- 0008: trust. A keyed MAC of each audit event, so that an event appended
-- or rewritten by someone holding the database file (who can recompute the
-- chain's plain hashes) shows; when each application's personal data was
-- purged; and the signals and alerts of the early-warning rules.

-- mac is HMAC-SHA256, under the key kept next to the database (never in
-- it), of the event's hash. Append-only, like the events.
CREATE TABLE audit_macs (
	seq INTEGER PRIMARY KEY,
	mac BLOB NOT NULL
) STRICT;
CREATE TRIGGER audit_macs_no_update BEFORE UPDATE ON audit_macs
BEGIN SELECT RAISE(ABORT, 'audit MACs are append-only'); END;
CREATE TRIGGER audit_macs_no_delete BEFORE DELETE ON audit_macs
BEGIN SELECT RAISE(ABORT, 'audit MACs are append-only'); END;

-- When the application's personal data was purged after the retention
-- window; '' while it is kept. The row itself stays, for statistics.
ALTER TABLE applications ADD COLUMN purged_at TEXT NOT NULL DEFAULT '';
CREATE INDEX applications_by_purge ON applications (purged_at, state, updated_at);

-- Early warning: one row per signal (a submission with an ID number, one
-- from a kiosk, a failed PIN), kept for the longest window. subject is a
-- keyed hash for personal subjects (an ID number), never the value.
CREATE TABLE alert_signals (
	id      INTEGER PRIMARY KEY,
	kind    TEXT NOT NULL,
	subject TEXT NOT NULL,
	at      TEXT NOT NULL
) STRICT;
CREATE INDEX alert_signals_by_subject ON alert_signals (kind, subject, at);

-- The alerts raised: a rule's threshold reached for one subject.
CREATE TABLE alerts (
	id             INTEGER PRIMARY KEY,
	kind           TEXT NOT NULL,
	subject        TEXT NOT NULL,
	count          INTEGER NOT NULL,
	window_seconds INTEGER NOT NULL,
	first_at       TEXT NOT NULL,
	raised_at      TEXT NOT NULL
) STRICT;
CREATE INDEX alerts_by_time ON alerts (raised_at);
CREATE INDEX alerts_by_subject ON alerts (kind, subject, raised_at);
