-- The statements a country led (`GET /v1/countries/{code}/statements?role=lead`, or
-- `/v1/statements?country=…&country_role=lead`). Leads are rare: the United States led
-- 633 of its 35,000 participations at five million signatures. The planner, taking
-- them to be spread evenly over the years, walked the statements by date and looked
-- each one up in the country's signatures: 100-160 ms for the newest page, 600 ms on
-- a cold cache. From this index, a country's leads are read first and then sorted:
-- 6.5 ms in the database, 8 to 20 ms for the request. Small (one entry per lead), and
-- built again in about half a second by a first import, which sets it aside with
-- signature's other indexes.
create index signature_lead_idx on signature (country_code, statement_id) where role = 'lead';
