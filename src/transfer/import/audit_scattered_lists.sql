-- The new lists of statements $2 whose rows were apart in the signatories file: each
-- run of their rows was audited after entry $1 as a list of its own; one entry per
-- statement replaces them, as merge_signatures.sql writes one.
with redone as (
    delete from change
    where id > $1 and entity = 'signatories' and entity_id = any($2)
)
insert into change (entity, entity_id, action, actor, before, after)
select 'signatories', statement_id, 'update', $3, '[]',
       jsonb_strip_nulls(to_jsonb(array_agg(
           row(country_code, role, joined_on, withdrawn_on, source_url, nullif(note, ''))::participation_content
           order by country_code)))
from signature
where statement_id = any($2)
group by statement_id
