-- A country's statements newest first (GET /v1/countries/{code}/statements) were found
-- by walking every statement back from the latest and probing for the country's
-- signature: fast for a country that signs most statements, slow for one whose
-- statements lie far back, so each request was planned for its own country (and
-- bounded by the country's years). Each signature now keeps its statement's date, and
-- the index of a country's signatures orders them by it: the same plan serves every
-- country and stays cached. The column stays nullable so that a signature of a missing
-- statement fails on its foreign key, as before, rather than on a missing date.
alter table signature add column issued_on date;

-- The copy fires none of the tables' triggers: no participation changes.
alter table signature disable trigger user;
update signature g set issued_on = s.issued_on from statement s where s.id = g.statement_id;
alter table signature enable trigger user;

drop index signature_country_idx;
create index signature_country_idx on signature (country_code, issued_on, statement_id)
    include (role, joined_on, withdrawn_on);

-- A new signature takes its statement's date unless its writer gives it (the import's
-- merge does, for every row at once).
create function signature_take_issued_on() returns trigger language plpgsql as $$
begin
    select s.issued_on into new.issued_on from statement s where s.id = new.statement_id;
    return new;
end $$;

create trigger signature_issued_on before insert on signature
    for each row when (new.issued_on is null) execute function signature_take_issued_on();

-- A statement's new date reaches its signatures. Triggers on one table and event fire
-- in the order of their names: this one comes after every other on statement, so the
-- signatures' own triggers see the tallies, spans and calendar already moved.
create function statement_pass_issued_on() returns trigger language plpgsql as $$
begin
    update signature set issued_on = new.issued_on where statement_id = new.id;
    return null;
end $$;

create trigger update_signature_dates after update of issued_on on statement
    for each row when (old.issued_on is distinct from new.issued_on)
    execute function statement_pass_issued_on();

-- Copying the date is not an edit of the signature: its version and updated_at stay.
drop trigger signature_touch on signature;
create trigger signature_touch
    before update of statement_id, country_code, role, joined_on, withdrawn_on, source_url, note
    on signature for each row execute function touch_row();
