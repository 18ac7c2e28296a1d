-- Which copy of the data a data version counts in. The version can repeat: a restore
-- from a backup, a database created again, or a server started on restored files
-- starts it again from an older value. The database's and the counter table's
-- identity and the server's start tell such copies apart; the service adds the
-- counter row's own transaction id (xmin), which a data-only reload renews, so that
-- no ETag or cached answer made before is ever taken for one made after.
create function data_epoch() returns text language sql stable as $$
    select concat_ws('.',
        (select oid from pg_database where datname = current_database()),
        'data_version'::regclass::oid,
        (extract(epoch from pg_postmaster_start_time()) * 1000000)::bigint)
$$;
