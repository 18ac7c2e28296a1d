-- A topic's statements in date order. A statement's date is in table statement and its
-- topics in statement_topic, so no index held a topic's statements by date: a topic's
-- list by date (GET /v1/statements?topic=…, a topic's timeline) walked every statement
-- by date and kept those on the topic, and the topics' list joined every link with its
-- statement. At 50,000 statements: 60 to 120 ms for a topic's oldest or newest
-- statements, 35 to 45 ms for a timeline, 210 ms for the topics' list. Each link with
-- its statement's date makes them ranges of the primary key below: 4 to 6 ms, 5 ms and
-- 19 ms.
--
-- Kept by the triggers below in every write, as the tallies are: a link added or
-- removed (a statement deleted removes its links), a topic renamed (which renames its
-- links), a statement's date changed. A table of its own rather than a column of
-- statement_topic: a statement's new date would then rewrite its links, which the
-- tallies' and spans' triggers would take for links removed and added.
create table topic_calendar (
    topic_slug text not null,
    issued_on date not null,
    statement_id text not null,
    constraint topic_calendar_pkey primary key (topic_slug, issued_on, statement_id),
    -- One entry per link; also how a link's entry is found when the link goes.
    constraint topic_calendar_link_key unique (statement_id, topic_slug)
);

insert into topic_calendar (topic_slug, issued_on, statement_id)
select l.topic_slug, s.issued_on, l.statement_id
from statement_topic l
join statement s on s.id = l.statement_id;

create function topic_calendar_links_after() returns trigger language plpgsql as $$
begin
    if tg_op in ('DELETE', 'UPDATE') then
        delete from topic_calendar c
        using old_rows o
        where c.statement_id = o.statement_id and c.topic_slug = o.topic_slug;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into topic_calendar (topic_slug, issued_on, statement_id)
        select n.topic_slug, s.issued_on, n.statement_id
        from new_rows n
        join statement s on s.id = n.statement_id;
    end if;
    return null;
end $$;
create trigger topic_calendar_links_insert after insert on statement_topic
    referencing new table as new_rows for each statement execute function topic_calendar_links_after();
create trigger topic_calendar_links_update after update on statement_topic
    referencing old table as old_rows new table as new_rows for each statement execute function topic_calendar_links_after();
create trigger topic_calendar_links_delete after delete on statement_topic
    referencing old table as old_rows for each statement execute function topic_calendar_links_after();

create function topic_calendar_statement_moved() returns trigger language plpgsql as $$
begin
    update topic_calendar set issued_on = new.issued_on where statement_id = new.id;
    return null;
end $$;
create trigger topic_calendar_statement_moved after update of issued_on on statement
    for each row when (old.issued_on is distinct from new.issued_on)
    execute function topic_calendar_statement_moved();
