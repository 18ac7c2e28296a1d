//! Running the service: how it starts, is configured and stops, what every answer
//! carries, how it uses its database and cache, and how it documents itself.

mod admission;
mod cache;
mod conformance;
mod connections;
mod database;
mod docs;
mod drain;
mod http;
mod lifecycle;
mod live_import;
mod outages;
mod replicas;
mod slow_clients;
