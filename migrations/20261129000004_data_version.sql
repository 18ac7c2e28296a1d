-- One counter that every committed write moves forward. GET responses derive their
-- ETag from it (so a conditional request is answered without running its query), and
-- the NOTIFY lets every service instance drop cached responses at once.
create table data_version (
    only_row boolean primary key default true constraint data_version_single_row check (only_row),
    version bigint not null,
    changed_at timestamptz not null
);
insert into data_version (version, changed_at) values (1, now());

create function data_version_bump() returns trigger language plpgsql as $$
declare
    next bigint;
begin
    update data_version set version = version + 1, changed_at = now() returning version into next;
    perform pg_notify('data_changed', next::text);
    return null;
end $$;

create trigger country_data_version after insert or update or delete or truncate on country
    for each statement execute function data_version_bump();
create trigger topic_data_version after insert or update or delete or truncate on topic
    for each statement execute function data_version_bump();
create trigger statement_data_version after insert or update or delete or truncate on statement
    for each statement execute function data_version_bump();
create trigger statement_topic_data_version after insert or update or delete or truncate on statement_topic
    for each statement execute function data_version_bump();
create trigger signature_data_version after insert or update or delete or truncate on signature
    for each statement execute function data_version_bump();
create trigger source_data_version after insert or update or delete or truncate on source
    for each statement execute function data_version_bump();
