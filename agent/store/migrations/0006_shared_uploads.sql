-- 0006: uploads shared by several small applications. base is where an
-- application's attachments begin in an upload shared with others whose
-- bytes are all at the portal, for its manifest to name them once the
-- portal files it; manifests is the manifest block a shared upload starts
-- with, kept so that a resumed upload sends the very bytes it began with.
ALTER TABLE uploads ADD COLUMN base INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN manifests BLOB;
