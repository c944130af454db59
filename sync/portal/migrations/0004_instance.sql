-- The portal's instance id: made once, when its records are created, and
-- never changed. A kiosk tells by it that the portal at a URL is no longer
-- the one that issued its file codes (records restored from nothing, or
-- another portal at the same address). One row only.
CREATE TABLE instance (
	one        INTEGER PRIMARY KEY CHECK (one = 1),
	id         TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
INSERT INTO instance (one, id, created_at)
	VALUES (1, 'p-' || lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
