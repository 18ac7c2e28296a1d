//! Integration tests: one binary (so one throwaway PostgreSQL cluster), talking HTTP
//! to the app in-process, each test on its own fresh database.

mod data_model;
mod foundation;
mod generate;
mod helpers;
mod read_api;
mod spec;
mod transfer;
mod unvotes;
mod write_api;
