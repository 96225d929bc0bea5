//! exsweep's data model: what every stage produces and every renderer reads.
//!
//! - [`check`]: a check's metadata ([`Check`]: stable ID, title, severity, class,
//!   references, why, action), owned or borrowed so that rule packs and Sigma rules
//!   bring their own, and the [`Hit`] a check reports before the driver says where.
//! - [`finding`]: the [`Finding`]: a hit with its stable ID, its evidence (a file, a log
//!   line, an event record, a configuration item, a remote observation), the entities
//!   it names and its score with reasons.
//! - [`incident`]: findings joined into attack chains ([`Incident`]), with their span,
//!   actors, files and confidence.
//! - [`coverage`]: what a scan read and what it could not ([`Coverage`]).
//! - [`verdict`]: the one-line answer, built from the findings' classes and coverage.
//! - [`text`]: escaping of evidence text and the time format every output uses.
//!
//! Everything here is plain serialisable data; `docs/jsonl-schema.md` documents how the
//! JSONL output spells it and a test keeps the two in step.

pub mod check;
pub mod coverage;
pub mod finding;
pub mod incident;
pub mod text;
pub mod verdict;

pub use check::{Check, Class, Hit, Reference, Severity, Text};
pub use coverage::{
    AreaCoverage, Coverage, LogCoverage, LogStatus, RecognisedGroup, SigmaCoverage, SigmaSkipped,
};
pub use finding::{
    ConfigItem, Entities, EventEvidence, Evidence, FileEvidence, FileTimes, Finding, LocalPath,
    LogLine, MatchedString, RemoteObservation, RuleInfo, ScoreReason, TrailEntry,
};
pub use incident::{Confidence, Incident, IncidentStep, Phase};
pub use text::{excerpt, is_disguising, parse_rfc3339, printable, rfc3339};
pub use verdict::{Verdict, VerdictLevel};

use std::time::SystemTime;

/// Everything a scan produced: what the outputs render.
#[derive(Debug)]
pub struct Report {
    pub scan_id: String,
    pub host: String,
    pub started: SystemTime,
    pub finished: SystemTime,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    /// The findings joined into attack chains; findings that join none are only in
    /// `findings`.
    pub incidents: Vec<Incident>,
    pub coverage: Coverage,
    /// With `--follow`: every logged request of that RequestId or IP, oldest first.
    pub trail: Vec<TrailEntry>,
    /// What the findings call for that moving files cannot fix (filled by remediation's
    /// checklist, empty until then).
    pub checklist: Vec<ChecklistItem>,
}

/// One thing to do by hand that the findings call for (reset a virtual directory,
/// remove export requests, patch, reset credentials, rebuild).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChecklistItem {
    /// Stable: `EXS-TODO-<n>`.
    pub id: String,
    pub title: String,
    /// Why, in the findings' terms.
    pub why: String,
    /// How, in the commands an Exchange administrator runs.
    pub how: String,
    /// The findings that call for it.
    pub finding_ids: Vec<String>,
}
