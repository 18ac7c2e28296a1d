-- A statement's counts (participants, active signatories, per effective stance),
-- recounted after its signatures change: part three (parts one and two:
-- …_bulk_import.sql, …_import_speed.sql). Recounting each statement in a subquery of
-- its own took 10 s of a first import of 5 million signatures over 50,000 statements,
-- and the statements' own update as much again. Now the query is planned for the ids
-- at hand (EXECUTE with the array as a parameter): an index range for one statement,
-- one hashed pass for tens of thousands. And a statement whose counts are unchanged
-- is not rewritten: every update of a row adds it to each of the table's indexes
-- anew, the words of its text among them.
create or replace function statement_counts_refresh(ids text[]) returns void language plpgsql as $$
begin
    execute $refresh$
        with per_stance as (
            select g.statement_id,
                   effective_stance(s.stance, g.role, g.withdrawn_on) as stance,
                   count(*) as n,
                   count(*) filter (where g.withdrawn_on is null) as active
            from signature g
            join statement s on s.id = g.statement_id
            where g.statement_id = any ($1)
            group by 1, 2
        ), per_statement as (
            select statement_id, sum(n) as participants, sum(active) as active,
                   jsonb_object_agg(stance, n) as counts
            from per_stance
            group by statement_id
        ), counted as (
            select t.id, coalesce(c.participants, 0) as participants, coalesce(c.active, 0) as active,
                   coalesce(c.counts, '{}') as counts
            from (select distinct id from unnest($1) as id) t
            left join per_statement c on c.statement_id = t.id
        )
        update statement s
        set participant_count = c.participants,
            signatory_count = c.active,
            stance_counts = c.counts
        from counted c
        where s.id = c.id
          and (s.participant_count, s.signatory_count, s.stance_counts)
              is distinct from (c.participants, c.active, c.counts)
    $refresh$ using ids;
end $$;

-- The words of a statement's title and summary were a stored generated column, which
-- PostgreSQL computes again on every update of the row, whatever the update changes:
-- recounting the 50,000 statements of an import parsed all their texts a second time
-- (3 s). The same words are now kept by a trigger that runs only when the texts are
-- written.
alter table statement alter column search drop expression;
create function statement_search_words() returns trigger language plpgsql as $$
begin
    new.search := setweight(to_tsvector('english', new.title), 'A')
               || setweight(to_tsvector('english', new.summary), 'B');
    return new;
end $$;
create trigger statement_search_words before insert or update of title, summary on statement
    for each row execute function statement_search_words();
