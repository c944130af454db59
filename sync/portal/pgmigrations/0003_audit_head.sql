-- 0003: the head of the kiosk's audit chain as the application was sent
-- (its sequence number and hash, lowercase hex), kept with the submission.
-- Empty for a kiosk that sends none.
ALTER TABLE submissions ADD COLUMN audit_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN audit_hash TEXT NOT NULL DEFAULT '';
