-- Each statement in the import gets exactly the signatures listed for it.
with covered as (
    select id as statement_id from import_statement
    union
    select statement_id from import_signature
), existing as materialized (
    -- The stored rows the import may change or remove: none when its statements are
    -- new, and then the joins below end before hashing the import's millions of rows.
    select g.statement_id, g.country_code
    from signature g
    where g.statement_id in (select statement_id from covered)
), removed as (
    delete from signature g
    using existing e
    where g.statement_id = e.statement_id and g.country_code = e.country_code
      and not exists (select 1 from import_signature i
                      where i.statement_id = e.statement_id and i.country_code = e.country_code)
    returning g.*
), updated as (
    update signature g
    set role = i.role, joined_on = i.joined_on, withdrawn_on = i.withdrawn_on,
        source_url = i.source_url, note = coalesce(i.note, '')
    from existing e
    join import_signature i on i.statement_id = e.statement_id and i.country_code = e.country_code
    where g.statement_id = e.statement_id and g.country_code = e.country_code
      and (g.role, g.joined_on, g.withdrawn_on, g.source_url, g.note)
          is distinct from (i.role, i.joined_on, i.withdrawn_on, i.source_url, coalesce(i.note, ''))
    returning g.*
), created as (
    -- New rows by a plain insert rather than an upsert (cheaper per row; the writers'
    -- lock keeps others from adding the same keys meanwhile), in key order, so that
    -- the primary key's pages (and the audit trail's index after them) are filled one
    -- after another rather than revisited at random.
    insert into signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note)
    select i.statement_id, i.country_code, i.role, i.joined_on, i.withdrawn_on, i.source_url, coalesce(i.note, '')
    from import_signature i
    where not exists (select 1 from existing e
                      where e.statement_id = i.statement_id and e.country_code = i.country_code)
    order by i.statement_id, i.country_code
    returning *
), audited as (
    -- Every part of one statement reads the table as it was before it: `signature`
    -- here holds the rows before the update.
    insert into change (entity, entity_id, action, actor, before, after)
    select 'signature', r.statement_id || '/' || r.country_code, 'delete', $1, to_jsonb(r), null
    from removed r
    union all
    select 'signature', u.statement_id || '/' || u.country_code, 'update', $1, to_jsonb(b), to_jsonb(u)
    from updated u
    join signature b on b.statement_id = u.statement_id and b.country_code = u.country_code
    union all
    select 'signature', c.statement_id || '/' || c.country_code, 'create', $1, null, to_jsonb(c)
    from created c
)
select (select count(*) from created),
       (select count(*) from updated),
       (select count(*) from removed)
