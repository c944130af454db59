-- 0007: personal data sealed at rest (agent/seal). The data keys, each
-- wrapped by the key-encryption key in DATADIR/keys/kek, live here; the
-- rows of personal_data written before this are sealed in place by Open
-- right after this migration (seal 'none' becomes 'aes-256-gcm'), and
-- secure_delete zeroes the clear bytes they held.
CREATE TABLE data_keys (
	version    INTEGER PRIMARY KEY,
	kek_id     TEXT NOT NULL,
	wrapped    BLOB NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
