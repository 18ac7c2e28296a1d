-- The domain: countries, topics, statements, the countries' participation in them
-- (signatures) and the sources cited. Constraint names are chosen on purpose: the
-- HTTP layer maps them to client errors (see src/error.rs).

create extension if not exists unaccent;

create type statement_kind as enum ('joint_letter', 'joint_statement', 'recorded_vote', 'resolution');

-- A statement's stance toward its topic. For a recorded vote it is the stance of a
-- yes vote. A General Assembly resolution vote has none (null).
create type stance as enum ('critical', 'supportive', 'neutral');

create type signature_role as enum ('signatory', 'lead', 'vote_yes', 'vote_no', 'vote_abstain');

-- What a country's participation means, derived by effective_stance() below and
-- never stored per row: the statement's stance (or its opposite for a no vote),
-- `abstain`, `withdrawn`, or for stance-less votes the plain vote `yes`/`no`.
create type effective_stance as enum ('critical', 'supportive', 'neutral', 'abstain', 'withdrawn', 'yes', 'no');

-- Keeps updated_at and the optimistic-concurrency version in step with every update.
create function touch_row() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    new.version := old.version + 1;
    return new;
end $$;

create table country (
    -- ISO 3166-1 alpha-3; former states keep their withdrawn alpha-3 (CSK, YUG, DDR, YMD)
    -- and carry their ISO 3166-3 four-letter code in iso3166_3.
    code text primary key constraint country_code_format check (code ~ '^[A-Z]{3}$'),
    iso2 text constraint country_iso2_key unique constraint country_iso2_format check (iso2 ~ '^[A-Z]{2}$'),
    numeric_code text constraint country_numeric_format check (numeric_code ~ '^[0-9]{3}$'),
    iso3166_3 text constraint country_iso3166_3_format check (iso3166_3 ~ '^[A-Z]{4}$'),
    name text not null constraint country_name_not_blank check (btrim(name) <> ''),
    official_name text,
    common_name text,
    region text,
    subregion text,
    intermediate_region text,
    un_member boolean not null default false,
    un_observer boolean not null default false,
    un_admission_date date,
    ended_on date,
    successor_code text constraint country_successor_fkey references country (code),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint country_member_or_observer check (not (un_member and un_observer)),
    constraint country_successor_needs_end check (successor_code is null or ended_on is not null)
);
create trigger country_touch before update on country for each row execute function touch_row();
-- "countries by region": GET /v1/countries?region=…&subregion=… (ordered by name).
create index country_region_idx on country (region, subregion, name);

create table topic (
    slug text primary key constraint topic_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 80),
    name text not null constraint topic_name_not_blank check (btrim(name) <> '' and length(name) <= 200),
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1
);
create trigger topic_touch before update on topic for each row execute function touch_row();

create table statement (
    id text primary key constraint statement_id_format check (id ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(id) <= 120),
    title text not null constraint statement_title_not_blank check (btrim(title) <> '' and length(title) <= 500),
    kind statement_kind not null,
    forum text not null constraint statement_forum_not_blank check (btrim(forum) <> ''),
    session text,
    issued_on date not null,
    un_symbol text,
    stance stance,
    lead_country text constraint statement_lead_country_fkey references country (code),
    summary text not null default '',
    notes text not null default '',
    -- As published; kept apart from the rows held so that partial lists show.
    reported_count integer constraint statement_reported_count_positive check (reported_count >= 0),
    list_complete boolean not null default false,
    -- Maintained by the signature triggers below, in the same transaction as the
    -- write, so that lists never count rows per request.
    participant_count integer not null default 0,
    signatory_count integer not null default 0,
    stance_counts jsonb not null default '{}',
    search tsvector generated always as (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', summary), 'B')
    ) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint statement_stance_required check (stance is not null or kind in ('recorded_vote', 'resolution'))
);
create trigger statement_touch before update on statement for each row execute function touch_row();
-- "statements between dates, newest first": keyset pagination on (issued_on, id).
create index statement_issued_idx on statement (issued_on, id);
-- q=…: full-text search over title and summary.
create index statement_search_idx on statement using gin (search);
-- sort=-signatory_count
create index statement_signatory_count_idx on statement (signatory_count, id);

create table statement_topic (
    statement_id text not null constraint statement_topic_statement_fkey references statement (id) on delete cascade,
    topic_slug text not null constraint statement_topic_topic_fkey references topic (slug) on update cascade,
    primary key (statement_id, topic_slug)
);
-- "statements on topic T": the topic's statements, then joined by primary key.
create index statement_topic_topic_idx on statement_topic (topic_slug, statement_id);

create table signature (
    statement_id text not null constraint signature_statement_fkey references statement (id) on delete cascade,
    country_code text not null constraint signature_country_fkey references country (code),
    role signature_role not null,
    joined_on date,
    withdrawn_on date,
    source_url text constraint signature_source_url_format check (source_url ~ '^https?://[^\s]+$'),
    note text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint signature_pkey primary key (statement_id, country_code),
    constraint signature_withdrawn_after_joined check (withdrawn_on >= joined_on)
);
create trigger signature_touch before update on signature for each row execute function touch_row();
-- "what did country X sign?": the country's rows, then statements by primary key.
create index signature_country_idx on signature (country_code, statement_id);

-- Dates of participation cannot precede the statement, and vote roles belong to votes.
-- Checked once per statement over all its new rows (a transition table), so that a
-- bulk import of millions of signatures costs one query, not one per row.
create function signature_check_statement() returns trigger language plpgsql as $$
declare
    bad record;
