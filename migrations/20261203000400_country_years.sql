-- The years in which a country took part in any statement, from the tally's
-- all-statements rows (kept exact in every write): GET /v1/countries/{code}/statements
-- bounds the statements' dates by them. The planner takes a country's participations
-- to be spread evenly over the dates, so for one whose statements all lie at one end
-- of the timeline (Taiwan until 1971, the Soviet Union, East Germany) the newest-first
-- list walked every later statement by date first: 15 to 100 ms at six million
-- signatures instead of under one.
create index stance_tally_country_years_idx on stance_tally (country_code, year)
    where topic_slug = '';
