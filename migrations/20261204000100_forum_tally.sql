-- Stance statistics by forum and by kind of statement, from a tally like the others.
-- GET /v1/stats/stances grouped by forum or filtered by kind counted the matching
-- statements' signatures on every request: at five million signatures 0.3 to 1.5 s
-- for one topic or kind, 3 s for every statement by forum, 8 to 9 s by forum and
-- year.
--
-- Table stance_tally_by_forum holds stance_tally's counts split further by the
-- statement's forum and kind. That is about seven times as many rows (1.15 million
-- at that scale against 167,000), so stance_tally stays: grouped by year or region
-- without a kind, a topic's rows are read from it in a seventh of the time.
create table stance_tally_by_forum (
    topic_slug text not null,
    year integer not null,
    forum text not null,
    kind statement_kind not null,
    country_code text not null,
    critical integer not null default 0 constraint stance_tally_by_forum_critical_counted check (critical >= 0),
    supportive integer not null default 0 constraint stance_tally_by_forum_supportive_counted check (supportive >= 0),
    neutral integer not null default 0 constraint stance_tally_by_forum_neutral_counted check (neutral >= 0),
    abstain integer not null default 0 constraint stance_tally_by_forum_abstain_counted check (abstain >= 0),
    withdrawn integer not null default 0 constraint stance_tally_by_forum_withdrawn_counted check (withdrawn >= 0),
    yes integer not null default 0 constraint stance_tally_by_forum_yes_counted check (yes >= 0),
    no integer not null default 0 constraint stance_tally_by_forum_no_counted check (no >= 0),
    -- A topic's rows, or a range of its years, in key order: an index-only range scan.
    -- Grouped by year and forum, the rows of each (year, forum, country) then come
    -- together, as the statistics group them first: 110 to 70 ms for every statement
    -- by forum and year at five million signatures, against the kind before the
    -- country.
    constraint stance_tally_by_forum_pkey primary key (topic_slug, year, forum, country_code, kind)
        include (critical, supportive, neutral, abstain, withdrawn, yes, no)
);
create index stance_tally_by_forum_emptied_idx on stance_tally_by_forum (topic_slug)
    where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;

create or replace function stance_tally_prune() returns void language sql as $$
    delete from stance_tally where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;
    delete from stance_tally_by_forum where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;
$$;

-- Two CTEs that merge `source` (rows of the key columns `keys` and a count per
-- effective stance) into the tally `target`. Counted rows first, by update: an insert
-- checks its proposed row before it finds the row it conflicts with, and a count off
-- is negative.
create function stance_tally_merge_sql(target text, keys text[], source text)
returns text language sql stable as $$
    select format(
        '%1$s_updated as (
             update %1$I t set %3$s from %2$I c where %4$s returning %5$s
         ), %1$s_inserted as (
             insert into %1$I (%6$s) select %6$s from %2$I c
             where not exists (select 1 from %1$s_updated u where %7$s)
         )',
        target, source,
        (select string_agg(format('%1$I = t.%1$I + c.%1$I', x), ', ') from unnest(stances) x),
        (select string_agg(format('t.%1$I = c.%1$I', k), ' and ') from unnest(keys) k),
        (select string_agg(format('t.%I', k), ', ') from unnest(keys) k),
        (select string_agg(format('%I', k), ', ') from unnest(keys || stances) k),
        (select string_agg(format('u.%1$I = c.%1$I', k), ' and ') from unnest(keys) k))
    from (select enum_range(null::effective_stance)::text[] as stances) s
$$;

-- The tallies' columns of counts, over rows grouped from signatures g and statements
-- s: `sign` times the participations with each effective stance.
create function stance_tally_columns_sql(sign integer) returns text language sql stable as $$
    select string_agg(format('(%s * count(*) filter (where effective_stance(s.stance, g.role, g.withdrawn_on) = %L))::integer as %I',
                             sign, x, x), ', ')
    from unnest(enum_range(null::effective_stance)::text[]) x
$$;