begin
    select n.country_code, n.role, n.joined_on, n.withdrawn_on, s.issued_on, s.kind,
           case
               when n.joined_on < s.issued_on then 'signature_joined_after_issued'
               when n.withdrawn_on < s.issued_on then 'signature_withdrawn_after_issued'
               else 'signature_role_fits_kind'
           end as violated
    into bad
    from new_rows n
    join statement s on s.id = n.statement_id
    where n.joined_on < s.issued_on
       or n.withdrawn_on < s.issued_on
       or (n.role in ('vote_yes', 'vote_no', 'vote_abstain')) <> (s.kind in ('recorded_vote', 'resolution'))
    limit 1;
    if found then
        raise exception 'the participation of % (role %, joined %, withdrawn %) does not fit the % of %',
                bad.country_code, bad.role, bad.joined_on, bad.withdrawn_on, bad.kind, bad.issued_on
            using errcode = '23514', constraint = bad.violated;
    end if;
    return null;
end $$;
create trigger signature_check_insert after insert on signature
    referencing new table as new_rows for each statement execute function signature_check_statement();
create trigger signature_check_update after update on signature
    referencing new table as new_rows for each statement execute function signature_check_statement();

-- A statement's date or kind may not change under its existing signatures.
create function statement_check_signatures() returns trigger language plpgsql as $$
declare
    bad signature%rowtype;
begin
    select * into bad from signature g
    where g.statement_id = new.id
      and (g.joined_on < new.issued_on
           or g.withdrawn_on < new.issued_on
           or (g.role in ('vote_yes', 'vote_no', 'vote_abstain')) <> (new.kind in ('recorded_vote', 'resolution')))
    limit 1;
    if found then
        raise exception 'the signature of % no longer fits the statement''s date or kind', bad.country_code
            using errcode = '23514', constraint = 'statement_fits_signatures';
    end if;
    return new;
end $$;
create trigger statement_check after update of issued_on, kind on statement
    for each row execute function statement_check_signatures();

create table source (
    id bigint generated always as identity primary key,
    statement_id text not null constraint source_statement_fkey references statement (id) on delete cascade,
    url text not null constraint source_url_format check (url ~ '^https?://[^\s]+$'),
    title text not null default '',
    publisher text not null default '',
    accessed_on date,
    created_at timestamptz not null default now(),
    constraint source_statement_url_key unique (statement_id, url)
);

-- The one definition of a country's effective stance on a statement.
create function effective_stance(statement_stance stance, role signature_role, withdrawn_on date)
returns effective_stance language sql immutable parallel safe as $$
    select case
        when withdrawn_on is not null then 'withdrawn'
        when role = 'vote_abstain' then 'abstain'
        when statement_stance is null then case when role = 'vote_no' then 'no' else 'yes' end
        when role = 'vote_no' then case statement_stance
            when 'critical' then 'supportive'
            when 'supportive' then 'critical'
            else 'neutral' end
        else statement_stance::text
    end::effective_stance
$$;

-- Every participation with its effective stance and the date it took effect.
create view participation as
select g.statement_id,
       g.country_code,
       g.role,
       g.joined_on,
       g.withdrawn_on,
       g.source_url,
       g.note,
       s.issued_on,
       coalesce(g.joined_on, s.issued_on) as effective_on,
       effective_stance(s.stance, g.role, g.withdrawn_on) as effective_stance
from signature g
join statement s on s.id = g.statement_id;

-- Recomputes the maintained tallies of the given statements from their signatures.
create function statement_counts_refresh(ids text[]) returns void language sql as $$
    with tallies as (
        select s.id,
               count(g.country_code) as participants,
               count(g.country_code) filter (where g.withdrawn_on is null) as active
        from statement s
        left join signature g on g.statement_id = s.id
        where s.id = any (ids)
        group by s.id
    ), by_stance as (
        select p.statement_id as id, jsonb_object_agg(p.effective_stance, p.n) as counts
        from (
            select statement_id, effective_stance, count(*) as n
            from participation
            where statement_id = any (ids)
            group by statement_id, effective_stance
        ) p
        group by p.statement_id
    )
    update statement s
    set participant_count = t.participants,
        signatory_count = t.active,
        stance_counts = coalesce(b.counts, '{}')
    from tallies t
    left join by_stance b on b.id = t.id
    where s.id = t.id
$$;

-- Statement-level triggers with transition tables: a bulk import refreshes each
-- statement once, not once per row.
create function signature_counts_after() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform statement_counts_refresh(array(select distinct statement_id from new_rows));
    elsif tg_op = 'DELETE' then
        perform statement_counts_refresh(array(select distinct statement_id from old_rows));
    else
        perform statement_counts_refresh(array(
            select statement_id from new_rows union select statement_id from old_rows));
    end if;
    return null;
end $$;
create trigger signature_counts_insert after insert on signature
    referencing new table as new_rows for each statement execute function signature_counts_after();
create trigger signature_counts_update after update on signature
    referencing old table as old_rows new table as new_rows for each statement execute function signature_counts_after();
create trigger signature_counts_delete after delete on signature
    referencing old table as old_rows for each statement execute function signature_counts_after();

create function statement_stance_changed() returns trigger language plpgsql as $$
begin
    perform statement_counts_refresh(array[new.id]);
    return null;
end $$;
create trigger statement_stance_counts after update of stance on statement
    for each row when (old.stance is distinct from new.stance) execute function statement_stance_changed();
