-- 0006 is reserved for h-enroll's migration (issue 12); this no-op stands
-- in for it on the h-retain branch so that 0007 applies. h-enroll's file of
-- the same name replaces it at the merge.
SELECT 1;
