-- A keyset page of participations in their key's order (statement id, then country
-- code) is bounded by its cursor on the signatures' side of the join only: the planner
-- does not carry a range on `g.statement_id` over to `s.id`, so a merge join walked the
-- statements' primary key from its start on every page and every export batch. View
-- `participation` and `participation_as_of()` now also give the statement's side of the
-- key, `statement_key` (always equal to `statement_id`), for the same bound to reach it.

create or replace view participation as
select g.statement_id,
       g.country_code,
       g.role,
       g.joined_on,
       g.withdrawn_on,
       g.source_url,
       g.note,
       s.issued_on,
       coalesce(g.joined_on, s.issued_on) as effective_on,
       effective_stance(s.stance, g.role, g.withdrawn_on) as effective_stance,
       s.id as statement_key
from signature g
join statement s on s.id = g.statement_id;

-- A function's result columns cannot change in place.
drop function participation_as_of(date);

-- View `participation` as of D (the same columns; withdrawn_on as known on D).
create function participation_as_of(as_of date)
returns table (statement_id text, country_code text, role signature_role, joined_on date,
               withdrawn_on date, source_url text, note text, issued_on date,
               effective_on date, effective_stance effective_stance, statement_key text)
language sql stable parallel safe as $$
    select g.statement_id, g.country_code, g.role, g.joined_on,
           case when g.withdrawn_on <= as_of then g.withdrawn_on end,
           g.source_url, g.note, s.issued_on,
           coalesce(g.joined_on, s.issued_on),
           effective_stance_as_of(s.stance, g.role, g.withdrawn_on, as_of),
           s.id
    from signature g
    join statement s on s.id = g.statement_id
    where s.issued_on <= as_of and coalesce(g.joined_on, s.issued_on) <= as_of
$$;
