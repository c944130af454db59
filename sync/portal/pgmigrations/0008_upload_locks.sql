-- 0008: several portal processes share the records and the uploads. Each
-- process is a row here while it runs, its lease renewed every few seconds
-- (alive_until, Unix milliseconds by its clock): a process that stops
-- renewing is dead, and so are its locks and its spool directory.
CREATE TABLE portal_processes (
	id          TEXT PRIMARY KEY,
	host        TEXT NOT NULL DEFAULT '',
	pid         BIGINT NOT NULL DEFAULT 0,
	started_at  BIGINT NOT NULL,
	alive_until BIGINT NOT NULL
);

-- The tus lock of an upload: held by one request of one live process at a
-- time (token names that holding). A request that waits for it sets wanted,
-- and the holder's process then interrupts the request that holds it. A
-- lock whose process is dead is free.
CREATE TABLE upload_locks (
	upload_id TEXT PRIMARY KEY,
	process   TEXT NOT NULL,
	token     TEXT NOT NULL,
	wanted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX upload_locks_by_process ON upload_locks (process, wanted);
