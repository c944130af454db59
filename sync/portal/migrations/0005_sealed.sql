-- 0005: what the portal keeps of citizens is sealed at rest (agent/seal):
-- the data keys, each wrapped by the key-encryption key in
-- DATADIR/keys/kek, live here. Open seals the forms, the attachment names,
-- the manifests in uploads' metadata and the uploads' bytes written in
-- clear before this, right after this migration.
CREATE TABLE data_keys (
	version    INTEGER PRIMARY KEY,
	kek_id     TEXT NOT NULL,
	wrapped    BLOB NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
