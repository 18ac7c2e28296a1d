-- The record as it stood on a date D: a participation is part of it once it started
-- (joined_on, else its statement's date) on or before D, in a statement issued on or
-- before D; its effective stance is `withdrawn` if it withdrew on or before D, else the
-- one it has today. One definition, beside effective_stance(), for every list, count
-- and statistic that takes `as_of`.

create function effective_stance_as_of(statement_stance stance, role signature_role,
                                       withdrawn_on date, as_of date)
returns effective_stance language sql immutable parallel safe as $$
    select effective_stance(statement_stance, role,
                            case when withdrawn_on <= as_of then withdrawn_on end)
$$;

-- View `participation` as of D (the same columns; withdrawn_on as known on D).
create function participation_as_of(as_of date)
returns table (statement_id text, country_code text, role signature_role, joined_on date,
               withdrawn_on date, source_url text, note text, issued_on date,
               effective_on date, effective_stance effective_stance)
language sql stable parallel safe as $$
    select g.statement_id, g.country_code, g.role, g.joined_on,
           case when g.withdrawn_on <= as_of then g.withdrawn_on end,
           g.source_url, g.note, s.issued_on,
           coalesce(g.joined_on, s.issued_on),
           effective_stance_as_of(s.stance, g.role, g.withdrawn_on, as_of)
    from signature g
    join statement s on s.id = g.statement_id
    where s.issued_on <= as_of and coalesce(g.joined_on, s.issued_on) <= as_of
$$;

-- View `stance_event` as of D, with what table stance_span keeps besides: the
-- statement's date and whether the participation still held on D (`held`).
create function stance_event_as_of(as_of date)
returns table (topic_slug text, country_code text, statement_id text, statement_title text,
               role signature_role, date date, event text, stance effective_stance,
               issued_on date, held boolean)
language sql stable parallel safe as $$
    select st.topic_slug, g.country_code, g.statement_id, s.title, g.role,
           coalesce(g.joined_on, s.issued_on), 'joined',
           effective_stance(s.stance, g.role, null), s.issued_on,
           g.withdrawn_on is null or g.withdrawn_on > as_of
    from signature g
    join statement s on s.id = g.statement_id
    join statement_topic st on st.statement_id = g.statement_id
    where s.issued_on <= as_of and coalesce(g.joined_on, s.issued_on) <= as_of
    union all
    select st.topic_slug, g.country_code, g.statement_id, s.title, g.role,
           g.withdrawn_on, 'withdrew', 'withdrawn', s.issued_on, true
    from signature g
    join statement s on s.id = g.statement_id
    join statement_topic st on st.statement_id = g.statement_id
    where g.withdrawn_on <= as_of and s.issued_on <= as_of
$$;

-- A statement's counts as of D, in the shape of its maintained columns.
create function statement_counts_as_of(statement text, as_of date)
returns table (participant_count integer, signatory_count integer, stance_counts jsonb)
language sql stable parallel safe as $$
    with p as (
        select p.effective_stance from participation_as_of(as_of) p
        where p.statement_id = statement
    ), per_stance as (
        select p.effective_stance, count(*) as n from p group by p.effective_stance
    )
    select (select count(*) from p)::integer,
           (select count(*) from p where p.effective_stance <> 'withdrawn')::integer,
           coalesce((select jsonb_object_agg(s.effective_stance, s.n) from per_stance s), '{}')
$$;

-- What the tallies (stance_tally and its forum and kind splits) count today that the
-- record of D counts otherwise: the participations, in statements issued by D, that
-- joined after D (counted off today's stance) or withdrew after D (counted off as
-- withdrawn, on again at the stance they held on D), per topic ('' for all), kind,
-- year, forum and country. Few rows, found through the two partial indexes below, so
-- that statistics of a past day read the tallies and these rather than every signature.
create function stance_tally_delta_as_of(as_of date)
returns table (topic_slug text, kind statement_kind, year integer, forum text,
               country_code text, critical bigint, supportive bigint, neutral bigint,
               abstain bigint, withdrawn bigint, yes bigint, no bigint)
language sql stable parallel safe as $$
    with changed as (
        select g.statement_id, g.country_code, s.kind,
               extract(year from s.issued_on)::integer as year, s.forum,
               effective_stance(s.stance, g.role, g.withdrawn_on) as today,
               case when coalesce(g.joined_on, s.issued_on) <= as_of
                    then effective_stance_as_of(s.stance, g.role, g.withdrawn_on, as_of) end as on_the_day
        from signature g
        join statement s on s.id = g.statement_id
        where s.issued_on <= as_of and (g.joined_on > as_of or g.withdrawn_on > as_of)
    ), signed as (
        select c.statement_id, c.country_code, c.kind, c.year, c.forum, c.today as stance, -1 as n
        from changed c
        union all
        select c.statement_id, c.country_code, c.kind, c.year, c.forum, c.on_the_day, 1
        from changed c where c.on_the_day is not null
    ), topics as (
        select t.topic_slug, x.country_code, x.kind, x.year, x.forum, x.stance, x.n
        from signed x join statement_topic t on t.statement_id = x.statement_id
        union all
        select '', x.country_code, x.kind, x.year, x.forum, x.stance, x.n from signed x
    )
    select t.topic_slug, t.kind, t.year, t.forum, t.country_code,
           coalesce(sum(t.n) filter (where t.stance = 'critical'), 0),
           coalesce(sum(t.n) filter (where t.stance = 'supportive'), 0),
           coalesce(sum(t.n) filter (where t.stance = 'neutral'), 0),
           coalesce(sum(t.n) filter (where t.stance = 'abstain'), 0),
           coalesce(sum(t.n) filter (where t.stance = 'withdrawn'), 0),
           coalesce(sum(t.n) filter (where t.stance = 'yes'), 0),
           coalesce(sum(t.n) filter (where t.stance = 'no'), 0)
    from topics t
    group by t.topic_slug, t.kind, t.year, t.forum, t.country_code
$$;

create index signature_joined_on_idx on signature (joined_on) where joined_on is not null;
create index signature_withdrawn_on_idx on signature (withdrawn_on) where withdrawn_on is not null;
