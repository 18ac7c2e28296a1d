-- Upsert statements (their topics follow in merge_statement_topics.sql).
with before as (
    select s.* from statement s join import_statement i on i.id = s.id
), changed as (
    insert into statement as s (id, title, kind, forum, session, issued_on, un_symbol, stance, lead_country,
                                summary, notes, reported_count, list_complete)
    select id, title, kind, forum, session, issued_on, un_symbol, stance, lead_country,
           coalesce(summary, ''), coalesce(notes, ''), reported_count, list_complete
    from import_statement
    on conflict (id) do update set
        title = excluded.title, kind = excluded.kind, forum = excluded.forum, session = excluded.session,
        issued_on = excluded.issued_on, un_symbol = excluded.un_symbol, stance = excluded.stance,
        lead_country = excluded.lead_country, summary = excluded.summary, notes = excluded.notes,
        reported_count = excluded.reported_count, list_complete = excluded.list_complete
    where (s.title, s.kind, s.forum, s.session, s.issued_on, s.un_symbol, s.stance, s.lead_country, s.summary,
           s.notes, s.reported_count, s.list_complete)
        is distinct from
          (excluded.title, excluded.kind, excluded.forum, excluded.session, excluded.issued_on,
           excluded.un_symbol, excluded.stance, excluded.lead_country, excluded.summary, excluded.notes,
           excluded.reported_count, excluded.list_complete)
    returning s.*, (xmax = 0) as created
), audited as (
    insert into change (entity, entity_id, action, actor, before, after)
    select 'statement', ch.id, case when ch.created then 'create' else 'update' end, $1,
           to_jsonb(b) - 'search', to_jsonb(ch) - 'search' - 'created'
    from changed ch left join before b on b.id = ch.id
)
select count(*) filter (where created), count(*) filter (where not created), 0::bigint from changed
