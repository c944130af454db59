-- 0009: staff logins. One row per staff member of the counter and the
-- staff console. The PIN is kept only as its argon2id hash (an encoded
-- string naming its parameters and salt); failures and the lockout live
-- here so that restarting the window does not reset them. A member is
-- disabled, never deleted: the audit log names members by id.
CREATE TABLE staff (
	id           INTEGER PRIMARY KEY,
	login        TEXT NOT NULL UNIQUE,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin')),
	pin_hash     TEXT NOT NULL,
	disabled     INTEGER NOT NULL DEFAULT 0,
	failures     INTEGER NOT NULL DEFAULT 0,
	locked_until TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
) STRICT;
