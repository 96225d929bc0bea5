//! JSONL: one finding a line, then one summary line with the verdict and coverage.
//! The record layout is documented in `docs/jsonl-schema.md`; `schema_version`
//! changes when a field changes meaning or disappears.

use exsweep_model::{rfc3339, Coverage, Finding, LogEvidence, Report, Severity, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA_VERSION: u32 = 1;

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
    verdict: Verdict,
    findings_by_severity: BTreeMap<&'static str, usize>,
    coverage: &'a Coverage,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    trail: &'a [LogEvidence],
}

pub fn finding_time(report: &Report, finding: &Finding) -> (String, &'static str) {
    match finding.time() {
        Some(t) if finding.log.is_some() => (rfc3339(t), "Logged"),
        Some(t) => (rfc3339(t), "File modified"),
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
        verdict: report.verdict,
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
