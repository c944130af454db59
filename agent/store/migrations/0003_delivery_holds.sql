-- 0003: applications the portal asked to wait (429 with Retry-After): the
-- uplink delivers the others and comes back to each after its time. A hold
-- whose time has passed is ignored.
CREATE TABLE delivery_holds (
	application_id INTEGER PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
	until          TEXT NOT NULL
) STRICT;
