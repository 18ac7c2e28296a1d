//! Signatories: an open data REST API of joint statements between countries, the
//! countries that signed or voted on them, and where each stands over time.
//!
//! The library builds the whole application ([`app`]) from an [`AppState`]; the
//! binary only parses the command line, and tests run the same router in-process.

pub mod config;
pub mod datasets;
pub mod db;
pub mod domain;
pub mod embedded;
pub mod error;
pub mod http;
pub mod keys;
pub mod progress;
pub mod store;
pub mod tabular;
pub mod transfer;
pub mod validation;

pub use http::{
    AdmissionSettings, AppState, ConnectionLimits, HttpSettings, ReplicaSettings, app, serve,
};
