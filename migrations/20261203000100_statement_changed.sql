-- GET /v1/countries/{code}/alignment compares one country's participations with every
-- other country's: a join of millions of signatures per request (3.4 s at six million).
-- Each service instance now keeps the participations in memory as bit sets
-- (src/http/analytics/alignment/matrix.rs) and, before it answers, brings its copy to
-- the current data version by re-reading only the statements changed since. This
-- table says which: per statement, the data version of its last change (its
-- participations, its stance or its topics), kept after a deletion so that the
-- deletion is seen too.
create table statement_changed (
    statement_id text not null constraint statement_changed_pkey primary key,
    version bigint not null
);
create index statement_changed_version_idx on statement_changed (version);

-- The version recorded is the one that this SQL statement's own data_version_bump()
-- sets: the current version plus one, read under the data_version row lock that every
-- write transaction holds until it commits (see …_data_version.sql). These triggers
-- run before the bump, as triggers on the same event run in name order ("changed"
-- before "data_version"). So a transaction committed after an instance read version V
-- records versions above V, and none above the version it commits: a copy at that
-- version does not re-read its statements again.
-- The arguments: the statement id's column, then the transition tables to read.
create function statement_changed_mark() returns trigger language plpgsql as $$
declare
    next bigint;
    rows_table text;
begin
    select version + 1 into next from data_version for update;
    foreach rows_table in array tg_argv[1:] loop
        execute format(
            'insert into statement_changed as c (statement_id, version)
             select distinct %I, $1 from %I
             on conflict (statement_id) do update set version = excluded.version',
            tg_argv[0], rows_table)
        using next;
    end loop;
    return null;
end $$;

create trigger signature_changed_insert after insert on signature
    referencing new table as new_rows for each statement
    execute function statement_changed_mark('statement_id', 'new_rows');
create trigger signature_changed_update after update on signature
    referencing old table as old_rows new table as new_rows for each statement
    execute function statement_changed_mark('statement_id', 'old_rows', 'new_rows');
create trigger signature_changed_delete after delete on signature
    referencing old table as old_rows for each statement
    execute function statement_changed_mark('statement_id', 'old_rows');

-- A statement's stance decides its participations' effective stances; a new statement
-- has none until its signatures and topics arrive, which mark it then.
create trigger statement_changed_update after update on statement
    referencing new table as new_rows for each statement
    execute function statement_changed_mark('id', 'new_rows');
create trigger statement_changed_delete after delete on statement
    referencing old table as old_rows for each statement
    execute function statement_changed_mark('id', 'old_rows');

create trigger statement_topic_changed_insert after insert on statement_topic
    referencing new table as new_rows for each statement
    execute function statement_changed_mark('statement_id', 'new_rows');
create trigger statement_topic_changed_update after update on statement_topic
    referencing old table as old_rows new table as new_rows for each statement
    execute function statement_changed_mark('statement_id', 'old_rows', 'new_rows');
create trigger statement_topic_changed_delete after delete on statement_topic
    referencing old table as old_rows for each statement
    execute function statement_changed_mark('statement_id', 'old_rows');
