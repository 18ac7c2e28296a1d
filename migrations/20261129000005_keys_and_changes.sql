-- API keys (stored only as SHA-256 hashes) and the audit trail of every write.

create type api_role as enum ('editor', 'admin');

create table api_key (
    id bigint generated always as identity primary key,
    name text not null constraint api_key_name_key unique
        constraint api_key_name_format check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    role api_role not null,
    -- Keys are 256 random bits, so a fast hash is enough to make a leaked table useless.
    key_hash bytea not null constraint api_key_hash_key unique
        constraint api_key_hash_length check (length(key_hash) = 32),
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);

create table change (
    id bigint generated always as identity primary key,
    entity text not null constraint change_entity_known
        check (entity in ('statement', 'signature', 'source', 'topic', 'country')),
    entity_id text not null,
    action text not null constraint change_action_known check (action in ('create', 'update', 'delete')),
    actor text not null,
    changed_at timestamptz not null default now(),
    before jsonb,
    after jsonb,
    constraint change_has_a_state check (before is not null or after is not null)
);
-- The feed filters by entity id and reads in id order; every write transaction first
-- locks the data_version row, so ids are handed out in commit order and a reader
-- following the feed by id never skips a change committed later with a smaller id.
create index change_entity_idx on change (entity, entity_id, id);
