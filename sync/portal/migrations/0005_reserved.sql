-- 0005 is reserved for h-seal's migration (issue 12); this no-op stands in
-- for it on the h-enroll branch so that 0006 applies. Delete this file when
-- h-seal's 0005 is merged.
SELECT 1;
