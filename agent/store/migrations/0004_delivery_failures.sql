-- 0004: how an application's delivery has been failing, kept as a counter
-- rather than as an audit event and an outbox row per retry: the attempts,
-- the server errors in a row on its current upload and since when the
-- portal has been answering them, and the last reason. The row goes once
-- the application is delivered.
CREATE TABLE delivery_failures (
	application_id  INTEGER PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
	attempts        INTEGER NOT NULL DEFAULT 0,
	server_errors   INTEGER NOT NULL DEFAULT 0,
	-- When the portal's server errors began, '' when the last attempt
	-- ended otherwise.
	failing_since   TEXT NOT NULL DEFAULT '',
	last_error      TEXT NOT NULL DEFAULT '',
	last_at         TEXT NOT NULL
) STRICT;
