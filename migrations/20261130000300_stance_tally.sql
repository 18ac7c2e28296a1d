-- Read performance at scale (millions of signatures): planner statistics that see
-- every country, and the tallies behind GET /v1/stats/stances kept in the write
-- transaction instead of counted per request.

-- "What did country X sign?" is planned from the number of signatures of X. With
-- the default statistics target the most-common-values list holds 100 countries and
-- every other country is guessed at the average; a country with a few hundred
-- signatures was then read by walking every statement by date (100 ms instead of
-- 1 ms). A thousand entries hold every country there is.
alter table signature alter column country_code set statistics 1000;

-- A country's participations (its statements, its record per topic) read from the
-- index alone: the rows themselves lie with their statements, one page each.
drop index signature_country_idx;
create index signature_country_idx on signature (country_code, statement_id) include (role, joined_on, withdrawn_on);

-- Per topic, statement year and country: how many of the country's participations
-- took each effective stance (effective_stance(), as in the participation view). The
-- statements' year and topics and the signatures' roles are all that the numbers
-- depend on, so the triggers below keep them exact in every write. Grouped by year,
-- region or subregion, a topic's stance statistics read a few thousand of these rows
-- instead of hundreds of thousands of signatures.
-- `topic_slug` '' holds every statement once, whatever its topics: counts over all
-- statements cannot be summed from the topics' rows, since a statement may have
-- several topics, or none.
create table stance_tally (
    topic_slug text not null,
    year integer not null,
    country_code text not null,
    critical integer not null default 0 constraint stance_tally_critical_counted check (critical >= 0),
    supportive integer not null default 0 constraint stance_tally_supportive_counted check (supportive >= 0),
    neutral integer not null default 0 constraint stance_tally_neutral_counted check (neutral >= 0),
    abstain integer not null default 0 constraint stance_tally_abstain_counted check (abstain >= 0),
    withdrawn integer not null default 0 constraint stance_tally_withdrawn_counted check (withdrawn >= 0),
    yes integer not null default 0 constraint stance_tally_yes_counted check (yes >= 0),
    no integer not null default 0 constraint stance_tally_no_counted check (no >= 0),
    -- The statistics read a topic's rows (or a range of its years) in key order: an
    -- index-only range scan.
    constraint stance_tally_pkey primary key (topic_slug, year, country_code)
        include (critical, supportive, neutral, abstain, withdrawn, yes, no)
);

-- The statement that adds counts to the tally: `counts` is a query of
-- (topic_slug, year, country_code, stance, n) rows, n negative to count off. The
-- triggers below run it with EXECUTE, since only a trigger's own queries see its
-- transition tables. A count that would go negative fails the table's checks: the
-- tally would have been wrong.
create function stance_tally_add_sql(counts text) returns text language sql immutable as $$
    select format(
        'with c as (
             select c.topic_slug, c.year, c.country_code,
                    coalesce(sum(c.n) filter (where c.stance = ''critical''), 0) as critical,
                    coalesce(sum(c.n) filter (where c.stance = ''supportive''), 0) as supportive,
                    coalesce(sum(c.n) filter (where c.stance = ''neutral''), 0) as neutral,
                    coalesce(sum(c.n) filter (where c.stance = ''abstain''), 0) as abstain,
                    coalesce(sum(c.n) filter (where c.stance = ''withdrawn''), 0) as withdrawn,
                    coalesce(sum(c.n) filter (where c.stance = ''yes''), 0) as yes,
                    coalesce(sum(c.n) filter (where c.stance = ''no''), 0) as no
             from (%s) c
             group by c.topic_slug, c.year, c.country_code
         ), updated as (
             -- Counted rows first, by update: an insert checks its proposed row
             -- before it finds the row it conflicts with, and a count off is negative.
             update stance_tally t set
                 critical = t.critical + c.critical,
                 supportive = t.supportive + c.supportive,
                 neutral = t.neutral + c.neutral,
                 abstain = t.abstain + c.abstain,
                 withdrawn = t.withdrawn + c.withdrawn,
                 yes = t.yes + c.yes,
                 no = t.no + c.no
             from c
             where t.topic_slug = c.topic_slug and t.year = c.year and t.country_code = c.country_code
             returning t.topic_slug, t.year, t.country_code
         )
         insert into stance_tally (topic_slug, year, country_code, critical, supportive, neutral,
                                   abstain, withdrawn, yes, no)
         select c.* from c
         where not exists (select 1 from updated u
                           where u.topic_slug = c.topic_slug and u.year = c.year and u.country_code = c.country_code)',
        counts)
$$;

-- Rows counted down to nothing go, so that every row counts something; the partial
-- index finds them without reading the table.
create index stance_tally_emptied_idx on stance_tally (topic_slug)
    where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;
