-- 0007: who made each status change: the officer and the agency, shown on
-- the citizen's tracking page. Filing by a kiosk leaves both '' (the
-- system received it); events from before this have '' too.
ALTER TABLE events ADD COLUMN officer TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN agency TEXT NOT NULL DEFAULT '';
