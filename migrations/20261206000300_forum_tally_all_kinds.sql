-- Stance statistics by forum (and year) without a kind, from a tally of their own.
-- GET /v1/stats/stances?group_by=forum&group_by=year over every statement read
-- stance_tally_by_forum's 140,000 rows for topic '' at five million signatures, and
-- grouped them twice: first the kinds of each (year, forum, country) together, then the
-- countries of each (year, forum). 95 to 115 ms, most of it the first grouping.
--
-- Table stance_tally_by_forum_all_kinds holds stance_tally_by_forum's counts summed
-- over the kinds: one row per topic, year, forum and country (59,000 rows for topic ''
-- at that scale, 480,000 in all). Grouped by year and forum, its rows are already one
-- per group and country, so the statistics group them once: 18 to 20 ms in psql. The
-- tally with kinds stays for the statistics of some kinds of statement.
create table stance_tally_by_forum_all_kinds (
    topic_slug text not null,
    year integer not null,
    forum text not null,
    country_code text not null,
    critical integer not null default 0 constraint stance_tally_by_forum_all_kinds_critical_counted check (critical >= 0),
    supportive integer not null default 0 constraint stance_tally_by_forum_all_kinds_supportive_counted check (supportive >= 0),
    neutral integer not null default 0 constraint stance_tally_by_forum_all_kinds_neutral_counted check (neutral >= 0),
    abstain integer not null default 0 constraint stance_tally_by_forum_all_kinds_abstain_counted check (abstain >= 0),
    withdrawn integer not null default 0 constraint stance_tally_by_forum_all_kinds_withdrawn_counted check (withdrawn >= 0),
    yes integer not null default 0 constraint stance_tally_by_forum_all_kinds_yes_counted check (yes >= 0),
    no integer not null default 0 constraint stance_tally_by_forum_all_kinds_no_counted check (no >= 0),
    constraint stance_tally_by_forum_all_kinds_pkey primary key (topic_slug, year, forum, country_code)
        include (critical, supportive, neutral, abstain, withdrawn, yes, no)
);
create index stance_tally_by_forum_all_kinds_emptied_idx on stance_tally_by_forum_all_kinds (topic_slug)
    where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;

create or replace function stance_tally_prune() returns void language sql as $$
    delete from stance_tally where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;
    delete from stance_tally_by_forum where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;
    delete from stance_tally_by_forum_all_kinds where critical + supportive + neutral + abstain + withdrawn + yes + no = 0;
$$;

-- As before (migrations/20261204000100_forum_tally.sql), for the three tallies: each
-- summed from the one before it, stance_tally from the rows without kinds (fewer by
-- half than those with them).
create or replace function stance_tally_add_sql(counts text) returns text language sql stable as $$
    select format(
        'with by_forum as materialized (%1$s), by_forum_all_kinds as materialized (
             select topic_slug, year, forum, country_code, %2$s
             from by_forum
             group by topic_slug, year, forum, country_code
         ), by_topic as (
             select topic_slug, year, country_code, %2$s
             from by_forum_all_kinds
             group by topic_slug, year, country_code
         ), %3$s, %4$s, %5$s
         select',
        counts,
        (select string_agg(format('sum(%1$I)::integer as %1$I', x), ', ')
         from unnest(enum_range(null::effective_stance)::text[]) x),
        stance_tally_merge_sql('stance_tally_by_forum',
                               array['topic_slug', 'year', 'forum', 'country_code', 'kind'], 'by_forum'),
        stance_tally_merge_sql('stance_tally_by_forum_all_kinds',
                               array['topic_slug', 'year', 'forum', 'country_code'], 'by_forum_all_kinds'),
        stance_tally_merge_sql('stance_tally', array['topic_slug', 'year', 'country_code'], 'by_topic'))
$$;

-- The data already here, summed from the tally with kinds.
set local work_mem = '256MB';
insert into stance_tally_by_forum_all_kinds
select topic_slug, year, forum, country_code,
       sum(critical), sum(supportive), sum(neutral), sum(abstain), sum(withdrawn), sum(yes), sum(no)
from stance_tally_by_forum
group by topic_slug, year, forum, country_code;
analyze stance_tally_by_forum_all_kinds;
