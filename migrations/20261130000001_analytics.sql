-- What the dashboard analytics (src/http/analytics/) and a country's record per topic
-- (GET /v1/countries/{code}/stances) share: which stances are sides, and the dated
-- steps of a country's record. Defined once here, used by every query that needs them.

-- A side is a stance for or against: `critical` or `supportive`, or for a vote on a
-- text with no stance, `yes` or `no`. Abstaining, `neutral` and `withdrawn` are not
-- sides. Null for a stance that is not a side.
create function stance_side(stance effective_stance) returns effective_stance
language sql immutable parallel safe as $$
    select case when stance in ('critical', 'supportive', 'yes', 'no') then stance end
$$;

-- Whether two stances are opposite sides: critical against supportive, or yes against no.
create function opposite_sides(a effective_stance, b effective_stance) returns boolean
language sql immutable parallel safe as $$
    select (a, b) in (('critical', 'supportive'), ('supportive', 'critical'), ('yes', 'no'), ('no', 'yes'))
$$;

-- Every dated step of every country's record: joining a statement, with the stance it
-- took on joining (effective_stance() of the participation without its withdrawal),
-- and withdrawing from it. One row of signature gives one or two steps, read in one
-- scan, so that filters on the country or the statement reach signature's indexes.
create view stance_event as
select g.country_code,
       g.statement_id,
       s.title as statement_title,
       g.role,
       step.date,
       step.event,
       step.stance
from signature g
join statement s on s.id = g.statement_id
cross join lateral (
    values (coalesce(g.joined_on, s.issued_on), 'joined', effective_stance(s.stance, g.role, null)),
           (g.withdrawn_on, 'withdrew', 'withdrawn'::effective_stance)
) as step (date, event, stance)
where step.date is not null;

-- GET /v1/statements/compare is a path of its own, so no statement may take its name.
alter table statement add constraint statement_id_not_reserved check (id <> 'compare');
