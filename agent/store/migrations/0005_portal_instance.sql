-- 0004: file codes are scoped to the portal instance that issued them. A
-- portal whose records were made anew (restored from nothing, or another
-- portal at the same URL) issues ...-0001 again: unique across instances,
-- the kiosk would refuse that receipt forever. Applications filed before
-- instances were known have '' until the uplink adopts the first instance
-- it learns.
ALTER TABLE applications ADD COLUMN portal_instance TEXT NOT NULL DEFAULT '';
DROP INDEX applications_by_file_code;
CREATE UNIQUE INDEX applications_by_file_code ON applications (portal_instance, file_code) WHERE file_code IS NOT NULL;

-- The file codes an application had at a portal that no longer has it,
-- kept when it is queued again for the portal that answers now.
CREATE TABLE old_file_codes (
	application_id  INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	portal_instance TEXT NOT NULL,
	file_code       TEXT NOT NULL,
	-- The state the application had reached there.
	state           TEXT NOT NULL,
	dropped_at      TEXT NOT NULL,
	PRIMARY KEY (application_id, portal_instance, file_code)
) STRICT;
