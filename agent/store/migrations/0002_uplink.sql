-- 0002: what the uplink keeps between runs: device settings (portal,
-- token, status cursor) and where each application's resumable upload (its
-- attachments back to back) stands.
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE uploads (
	application_id INTEGER PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
	url            TEXT NOT NULL,
	-- Bumped when the upload must start again from zero under a new name.
	generation     INTEGER NOT NULL DEFAULT 1,
	-- Bytes the portal confirmed holding.
	confirmed      INTEGER NOT NULL DEFAULT 0,
	complete       INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Procedure catalogs pulled from the portal, newest used for capture.
CREATE TABLE catalogs (
	version    TEXT PRIMARY KEY,
	data       BLOB NOT NULL,
	fetched_at TEXT NOT NULL
) STRICT;
