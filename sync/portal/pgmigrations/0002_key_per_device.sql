-- An idempotency key is unique per device, not across the portal: another
-- device's key is another application. (SQLite rebuilds the table for
-- this; PostgreSQL changes the constraint in place.)
ALTER TABLE submissions DROP CONSTRAINT submissions_idempotency_key_key;
ALTER TABLE submissions ADD CONSTRAINT submissions_device_id_idempotency_key_key UNIQUE (device_id, idempotency_key);
