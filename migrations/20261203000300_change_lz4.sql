-- The audit trail's states are compressed with lz4 rather than the default pglz where
-- the server has it (PostgreSQL builds have carried it since 14, but it is a build
-- option). A first import of 5 million signatures writes one entry per statement whose
-- `after` lists the whole signatory list, about 300 MB of jsonb in all: lz4 compressed
-- that in 3.1 s where pglz took 5.3-5.8 s, for 51 MB stored instead of 45 MB.
do $$
begin
    if exists (select 1 from pg_settings
               where name = 'default_toast_compression' and 'lz4' = any (enumvals)) then
        alter table change alter column before set compression lz4,
                           alter column after set compression lz4;
    end if;
end $$;
