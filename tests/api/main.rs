//! Integration tests: one binary (so one throwaway PostgreSQL cluster), talking HTTP
//! to the app in-process, each test on its own fresh database.

mod analytics;
mod cache;
mod cli;
mod contract;
mod data_model;
mod docs;
mod foundation;
mod generate;
mod helpers;
mod http_conformance;
mod read_api;
mod spec;
mod transfer;
mod unvotes;
mod write_api;
