-- Each statement in the import gets exactly the signatures listed for it.
with covered as (
    select id as statement_id from import_statement
    union
    select statement_id from import_signature
), removed as (
    delete from signature g using covered c
    where g.statement_id = c.statement_id
      and not exists (select 1 from import_signature i
                      where i.statement_id = g.statement_id and i.country_code = g.country_code)
    returning g.*
), before as (
    select g.* from signature g
    join import_signature i on i.statement_id = g.statement_id and i.country_code = g.country_code
), changed as (
    insert into signature as g (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note)
    select statement_id, country_code, role, joined_on, withdrawn_on, source_url, coalesce(note, '')
    from import_signature
    on conflict (statement_id, country_code) do update set
        role = excluded.role, joined_on = excluded.joined_on, withdrawn_on = excluded.withdrawn_on,
        source_url = excluded.source_url, note = excluded.note
    where (g.role, g.joined_on, g.withdrawn_on, g.source_url, g.note)
        is distinct from (excluded.role, excluded.joined_on, excluded.withdrawn_on, excluded.source_url, excluded.note)
    returning g.*, (xmax = 0) as created
), audited as (
    insert into change (entity, entity_id, action, actor, before, after)
    select 'signature', r.statement_id || '/' || r.country_code, 'delete', $1, to_jsonb(r), null
    from removed r
    union all
    select 'signature', ch.statement_id || '/' || ch.country_code,
           case when ch.created then 'create' else 'update' end, $1, to_jsonb(b), to_jsonb(ch) - 'created'
    from changed ch
    left join before b on b.statement_id = ch.statement_id and b.country_code = ch.country_code
)
select (select count(*) from changed where created),
       (select count(*) from changed where not created),
       (select count(*) from removed)
