-- The stance statistics read the tallies by index alone, which skips a row's table page
-- only while the page is marked all-visible; a write that counts a tally row on or off
-- clears that mark until the table is vacuumed. By default autovacuum waits for a fifth
-- of a table's rows to change (95,000 rows of stance_tally_by_forum_all_kinds at five
-- million signatures, some hundreds of statements' writes). After 300 statements' lists
-- were rewritten, the statistics by forum and year over every statement visited 59,000
-- table rows and took 82 ms instead of 23-28 ms until a vacuum. Ten thousand changed rows
-- (about 25 statements' lists: 40 changed 15,000 to 17,000 rows of each tally) start a
-- vacuum now, in the background: after those 40, 0.27 s for the largest tally.
alter table stance_tally set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
alter table stance_tally_by_forum set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
alter table stance_tally_by_forum_all_kinds set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
