-- A country's record on a topic summed up per stance, kept in the write transaction:
-- GET /v1/topics/{slug}/switchers, GET /v1/topics/{slug}/timeline and
-- GET /v1/countries/{code}/stances aggregated every step of view stance_event of a
-- topic or a country per request (0.15 to 1 s at six million signatures); they now
-- read a few hundred rows of table stance_span. Steps added count on; steps removed
-- count off, and a span whose first or last step goes is recounted at commit, as are
-- the spans of a statement whose date or stance changes or that leaves a topic.

-- The steps of a set of signatures, in the shape of view stance_event plus two
-- columns: the statement's date (`issued_on`), and whether the step's stance is the
-- participation's effective stance today (`held`: a joining not taken back, or the
-- withdrawal), as in view participation. `signatures` is a table or transition table
-- holding signature rows, `links` one holding statement_topic rows, `condition` a
-- filter over `g` (signatures), `s` (statement) and `st` (links). Triggers run the
-- text with EXECUTE, since only a trigger's own queries see its transition tables.
-- Two branches, each a join that a filter on the topic, the country or the statement
-- reaches through the indexes (the withdrawals through signature_withdrawn_idx).
create function stance_steps_sql(signatures text, links text default 'statement_topic', condition text default 'true')
returns text language sql immutable as $$
    select format(
        'select st.topic_slug, g.country_code, g.statement_id, s.title as statement_title, g.role,
                coalesce(g.joined_on, s.issued_on) as date, ''joined'' as event,
                effective_stance(s.stance, g.role, null) as stance,
                s.issued_on, g.withdrawn_on is null as held
         from %1$I g
         join statement s on s.id = g.statement_id
         join %2$I st on st.statement_id = g.statement_id
         where %3$s
         union all
         select st.topic_slug, g.country_code, g.statement_id, s.title, g.role,
                g.withdrawn_on, ''withdrew'', ''withdrawn''::effective_stance,
                s.issued_on, true
         from %1$I g
         join statement s on s.id = g.statement_id
         join %2$I st on st.statement_id = g.statement_id
         where g.withdrawn_on is not null and (%3$s)',
        signatures, links, condition)
$$;

-- The view becomes that text over the tables themselves: one definition of a step for
-- the lists that show steps and for the table below. Its first columns are unchanged.
do $$ begin
    execute format('create or replace view stance_event as %s', stance_steps_sql('signature'));
end $$;

-- A step as a short text that orders as the steps do (ISO date, statement id, event;
-- compared in the "C" collation), so that the first and the last step of a span are a
-- plain min() and max(); the steps shown are then looked up by their statement id and
-- event (the second and third words). The date is written by a cast, which follows
-- the session's DateStyle (to_char, which does not, made a bulk import's spans cost a
-- third more): every function below that writes or compares keys runs with DateStyle
-- ISO.
create function stance_step_key(date date, statement_id text, event text)
returns text language sql stable parallel safe as $$
    select date::text || ' ' || statement_id || ' ' || event
$$;

-- Per topic, country and stance of view stance_event: how many steps put the country
-- on that stance (`steps`), the first and last of them (`first_step`, `last_step`, as
-- stance_step_key()), and the date of the earliest statement in which its
-- participation holds that stance today (`first_held_on`; null when it withdrew from
-- every one; what a topic's timeline counts a country on a side from).
create table stance_span (
    topic_slug text not null,
    country_code text not null,
    stance effective_stance not null,
    steps integer not null,
    first_step text collate "C" not null,
    last_step text collate "C" not null,
    first_held_on date,
    constraint stance_span_pkey primary key (topic_slug, country_code, stance)
);
create index stance_span_country_idx on stance_span (country_code, topic_slug);

-- The stance_span rows of a set of steps (a query in the shape of stance_steps_sql()).
create function stance_span_sql(steps text) returns text language sql immutable as $$
    select format(
        'select e.topic_slug, e.country_code, e.stance, count(*)::integer as steps,
                min(stance_step_key(e.date, e.statement_id, e.event) collate "C") as first_step,
                max(stance_step_key(e.date, e.statement_id, e.event) collate "C") as last_step,
                min(e.issued_on) filter (where e.held) as first_held_on
         from (%s) e
         group by e.topic_slug, e.country_code, e.stance',
        steps)
$$;

-- Steps added: counted on, the first and last steps and the first date held widened.
create function stance_span_merge_sql(steps text) returns text language sql immutable as $$
    select format(
        'insert into stance_span as p (topic_slug, country_code, stance, steps, first_step, last_step, first_held_on)
         %s
         on conflict (topic_slug, country_code, stance) do update set
             steps = p.steps + excluded.steps,
             first_step = least(p.first_step, excluded.first_step),
             last_step = greatest(p.last_step, excluded.last_step),
             first_held_on = least(p.first_held_on, excluded.first_held_on)',
        stance_span_sql(steps))
$$;

-- The (topic, country) pairs whose spans are recomputed from the tables when the
-- transaction commits. Empty outside a transaction that changed something the spans
-- cannot follow by counting: a first or last step removed (min and max cannot be
-- counted off), a statement's date or stance changed, a statement unlinked from a
-- topic. Deferred to the commit because one SQL statement may change several tables
-- (an import merge deletes, updates and inserts signatures at once), and a recount in
-- the middle would see rows that a later trigger then counts on a second time.
create table stance_span_stale (
    topic_slug text not null,
    country_code text not null,
    constraint stance_span_stale_pkey primary key (topic_slug, country_code)
);

-- Steps removed: counted off; a span that loses its first or last step or its first
-- date held, or is counted down to nothing, is marked for the recount.
create function stance_span_count_off_sql(steps text) returns text language sql immutable as $$
    select format(
        'with r as (%s), counted as (
             update stance_span p set steps = p.steps - r.steps
             from r
             where p.topic_slug = r.topic_slug and p.country_code = r.country_code and p.stance = r.stance
             returning p.topic_slug, p.country_code,
                       p.steps <= 0 or p.first_step = r.first_step or p.last_step = r.last_step
                       or p.first_held_on = r.first_held_on as stale
         )
         insert into stance_span_stale (topic_slug, country_code)
         select distinct topic_slug, country_code from counted where stale
         on conflict do nothing',
        stance_span_sql(steps))