create function stance_tally_prune() returns void language sql as $$
    delete from stance_tally where critical + supportive + neutral + abstain + withdrawn + yes + no = 0
$$;

-- The counts of a set of signatures (`signatures`: a table or transition table of
-- signature rows, narrowed by `condition` over `g` and `s`) by their statements
-- (`statements`: table statement, or a one-row query standing for a statement as it
-- was), times `sign`. Each participation counts once under '' (all statements) and
-- once under each of its statement's topics. Written as joins that the planner can
-- hash for a bulk import (a lateral list of keys per row, which it could not
-- estimate, made it sort millions of rows) and run by index for one statement.
create function stance_tally_counts_sql(signatures text, sign integer, statements text default 'statement',
                                        condition text default 'true')
returns text language sql immutable as $$
    select format(
        'select t.topic_slug, extract(year from s.issued_on)::integer as year, g.country_code,
                effective_stance(s.stance, g.role, g.withdrawn_on) as stance, %1$s * count(*) as n
         from %2$I g
         join %3$s s on s.id = g.statement_id
         join (select s.id as statement_id, ''''::text as topic_slug from %3$s s
               union all
               select l.statement_id, l.topic_slug from statement_topic l) t on t.statement_id = g.statement_id
         where %4$s
         group by 1, 2, 3, 4',
        sign, signatures, statements, condition)
$$;

-- Signatures added, changed or removed, one statement (and one import merge) at a
-- time: removed rows count off, added rows count on, an update is both.
create function signature_tally_after() returns trigger language plpgsql as $$
begin
    if tg_op in ('DELETE', 'UPDATE') then
        execute stance_tally_add_sql(stance_tally_counts_sql('old_rows', -1));
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        execute stance_tally_add_sql(stance_tally_counts_sql('new_rows', 1));
    end if;
    perform stance_tally_prune();
    return null;
end $$;
create trigger signature_tally_insert after insert on signature
    referencing new table as new_rows for each statement execute function signature_tally_after();
create trigger signature_tally_update after update on signature
    referencing old table as old_rows new table as new_rows for each statement execute function signature_tally_after();
create trigger signature_tally_delete after delete on signature
    referencing old table as old_rows for each statement execute function signature_tally_after();

-- A statement linked to or unlinked from a topic (or a topic renamed, which renames
-- its links): its signatures count on or off under that topic.
create function statement_topic_tally_after() returns trigger language plpgsql as $$
declare
    links text;
begin
    foreach links in array case tg_op
        when 'INSERT' then array['new_rows']
        when 'DELETE' then array['old_rows']
        else array['old_rows', 'new_rows'] end
    loop
        execute stance_tally_add_sql(format(
            'select t.topic_slug, extract(year from s.issued_on)::integer as year, g.country_code,
                    effective_stance(s.stance, g.role, g.withdrawn_on) as stance, %s * count(*) as n
             from %I t
             join statement s on s.id = t.statement_id
             join signature g on g.statement_id = s.id
             group by 1, 2, 3, 4',
            case links when 'new_rows' then 1 else -1 end, links));
    end loop;
    perform stance_tally_prune();
    return null;
end $$;
create trigger statement_topic_tally_insert after insert on statement_topic
    referencing new table as new_rows for each statement execute function statement_topic_tally_after();
create trigger statement_topic_tally_update after update on statement_topic
    referencing old table as old_rows new table as new_rows for each statement execute function statement_topic_tally_after();
create trigger statement_topic_tally_delete after delete on statement_topic
    referencing old table as old_rows for each statement execute function statement_topic_tally_after();

-- A statement's date or stance changed: its signatures count off as they were and on
-- as they are. A statement deleted: its signatures count off before it goes, while
-- the statement and its topics still say where they counted (the signatures go with
-- the statement, and the triggers above then find no statement for them).
create function statement_tally_after() returns trigger language plpgsql as $$
begin
    execute stance_tally_add_sql(stance_tally_counts_sql('signature', -1,
        format('(select %L::text as id, %L::date as issued_on, %L::stance as stance)', old.id, old.issued_on, old.stance),
        format('g.statement_id = %L', old.id)));
    if tg_op = 'UPDATE' then
        execute stance_tally_add_sql(stance_tally_counts_sql('signature', 1, 'statement',
            format('g.statement_id = %L', new.id)));
    end if;
    perform stance_tally_prune();
    return case tg_op when 'DELETE' then old end;
end $$;
create trigger statement_tally_moved after update of issued_on, stance on statement
    for each row when ((old.issued_on, old.stance) is distinct from (new.issued_on, new.stance))
    execute function statement_tally_after();
create trigger statement_tally_deleted before delete on statement
    for each row execute function statement_tally_after();

-- The tally of the data already here.
do $$ begin execute stance_tally_add_sql(stance_tally_counts_sql('signature', 1)); end $$;
