-- The corrections of a past day's tallies (stance_tally_delta_as_of) read the
-- participations pending on the day: on a statement issued by then, joined or withdrawn
-- after it. A participation is pending on exactly the days of the range from its
-- statement's date to its last step, so a GiST index of those ranges finds the ones
-- pending on a day by containment, reading about as many entries as it returns, where
-- the partial indexes on each date made it read every later join and withdrawal in the
-- record. The one on joins served only that search and is dropped; the one on
-- withdrawals also finds those made by a day (stance_event_as_of).

drop index signature_joined_on_idx;

-- Only participations with a later step (most have none). The statement's date is in
-- `greatest` so that a row whose dates come before it still makes a range, and is
-- refused by signature_check_statement with its constraint's name rather than by the
-- index.
create index signature_pending_idx on signature
    using gist (daterange(issued_on, greatest(issued_on, joined_on, withdrawn_on)))
    where joined_on is not null or withdrawn_on is not null;

create or replace function stance_tally_delta_as_of(as_of date)
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
        -- Pending on the day: issued by then, joined or withdrawn after it (the
        -- expression and condition of signature_pending_idx).
        where daterange(g.issued_on, greatest(g.issued_on, g.joined_on, g.withdrawn_on)) @> as_of
          and (g.joined_on is not null or g.withdrawn_on is not null)
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
