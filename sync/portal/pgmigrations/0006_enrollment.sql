-- 0006: trust. A device enrolls with a one-time code the operator makes, and
-- registers an Ed25519 public key against which every manifest it sends is
-- checked; the operator can revoke it. A device enrolled before keeps its
-- token and registers its key when it next enrolls with that token.
ALTER TABLE devices ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
-- The receiving agency whose file codes the device's filings get; '' for
-- the portal's own.
ALTER TABLE devices ADD COLUMN agency TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN revoked_at TEXT NOT NULL DEFAULT '';
-- The time the device signed its last enrollment the portal accepted: a
-- later one must be signed after it, so a captured one is not replayed.
ALTER TABLE devices ADD COLUMN enroll_signed_at TEXT NOT NULL DEFAULT '';

-- One-time enrollment codes, kept by their SHA-256 only.
CREATE TABLE enroll_codes (
	code_hash  TEXT PRIMARY KEY,
	agency     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	-- Compared with the time of use: bytewise, whatever the collation.
	expires_at TEXT COLLATE "C" NOT NULL,
	used_at    TEXT NOT NULL DEFAULT '',
	used_by    TEXT NOT NULL DEFAULT ''
);
