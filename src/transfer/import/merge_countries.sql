-- Upsert countries; rows that would not change are left alone (and not audited).
with before as (
    select c.* from country c join import_country i on i.code = c.code
), changed as (
    insert into country as c (code, iso2, numeric_code, iso3166_3, name, official_name, common_name, region,
                              subregion, intermediate_region, un_member, un_observer, un_admission_date,
                              ended_on, successor_code)
    select code, iso2, numeric_code, iso3166_3, name, official_name, common_name, region, subregion,
           intermediate_region, un_member, un_observer, un_admission_date, ended_on, successor_code
    from import_country
    on conflict (code) do update set
        iso2 = excluded.iso2, numeric_code = excluded.numeric_code, iso3166_3 = excluded.iso3166_3,
        name = excluded.name, official_name = excluded.official_name, common_name = excluded.common_name,
        region = excluded.region, subregion = excluded.subregion,
        intermediate_region = excluded.intermediate_region, un_member = excluded.un_member,
        un_observer = excluded.un_observer, un_admission_date = excluded.un_admission_date,
        ended_on = excluded.ended_on, successor_code = excluded.successor_code
    where (c.iso2, c.numeric_code, c.iso3166_3, c.name, c.official_name, c.common_name, c.region, c.subregion,
           c.intermediate_region, c.un_member, c.un_observer, c.un_admission_date, c.ended_on, c.successor_code)
        is distinct from
          (excluded.iso2, excluded.numeric_code, excluded.iso3166_3, excluded.name, excluded.official_name,
           excluded.common_name, excluded.region, excluded.subregion, excluded.intermediate_region,
           excluded.un_member, excluded.un_observer, excluded.un_admission_date, excluded.ended_on,
           excluded.successor_code)
    returning c.*, (xmax = 0) as created
), audited as (
    insert into change (entity, entity_id, action, actor, before, after)
    select 'country', ch.code, case when ch.created then 'create' else 'update' end, $1,
           to_jsonb(b), to_jsonb(ch) - 'created'
    from changed ch left join before b on b.code = ch.code
)
select count(*) filter (where created), count(*) filter (where not created), 0::bigint from changed
