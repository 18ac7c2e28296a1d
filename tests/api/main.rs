//! Integration tests: one binary (so one throwaway PostgreSQL cluster), talking HTTP
//! to the app in-process, each test on its own fresh database, one module per
//! resource or question users have.

mod alignment;
mod as_of;
mod changes_feed;
mod compare;
mod conventions;
mod countries;
mod explorer;
mod fields;
mod helpers;
mod import_export;
mod invariants;
mod keys;
mod openapi_contract;
mod openapi_fuzz_findings;
mod participations;
mod seed;
mod service;
mod statements;
mod stats;
mod switchers;
mod synthetic_data;
mod timeline;
mod topics;
mod un_votes;
