//! exsweep's engine: everything between the evidence and the report.
//!
//! [`inventory`] (what is on the evidence) → [`sweep`] (the file checks on every file
//! in scope) and [`hunt`] (the log and event checks on every log) → a
//! [`Report`](exsweep_model::Report). [`checks`] holds what is looked for: the catalog
//! and the per-file, per-line and per-event logic. [`scan`] runs one scan end to end.

pub mod checks;
pub mod hunt;
pub mod inventory;
pub mod progress;
pub mod scan;
pub mod sweep;
