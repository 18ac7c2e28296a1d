-- What the dashboard analytics (src/http/analytics/) and a country's record per topic
-- (GET /v1/countries/{code}/stances) share: the effective stance made inlinable,
-- which stances are sides, and the dated steps of a country's record on a topic.
-- Defined once here, used by every query that needs them.

-- The same definition of effective_stance() as before, written so that PostgreSQL
-- inlines it into the queries that call it: the first version converted the
-- statement's stance through text, a stable cast that made the immutable function
-- opaque, so every participation read through it cost a function call (some 25
-- seconds over five million rows). Only constants and enum comparisons now.
create or replace function effective_stance(statement_stance stance, role signature_role, withdrawn_on date)
returns effective_stance language sql immutable parallel safe as $$
    select case
        when withdrawn_on is not null then 'withdrawn'::effective_stance
        when role = 'vote_abstain' then 'abstain'::effective_stance
        when statement_stance is null then
            case when role = 'vote_no' then 'no'::effective_stance else 'yes'::effective_stance end
        when statement_stance = 'neutral' then 'neutral'::effective_stance
        when (statement_stance = 'critical') = (role = 'vote_no') then 'supportive'::effective_stance
        else 'critical'::effective_stance
    end
$$;

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

-- Every dated step of every country's record on each topic: joining a statement,
-- with the stance it took on joining (effective_stance() of the participation
-- without its withdrawal), and withdrawing from it. Two branches, each a join that a
-- filter on the topic, the country or the statement reaches through the indexes
-- (statement_topic_topic_idx, signature_country_idx, signature's primary key, and
-- signature_withdrawn_idx below for the few withdrawals).
create view stance_event as
select st.topic_slug,
       g.country_code,
       g.statement_id,
       s.title as statement_title,
       g.role,
       coalesce(g.joined_on, s.issued_on) as date,
       'joined' as event,
       effective_stance(s.stance, g.role, null) as stance
from signature g
join statement s on s.id = g.statement_id
join statement_topic st on st.statement_id = g.statement_id
union all
select st.topic_slug,
       g.country_code,
       g.statement_id,
       s.title,
       g.role,
       g.withdrawn_on,
       'withdrew',
       'withdrawn'::effective_stance
from signature g
join statement s on s.id = g.statement_id
join statement_topic st on st.statement_id = g.statement_id
where g.withdrawn_on is not null;

create index signature_withdrawn_idx on signature (country_code, statement_id) where withdrawn_on is not null;

-- GET /v1/statements/compare is a path of its own, so no statement may take its name.
alter table statement add constraint statement_id_not_reserved check (id <> 'compare');
