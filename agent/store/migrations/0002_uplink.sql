-- 0002: what the uplink keeps between runs: device settings (portal,
-- token, status cursor) and where each attachment's resumable upload stands.
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE uploads (
	attachment_id INTEGER PRIMARY KEY REFERENCES attachments (id) ON DELETE CASCADE,
	url           TEXT NOT NULL,
	-- Bytes the portal confirmed holding.
	confirmed     INTEGER NOT NULL DEFAULT 0,
	complete      INTEGER NOT NULL DEFAULT 0
) STRICT;
