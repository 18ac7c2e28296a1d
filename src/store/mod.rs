//! The data layer: per entity, its row types, its filters and the SQL that reads and
//! writes it. The HTTP layer calls into it and never writes SQL of its own; the
//! derived facts it reads (effective stance, tallies, spans) are defined once in SQL,
//! in the migrations.

pub mod alignment;
pub mod as_of;
pub mod changes;
pub mod comparison;
pub mod countries;
pub mod keyset;
pub mod participations;
pub mod signatures;
pub mod sources;
pub mod stance_spans;
pub mod statements;
pub mod stats;
pub mod timeline;
pub mod topics;
