-- Each statement in the import gets exactly the signatures listed for it. The
-- staged rows are those of statements that held signatures before the import ($2);
-- the other statements' lists were copied in whole (merge.rs).
with covered as (
    select id as statement_id from import_statement join unnest($2::text[]) holding (id) using (id)
    union
    select statement_id from import_signature
), existing as materialized (
    -- The stored rows the import may change or remove: none when its statements are
    -- new, and then the joins below end before hashing the import's rows.
    select g.statement_id, g.country_code, g.role, g.joined_on, g.withdrawn_on, g.source_url, g.note
    from signature g
    where g.statement_id in (select statement_id from covered)
), removed as (
    delete from signature g
    using existing e
    where g.statement_id = e.statement_id and g.country_code = e.country_code
      and not exists (select 1 from import_signature i
                      where i.statement_id = e.statement_id and i.country_code = e.country_code)
    returning g.statement_id, g.country_code,
              row(g.country_code, g.role, g.joined_on, g.withdrawn_on, g.source_url, nullif(g.note, ''))::participation_content as before
), updated as (
    update signature g
    set role = i.role, joined_on = i.joined_on, withdrawn_on = i.withdrawn_on,
        source_url = i.source_url, note = coalesce(i.note, '')
    from existing e
    join import_signature i on i.statement_id = e.statement_id and i.country_code = e.country_code
    where g.statement_id = e.statement_id and g.country_code = e.country_code
      and (g.role, g.joined_on, g.withdrawn_on, g.source_url, g.note)
          is distinct from (i.role, i.joined_on, i.withdrawn_on, i.source_url, coalesce(i.note, ''))
    returning g.statement_id, g.country_code,
              row(e.country_code, e.role, e.joined_on, e.withdrawn_on, e.source_url, nullif(e.note, ''))::participation_content as before,
              row(g.country_code, g.role, g.joined_on, g.withdrawn_on, g.source_url, nullif(g.note, ''))::participation_content as after
), created as (
    -- New rows by a plain insert rather than an upsert (cheaper per row; the writers'
    -- lock keeps others from adding the same keys meanwhile), in key order, so that
    -- the primary key's pages are filled one after another rather than revisited at
    -- random.
    insert into signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note, issued_on)
    select i.statement_id, i.country_code, i.role, i.joined_on, i.withdrawn_on, i.source_url, coalesce(i.note, ''),
           i.issued_on
    from import_signature i
    where not exists (select 1 from existing e
                      where e.statement_id = i.statement_id and e.country_code = i.country_code)
    order by i.statement_id, i.country_code
    returning statement_id, country_code,
              row(country_code, role, joined_on, withdrawn_on, source_url, nullif(note, ''))::participation_content as after
), audited as (
    -- One change per statement whose list changed (migrations/20261130000200_import_speed.sql),
    -- fields without a value left out.
    insert into change (entity, entity_id, action, actor, before, after)
    select 'signatories', statement_id, 'update', $1,
           jsonb_strip_nulls(coalesce(to_jsonb(array_agg(before order by country_code) filter (where had)), '[]')),
           jsonb_strip_nulls(coalesce(to_jsonb(array_agg(after order by country_code) filter (where has)), '[]'))
    from (
        -- `had` and `has` say which states there are (a composite with a null field is
        -- not `is not null`).
        select statement_id, country_code, true as had, before, false as has, null::participation_content as after
        from removed
        union all
        select statement_id, country_code, true, before, true, after from updated
        union all
        select statement_id, country_code, false, null, true, after from created
    ) changed
    group by statement_id
)
select (select count(*) from created),
       (select count(*) from updated),
       (select count(*) from removed)
