//! JSONL: one finding a line, then one summary line with the verdict and coverage.
//! The record layout is documented in `docs/jsonl-schema.md`; `schema_version`
//! changes when a field changes meaning or disappears.

use exsweep_model::{
    rfc3339, Class, Coverage, Evidence, Finding, Report, Severity, TrailEntry, VerdictLevel,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct FindingRecord<'a> {
    record: &'static str,
    schema_version: u32,
    scan_id: &'a str,
    host: &'a str,
    /// When it happened: the file's modification time, else the scan's start.
    timestamp: String,
    timestamp_desc: &'static str,
    #[serde(flatten)]
    finding: &'a Finding,
}

#[derive(Serialize)]
struct SummaryRecord<'a> {
    record: &'static str,
    schema_version: u32,
    scan_id: &'a str,
    host: &'a str,
    started: String,
    finished: String,
    verdict: VerdictLevel,
    verdict_basis: VerdictBasis<'a>,
    findings_by_severity: BTreeMap<&'static str, usize>,
    coverage: &'a Coverage,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    trail: &'a [TrailEntry],
}

/// What the verdict rests on.
#[derive(Serialize)]
struct VerdictBasis<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    driven_by: Option<Class>,
    findings_by_class: &'a BTreeMap<&'static str, usize>,
    not_assessed: &'a [String],
    explanation: String,
}

/// The time that places a finding on a timeline, and what that time is (Timesketch's
/// `timestamp_desc`): the log entry's, the file's modification, the probe's, else the
/// scan's start.
pub fn finding_time(report: &Report, finding: &Finding) -> (String, &'static str) {
    let desc = match finding.evidence {
        Evidence::LogLine(_) | Evidence::EventRecord(_) => "Logged",
        Evidence::File(_) => "File modified",
        Evidence::Remote(_) => "Observed",
        Evidence::Config(_) => "Scan started",
    };
    match finding.time() {
        Some(t) => (rfc3339(t), desc),
        None => (rfc3339(report.started), "Scan started"),
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for finding in &report.findings {
        let (timestamp, timestamp_desc) = finding_time(report, finding);
        let record = FindingRecord {
            record: "finding",
            schema_version: SCHEMA_VERSION,
            scan_id: &report.scan_id,
            host: &report.host,
            timestamp,
            timestamp_desc,
            finding,
        };
        serde_json::to_writer(&mut *out, &record)?;
        out.write_all(b"\n")?;
    }
    let summary = SummaryRecord {
        record: "summary",
        schema_version: SCHEMA_VERSION,
        scan_id: &report.scan_id,
        host: &report.host,
        started: rfc3339(report.started),
        finished: rfc3339(report.finished),
        verdict: report.verdict.level,
        verdict_basis: VerdictBasis {
            driven_by: report.verdict.driven_by,
            findings_by_class: &report.verdict.findings_by_class,
            not_assessed: &report.verdict.not_assessed,
            explanation: report.verdict.explanation(),
        },
        findings_by_severity: Severity::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    report.findings.iter().filter(|f| f.severity == *s).count(),
                )
            })
            .collect(),
        coverage: &report.coverage,
        trail: &report.trail,
    };
    serde_json::to_writer(&mut *out, &summary)?;
    out.write_all(b"\n")
}
