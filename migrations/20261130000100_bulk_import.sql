-- Bulk imports: an import of 5 million signatures over 50,000 statements spent hours
-- in per-row work. The rules stay in the database; the checks become set-based, one
-- query per statement over its transition table instead of one per row.

-- 1. A signature's statement and country must exist. As foreign keys these were two
-- lookups and two row locks per inserted row (three quarters of an import's time).
-- They are now checked with the signature's other rules, in the one query per
-- statement that already joined its new rows to their statements, after taking the
-- locks a foreign key takes (FOR KEY SHARE on each referenced row, once). The error
-- is the one a foreign key raises (23503, same constraint names), so callers see no
-- difference.
alter table signature
    drop constraint signature_statement_fkey,
    drop constraint signature_country_fkey;

create or replace function signature_check_statement() returns trigger language plpgsql as $$
declare
    bad record;
begin
    -- Lock first, then look: a concurrent delete either waits for this transaction or
    -- has committed, and then the row is missing from the check below.
    perform 1 from statement s where s.id in (select statement_id from new_rows) for key share of s;
    perform 1 from country c where c.code in (select country_code from new_rows) for key share of c;
    select n.statement_id, n.country_code, n.role, n.joined_on, n.withdrawn_on, s.issued_on, s.kind,
           case
               when s.id is null then 'signature_statement_fkey'
               when c.code is null then 'signature_country_fkey'
               when n.joined_on < s.issued_on then 'signature_joined_after_issued'
               when n.withdrawn_on < s.issued_on then 'signature_withdrawn_after_issued'
               else 'signature_role_fits_kind'
           end as violated
    into bad
    from new_rows n
    left join statement s on s.id = n.statement_id
    left join country c on c.code = n.country_code
    where s.id is null
       or c.code is null
       or n.joined_on < s.issued_on
       or n.withdrawn_on < s.issued_on
       or (n.role in ('vote_yes', 'vote_no', 'vote_abstain')) <> (s.kind in ('recorded_vote', 'resolution'))
    limit 1;
    if not found then
        return null;
    end if;
    if bad.violated = 'signature_statement_fkey' then
        raise exception 'insert or update on table "signature" violates foreign key constraint "%"', bad.violated
            using errcode = '23503', constraint = bad.violated,
                  detail = format('Key (statement_id)=(%s) is not present in table "statement".', bad.statement_id);
    elsif bad.violated = 'signature_country_fkey' then
        raise exception 'insert or update on table "signature" violates foreign key constraint "%"', bad.violated
            using errcode = '23503', constraint = bad.violated,
                  detail = format('Key (country_code)=(%s) is not present in table "country".', bad.country_code);
    end if;
    raise exception 'the participation of % (role %, joined %, withdrawn %) does not fit the % of %',
            bad.country_code, bad.role, bad.joined_on, bad.withdrawn_on, bad.kind, bad.issued_on
        using errcode = '23514', constraint = bad.violated;
end $$;

-- The statement's signatures go with it (was: on delete cascade).
create function statement_delete_signatures() returns trigger language plpgsql as $$
begin
    delete from signature g using old_rows o where g.statement_id = o.id;
    return null;
end $$;
create trigger statement_delete_signatures after delete on statement
    referencing old table as old_rows for each statement execute function statement_delete_signatures();

-- A referenced statement id or country code may not change, and a referenced country
-- may not go (was: the foreign keys' default, no action).
create function signature_referenced_key_kept() returns trigger language plpgsql as $$
declare
    held text;
begin
    if tg_table_name = 'statement' then
        select g.statement_id into held from signature g where g.statement_id = old.id limit 1;
    else
        select g.country_code into held from signature g where g.country_code = old.code limit 1;
    end if;
    if found then
        raise exception 'update or delete on table "%" violates foreign key constraint "%" on table "signature"',
                tg_table_name, case tg_table_name when 'statement' then 'signature_statement_fkey' else 'signature_country_fkey' end
            using errcode = '23503',
                  constraint = case tg_table_name when 'statement' then 'signature_statement_fkey' else 'signature_country_fkey' end,
                  detail = format('Key (%s)=(%s) is still referenced from table "signature".',
                                  case tg_table_name when 'statement' then 'id' else 'code' end, held);
    end if;
    return null;
end $$;
create trigger statement_id_kept after update of id on statement
    for each row when (old.id is distinct from new.id) execute function signature_referenced_key_kept();
create trigger country_code_kept after update of code on country
    for each row when (old.code is distinct from new.code) execute function signature_referenced_key_kept();
create trigger country_delete_kept after delete on country
    for each row execute function signature_referenced_key_kept();

-- Emptying statement or country alone would orphan signatures (a foreign key refuses
-- it too); emptying them together with signature is fine.
create function signature_references_after_truncate() returns trigger language plpgsql as $$
begin
    if exists (select 1 from signature) then
        raise exception 'cannot truncate table "%": table "signature" references it', tg_table_name
            using errcode = '0A000';
    end if;
    return null;
end $$;
create trigger statement_truncate_kept after truncate on statement
    for each statement execute function signature_references_after_truncate();
create trigger country_truncate_kept after truncate on country
    for each statement execute function signature_references_after_truncate();

-- 2. The counts: `= any (ids)` compared every signature with every id. The ids are
-- now a set joined by primary key, and each statement's signatures are read once for
-- all three counts.
create or replace function statement_counts_refresh(ids text[]) returns void language sql as $$
    with target as (
        select distinct id from unnest(ids) as id
    ), per_stance as (
        select g.statement_id,
               effective_stance(s.stance, g.role, g.withdrawn_on) as stance,
               count(*) as n,
               count(*) filter (where g.withdrawn_on is null) as active
        from target t
        join statement s on s.id = t.id
        join signature g on g.statement_id = s.id
        group by 1, 2
    ), per_statement as (
        select statement_id, sum(n) as participants, sum(active) as active,
               jsonb_object_agg(stance, n) as counts
        from per_stance
        group by statement_id
    )
    update statement s
    set participant_count = coalesce(c.participants, 0),
        signatory_count = coalesce(c.active, 0),
        stance_counts = coalesce(c.counts, '{}')
    from target t
    left join per_statement c on c.statement_id = t.id
    where s.id = t.id
$$;
