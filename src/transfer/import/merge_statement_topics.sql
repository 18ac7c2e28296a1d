-- Each imported statement's topics become exactly those of its row. A statement of its
-- own, after the statements' merge: the triggers that keep the tallies and spans then
-- see a statement's new date and stance first, and its new topics after, rather than
-- both at once.
with unlinked as (
    delete from statement_topic t using import_statement i
    where t.statement_id = i.id and not (t.topic_slug = any (i.topics))
)
insert into statement_topic (statement_id, topic_slug)
select i.id, unnest(i.topics) from import_statement i
on conflict do nothing
