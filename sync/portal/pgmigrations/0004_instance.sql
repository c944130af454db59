-- The portal's instance id: made once, when its records are created, and
-- never changed. A kiosk tells by it that the portal at a URL is no longer
-- the one that issued its file codes (records restored from nothing, or
-- another portal at the same address). One row only.
CREATE TABLE instance (
	one        INTEGER PRIMARY KEY CHECK (one = 1),
	id         TEXT NOT NULL,
	created_at TEXT NOT NULL
);
-- 'p-' and 32 lowercase hex digits, as on SQLite (a random UUID's).
INSERT INTO instance (one, id, created_at)
	VALUES (1, 'p-' || replace(gen_random_uuid()::text, '-', ''),
		to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
