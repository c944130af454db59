-- 0005: what the portal keeps of citizens is sealed at rest (agent/seal):
-- the data keys, each wrapped by the key-encryption key in
-- DATADIR/keys/kek, live here. Every process sharing these records needs
-- that same key file.
CREATE TABLE data_keys (
	version    INTEGER PRIMARY KEY,
	kek_id     TEXT NOT NULL,
	wrapped    BYTEA NOT NULL,
	created_at TEXT NOT NULL
);
