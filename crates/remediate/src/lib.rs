//! Remediation, the only part of exsweep that writes to a server: a [`plan`] of the
//! files a scan found, carried out into a [`vault`] without losing a byte, and undone
//! by [`restore`].
//!
//! - [`findings`]: what a scan said, from its JSONL or from a scan in this process.
//! - [`plan`]: which files move and why, shown (and written to a file) before
//!   anything changes; [`compiled`] adds the pages' compiled copies; [`checklist`]
//!   says what moving files cannot fix.
//! - [`target`]: the server acted on, with the refusals (evidence copies, read-only
//!   disks, links out of the evidence, a vault the web server would serve).
//! - [`apply`]: the crash-safe quarantine and the recovery of an interrupted run;
//!   [`journal`] and [`durable`] are what make it crash-safe.
//!
//! Nothing else in the program opens a server's file for writing.

pub mod apply;
pub mod checklist;
pub mod compiled;
pub mod durable;
pub mod findings;
pub mod journal;
pub mod plan;
pub mod restore;
pub mod target;
pub mod vault;
#[cfg(windows)]
mod windows;

/// Now, as the manifest and plan write times.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