-- The statement that adds counts to both tallies: `counts` is a query of rows of
-- stance_tally_by_forum, one per key (counts negative to count off); stance_tally's
-- rows are summed from them. The triggers run it with EXECUTE, since only a
-- trigger's own queries see its transition tables. A count that would go negative
-- fails the tables' checks: the tally would have been wrong.
create or replace function stance_tally_add_sql(counts text) returns text language sql stable as $$
    select format(
        'with by_forum as materialized (%1$s), by_topic as (
             select topic_slug, year, country_code, %2$s
             from by_forum
             group by topic_slug, year, country_code
         ), %3$s, %4$s
         select',
        counts,
        (select string_agg(format('sum(%1$I)::integer as %1$I', x), ', ')
         from unnest(enum_range(null::effective_stance)::text[]) x),
        stance_tally_merge_sql('stance_tally_by_forum',
                               array['topic_slug', 'year', 'forum', 'country_code', 'kind'], 'by_forum'),
        stance_tally_merge_sql('stance_tally', array['topic_slug', 'year', 'country_code'], 'by_topic'))
$$;

-- As before (migrations/20261130000300_stance_tally.sql), as rows of
-- stance_tally_by_forum.
create or replace function stance_tally_counts_sql(signatures text, sign integer, statements text default 'statement',
                                                   condition text default 'true')
returns text language sql stable as $$
    select format(
        'select t.topic_slug, extract(year from s.issued_on)::integer as year, s.forum, g.country_code, s.kind, %1$s
         from %2$I g
         join %3$s s on s.id = g.statement_id
         join (select s.id as statement_id, ''''::text as topic_slug from %3$s s
               union all
               select l.statement_id, l.topic_slug from statement_topic l) t on t.statement_id = g.statement_id
         where %4$s
         group by 1, 2, 3, 4, 5',
        stance_tally_columns_sql(sign), signatures, statements, condition)
$$;

create or replace function statement_topic_tally_after() returns trigger language plpgsql as $$
declare
    links text;
begin
    foreach links in array case tg_op
        when 'INSERT' then array['new_rows']
        when 'DELETE' then array['old_rows']
        else array['old_rows', 'new_rows'] end
    loop
        execute stance_tally_add_sql(format(
            'select t.topic_slug, extract(year from s.issued_on)::integer as year, s.forum, g.country_code, s.kind, %s
             from %I t
             join statement s on s.id = t.statement_id
             join signature g on g.statement_id = s.id
             group by 1, 2, 3, 4, 5',
            stance_tally_columns_sql(case links when 'new_rows' then 1 else -1 end), links));
    end loop;
    perform stance_tally_prune();
    return null;
end $$;

-- The tally of a bulk insert (a first import's 5 million signatures, or the links of
-- its 50,000 statements) groups about 11 million rows into a million. The planner
-- takes the groups to be the product of the key columns' distinct values (7.4
-- million), so it sorted the 11 million rows on disk rather than hash them: 38 s
-- instead of 22 s. A write of a few rows is hashed as cheaply.
alter function signature_tally_after() set enable_sort = off;
alter function statement_topic_tally_after() set enable_sort = off;

-- A statement's forum or kind now moves its signatures between tally rows as its
-- date and stance do.
create or replace function statement_tally_after() returns trigger language plpgsql as $$
begin
    execute stance_tally_add_sql(stance_tally_counts_sql('signature', -1,
        format('(select %L::text as id, %L::date as issued_on, %L::stance as stance, %L::text as forum,
                        %L::statement_kind as kind)',
               old.id, old.issued_on, old.stance, old.forum, old.kind),
        format('g.statement_id = %L', old.id)));
    if tg_op = 'UPDATE' then
        execute stance_tally_add_sql(stance_tally_counts_sql('signature', 1, 'statement',
            format('g.statement_id = %L', new.id)));
    end if;
    perform stance_tally_prune();
    return case tg_op when 'DELETE' then old end;
end $$;
drop trigger statement_tally_moved on statement;
create trigger statement_tally_moved after update of issued_on, stance, forum, kind on statement
    for each row when ((old.issued_on, old.stance, old.forum, old.kind) is distinct from
                       (new.issued_on, new.stance, new.forum, new.kind))
    execute function statement_tally_after();

-- Both tallies of the data already here, counted afresh in one pass (with the memory
-- an import gives it, so that five million signatures are counted without spilling).
set local work_mem = '256MB';
delete from stance_tally;
do $$ begin execute stance_tally_add_sql(stance_tally_counts_sql('signature', 1)); end $$;
analyze stance_tally, stance_tally_by_forum;