$$;

-- Whether signature row `g` has no twin in `others` (same participation, same role and
-- dates): what an update changed. A note or a source changes no step.
create function stance_span_changed_sql(others text) returns text language sql immutable as $$
    select format(
        'not exists (select 1 from %I o
                     where o.statement_id = g.statement_id and o.country_code = g.country_code
                       and o.role = g.role and o.joined_on is not distinct from g.joined_on
                       and o.withdrawn_on is not distinct from g.withdrawn_on)',
        others)
$$;

-- Signatures added, changed or removed (one import merge or one API write at a time).
create function signature_span_after() returns trigger language plpgsql
set datestyle = 'ISO' as $$
begin
    if tg_op = 'DELETE' then
        execute stance_span_count_off_sql(stance_steps_sql('old_rows'));
    elsif tg_op = 'UPDATE' then
        execute stance_span_count_off_sql(stance_steps_sql('old_rows', condition => stance_span_changed_sql('new_rows')));
        execute stance_span_merge_sql(stance_steps_sql('new_rows', condition => stance_span_changed_sql('old_rows')));
    else
        execute stance_span_merge_sql(stance_steps_sql('new_rows'));
    end if;
    return null;
end $$;
create trigger signature_span_insert after insert on signature
    referencing new table as new_rows for each statement execute function signature_span_after();
create trigger signature_span_update after update on signature
    referencing old table as old_rows new table as new_rows for each statement execute function signature_span_after();
create trigger signature_span_delete after delete on signature
    referencing old table as old_rows for each statement execute function signature_span_after();

-- A statement linked to a topic: its steps count on under the topic. Unlinked (or the
-- topic renamed, which renames its links): the pairs are recounted, since the steps
-- were counted with the statement as it was, which the same SQL statement may have
-- changed. Links of a deleted statement are left to the statement's trigger below.
create function statement_topic_span_after() returns trigger language plpgsql
set datestyle = 'ISO' as $$
begin
    if tg_op in ('DELETE', 'UPDATE') then
        insert into stance_span_stale (topic_slug, country_code)
        select distinct o.topic_slug, g.country_code
        from old_rows o
        join statement s on s.id = o.statement_id
        join signature g on g.statement_id = o.statement_id
        on conflict do nothing;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        execute stance_span_merge_sql(stance_steps_sql('signature', links => 'new_rows'));
    end if;
    return null;
end $$;
create trigger statement_topic_span_insert after insert on statement_topic
    referencing new table as new_rows for each statement execute function statement_topic_span_after();
create trigger statement_topic_span_update after update on statement_topic
    referencing old table as old_rows new table as new_rows for each statement execute function statement_topic_span_after();
create trigger statement_topic_span_delete after delete on statement_topic
    referencing old table as old_rows for each statement execute function statement_topic_span_after();

-- A statement's date or stance changed: every step it gave is different, so its pairs
-- are recounted.
create function statement_span_moved() returns trigger language plpgsql as $$
begin
    insert into stance_span_stale (topic_slug, country_code)
    select st.topic_slug, g.country_code
    from signature g
    join statement_topic st on st.statement_id = g.statement_id
    where g.statement_id = new.id
    on conflict do nothing;
    return null;
end $$;
create trigger statement_span_moved after update of issued_on, stance on statement
    for each row when ((old.issued_on, old.stance) is distinct from (new.issued_on, new.stance))
    execute function statement_span_moved();

-- A statement deleted: its steps count off before it goes, while its signatures and
-- topics still say what they were (the signatures go after the statement, and the
-- triggers above then find no statement for them or for its links).
create function statement_span_deleted() returns trigger language plpgsql
set datestyle = 'ISO' as $$
begin
    execute stance_span_count_off_sql(stance_steps_sql('signature', condition => format('g.statement_id = %L', old.id)));
    return old;
end $$;
create trigger statement_span_deleted before delete on statement
    for each row execute function statement_span_deleted();

-- The recount, when the transaction commits: the marked pairs' spans afresh from the
-- tables, topic by topic (one query reaches a topic's statements, or a few countries'
-- signatures, through the indexes). A constraint trigger fires once per marked pair;
-- the first recounts them all and the others find nothing left to do.
create function stance_span_recount() returns trigger language plpgsql
set datestyle = 'ISO' as $$
declare
    topic text;
    countries text[];
begin
    for topic, countries in
        select topic_slug, array_agg(country_code) from stance_span_stale group by topic_slug
    loop
        delete from stance_span where topic_slug = topic and country_code = any (countries);
        execute stance_span_merge_sql(stance_steps_sql('signature',
                    condition => 'st.topic_slug = $1 and g.country_code = any ($2)'))
            using topic, countries;
    end loop;
    delete from stance_span_stale;
    return null;
end $$;
create constraint trigger stance_span_recount after insert on stance_span_stale
    deferrable initially deferred for each row execute function stance_span_recount();

-- The spans of the data already here.
set local datestyle = 'ISO';
do $$ begin execute stance_span_merge_sql(stance_steps_sql('signature')); end $$;
