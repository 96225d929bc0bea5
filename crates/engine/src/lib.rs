//! exsweep's engine: everything between the evidence and the report.
//!
//! [`inventory`] (what is on the evidence) → [`sweep`] (the file checks on every file
//! in scope) and [`hunt`] (the log and event checks on every log) → [`correlate`]
//! (shells found on disk and their use in the logs) → [`incidents`] (the findings
//! joined into attack chains) → [`coverage`] (what was and was
//! not assessed) → a [`Report`](exsweep_model::Report). [`checks`] holds what is looked
//! for: the catalog and the per-file, per-line and per-event logic. [`scan`] validates
//! a request and runs one scan end to end; [`progress`] is how a caller watches it.

pub mod baseline;
pub mod checks;
mod contain;
pub mod context;
pub mod correlate;
pub mod coverage;
pub mod hunt;
pub mod iis_config;
pub mod incidents;
pub mod inventory;
pub mod progress;
pub mod recognise;
pub mod scan;
pub mod sweep;
pub mod webmap;

/// exsweep's own YARA-X rules, as `exsweep checks` lists them, and the rule set
/// `exsweep rules check` loads.
pub use exsweep_rules::{builtin_rules, BuiltinRule, RuleSet};
