-- Each statement in the import cites exactly the sources listed for it, in file order.
with covered as (
    select id as statement_id from import_statement
    union
    select statement_id from import_source
), removed as (
    delete from source s using covered c
    where s.statement_id = c.statement_id
      and not exists (select 1 from import_source i where i.statement_id = s.statement_id and i.url = s.url)
    returning s.*
), before as (
    select s.* from source s join import_source i on i.statement_id = s.statement_id and i.url = s.url
), changed as (
    insert into source as s (statement_id, url, title, publisher, accessed_on)
    select statement_id, url, coalesce(title, ''), coalesce(publisher, ''), accessed_on
    from import_source
    order by ordinal
    on conflict (statement_id, url) do update set
        title = excluded.title, publisher = excluded.publisher, accessed_on = excluded.accessed_on
    where (s.title, s.publisher, s.accessed_on) is distinct from (excluded.title, excluded.publisher, excluded.accessed_on)
    returning s.*, (xmax = 0) as created
), audited as (
    insert into change (entity, entity_id, action, actor, before, after)
    select 'source', r.id::text, 'delete', $1, to_jsonb(r), null from removed r
    union all
    select 'source', ch.id::text, case when ch.created then 'create' else 'update' end, $1,
           to_jsonb(b), to_jsonb(ch) - 'created'
    from changed ch left join before b on b.id = ch.id
)
select (select count(*) from changed where created),
       (select count(*) from changed where not created),
       (select count(*) from removed)
