with before as (
    select t.* from topic t join import_topic i on i.slug = t.slug
), changed as (
    insert into topic as t (slug, name, description)
    select slug, name, coalesce(description, '') from import_topic
    on conflict (slug) do update set name = excluded.name, description = excluded.description
    where (t.name, t.description) is distinct from (excluded.name, excluded.description)
    returning t.*, (xmax = 0) as created
), audited as (
    insert into change (entity, entity_id, action, actor, before, after)
    select 'topic', ch.slug, case when ch.created then 'create' else 'update' end, $1,
           to_jsonb(b), to_jsonb(ch) - 'created'
    from changed ch left join before b on b.slug = ch.slug
)
select count(*) filter (where created), count(*) filter (where not created), 0::bigint from changed
