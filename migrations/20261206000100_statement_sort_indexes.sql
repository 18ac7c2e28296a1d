-- The statements' list by title (`sort=title`) and narrowed to one session (`session=`)
-- sorted all 50,000 statements or read every one of them: 45 to 55 ms and 22 to 30 ms
-- per request. Each is now a range of an index.
--
-- First tried in 388d4b8 and reverted in e1cbde6: with them, a first import's copy of
-- 5 million signatures took much longer. The cause was not the indexes themselves
-- (an import sets them aside with the others) but the CREATE INDEX, which left the
-- seeded statements' row count behind, on which the signatures' triggers were then
-- planned; an import now analyzes the statements before it copies their signatures.
create index statement_title_idx on statement (title, id);
create index statement_session_idx on statement (session);
