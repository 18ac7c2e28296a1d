-- Hash joins and sorts over the staged rows stay in memory (this transaction only).
set local work_mem = '256MB';
-- So do the sorts that build the indexes a bulk load sets aside (indexes.rs).
set local maintenance_work_mem = '512MB';
-- Staging tables for one import; typed, so that COPY itself rejects malformed values.
create temp table import_country (
    code text, iso2 text, numeric_code text, iso3166_3 text, name text, official_name text,
    common_name text, region text, subregion text, intermediate_region text, un_member boolean,
    un_observer boolean, un_admission_date date, ended_on date, successor_code text
) on commit drop;
create temp table import_topic (slug text, name text, description text) on commit drop;
create temp table import_statement (
    id text, title text, kind statement_kind, forum text, session text, issued_on date, un_symbol text,
    stance stance, lead_country text, summary text, notes text, reported_count integer,
    list_complete boolean, topics text[]
) on commit drop;
create temp table import_signature (
    statement_id text, country_code text, role signature_role, joined_on date, withdrawn_on date,
    source_url text, note text, issued_on date
) on commit drop;
create temp table import_source (
    statement_id text, ordinal integer, url text, title text, publisher text, accessed_on date
) on commit drop;
