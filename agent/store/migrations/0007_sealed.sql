-- 0007: reserved for h-seal (personal data sealed at rest). This stand-in
-- does nothing and keeps the numbering whole on the h-retain branch; at
-- the merge, h-seal's file of the same name replaces it.
SELECT 1;
